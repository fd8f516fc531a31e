package sim_test

import (
	"sort"
	"testing"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// TestDefaultCostConcentration checks the default frailty and dispersion
// assumptions against the reference's facts on how concentrated costs are
// (shared/reference §4): the top 1% of people account for about 32% of
// hospital spending in a year (Kelly, Stoye & Vera-Hernández 2016), and the
// top 5% for about half of all cost (Health Foundation 2019). These are
// calibration targets, not Monte Carlo identities: the test accepts 25-40%
// and 40-60%, wide enough for the different populations and cost scopes of
// the sources, narrow enough to fail if the frailty chain lost its tail.
// With about 200,000 patient-years the sampling error of each share is well
// under one percentage point.
func TestDefaultCostConcentration(t *testing.T) {
	s := scenarios.Default()
	s.Population.Synthetic.Practices = 30
	m, err := s.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	hospital, all := sim.PatientYearCosts(m, 1, 0)
	top := func(x []float64, frac float64) float64 {
		sort.Float64s(x)
		n := len(x)
		k := int(float64(n)*frac + 0.5)
		tot, tp := 0.0, 0.0
		for i, v := range x {
			tot += v
			if i >= n-k {
				tp += v
			}
		}
		return tp / tot
	}
	h1, a5 := top(hospital, 0.01), top(all, 0.05)
	t.Logf("%d patient-years: top 1%% hold %.1f%% of hospital cost; top 5%% hold %.1f%% of all cost", len(all), 100*h1, 100*a5)
	if h1 < 0.25 || h1 > 0.40 {
		t.Errorf("top 1%% of patients hold %.1f%% of hospital cost; the reference says about 32%%", 100*h1)
	}
	if a5 < 0.40 || a5 > 0.60 {
		t.Errorf("top 5%% of patients hold %.1f%% of all cost; the reference says about half", 100*a5)
	}
}
