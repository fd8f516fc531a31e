package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

// inRange is the one check of a numeric flag's range: v must lie in
// [lo, hi]; the error names the flag and what is accepted (exit status 2).
// A NaN is never in range.
func inRange[T cmp.Ordered](flag string, v, lo, hi T) error {
	if f, ok := any(v).(float64); ok && math.IsNaN(f) {
		return badInput("--%s %v is not a number: accepted %v to %v", flag, v, lo, hi)
	}
	if v < lo || v > hi {
		return badInput("--%s %v is out of range: accepted %v to %v", flag, v, lo, hi)
	}
	return nil
}

// firstError is the first of checks that failed, or nil: a command's range
// checks in the order its flags are listed.
func firstError(checks ...error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// outPath is a command's --out (or another output flag): an empty one (an
// unset shell variable) is refused rather than taken as the current folder.
func outPath(flag, v string) (string, error) {
	if v == "" {
		return "", badInput("--%s is empty (an unset shell variable?): name the file or folder to write", flag)
	}
	return v, nil
}

// outFile is the one check of an output flag naming one file: "-" is
// standard output; otherwise it must not be one of inputs (the same file by
// any path or link) nor an existing file that is not a regular file (a
// device, a folder, a pipe), which the atomic rename would replace.
func outFile(flag, v string, inputs ...string) (string, error) {
	if _, err := outPath(flag, v); err != nil || v == "-" {
		return v, err
	}
	st, err := os.Stat(v)
	if err != nil {
		return v, nil // a new file: no input is lost (two outputs: distinctOuts)
	}
	if !st.Mode().IsRegular() {
		return "", badInput("--%s %s exists and is not a regular file (%s): accepted a new or regular file, or - for standard output", flag, v, fileKind(st.Mode()))
	}
	for _, in := range inputs {
		if in == "" || in == "-" {
			continue
		}
		if is, err := os.Stat(in); err == nil && os.SameFile(st, is) {
			return "", badInput("--%s %s is also an input (%s): it would be replaced; name another file", flag, v, in)
		}
	}
	return v, nil
}

// distinctOuts refuses two output flags naming one file.
func distinctOuts(outs map[string]string) error {
	seen := map[string]string{}
	for flag, v := range outs {
		if v == "" || v == "-" {
			continue
		}
		k, _ := filepath.Abs(v)
		if f, dup := seen[k]; dup {
			return badInput("--%s and --%s both name %s: name two files", min(f, flag), max(f, flag), v)
		}
		seen[k] = flag
	}
	return nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}

// writeOut writes b to path (- for stdout), atomically.
func writeOut(stdout io.Writer, path string, b []byte) error {
	if path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	if err := runfolder.WriteFileAtomic(path, b); err != nil {
		return inputError{err}
	}
	return nil
}

// printJSON prints v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// Bounds shared by several commands.
const (
	maxYears   = scenarios.MaxYears
	maxWorkers = 4096
	maxReps    = math.MaxInt // the scenario's limits bound a run's size (scenarios.Limits)
)

// streamingGC tunes the collector for commands that stream a run folder
// (summarize, report, run's headline, bench --summary): their memory is
// long-lived values and small reused batches, while the Parquet decoder
// leaves a steady trickle of garbage; collecting when the heap has grown by
// half (not the default whole) keeps peak memory close to what is in use,
// flat in the number of rows, for about 1% more CPU.
func streamingGC() { debug.SetGCPercent(50) }

// Flags several commands share, each defined once here and bound to a field
// of the command's options. Where a command's default or wording differs
// (a run takes the scenario's replications, risk-curve 200 of its own), the
// difference is the constructor's argument, said where the command lists
// its flags.

// scenarioFlag is --scenario (-s): a scenario file or built-in name.
func scenarioFlag(dst *string, def, usage string) *cli.StringFlag {
	return &cli.StringFlag{Name: "scenario", Aliases: []string{"s"}, Value: def, Destination: dst, Usage: usage}
}

// repsFlag is --reps: replications. The defaults differ because the
// commands count different things: 0, "the scenario's" (run, compare,
// sensitivity: sizes.resolve); 200 per holder size (risk-curve, for its
// standard errors); 8 generated histories (backtest); 20 model replications
// (validate-risk); the benchmark's workload (bench).
func repsFlag(dst *int, def int, usage string) *cli.IntFlag {
	return &cli.IntFlag{Name: "reps", Value: def, Destination: dst, Usage: usage}
}

// yearsFlag is --years: budget years after the base year (0, "the
// scenario's", for run, compare, sensitivity; 1 contract year for
// risk-curve), or years of generated history (5 for fit, forecast and synth;
// 6 for backtest, which holds the last out).
func yearsFlag(dst *int, def int, usage string) *cli.IntFlag {
	return &cli.IntFlag{Name: "years", Value: def, Destination: dst, Usage: usage}
}

// seedFlag is --seed: the random seed; 0 is "the scenario's" where the
// command runs a scenario as given (run, compare, sensitivity, risk-curve),
// 1 where it generates data of its own (fit, forecast, backtest, synth,
// validate-risk, bench).
func seedFlag(dst *uint64, def uint64, usage string) *cli.Uint64Flag {
	return &cli.Uint64Flag{Name: "seed", Value: def, Destination: dst, Usage: usage}
}

// workersFlag is --workers: worker goroutines, def by default (allCores but
// for bench, whose default is its workload's).
func workersFlag(dst *int, def int, usage string) *cli.IntFlag {
	return &cli.IntFlag{Name: "workers", Value: def, Destination: dst, Usage: usage}
}

// allCores is the default of --workers: one worker goroutine per core.
var allCores = runtime.NumCPU()

// outFlag is --out (-o): the folder or file a command writes.
func outFlag(dst *string, def, usage string) *cli.StringFlag {
	return &cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: def, Destination: dst, Usage: usage}
}

