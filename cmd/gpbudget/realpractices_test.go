package main

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/scenarios"
)

// TestFitForecastRealHistory: a history built from the NHS payments sample
// (internal/nhsdata/testdata: list sizes, and drug cost for dispensing practices
// only; the other four streams are zero) is fitted and forecast: fit
// writes a scenario run accepts, keeping the streams the history lacks
// from the base scenario, and forecast writes drug cost (and the total,
// which is drug cost) for the practices that dispensed in the last year,
// and nothing for the others.
func TestFitForecastRealHistory(t *testing.T) {
	dir := t.TempDir()
	pay, _ := filepath.Glob("../../internal/nhsdata/testdata/payments/payments_1*.csv")
	for i := range pay {
		pay[i], _ = filepath.Abs(pay[i])
	}
	if code, out := gpbudget(t, dir, append([]string{"history", "--out", "h.csv", "--payments"}, pay...)...); code != 0 {
		t.Fatalf("history: exit %d: %s", code, out)
	}
	code, out := gpbudget(t, dir, "fit", "--history", "h.csv", "--out", "fitted.yaml")
	if code != 0 || !strings.Contains(out, "outpatient  not in the history") {
		t.Fatalf("fit: exit %d: %s", code, out)
	}
	s, err := scenarios.Load(filepath.Join(dir, "fitted.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base := scenarios.Default()
	if s.Streams.AE.Rate.Male[5] != base.Streams.AE.Rate.Male[5] || s.Streams.Prescribing.Rate.Male[5] == base.Streams.Prescribing.Rate.Male[5] {
		t.Error("the fitted scenario should keep A&E rates and rescale prescribing")
	}
	for _, p := range s.Population.Practices {
		if _, ok := p.Style["ae"]; ok {
			t.Fatalf("practice %s has a fitted A&E style from a history without A&E", p.ID)
		}
	}
	if code, out := gpbudget(t, dir, "run", "--scenario", "fitted.yaml", "--reps", "1", "--years", "1", "--out", "r", "-q"); code != 0 {
		t.Fatalf("run on the fitted scenario: exit %d: %s", code, out)
	}
	if code, out := gpbudget(t, dir, "forecast", "--history", "h.csv", "--horizon", "2", "--out", "fc"); code != 0 {
		t.Fatalf("forecast: exit %d: %s", code, out)
	}
	// Dispensing practices with drug cost in 2018/19, from the history.
	want := map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(dir, "h.csv")) {
		if r["year"] == "2018" && r["spend_prescribing"] != "0.00" {
			want[r["practice_id"]] = true
		}
	}
	got := map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(dir, "fc", "forecast.csv")) {
		if r["stream"] != "prescribing" && r["stream"] != "total" {
			t.Fatalf("forecast of %s from a history without it", r["stream"])
		}
		if q, err := strconv.ParseFloat(r["q50"], 64); err != nil || !(q > 0) || math.IsInf(q, 0) {
			t.Fatalf("forecast median %q", r["q50"])
		}
		got[r["practice_id"]] = true
	}
	if len(want) < 20 || len(got) != len(want) {
		t.Errorf("forecast %d practices, want the %d that dispensed in 2018/19", len(got), len(want))
	}
	for p := range got {
		if !want[p] {
			t.Errorf("practice %s forecast without drug cost in the last year", p)
		}
	}
}

// TestWeightedPopulationsFlag: synth writes the need it drew as
// need-weighted populations, and run --population --weighted-populations
// gives each practice that need; with the real 2024/25 sample, a practice
// it holds gets its need, and practices it lacks are reported and keep
// need 1.
func TestWeightedPopulationsFlag(t *testing.T) {
	dir := t.TempDir()
	if code, out := gpbudget(t, dir, "synth", "--practices", "5", "--seed", "3", "--out", "pop.csv", "--weighted-populations", "wp.csv"); code != 0 {
		t.Fatalf("synth: exit %d: %s", code, out)
	}
	if code, out := gpbudget(t, dir, "run", "--population", "pop.csv", "--weighted-populations", "wp.csv", "--reps", "1", "--years", "1", "--out", "r", "-q"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, out)
	}
	s := scenarios.Default()
	s.Population.Synthetic.Practices = 5
	m, err := s.Model(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range readRows(t, filepath.Join(dir, "r")) {
		for _, p := range m.Practices {
			if p.ID == r.PracticeID && math.Abs(r.Need/p.Need-1) > 1e-6 {
				t.Errorf("practice %s: need %v in the run, synth drew %v", p.ID, r.Need, p.Need)
			}
		}
	}
	// The real sample holds A81001 (quinary-old.csv) and none of the
	// synthetic Y9000x practices (quinary-new.csv).
	wp, _ := filepath.Abs("../../internal/nhsdata/testdata/weighted-populations/2024_2025.csv")
	for _, c := range []struct {
		file    string
		missing string
	}{{"quinary-old.csv", ""}, {"quinary-new.csv", "no usable row for 3 of 3 practices"}} {
		pop, _ := filepath.Abs("../../scenarios/testdata/population/" + c.file)
		code, out := gpbudget(t, dir, "run", "--population", pop, "--weighted-populations", wp, "--reps", "1", "--years", "1", "--out", "real-"+c.file, "-q")
		if code != 0 || (c.missing == "") != !strings.Contains(out, "no usable row") || !strings.Contains(out, c.missing) {
			t.Fatalf("%s with the real sample: exit %d: %s", c.file, code, out)
		}
		for _, r := range readRows(t, filepath.Join(dir, "real-"+c.file)) {
			if (r.Need == 1) != (c.missing != "") {
				t.Errorf("%s: practice %s has need %v", c.file, r.PracticeID, r.Need)
			}
		}
	}
	if code, out := gpbudget(t, dir, "run", "--weighted-populations", wp, "--out", "x"); code != 2 || !strings.Contains(out, "need --population") {
		t.Errorf("--weighted-populations without --population: exit %d, %s", code, out)
	}
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// TestSummarizeWithClosedPractices: a run with list dynamics (closures and
// mergers made frequent) summarises and reports: closed practice-years are
// left out, so no summary figure is NaN.
func TestSummarizeWithClosedPractices(t *testing.T) {
	dir := t.TempDir()
	sc := "name: moving\npopulation: {synthetic: {practices: 12}}\nlists:\n  dynamics: true\n  leaving: [{closure: 0.1, merger: 0.1}]\n"
	if err := os.WriteFile(filepath.Join(dir, "moving.yaml"), []byte(sc), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := gpbudget(t, dir, "run", "--scenario", "moving.yaml", "--reps", "6", "--years", "4", "--out", "r", "-q"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, out)
	}
	closed := 0
	for _, r := range readRows(t, filepath.Join(dir, "r")) {
		if r.Regime == "closed" {
			closed++
		}
	}
	if closed == 0 {
		t.Fatal("no practice closed or merged")
	}
	code, out := gpbudget(t, dir, "summarize", "r")
	if code != 0 || strings.Contains(out, "NaN") {
		t.Fatalf("summarize: exit %d: %s", code, out)
	}
	if code, out := gpbudget(t, dir, "report", "r"); code != 0 {
		t.Fatalf("report: exit %d: %s", code, out)
	}
}
