package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
)

func compareCommand() *cli.Command {
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
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "reps", Usage: "replications `N` (default: the first scenario's)"},
			&cli.IntFlag{Name: "years", Usage: "budget years `N` after the base year (default: the first scenario's)"},
			&cli.Uint64Flag{Name: "seed", Usage: "random `SEED` shared by all scenarios (default: the first scenario's)"},
			&cli.IntFlag{Name: "workers", Value: runtime.NumCPU(), Usage: "worker goroutines `N`"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "comparison", Usage: "output `DIR`"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
			&cli.BoolFlag{Name: "cohort", Usage: "simulate practices from age-sex-frailty group counts (as run --cohort)"},
			areaFlag(),
		},
		// Flags may follow the scenario names (gpbudget compare A B --reps 10),
		// which the CLI library's parser does not allow, so they are parsed here.
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			o, refs, err := parseRunArgs("compare", c.Args().Slice(), false)
			if err != nil {
				return inputError{err}
			}
			if o.help {
				return cli.ShowSubcommandHelp(c)
			}
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
				if o.set["area"] {
					// Every scenario on the same real practices.
					if strings.TrimSpace(o.area) == "" {
						return badInput("--area is empty: name an ICB, place, PCN or region code or a unique part of a name (see 'gpbudget areas')")
					}
					if _, err := s.UseEngland(o.area); err != nil {
						return inputError{fmt.Errorf("--area: %w", err)}
					}
				}
				ss = append(ss, s)
			}
			reps, years, seed, err := o.sizes(ss[0])
			if err != nil {
				return err
			}
			workers := o.workers
			spec := &rundir.Paired{Seed: seed, Reps: reps, Years: years, Workers: workers, Cohort: o.cohort}
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
			metrics, err := runPaired(c, spec, o.quiet)
			if err != nil {
				return err
			}
			rows, err := analysis.Compare(spec.Names, metrics, seed)
			if err != nil {
				return err
			}
			dir := o.out
			if err := analysis.WriteComparison(dir, rows, meta); err != nil {
				return inputError{err}
			}
			if !o.quiet {
				fmt.Fprintf(c.App.Writer, "paired comparison: %d replications x %d years, seed %d (common random numbers)\n", reps, years, seed)
				analysis.PrintComparison(c.App.Writer, rows)
				fmt.Fprintf(c.App.Writer, "wrote %s/%s and %s/%s\n", dir, runfolder.CompareParquet, dir, runfolder.CompareCSV)
			}
			return nil
		},
	}
}

type compareOpts struct {
	reps, years, workers int
	seed                 uint64
	out, area            string
	quiet, help, cohort  bool
	set                  map[string]bool
}

// sizes are the replications, years and seed a command runs scenario s
// with: the scenario's, unless a flag says otherwise; at least two
// replications, for standard errors.
func (o *compareOpts) sizes(s *scenarios.Scenario) (reps, years int, seed uint64, err error) {
	reps, years, seed = s.Replications, s.Years, s.Seed
	if o.set["reps"] {
		reps = o.reps
	}
	if o.set["years"] {
		years = o.years
	}
	if o.set["seed"] {
		seed = o.seed
	}
	for _, err := range []error{inRange("reps", reps, 2, maxReps), inRange("years", years, 1, maxYears), inRange("workers", o.workers, 1, maxWorkers)} {
		if err != nil {
			return 0, 0, 0, err
		}
	}
	return reps, years, seed, nil
}

// runPaired runs spec's models with a progress display, each into a
// Metrics sink, and returns them in the models' order.
func runPaired(c *cli.Context, spec *rundir.Paired, quiet bool) ([]*analysis.Metrics, error) {
	var prog sim.Progress
	spec.Progress = &prog
	finish := showProgress(c.App.ErrWriter, progressModeFor(quiet, c.App.ErrWriter), &prog, plainProgressEvery)
	metrics := make([]*analysis.Metrics, len(spec.Models))
	sinks := make([]sim.Sink, len(spec.Models))
	for k := range metrics {
		metrics[k] = &analysis.Metrics{}
		sinks[k] = metrics[k]
	}
	err := spec.Run(c.Context, sinks)
	finish(err == nil)
	if err != nil {
		if c.Context.Err() != nil {
			return nil, fmt.Errorf("interrupted after %d of %d practice simulations; nothing was written: %w", prog.Done.Load(), prog.Total.Load(), err)
		}
		return nil, err
	}
	return metrics, nil
}

// parseRunArgs splits the arguments of a command that runs scenarios
// (compare, sensitivity) into flags (anywhere: the CLI library's parser
// wants them first) and scenario references. Its output folder defaults to
// the command's name ("comparison" for compare).
func parseRunArgs(cmd string, args []string, cohort bool) (*compareOpts, []string, error) {
	o := &compareOpts{set: map[string]bool{}}
	out := cmd
	if cmd == "compare" {
		out = "comparison"
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&o.reps, "reps", 0, "")
	fs.IntVar(&o.years, "years", 0, "")
	fs.Uint64Var(&o.seed, "seed", 0, "")
	fs.IntVar(&o.workers, "workers", runtime.NumCPU(), "")
	fs.StringVar(&o.out, "out", out, "")
	fs.StringVar(&o.out, "o", out, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.help, "help", false, "")
	fs.BoolVar(&o.help, "h", false, "")
	fs.BoolVar(&o.cohort, "cohort", cohort, "")
	if cmd == "compare" {
		fs.StringVar(&o.area, "area", "", "")
	}
	var refs []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, fmt.Errorf("%s: %w (accepted flags: --reps, --years, --seed, --workers, --out, --cohort, --quiet%s)", cmd, err, map[bool]string{true: ", --area"}[cmd == "compare"])
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		refs = append(refs, args[0])
		args = args[1:]
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	return o, refs, nil
}
