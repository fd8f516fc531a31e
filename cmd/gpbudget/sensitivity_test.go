package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSensitivityCLI: a scenario with three priors gives a table over
// three parameters with the documented columns; with a prior's parameter
// at its high value the output moves the way the prior says (a dearer
// emergency admission costs the commissioner more); the report draws
// tornado charts; a scenario with no prior, or two scenarios, is bad input.
func TestSensitivityCLI(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	body := "name: s\npopulation:\n  synthetic:\n    practices: 4\nuncertainty:\n  priors:\n" +
		"    cost.emergency: {dist: lognormal, sd: 0.2}\n    drift.sd: {dist: lognormal, sd: 0.3}\n    demand_growth.prescribing: {dist: normal, sd: 0.01}\n"
	// The default priors are merged with the file's: switch them off.
	for _, p := range []string{"rate.outpatient", "rate.prescribing", "rate.ae", "rate.emergency", "rate.elective", "cost.outpatient", "cost.prescribing", "cost.ae", "cost.elective",
		"demand_growth.outpatient", "demand_growth.ae", "demand_growth.emergency", "demand_growth.elective", "price_growth.prescribing", "drift.persistence", "shocks.area_sd", "shocks.national_sd"} {
		body += "    " + p + ": {dist: normal, sd: 0}\n"
	}
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sens")
	app := newApp()
	var text bytes.Buffer
	app.Writer, app.ErrWriter = &text, &text
	if err := app.Run([]string{"gpbudget", "sensitivity", file, "--reps", "20", "--years", "1", "--seed", "3", "--out", out, "--workers", "2"}); err != nil {
		t.Fatalf("%v\n%s", err, text.String())
	}
	f, err := os.Open(filepath.Join(out, "sensitivity.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, c := range []string{"parameter", "low_value", "high_value", "output", "base", "at_low", "at_high", "se"} {
		if _, ok := col[c]; !ok {
			t.Errorf("sensitivity.csv lacks column %s: %v", c, recs[0])
		}
	}
	params := map[string]bool{}
	for _, r := range recs[1:] {
		params[r[col["parameter"]]] = true
		if r[col["parameter"]] == "cost.emergency" && r[col["output"]] == "commissioner_cost" {
			lo, _ := strconv.ParseFloat(r[col["at_low"]], 64)
			hi, _ := strconv.ParseFloat(r[col["at_high"]], 64)
			if !(hi > lo) {
				t.Errorf("dearer emergency admissions cost the commissioner %v, cheaper %v", hi, lo)
			}
		}
	}
	if len(params) != 3 {
		t.Errorf("parameters %v, want the three with priors", params)
	}
	app = newApp()
	app.Writer, app.ErrWriter = &text, &text
	if err := app.Run([]string{"gpbudget", "report", out}); err != nil {
		t.Fatalf("report: %v", err)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(page), "tornado-commissioner-outlay") {
		t.Errorf("the report has no tornado chart (%v)", err)
	}
	none := filepath.Join(dir, "none.yaml")
	if err := os.WriteFile(none, []byte("name: none\nchance_only: true\npopulation:\n  synthetic:\n    practices: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{none}, {file, file}, {file, "--reps", "1"}} {
		app = newApp()
		app.Writer, app.ErrWriter = &text, &text
		err := app.Run(append([]string{"gpbudget", "sensitivity", "--out", filepath.Join(dir, "x")}, args...))
		var ie inputError
		if !errors.As(err, &ie) {
			t.Errorf("sensitivity %v: error %v is not bad input (exit 2)", args, err)
		}
	}
}
