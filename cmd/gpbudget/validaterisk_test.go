package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/internal/realrisk"
	"github.com/gpbudget/gpbudget/scenarios"
)

func samplePayments(t *testing.T) []string {
	t.Helper()
	pay, _ := filepath.Glob("../../internal/realrisk/testdata/payments_1*.csv")
	if len(pay) != 3 {
		t.Fatalf("sample: %v", pay)
	}
	for i := range pay {
		pay[i], _ = filepath.Abs(pay[i])
	}
	return pay
}

// TestValidateRiskSample: validate-risk on the real sample in
// internal/realrisk/testdata (3 CCGs, 2016/17-2018/19) prints the real figures
// computed independently by internal/realrisk/testdata/expected.py, and the model's
// beside them. The files come after --payments with the flags after them,
// as a shell glob gives them.
func TestValidateRiskSample(t *testing.T) {
	args := append([]string{"validate-risk", "--payments"}, samplePayments(t)...)
	code, out := gpbudget(t, t.TempDir(), append(args, "--json", "--reps", "2", "--shuffles", "4", "--workers", "2")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var res struct{ Rows []map[string]any }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(res.Rows) != 2*len(realrisk.Sizes) {
		t.Fatalf("%d rows, want %d", len(res.Rows), 2*len(realrisk.Sizes))
	}
	row := func(size float64, grouping string) map[string]any {
		for _, r := range res.Rows {
			if r["holder_size"] == size && r["grouping"] == grouping {
				return r
			}
		}
		t.Fatalf("no row %v %s", size, grouping)
		return nil
	}
	for _, c := range []struct {
		size              float64
		grouping          string
		sd, robust, pOver float64
		holders           float64
	}{
		{5000, "random", 0.148008246950363, 0.051449023672177, 11.0 / 34, 34},
		{5000, "geographic", 0.148008246950363, 0.051449023672177, 11.0 / 34, 34},
		{30000, "geographic", 0.068232920865182, 0.030607146311157, 7.0 / 21, 21},
	} {
		r := row(c.size, c.grouping)
		for k, want := range map[string]float64{"real_sd": c.sd, "real_robust_sd": c.robust, "real_p_over_2": c.pOver, "real_holders": c.holders} {
			if got, _ := r[k].(float64); math.Abs(got-want) > 1e-12 {
				t.Errorf("%v %s %s = %v, want %v", c.size, c.grouping, k, r[k], want)
			}
		}
		for _, k := range []string{"model_sd", "model_robust_sd"} {
			// The model's own spread at 5,000 people is several per cent.
			if v, _ := r[k].(float64); !(v > 0.005 && v < 0.5) {
				t.Errorf("%v %s %s = %v", c.size, c.grouping, k, r[k])
			}
		}
	}
	// The sample's 310,000 people make no holder of 1,000,000: null.
	if r := row(1e6, "random"); r["real_sd"] != nil || r["real_holders"] != 0.0 {
		t.Errorf("1,000,000: %v", r)
	}
}

func TestValidateRiskBadInput(t *testing.T) {
	dir := t.TempDir()
	pay := samplePayments(t)
	if code, out := gpbudget(t, dir, "validate-risk", "--payments", pay[0]); code != 2 || !strings.Contains(out, "at least two") {
		t.Errorf("one file: exit %d: %s", code, out)
	}
	bad := filepath.Join(dir, "payments_19-20.csv")
	os.WriteFile(bad, []byte("Practice Code,Dispensing Practice\nA1,Yes\n"), 0o644)
	if code, out := gpbudget(t, dir, "validate-risk", "--payments", pay[2], bad); code != 2 || !strings.Contains(out, "payments_19-20.csv") {
		t.Errorf("a file without lists: exit %d: %s", code, out)
	}
	if code, out := gpbudget(t, dir, "validate-risk", "--payments", pay[0], pay[1], "--bogus"); code != 2 || !strings.Contains(out, "--bogus") {
		t.Errorf("unknown flag: exit %d: %s", code, out)
	}
}

// TestCalibrateRiskSample: calibrate-risk's section is a scenario's drift
// and shocks, and holds realrisk.Estimate's figures for the files.
func TestCalibrateRiskSample(t *testing.T) {
	dir := t.TempDir()
	pay := samplePayments(t)
	code, out := gpbudget(t, dir, append([]string{"calibrate-risk", "--out", "risk.yaml", "--payments"}, pay...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "risk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := scenarios.Parse(append([]byte("name: calibrated\n"), b...), "risk.yaml")
	if err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
	years, err := realrisk.ReadYears(pay)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := realrisk.Pairs(years, realrisk.DefaultFilter)
	if err != nil {
		t.Fatal(err)
	}
	e := realrisk.Estimate(pairs)
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"drift sd", s.Drift.SD.Prescribing, e.DriftSD},
		{"persistence", s.Drift.Persistence, e.Persistence},
		{"place", s.Shocks.PlaceSD.Prescribing, e.PlaceShockSD},
		{"region", s.Shocks.RegionSD.Prescribing, e.RegionShockSD},
		{"national", s.Shocks.NationalSD.Prescribing, e.NationalShockSD},
	} {
		if math.Abs(c.got-c.want) > 5e-5 {
			t.Errorf("%s: section %v, estimate %v", c.what, c.got, c.want)
		}
	}
	// Neighbourhoods and ICBs: what varies at their scale is in the CCG and
	// region components. Other streams keep the defaults.
	d := scenarios.Default()
	if s.Shocks.NeighbourhoodSD.Prescribing != 0 || s.Shocks.ICBSD.Prescribing != 0 {
		t.Error("the section leaves neighbourhood or ICB shocks beside the CCG's and region's")
	}
	if s.Shocks.NeighbourhoodSD.AE != d.Shocks.NeighbourhoodSD.AE || s.Drift.SD.AE != d.Drift.SD.AE {
		t.Error("the section changed other streams")
	}
}
