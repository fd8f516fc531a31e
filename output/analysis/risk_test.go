package analysis

import (
	"context"
	"math"
	"testing"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// TestDecomposeByHand: one practice-year over three replications with
// spend per head y, and expected spends per head given the parameters p,
// with shocks s and with drift x:
//
//	y: 10, 14, 12   p: 11, 11, 13   s: 12, 10, 13   x: 11, 12, 14
//
// Var(y) = (4 + 4 + 0)/2 = 4; p's mean is 35/3, so Var(p) = (4/9 + 4/9 +
// 16/9)/2 = 4/3; the mean squares of s−p (1, 1, 0), x−s (1, 4, 1) and y−x
// (1, 4, 4) over 3 are 2/3, 2 and 3. Their sum with Var(p), 7, is not 4:
// three replications are far too few for the identity, which holds in
// expectation, and the residual says so (−3). Shares are of the parts' sum.
func TestDecomposeByHand(t *testing.T) {
	a := &decompAcc{}
	y := []float64{10, 14, 12}
	p := []float64{11, 11, 13}
	s := []float64{12, 10, 13}
	x := []float64{11, 12, 14}
	for i := range y {
		a.y.Add(y[i])
		a.p.Add(p[i])
		a.shocks += (s[i] - p[i]) * (s[i] - p[i])
		a.drift += (x[i] - s[i]) * (x[i] - s[i])
		a.chance += (y[i] - x[i]) * (y[i] - x[i])
	}
	rows := decompose([]decompAcc{*a}, 1, []string{"A"}, []string{Bands[1].Name})
	if len(rows) != 3 { // the practice, its band, all
		t.Fatalf("%d rows, want 3: %+v", len(rows), rows)
	}
	r := rows[0]
	near(t, "variance", r.Variance, 4)
	near(t, "parameters", r.Parameters, 4.0/3)
	near(t, "shocks", r.Shocks, 2.0/3)
	near(t, "drift", r.Drift, 2)
	near(t, "chance", r.Chance, 3)
	near(t, "residual", r.Residual, 4-7)
	near(t, "share of chance", r.ShareChance, 3.0/7)
	// The risk leaves parameter uncertainty out: shocks, drift and chance
	// are 2/3 + 2 + 3 = 17/3, so chance is 3/(17/3) = 9/17 of the risk,
	// drift 6/17 and shocks 2/17, and the risk SD is √(17/3).
	near(t, "risk share of chance", r.RiskShareChance, 9.0/17)
	near(t, "risk share of drift", r.RiskShareDrift, 6.0/17)
	near(t, "risk share of shocks", r.RiskShareShocks, 2.0/17)
	near(t, "risk SD", r.RiskSD, math.Sqrt(17.0/3))
	if rows[1].ID != Bands[1].Name || rows[2].ID != AllBands || rows[2].Chance != r.Chance {
		t.Errorf("band rows %+v", rows[1:])
	}
}

// TestR2ByHand: three practices of 1, 2 and 1 thousand patients spending
// 1, 2, 3 a head against targets of 1, 1, 2 a head. The targets scaled to
// the spend's total (8 against 5, k = 1.6) are 1.6, 1.6, 3.2; the weighted
// residual sum of squares 1·0.36 + 2·0.16 + 1·0.04 = 0.72 and the total
// about the weighted mean 2: 1 + 0 + 1 = 2, so R² = 1 − 0.72/2 = 0.64.
func TestR2ByHand(t *testing.T) {
	w := []float64{1000, 2000, 1000}
	a := []float64{1, 2, 3}
	b := []float64{1, 1, 2}
	var f fitAcc
	for i := range w {
		f.w += w[i]
		f.wa += w[i] * a[i]
		f.waa += w[i] * a[i] * a[i]
		f.wb += w[i] * b[i]
		f.wbb += w[i] * b[i] * b[i]
		f.wab += w[i] * a[i] * b[i]
	}
	got := r2(f.w, f.wa, f.waa, f.wb, f.wbb, f.wab)
	if math.Abs(got-0.64) > 1e-12 {
		t.Errorf("R² = %v, want 0.64", got)
	}
}

// TestSummarizeRisk: a default run's summary splits each practice's
// variance into four parts that, over 400 replications, add up to it within
// Monte Carlo error (the identity holds in expectation: here within 15% for
// the pooled row, several SEs of a variance estimated from 400 draws), and
// reports the formula's fit from the manifest and the run's own R².
func TestSummarizeRisk(t *testing.T) {
	s := scenarios.Default()
	s.Population.Synthetic.Practices = 6
	m, err := s.Model(5)
	if err != nil {
		t.Fatal(err)
	}
	sp := &rundir.Spec{Scenario: s, Model: m, Seed: 5, Reps: 400, Years: 1, Workers: 2, Dir: t.TempDir(), Version: "test", Command: "test", Cohort: true}
	if _, err := rundir.Execute(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(context.Background(), sp.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var all *DecompRow
	practices := 0
	for i, r := range sum.Decomposition {
		switch {
		case r.Level == "practice":
			practices++
			if sh := r.ShareChance + r.ShareDrift + r.ShareShocks + r.ShareParams; math.Abs(sh-1) > 1e-9 {
				t.Errorf("practice %s: shares sum to %v", r.ID, sh)
			}
		case r.ID == AllBands:
			all = &sum.Decomposition[i]
		}
	}
	if practices != 6 || all == nil {
		t.Fatalf("decomposition: %d practice rows, pooled row %v", practices, all)
	}
	t.Logf("pooled: variance %.1f, parameters %.1f, shocks %.1f, drift %.1f, chance %.1f", all.Variance, all.Parameters, all.Shocks, all.Drift, all.Chance)
	if math.Abs(all.Residual) > 0.15*all.Variance {
		t.Errorf("the parts miss the variance by %.1f of %.1f", all.Residual, all.Variance)
	}
	if all.Chance <= 0 || all.Drift <= 0 || all.Shocks <= 0 || all.Parameters <= 0 {
		t.Errorf("every part should be positive with every effect on: %+v", *all)
	}
	have := map[string]bool{}
	for _, r := range sum.RiskAdjustment {
		have[r.Measure] = true
	}
	for _, want := range []string{"formula_person_r2", "formula_practice_r2", "run_practice_r2"} {
		if !have[want] {
			t.Errorf("risk adjustment lacks %s: %+v", want, sum.RiskAdjustment)
		}
	}
}

// TestSensitivityByHand: a base run and a parameter's low and high runs of
// two replications each, one practice-year each, the commissioner paying
// 100, 110 (base), 90, 96 (low) and 120, 128 (high): the commissioner's
// cost is 105, 93 and 124; the swing's paired differences are 30 and 32,
// so its SE is sd(30, 32)/√2 = 1.
func TestSensitivityByHand(t *testing.T) {
	mk := func(paid ...float64) *Metrics {
		m := &Metrics{}
		for r, p := range paid {
			row := sim.PracticeYear{Replication: r, Year: 1, ListSize: 5000, Budget: 100, SpendTotal: p, Variance: 100 - p, CommissionerPaid: p}
			if err := m.Write(&sim.Replication{Rep: r, Rows: []sim.PracticeYear{row}}); err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	ranges := []sim.OneWay{{Prior: sim.Prior{Param: sim.Param{Kind: sim.ParamCost, Stream: sim.Emergency}, Dist: sim.DistLognormal, SD: 0.1}, Point: 1, Low: 0.88, High: 1.13}}
	rows, err := Sensitivity(ranges, mk(100, 110), []*Metrics{mk(90, 96)}, []*Metrics{mk(120, 128)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if r.Output != "commissioner_cost" {
			continue
		}
		found = true
		if r.Parameter != "cost.emergency" || r.LowValue != 0.88 || r.HighValue != 1.13 {
			t.Errorf("row %+v", r)
		}
		near(t, "base", r.Base, 105)
		near(t, "at low", r.AtLow, 93)
		near(t, "at high", r.AtHigh, 124)
		near(t, "se of the swing", r.SE, 1)
		near(t, "swing", r.Swing(), 31)
	}
	if !found {
		t.Fatalf("no commissioner_cost row in %+v", rows)
	}
}
