package main

import (
	"cmp"
	"math"
	"runtime/debug"
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

// outPath is a command's --out (or another output flag): an empty one (an
// unset shell variable) is refused rather than taken as the current folder.
func outPath(flag, v string) (string, error) {
	if v == "" {
		return "", badInput("--%s is empty (an unset shell variable?): name the file or folder to write", flag)
	}
	return v, nil
}

// Bounds shared by several commands.
const (
	maxYears   = 50
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
