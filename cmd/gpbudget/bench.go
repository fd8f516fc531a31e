package main

import (
	"context"
	"fmt"

	"github.com/gpbudget/gpbudget/bench"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/urfave/cli/v2"
)

func benchCommand() *cli.Command {
	d := bench.DefaultConfig()
	o := &benchOptions{}
	return &cli.Command{
		Name:  "bench",
		Usage: "measure the engine on a fixed, seeded workload (kernel vs random-number floor, workers, cohort mode, memory)",
		Description: "With --summary DIR, times 'summarize' of a completed run against only reading its\n" +
			"columns, and reports its peak memory (bench/README.md: England cohort 1,000 x 5 years).\n\n" +
			"Times the patient-level kernel on one goroutine against the floor (5 words per\n" +
			"patient-year from the same generator, in the same run; the kernel draws 3), cohort\n" +
			"mode, and whole runs at 1, 2, 4, ... workers. Patient-years include each practice's\n" +
			"base year.",
		Flags: []cli.Flag{
			scenarioFlag(&o.cfg.Scenario, d.Scenario, "scenario `FILE|NAME`"),
			seedFlag(&o.cfg.Seed, d.Seed, "random `SEED`"),
			repsFlag(&o.cfg.Reps, d.Reps, "replications `N` timed for the kernel and cohort mode"),
			&cli.IntFlag{Name: "run-reps", Value: d.RunReps, Destination: &o.cfg.RunReps, Usage: "replications `N` per whole-run timing"},
			yearsFlag(&o.cfg.Years, d.Years, "years `N` after the base year"),
			workersFlag(&o.cfg.Workers, d.Workers, "most workers `N` for the scaling runs"),
			jsonFlag(&o.json, "print one JSON object"),
			&cli.BoolFlag{Name: "peer", Value: true, Destination: &o.peer, Usage: "time the numpy peer (bench/peer: python3 with numpy) on the kernel's workload; --peer=false to skip"},
			&cli.StringFlag{Name: "summary", Destination: &o.summary, Usage: "instead, time 'summarize' of the completed run in `DIR` against reading its columns, and its peak memory"},
			exactMemoryFlag(&o.exactMemory),
			&cli.IntFlag{Name: "repeats", Value: 15, Destination: &o.repeats, Usage: "with --summary, time the read and the summary `N` times each, in turn, and report the medians"},
		},
		Action: func(c *cli.Context) error { return runBench(c.Context, o, streamsOf(c)) },
	}
}

// benchOptions are bench's flags: the workload (bench.Config) and how to print.
type benchOptions struct {
	cfg     bench.Config
	json    bool
	peer    bool // time the numpy peer (bench.Config.NoPeer is its negation)
	summary string
	// exactMemory bounds --summary's exact values in MB (summarize's --exact-memory).
	exactMemory int
	// repeats is how many times --summary times each of the read and the summary.
	repeats int
}

// runBench measures the engine (or, with --summary, the summary of a run).
func runBench(ctx context.Context, o *benchOptions, w streams) error {
	if o.summary != "" {
		if err := firstError(inRange("exact-memory", o.exactMemory, 0, 1<<20), inRange("repeats", o.repeats, 1, 100)); err != nil {
			return err
		}
		streamingGC()
		r, err := bench.MeasureSummary(ctx, o.summary, analysis.Options{ExactBytes: int64(o.exactMemory) << 20}, o.repeats)
		if err != nil {
			return inputError{err}
		}
		if o.json {
			return printJSON(w.out, r)
		}
		fmt.Fprintf(w.out, "%s: %d practice-year rows, %d ledger rows\n", r.Dir, r.Rows, r.LedgerRows)
		fmt.Fprintf(w.out, "check the files against the manifest (SHA-256): %.1f s (%.1f s CPU) for %.2f GB\n", r.VerifySec, r.VerifyCPUSec, float64(r.Bytes)/1e9)
		fmt.Fprintf(w.out, "read the columns: %.2f s (%.2f s CPU); summarize: %.2f s (%.2f s CPU); ratio %.2f, CPU ratio %.2f (target <= 2; medians of %d each)\n",
			r.ReadSec, r.ReadCPUSec, r.SummarySec, r.SummaryCPUSec, r.TimeRatio, r.CPURatio, r.Repeats)
		fmt.Fprintf(w.out, "peak RSS %.0f MB (target for England 1,000 x 5: < 300 MB); quantiles %s\n", float64(r.PeakRSSBytes)/1e6,
			map[bool]string{true: "exact", false: fmt.Sprintf("within %.0f%% (DDSketch)", 100*r.QuantileError)}[r.QuantileError == 0])
		if r.PracticeQuantileError != r.QuantileError {
			fmt.Fprintln(w.out, "each practice's quantiles exact (spilled to disk)")
		}
		return nil
	}
	cfg := o.cfg
	cfg.NoPeer = !o.peer
	if err := firstError(inRange("reps", cfg.Reps, 1, maxReps), inRange("run-reps", cfg.RunReps, 1, maxReps),
		inRange("years", cfg.Years, 1, maxYears), inRange("workers", cfg.Workers, 1, maxWorkers)); err != nil {
		return err
	}
	r, err := bench.Measure(ctx, cfg)
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(w.out, r)
	}
	fmt.Fprintf(w.out, "scenario %s, seed %d, %s, %d CPUs\n", r.Scenario, r.Seed, r.GoVersion, r.CPUs)
	fmt.Fprintf(w.out, "kernel (1 goroutine): %.1f ns/patient-year (%.3g patient-years/s), floor %.1f ns (5 words; the kernel draws %d), ratio %.2f, %.3g allocs/patient-year\n",
		r.NsPerPatientYear, r.KernelPatientYearsPerS, r.FloorNsPerPatientYear, r.KernelWordsPerPatientYear, r.FloorRatio, r.AllocsPerPatientYear)
	fmt.Fprintf(w.out, "whole practice tasks (1 goroutine, set-up included): %.1f ns/patient-year, ratio %.2f to the floor, %.3g allocs/patient-year\n", r.PracticeNsPerPatientYear, r.PracticeFloorRatio, r.PracticeAllocsPerPatientYear)
	fmt.Fprintf(w.out, "cohort mode (1 goroutine): %.3g practice-years/s (%.3g patient-years/s)\n", r.CohortPracticeYearsPerSec, r.CohortPatientYearsPerSec)
	for _, s := range r.Scaling {
		fmt.Fprintf(w.out, "run, %d workers: %.3g patient-years/s (x%.2f)\n", s.Workers, s.PatientYearsPerSec, s.Speedup)
	}
	fmt.Fprintln(w.out, r.Peer.Text())
	fmt.Fprintf(w.out, "peak RSS %.1f MiB\n", float64(r.PeakRSSBytes)/(1<<20))
	return nil
}
