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
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
)

func compareCommand() *cli.Command {
	o := &compareOptions{}
	return &cli.Command{
		Name:      "compare",
		Usage:     "run scenarios with common random numbers and report paired differences",
		ArgsUsage: "A B [C...]",
		Description: "Runs each scenario with the same seed, so scenarios that share a population share\n" +
			"its patients and chance events, and reports each scenario minus the first (A):\n" +
			"total cost to the commissioner, savings retained, deficits carried, the chance\n" +
			"that a practice over- or underspends by more than 5% and 10% by list-size band,\n" +
			"the commissioner's reserve need at the 95th and 99th percentile, and, from the\n" +
			"ledger, the commissioner's outlay and each party's net position (providers, pool,\n" +
			"holders), each with its paired Monte Carlo standard error and the one independent\n" +
			"runs would give. Memory stays flat: each replication is reduced as it is made.\n" +
			"Writes DIR/compare.parquet and DIR/compare.csv.",
		Flags: append(o.sizes.flags("replications `N` (default: the first scenario's)", "budget years `N` after the base year (default: the first scenario's)",
			"random `SEED` shared by all scenarios (default: the first scenario's)"),
			workersFlag(&o.workers, allCores, "worker goroutines `N`"),
			outFlag(&o.out, "comparison", "output `DIR`"),
			quietFlag(&o.quiet, "print nothing but errors"),
			cohortFlag(&o.cohort, false, "simulate practices from age-sex-frailty group counts (as run --cohort)"),
			areaFlag(&o.area),
		),
		// Flags may follow the scenario names (gpbudget compare A B --reps 10),
		// which the CLI library's parser does not allow: flagsAnywhere sets them.
		SkipFlagParsing: true,
		Action: argsThenFlags(func(c *cli.Context, refs []string) error {
			o.set = givenOf(c)
			return runCompare(c.Context, o, streamsOf(c), refs)
		}),
	}
}

// compareOptions are compare's flags.
type compareOptions struct {
	pairedOptions
	area string
}

// pairedOptions are the flags of the commands that run scenarios paired,
// with common random numbers (compare, sensitivity).
type pairedOptions struct {
	sizes
	workers       int
	out           string
	quiet, cohort bool
	set           given
}

// runCompare runs the scenarios refs with common random numbers and writes
// their paired differences from the first.
func runCompare(ctx context.Context, o *compareOptions, w streams, refs []string) error {
	if _, err := outPath("out", o.out); err != nil {
		return err
	}
	if len(refs) < 2 {
		return badInput("compare: name two or more scenarios (A B [C...]); got %d", len(refs))
	}
	var ss []*scenarios.Scenario
	for _, ref := range refs {
		s, err := scenarios.Load(ref)
		if err != nil {
			return inputError{err}
		}
		// Every scenario on the same real practices.
		if err := useArea(w, s, areaOptions{area: o.area, set: o.set}); err != nil {
			return err
		}
		ss = append(ss, s)
	}
	reps, years, seed, err := o.resolve(ss[0], o.set, 2)
	if err != nil {
		return err
	}
	if err := inRange("workers", o.workers, 1, maxWorkers); err != nil {
		return err
	}
	spec := &rundir.Paired{Seed: seed, Reps: reps, Years: years, Workers: o.workers, Cohort: o.cohort}
	meta := map[string]string{"gpbudget.command": runfolder.CommandLine(os.Args), "gpbudget.seed": strconv.FormatUint(seed, 10), "gpbudget.version": version}
	seen := map[string]int{}
	for k, s := range ss {
		s.Replications, s.Years, s.Seed = reps, years, seed // recorded as run
		m, err := s.Model(seed)
		if err == nil {
			err = s.CheckRun(m, reps, years)
		}
		if err != nil {
			return inputError{err} // it names the file
		}
		if o.cohort && m.StopLoss.Active() {
			return badInput("--cohort cannot apply scenario %s's per-patient stop-loss: compare it without --cohort", s.Name)
		}
		name := s.Name
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s#%d", name, seen[name])
		}
		spec.Names = append(spec.Names, name)
		spec.Models = append(spec.Models, m)
		y, err := s.YAML()
		if err != nil {
			return err
		}
		// Each scenario resolved, so the file alone says how to reproduce it.
		meta["gpbudget.scenario."+strconv.Itoa(k)] = string(y)
		meta["gpbudget.scenario_name."+strconv.Itoa(k)] = name
	}
	metrics, err := runPaired(ctx, w, spec, o.quiet)
	if err != nil {
		return err
	}
	rows, err := analysis.Compare(spec.Names, metrics, seed)
	if err != nil {
		return err
	}
	if err := analysis.WriteComparison(o.out, rows, meta); err != nil {
		return inputError{err}
	}
	if !o.quiet {
		fmt.Fprintf(w.out, "paired comparison: %d replications x %d years, seed %d (common random numbers)\n", reps, years, seed)
		analysis.PrintComparison(w.out, rows)
		fmt.Fprintf(w.out, "wrote %s/%s and %s/%s\n", o.out, runfolder.CompareParquet, o.out, runfolder.CompareCSV)
	}
	return nil
}

// runPaired runs spec's models with a progress display, each into a
// Metrics sink, and returns them in the models' order.
func runPaired(ctx context.Context, w streams, spec *rundir.Paired, quiet bool) ([]*analysis.Metrics, error) {
	var prog sim.Progress
	spec.Progress = &prog
	finish := showProgress(w.err, progressModeFor(quiet, w.err), &prog, plainProgressEvery)
	metrics := make([]*analysis.Metrics, len(spec.Models))
	sinks := make([]sim.Sink, len(spec.Models))
	for k := range metrics {
		metrics[k] = &analysis.Metrics{}
		sinks[k] = metrics[k]
	}
	err := spec.Run(ctx, sinks)
	finish(err == nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted after %d of %d practice simulations; nothing was written: %w", prog.Done.Load(), prog.Total.Load(), err)
		}
		return nil, err
	}
	return metrics, nil
}