// quietFlag is --quiet (-q).
func quietFlag(dst *bool, usage string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Destination: dst, Usage: usage}
}

// cohortFlag is --cohort: cohort mode (sensitivity's default is on).
func cohortFlag(dst *bool, def bool, usage string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: "cohort", Value: def, Destination: dst, Usage: usage}
}

// jsonFlag is --json: one JSON document on standard output.
func jsonFlag(dst *bool, usage string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: "json", Destination: dst, Usage: usage}
}

// historyFlag is --history: a spending history (fit, forecast, backtest).
func historyFlag(dst *string) *cli.StringFlag {
	return &cli.StringFlag{Name: "history", Destination: dst, Usage: "spending history `FILE` (.csv or .parquet, or a folder of .parquet)"}
}

// paymentsFlag is --payments: NHS payments files, also taken as the
// arguments after it (filesAndFlags).
func paymentsFlag(dst *cli.StringSlice) *cli.StringSliceFlag {
	return &cli.StringSliceFlag{Name: "payments", Destination: dst, Usage: "payments `FILE`s (repeat the flag, or list files after it)"}
}

// populationFlag is --population: an NHS Digital list-size file.
func populationFlag(dst *string, usage string) *cli.StringFlag {
	return &cli.StringFlag{Name: "population", Destination: dst, Usage: usage}
}

// areaFlag is --area on the commands that take one.
func areaFlag(dst *string) *cli.StringFlag {
	return &cli.StringFlag{Name: "area", Destination: dst, Usage: "England's real practices of an ICB, place, PCN or region (2022/23): `CODE|NAME` " +
		"(a code or a unique part of a name; 'gpbudget areas'), in place of the scenario's population"}
}

// replicationFlag is --replication: which history of a file that holds several.
func replicationFlag(dst *int, usage string) *cli.IntFlag {
	return &cli.IntFlag{Name: "replication", Value: -1, Destination: dst, Usage: usage}
}

// exactMemoryFlag bounds the memory of exact percentiles (summarize, report).
func exactMemoryFlag(dst *int) *cli.IntFlag {
	return &cli.IntFlag{Name: "exact-memory", Value: analysis.DefaultExactBytes >> 20, Destination: dst,
		Usage: "hold every value for exact percentiles while they fit in `MB` (as float32); beyond, spill practices' values to disk and sketch the pooled ones"}
}

// given is which of a command's flags its command line set: for flags whose
// absence means "the scenario's", and flags that need another.
type given map[string]bool

func givenOf(c *cli.Context) given {
	g := given{}
	for _, f := range c.Command.Flags {
		if n := f.Names()[0]; c.IsSet(n) {
			g[n] = true
		}
	}
	return g
}

// sizes are --reps, --years and --seed of a command that runs a scenario,
// each the scenario's own unless given.
type sizes struct {
	reps, years int
	seed        uint64
}

// flags are the three flags, bound to z; the usages say whose defaults they
// are ("the scenario's", "the first scenario's").
func (z *sizes) flags(repsUsage, yearsUsage, seedUsage string) []cli.Flag {
	return []cli.Flag{repsFlag(&z.reps, 0, repsUsage), yearsFlag(&z.years, 0, yearsUsage), seedFlag(&z.seed, 0, seedUsage)}
}

// resolve returns the replications, years and seed to run s with, given
// the flags set: at least minReps replications (compare and sensitivity
// need two, for standard errors).
func (z *sizes) resolve(s *scenarios.Scenario, set given, minReps int) (reps, years int, seed uint64, err error) {
	reps, years, seed = s.Replications, s.Years, s.Seed
	if set["reps"] {
		reps = z.reps
	}
	if set["years"] {
		years = z.years
	}
	if set["seed"] {
		seed = z.seed
	}
	if err := firstError(inRange("reps", reps, minReps, maxReps), inRange("years", years, 1, maxYears)); err != nil {
		return 0, 0, 0, err
	}
	return reps, years, seed, nil
}

// streams are where a command prints: results on out, progress, notes and
// warnings on err (the app's Writer and ErrWriter).
type streams struct{ out, err io.Writer }

func streamsOf(c *cli.Context) streams { return streams{c.App.Writer, c.App.ErrWriter} }
