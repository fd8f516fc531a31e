package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPopulationFileToForecast walks the real-practice path: synth writes a
// list-size file and a history, run takes the file (the first year starts
// from its lists), fit writes a scenario run accepts, forecast writes
// quantiles, backtest prints JSON; a malformed file is refused with its line.
func TestPopulationFileToForecast(t *testing.T) {
	dir := t.TempDir()
	if code, out := gpbudget(t, dir, "synth", "--practices", "6", "--out", "pop.csv", "--history", "hist.csv", "--years", "4"); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, out)
	}
	if code, out := gpbudget(t, dir, "run", "--population", "pop.csv", "--practices", "P0001,P0002", "--reps", "2", "--years", "1", "--out", "r", "-q"); code != 0 {
		t.Fatalf("run --population: exit %d: %s", code, out)
	}
	if code, out := gpbudget(t, dir, "fit", "--history", "hist.csv", "--population", "pop.csv", "--out", "fitted.yaml"); code != 0 {
		t.Fatalf("fit: exit %d: %s", code, out)
	}
	if code, out := gpbudget(t, dir, "run", "--scenario", "fitted.yaml", "--reps", "1", "--years", "1", "--out", "rf", "-q"); code != 0 {
		t.Fatalf("run on the fitted scenario: exit %d: %s", code, out)
	}
	if code, out := gpbudget(t, dir, "forecast", "--history", "hist.csv", "--population", "pop.csv", "--horizon", "3", "--out", "fc"); code != 0 {
		t.Fatalf("forecast: exit %d: %s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "fc", "forecast.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Header + 6 practices x 6 quantities x 3 years.
	if n := strings.Count(string(b), "\n"); n != 1+6*6*3 {
		t.Errorf("forecast.csv has %d lines, want %d", n, 1+6*6*3)
	}
	if _, err := os.Stat(filepath.Join(dir, "fc", "forecast.parquet")); err != nil {
		t.Error(err)
	}
	code, out := gpbudget(t, dir, "backtest", "--history", "hist.csv", "--json")
	var res map[string]float64
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("backtest --json: exit %d: %s", code, out)
	}
	for _, k := range []string{"coverage_50", "coverage_80", "coverage_95", "mae", "crps", "naive_mae", "naive_crps"} {
		if _, ok := res[k]; !ok {
			t.Errorf("backtest JSON lacks %s", k)
		}
	}
	pop, _ := os.ReadFile(filepath.Join(dir, "pop.csv"))
	bad := strings.Replace(string(pop), ",MALE,10_14,", ",MALE,10_15,", 1)
	os.WriteFile(filepath.Join(dir, "bad.csv"), []byte(bad), 0o644)
	code, out = gpbudget(t, dir, "run", "--population", "bad.csv", "--reps", "1", "--out", "rb")
	if code != 2 || !strings.Contains(out, "bad.csv, line 4") {
		t.Errorf("malformed population file: exit %d, %q (want 2 and the line)", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "rb")); err == nil {
		t.Error("a refused run left an output folder")
	}
}
