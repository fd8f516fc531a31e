package main

import (
	"cmp"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"

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

// writeOut writes b to path (- for standard output), atomically.
func writeOut(c *cli.Context, path string, b []byte) error {
	if path == "-" {
		_, err := c.App.Writer.Write(b)
		return err
	}
	if err := runfolder.WriteFileAtomic(path, b); err != nil {
		return inputError{err}
	}
	return nil
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
