package nhsdata

import (
	"math"
	"testing"
)

// TestMeasureDrugChanges on a hand-computed case: four dispensing
// practices, two in each of two CCGs, whose drug cost per head changes by
// +0.1, +0.3 (CCG A) and -0.1, -0.3 (CCG B) in log terms, then back. The
// median is 0 and the MAD 0.2 (robust SD 1.4826 × 0.2); group means ±0.2, so
// SSB = 4 × 0.04 = 0.16 on 1 degree of freedom and SSW = 4 × 0.01 = 0.04 on
// 2: MSB 0.16, MSW 0.02, n0 = (4 - 8/4)/1 = 2, so the between variance is
// (0.16 - 0.02)/2 = 0.07 (SD 0.2646) and the within 0.02 (SD 0.1414); each
// practice's next change reverses this one: correlation -1. A practice not
// dispensing, or too small, is left out.
func TestMeasureDrugChanges(t *testing.T) {
	d := map[string]float64{"a1": 0.1, "a2": 0.3, "b1": -0.1, "b2": -0.3}
	ccg := map[string]string{"a1": "A", "a2": "A", "b1": "B", "b2": "B"}
	var rows []PracticeYear
	for p, x := range d {
		for y, v := range []float64{0, x, 0} {
			rows = append(rows, PracticeYear{Practice: p, Year: 2016 + y, List: 2000, Drugs: 2000 * 10 * math.Exp(v), Dispensing: "yes", Commissioner: ccg[p]})
		}
	}
	rows = append(rows, PracticeYear{Practice: "x", Year: 2016, List: 5000, Drugs: 5, Dispensing: "no", Commissioner: "A"},
		PracticeYear{Practice: "x", Year: 2017, List: 5000, Drugs: 50, Dispensing: "no", Commissioner: "A"},
		PracticeYear{Practice: "s", Year: 2016, List: 500, Drugs: 5, Dispensing: "yes", Commissioner: "A"},
		PracticeYear{Practice: "s", Year: 2017, List: 500, Drugs: 50, Dispensing: "yes", Commissioner: "A"})
	got := MeasureDrugChanges(rows, 1000)
	if len(got) != 2 {
		t.Fatalf("%d pairs of years, want 2", len(got))
	}
	g := got[0]
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"N", float64(g.N), 4}, {"median", g.Median, 0}, {"robust SD", g.RobustSD, 1.4826 * 0.2},
		{"between SD", g.BetweenSD, math.Sqrt(0.07)}, {"within SD", g.WithinSD, math.Sqrt(0.02)},
		{"between share", g.BetweenShare, 0.07 / 0.09}, {"areas", float64(g.Areas), 2}, {"lag-1 correlation", g.Lag1, -1},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	if !math.IsNaN(got[1].Lag1) {
		t.Errorf("the last pair of years has no next change: lag-1 %v, want NaN", got[1].Lag1)
	}
}
