package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

// The prior quantiles a one-way sensitivity analysis sets each parameter to.
const sensitivityLow, sensitivityHigh = 0.1, 0.9

func sensitivityCommand() *cli.Command {
	o := &sensitivityOptions{}
	return &cli.Command{
		Name:      "sensitivity",
		Usage:     "one-way sensitivity analysis: each uncertain parameter at its prior's 10th and 90th percentile",
		ArgsUsage: "SCENARIO",
		Description: "Runs the scenario with every uncertain parameter (those with a prior in uncertainty.priors,\n" +
			"a stream's rate_uncertainty_sd, a behaviour effect's sd) held at its value (the base), then,\n" +
			"one parameter at a time, at its prior's 10th and at its 90th percentile with the others at\n" +
			"their values: 1 + 2 runs per parameter, all with one seed (common random numbers), so each\n" +
			"difference is the parameter's and not chance's. Reports, for each parameter, the chance a\n" +
			"practice overspends by more than 5% by list-size band, the commissioner's 95% reserve need,\n" +
			"its outlay (from the ledger) and its cost, at the base, the low and the high value, with the\n" +
			"paired Monte Carlo SE of the swing (high minus low). Runs in cohort mode unless --cohort=false.\n" +
			"Writes DIR/sensitivity.parquet and DIR/sensitivity.csv; 'gpbudget report DIR' draws tornado charts.",
		Flags: append(o.sizes.flags("replications `N` per run (default: the scenario's)", "budget years `N` after the base year (default: the scenario's)",
			"random `SEED` shared by every run (default: the scenario's)"),
			workersFlag(&o.workers, allCores, "worker goroutines `N`"),
			outFlag(&o.out, "sensitivity", "output `DIR`"),
			cohortFlag(&o.cohort, true, "simulate practices from group counts (--cohort=false: patient by patient)"),
			quietFlag(&o.quiet, "print nothing but errors"),
		),
		// Flags may follow the scenario (gpbudget sensitivity default --out DIR).
		SkipFlagParsing: true,
		Action: argsThenFlags(func(c *cli.Context, refs []string) error {
			o.set = givenOf(c)
			return runSensitivity(c.Context, o, streamsOf(c), refs)
		}),
	}
}

// sensitivityOptions are sensitivity's flags.
type sensitivityOptions struct{ pairedOptions }

// runSensitivity runs the one scenario in refs at its base and with each
// uncertain parameter at its prior's low and high quantile, and writes the
// table.
func runSensitivity(ctx context.Context, o *sensitivityOptions, w streams, refs []string) error {
	if len(refs) != 1 {
		return badInput("sensitivity: name one scenario; got %d", len(refs))
	}
	s, err := scenarios.Load(refs[0])
	if err != nil {
		return inputError{err}
	}
	reps, years, seed, err := o.resolve(s, o.set, 2)
	if err != nil {
		return err
	}
	if err := inRange("workers", o.workers, 1, maxWorkers); err != nil {
		return err
	}
	s.Replications, s.Years, s.Seed = reps, years, seed // recorded as run
	m, err := s.Model(seed)
	if err == nil {
		err = s.CheckRun(m, reps, years)
	}
	if err != nil {
		return inputError{err}
	}
	spec := &rundir.Paired{Seed: seed, Reps: reps, Years: years, Workers: o.workers, Cohort: o.cohort}
	ranges, err := spec.OneWay(m, sensitivityLow, sensitivityHigh)
	if err != nil {
		return inputError{fmt.Errorf("sensitivity: scenario %s: %w", s.Name, err)}
	}
	y, err := s.YAML()
	if err != nil {
		return err
	}
	meta := map[string]string{"gpbudget.command": runfolder.CommandLine(os.Args), "gpbudget.seed": strconv.FormatUint(seed, 10),
		"gpbudget.version": version, "gpbudget.scenario": string(y), "gpbudget.scenario_name": s.Name,
		"gpbudget.replications": strconv.Itoa(reps), "gpbudget.years": strconv.Itoa(years), "gpbudget.cohort": strconv.FormatBool(o.cohort)}
	metrics, err := runPaired(ctx, w, spec, o.quiet)
	if err != nil {
		return err
	}
	var low, high []*analysis.Metrics
	for i := range ranges {
		low, high = append(low, metrics[1+2*i]), append(high, metrics[2+2*i])
	}
	rows, err := analysis.Sensitivity(ranges, metrics[0], low, high, seed)
	if err != nil {
		return err
	}
	if err := analysis.WriteSensitivity(o.out, rows, meta); err != nil {
		return inputError{err}
	}
	if !o.quiet {
		mode := "patient level"
		if o.cohort {
			mode = "cohort mode"
		}
		fmt.Fprintf(w.out, "one-way sensitivity of %s: %d parameters at their priors' 10th and 90th percentiles, %d replications x %d years each, seed %d (common random numbers), %s\n",
			s.Name, len(ranges), reps, years, seed, mode)
		if err := analysis.PrintSensitivity(w.out, rows); err != nil {
			return err
		}
		fmt.Fprintf(w.out, "wrote %s/%s and %s/%s\n", o.out, runfolder.SensitivityParquet, o.out, runfolder.SensitivityCSV)
	}
	return nil
}
