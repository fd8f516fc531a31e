package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRiskCurveCommand: a small curve writes its CSV (one row a size) and
// Parquet files and prints its table; bad flags exit 2 naming what is
// accepted, and leave nothing behind.
func TestRiskCurveCommand(t *testing.T) {
	dir := t.TempDir()
	code, out := gpbudget(t, dir, "risk-curve", "--scenario", "neighbourhood-shared-savings-2026", "--sizes", "5000,20000", "--reps", "4", "--holders", "5", "--seed", "2", "--out", "rc")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "rc", "risk_curve.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "5000,5,1,4,1,20,cohort,") {
		t.Errorf("risk_curve.csv:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "rc", "risk_curve.parquet")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(out, "false_rew") || !strings.Contains(out, "20000") {
		t.Errorf("printed:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"risk-curve", "--sizes", "5000,lots", "--out", "bad"}, `"lots" is not accepted`},
		{[]string{"risk-curve", "--sizes", "50", "--out", "bad"}, "from 100 to"},
		{[]string{"risk-curve", "--reps", "1", "--out", "bad"}, "--reps 1 is out of range"},
		{[]string{"risk-curve", "--holders", "-2", "--out", "bad"}, "--holders -2"},
		{[]string{"risk-curve", "--scenario", "no-such-scenario", "--out", "bad"}, "no built-in scenario"},
	} {
		code, out := gpbudget(t, dir, c.args...)
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, out, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad")); err == nil {
		t.Error("a refused risk-curve left a folder")
	}
}
