package main

import (
	"cmp"
	"math"
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

// Bounds shared by several commands.
const (
	maxYears   = 50
	maxWorkers = 4096
	maxReps    = math.MaxInt32
)
