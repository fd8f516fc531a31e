package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compareApp runs the CLI in process and returns its error and output.
func compareApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &out
	err := app.Run(append([]string{"gpbudget", "compare"}, args...))
	return out.String(), err
}

// TestCompareCLI: flags may follow the scenario names; a self-comparison
// prints zero differences and writes Parquet and CSV; too few scenarios or a
// bad flag is bad input (exit status 2).
func TestCompareCLI(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(small, []byte("name: small\npopulation:\n  synthetic:\n    practices: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "cmp")
	text, err := compareApp(t, small, small, "--reps", "3", "--years", "1", "--seed", "5", "--out", out, "--workers", "2")
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if !strings.Contains(text, "commissioner_cost") || !strings.Contains(text, "small#2 - small") {
		t.Errorf("output lacks the comparison:\n%s", text)
	}
	csv, err := os.ReadFile(filepath.Join(out, "compare.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(csv)), "\n")[1:] {
		f := strings.Split(line, ",")
		if f[6] != "0" && f[6] != "" { // an empty band: undefined, written as an empty cell
			t.Errorf("self-comparison difference %s in %s", f[6], line)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "compare.parquet")); err != nil {
		t.Error(err)
	}
	// In cohort mode too; not with a per-patient stop-loss.
	if text, err := compareApp(t, small, small, "--reps", "3", "--years", "1", "--cohort", "--out", filepath.Join(dir, "cohort")); err != nil {
		t.Errorf("--cohort: %v\n%s", err, text)
	}
	if _, err := compareApp(t, small, "fundholding-1996", "--reps", "3", "--cohort", "--out", filepath.Join(dir, "sl")); err == nil || !strings.Contains(err.Error(), "stop-loss") {
		t.Errorf("--cohort with a stop-loss: %v", err)
	}
	for _, args := range [][]string{{small}, {small, small, "--reps", "x"}, {small, small, "--reps", "1"}, {small, "no-such-scenario"}} {
		_, err := compareApp(t, args...)
		var ie inputError
		if !errors.As(err, &ie) {
			t.Errorf("compare %v: error %v is not bad input (exit 2)", args, err)
		}
	}
}

// TestFlagsAfterArguments: flags after compare's scenarios are its own flags
// (one declaration): --help shows its help; an unknown flag or a bad value
// is bad input naming the flag and what is accepted.
func TestFlagsAfterArguments(t *testing.T) {
	if text, err := compareApp(t, "a", "b", "--help"); err != nil || !strings.Contains(text, "gpbudget compare") || !strings.Contains(text, "--reps N") {
		t.Errorf("--help after the scenarios: %v\n%s", err, text)
	}
	for _, c := range []struct {
		args []string
		says []string
	}{
		{[]string{"a", "b", "--bogus"}, []string{"compare: unknown flag --bogus", "accepted --reps, --years, --seed, --workers, --out"}},
		{[]string{"a", "b", "--reps", "x"}, []string{`invalid value "x" for flag --reps`}},
		{[]string{"a", "b", "--reps"}, []string{"--reps needs a value"}},
	} {
		_, err := compareApp(t, c.args...)
		var ie inputError
		if !errors.As(err, &ie) {
			t.Errorf("compare %v: error %v is not bad input (exit 2)", c.args, err)
			continue
		}
		for _, s := range c.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("compare %v: %q lacks %q", c.args, err, s)
			}
		}
	}
}
