package scenarios

import (
	"strings"
	"testing"
)

// emergencyGradient2009 is the emergency admissions' age gradient of the
// engine the golden digests come from (recalibrated since to the share of
// admissions at 65+).
var emergencyGradient2009 = [20]float64{1.6, 0.45, 0.5, 0.85, 1.0, 0.95, 0.95, 1.0, 1.0, 1.05, 1.4, 1.7, 2.1, 3.2, 4.5, 6.8, 10.0, 13.5, 17.0, 19.0}

// TestChanceOnlyFile: chance_only in a file switches the effects off in
// the scenario itself, so its resolved form (as a manifest records it)
// parses again to the same scenario; a file that also switches an effect
// on is refused, naming the field.
func TestChanceOnlyFile(t *testing.T) {
	s, err := Parse([]byte("name: co\nchance_only: true\ndrift:\n  persistence: 0.5\n"), "co.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Drift.SD != (StreamValues{}) || s.RiskAdjustment.Formula != "perfect" || s.Budget.Lag != 1 || len(s.Uncertainty.Priors) != 0 || s.Frailty.ByAge {
		t.Errorf("chance_only left effects on: %+v %+v", s.Drift, s.RiskAdjustment)
	}
	y, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(y, "resolved.yaml")
	if err != nil {
		t.Fatalf("the resolved chance-only scenario does not parse: %v", err)
	}
	y2, _ := again.YAML()
	if string(y2) != string(y) {
		t.Errorf("resolved twice differs:\n%s\nvs\n%s", y, y2)
	}
	for _, c := range []struct{ file, field string }{
		{"name: x\nchance_only: true\ndrift:\n  sd: {ae: 0.1}\n", "drift"},
		{"name: x\nchance_only: true\nbudget:\n  lag: 2\n", "budget.lag"},
		{"name: x\nchance_only: true\nuncertainty:\n  priors:\n    cost.ae: {dist: lognormal, sd: 0.1}\n", "uncertainty"},
		{"name: x\nchance_only: true\nrisk_adjustment:\n  formula: estimated\n", "risk_adjustment"},
	} {
		_, err := Parse([]byte(c.file), "bad.yaml")
		if err == nil || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), "chance_only") {
			t.Errorf("%q: error %v, want one naming %s and chance_only", c.file, err, c.field)
		}
	}
}
