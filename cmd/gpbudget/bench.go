package main

import (
	"encoding/json"
	"fmt"

	"github.com/gpbudget/gpbudget/bench"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/urfave/cli/v2"
)

func benchCommand() *cli.Command {
	d := bench.DefaultConfig()
	return &cli.Command{
		Name:  "bench",
		Usage: "measure the engine on a fixed, seeded workload (kernel vs random-number floor, workers, cohort mode, memory)",
		Description: "With --summary DIR, times 'summarize' of a completed run against only reading its\n" +
			"columns, and reports its peak memory (bench/README.md: England cohort 1,000 x 5 years).\n\n" +
			"Times the patient-level kernel on one goroutine against the floor (5 uniforms per\n" +
			"patient-year from the same generator, in the same run), cohort mode, and whole runs\n" +
			"at 1, 2, 4, ... workers. Patient-years include each practice's base year.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "scenario", Aliases: []string{"s"}, Value: d.Scenario, Usage: "scenario `FILE|NAME`"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "random `SEED`"},
			&cli.IntFlag{Name: "reps", Value: d.Reps, Usage: "replications `N` timed for the kernel and cohort mode"},
			&cli.IntFlag{Name: "run-reps", Value: d.RunReps, Usage: "replications `N` per whole-run timing"},
			&cli.IntFlag{Name: "years", Value: d.Years, Usage: "years `N` after the base year"},
			&cli.IntFlag{Name: "workers", Value: d.Workers, Usage: "most workers `N` for the scaling runs"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
			&cli.BoolFlag{Name: "peer", Value: true, Usage: "time the numpy peer (bench/peer: python3 with numpy) on the kernel's workload; --peer=false to skip"},
			&cli.StringFlag{Name: "summary", Usage: "instead, time 'summarize' of the completed run in `DIR` against reading its columns, and its peak memory"},
			exactMemoryFlag,
		},
		Action: func(c *cli.Context) error {
			if dir := c.String("summary"); dir != "" {
				if err := inRange("exact-memory", c.Int("exact-memory"), 0, 1<<20); err != nil {
					return err
				}
				streamingGC()
				r, err := bench.MeasureSummary(c.Context, dir, analysis.Options{ExactBytes: int64(c.Int("exact-memory")) << 20})
				if err != nil {
					return inputError{err}
				}
				if c.Bool("json") {
					b, err := json.Marshal(r)
					if err != nil {
						return err
					}
					fmt.Fprintln(c.App.Writer, string(b))
					return nil
				}
				fmt.Fprintf(c.App.Writer, "%s: %d practice-year rows, %d ledger rows\n", r.Dir, r.Rows, r.LedgerRows)
				fmt.Fprintf(c.App.Writer, "check the files against the manifest (SHA-256): %.1f s (%.1f s CPU) for %.2f GB\n", r.VerifySec, r.VerifyCPUSec, float64(r.Bytes)/1e9)
				fmt.Fprintf(c.App.Writer, "read the columns: %.1f s (%.1f s CPU); summarize: %.1f s (%.1f s CPU); ratio %.2f, CPU ratio %.2f (target <= 2)\n",
					r.ReadSec, r.ReadCPUSec, r.SummarySec, r.SummaryCPUSec, r.TimeRatio, r.CPURatio)
				fmt.Fprintf(c.App.Writer, "peak RSS %.0f MB (target for England 1,000 x 5: < 300 MB); quantiles %s\n", float64(r.PeakRSSBytes)/1e6,
					map[bool]string{true: "exact", false: fmt.Sprintf("within %.0f%% (DDSketch)", 100*r.QuantileError)}[r.QuantileError == 0])
				if r.PracticeQuantileError != r.QuantileError {
					fmt.Fprintln(c.App.Writer, "each practice's quantiles exact (spilled to disk)")
				}
				return nil
			}
			cfg := bench.Config{Scenario: c.String("scenario"), Seed: c.Uint64("seed"), Reps: c.Int("reps"),
				RunReps: c.Int("run-reps"), Years: c.Int("years"), Workers: c.Int("workers"), NoPeer: !c.Bool("peer")}
			for _, err := range []error{inRange("reps", cfg.Reps, 1, maxReps), inRange("run-reps", cfg.RunReps, 1, maxReps),
				inRange("years", cfg.Years, 1, maxYears), inRange("workers", cfg.Workers, 1, maxWorkers)} {
				if err != nil {
					return err
				}
			}
			r, err := bench.Measure(c.Context, cfg)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				b, err := json.Marshal(r)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, string(b))
				return nil
			}
			w := c.App.Writer
			fmt.Fprintf(w, "scenario %s, seed %d, %s, %d CPUs\n", r.Scenario, r.Seed, r.GoVersion, r.CPUs)
			fmt.Fprintf(w, "kernel (1 goroutine): %.1f ns/patient-year (%.3g patient-years/s), floor %.1f ns (5 uniforms), ratio %.2f, %.3g allocs/patient-year\n",
				r.NsPerPatientYear, r.KernelPatientYearsPerS, r.FloorNsPerPatientYear, r.FloorRatio, r.AllocsPerPatientYear)
			fmt.Fprintf(w, "whole practice tasks (1 goroutine, set-up included): %.1f ns/patient-year, ratio %.2f to the floor, %.3g allocs/patient-year\n", r.PracticeNsPerPatientYear, r.PracticeFloorRatio, r.PracticeAllocsPerPatientYear)
			fmt.Fprintf(w, "cohort mode (1 goroutine): %.3g practice-years/s (%.3g patient-years/s)\n", r.CohortPracticeYearsPerSec, r.CohortPatientYearsPerSec)
			for _, s := range r.Scaling {
				fmt.Fprintf(w, "run, %d workers: %.3g patient-years/s (x%.2f)\n", s.Workers, s.PatientYearsPerSec, s.Speedup)
			}
			fmt.Fprintln(w, r.Peer.Text())
			fmt.Fprintf(w, "peak RSS %.1f MiB\n", float64(r.PeakRSSBytes)/(1<<20))
			return nil
		},
	}
}
