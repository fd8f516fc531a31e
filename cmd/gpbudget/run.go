package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gpbudget/gpbudget/output"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run a scenario's Monte Carlo simulation and write Parquet results",
		Description: "With no flags, runs the built-in default scenario (50 practices, about 300,000\n" +
			"patients) and writes ./results. Results are identical for the same scenario and\n" +
			"seed whatever the number of workers.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "scenario", Aliases: []string{"s"}, Value: "default", Usage: "scenario `FILE|NAME` (see 'gpbudget scenarios')"},
			&cli.IntFlag{Name: "reps", Usage: "replications `N` (default: the scenario's)"},
			&cli.IntFlag{Name: "years", Usage: "budget years `N` after the base year (default: the scenario's)"},
			&cli.Uint64Flag{Name: "seed", Usage: "random `SEED` (default: the scenario's)"},
			&cli.IntFlag{Name: "workers", Value: runtime.NumCPU(), Usage: "worker goroutines `N`"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "results", Usage: "output `DIR`"},
			&cli.StringFlag{Name: "population", Usage: "NHS Digital list-size `FILE.csv` (five-year-band or single-year layout) whose practices replace the scenario's"},
			&cli.StringFlag{Name: "practices", Usage: "with --population: only these practice or commissioner `CODE,...`"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return badInput("run: unexpected argument %q (use --scenario)", c.Args().First())
			}
			s, err := scenarios.Load(c.String("scenario"))
			if err != nil {
				return inputError{err}
			}
			if pf := c.String("population"); pf != "" {
				ps, err := scenarios.ReadPopulationFile(pf, strings.Split(c.String("practices"), ","))
				if err != nil {
					return inputError{err}
				}
				s.UsePractices(ps)
			} else if c.IsSet("practices") {
				return badInput("--practices needs --population FILE.csv")
			}
			reps, years, seed := s.Replications, s.Years, s.Seed
			if c.IsSet("reps") {
				reps = c.Int("reps")
			}
			if c.IsSet("years") {
				years = c.Int("years")
			}
			if c.IsSet("seed") {
				seed = c.Uint64("seed")
			}
			if reps < 1 {
				return badInput("--reps %d is out of range: accepted 1 or more", reps)
			}
			if years < 1 || years > 50 {
				return badInput("--years %d is out of range: accepted 1 to 50", years)
			}
			workers := c.Int("workers")
			if workers < 1 || workers > 4096 {
				return badInput("--workers %d is out of range: accepted 1 to 4096", workers)
			}
			// The manifest records the run as resolved.
			s.Replications, s.Years, s.Seed = reps, years, seed
			m, err := s.Model(seed)
			if err != nil {
				return inputError{err}
			}
			dir := c.String("out")
			if err := output.PrepareDir(dir); err != nil {
				return inputError{err}
			}
			start := time.Now()
			man, err := output.Execute(c.Context, &output.Spec{
				Scenario: s, Model: m, Seed: seed, Reps: reps, Years: years, Workers: workers,
				Dir: dir, Version: version, Command: strings.Join(os.Args, " "),
			})
			if err != nil {
				if c.Context.Err() != nil {
					return fmt.Errorf("interrupted: %s is incomplete (manifest says completed: false): %w", dir, err)
				}
				return err
			}
			if !c.Bool("quiet") {
				patients := 0
				for i := range m.Practices {
					patients += m.Practices[i].ListSize()
				}
				fmt.Fprintf(c.App.Writer, "%s: %d replications x %d years x %d practices (%d patients), seed %d\n",
					s.Name, reps, years, len(m.Practices), patients, seed)
				fmt.Fprintf(c.App.Writer, "wrote %d rows to %s/practice_years/ in %.1fs; manifest %s/%s\n",
					man.Rows, dir, time.Since(start).Seconds(), dir, output.ManifestName)
			}
			return nil
		},
	}
}
