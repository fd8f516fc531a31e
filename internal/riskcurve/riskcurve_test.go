package riskcurve

import (
	"context"
	"math"
	"testing"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// stationary is a one-sided contract with no corridor (MSR 0, half of any
// saving shared) on a population that does not change in distribution from
// year to year: no deaths, births or turnover, and every stream's rate the
// same at every age, so neither ageing nor growth moves spend. The frailty
// chain is reversible (a patient leaves state k with probability
// 1 - persistence[k] and redraws from q ∝ share·(1 - persistence)), and
// starts at its stationary shares, so a holder's spend in the base year and
// in year 1 are exchangeable: the historic benchmark (last year's spend) is
// unbiased, and P(spend < benchmark) is exactly 1/2.
func stationary(t *testing.T, uplift float64) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse([]byte(`name: stationary
chance_only: true # no drift, shocks, trends or priors; last year's spend as history
budget:
  method: historic
  historic_years: 1
rule:
  type: shared_savings
contract:
  savings:
    min_rate: 0
    share: 0.5
    cap_benchmark: 0
`), "stationary.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.Budget.Uplift = uplift
	for _, st := range []*scenarios.Stream{&s.Streams.Outpatient, &s.Streams.Prescribing, &s.Streams.AE, &s.Streams.Emergency, &s.Streams.Elective} {
		mean := 0.0
		for _, r := range st.Rate.Male {
			mean += r / 20
		}
		for b := range 20 {
			st.Rate.Male[b], st.Rate.Female[b] = mean, mean
		}
	}
	for b := range 20 {
		s.Demography.Mortality.Male[b], s.Demography.Mortality.Female[b] = 0, 0
	}
	s.Demography.BirthRate, s.Demography.Turnover = 0, 0
	return s
}

// TestFalseRewardHalf: with no corridor, an unbiased benchmark and no real
// change, false_reward is 1/2 within 4 Monte Carlo standard errors (the SE
// is the SD of the replications' shares over sqrt(replications), about
// 0.01 here). The same holders with a benchmark set 1% too high (uplift)
// are rewarded far more often than half the time, by more than 4 SE: the
// test can tell a biased benchmark from an unbiased one.
func TestFalseRewardHalf(t *testing.T) {
	o := Options{Sizes: []int{20000}, Holders: 100, Reps: 40, Seed: 7, Workers: 2}
	rows, err := Run(context.Background(), stationary(t, 0), o)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if r.FalseRewardSE <= 0 || r.FalseRewardSE > 0.02 {
		t.Fatalf("false_reward SE %v: want a usable SE in (0, 0.02]", r.FalseRewardSE)
	}
	if d := r.FalseReward - 0.5; math.Abs(d) > 4*r.FalseRewardSE {
		t.Errorf("false_reward %v ± %v with no corridor and an unbiased benchmark, want 0.5", r.FalseReward, r.FalseRewardSE)
	}
	if math.Abs(r.MeanSavingsRate) > 4*r.MeanSavingsRateSE {
		t.Errorf("mean savings rate %v ± %v, want 0 (unbiased benchmark)", r.MeanSavingsRate, r.MeanSavingsRateSE)
	}
	if r.FalsePenalty != 0 {
		t.Errorf("false_penalty %v under a one-sided contract", r.FalsePenalty)
	}
	if !(r.Power2pct > r.FalseReward+4*r.Power2pctSE) {
		t.Errorf("power_2pct %v ± %v is not above false_reward %v", r.Power2pct, r.Power2pctSE, r.FalseReward)
	}
	biased, err := Run(context.Background(), stationary(t, 0.01), o)
	if err != nil {
		t.Fatal(err)
	}
	if b := biased[0]; !(b.FalseReward > 0.5+4*b.FalseRewardSE) {
		t.Errorf("a benchmark 1%% too high rewards %v ± %v of holder-years, want well above 0.5", b.FalseReward, b.FalseRewardSE)
	}
}

// TestMSRFor5pct: a corridor at the simulated msr_for_5pct_false_reward
// holds false reward to 5%: run again with another seed and that minimum
// savings rate, and false_reward is 0.05 within 4 standard errors; the
// reserve and the CV fall with size, as does the MSR needed.
func TestMSRFor5pct(t *testing.T) {
	s := stationary(t, 0)
	o := Options{Sizes: []int{10000, 100000}, Holders: 60, Reps: 30, Seed: 3, Workers: 2}
	rows, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	small, large := rows[0], rows[1]
	if !(large.SDVsBenchmark < small.SDVsBenchmark && large.MSRFor5pct < small.MSRFor5pct && large.Reserve95 < small.Reserve95) {
		t.Errorf("figures do not fall with size: %+v then %+v", small, large)
	}
	// Spend sums of independent holders: the SD falls about as 1/sqrt(size).
	if ratio := small.SDVsBenchmark / large.SDVsBenchmark; ratio < 2 || ratio > 4.5 {
		t.Errorf("SD ratio %v between holders of 10,000 and 100,000, want about sqrt(10)", ratio)
	}
	// Chance alone is the holder's own: nothing is shared.
	if r := small; r.SDShared > 4*r.SDSharedSE+0.1*r.SDOwn {
		t.Errorf("chance only: sd_shared %v ± %v beside sd_own %v, want about 0", r.SDShared, r.SDSharedSE, r.SDOwn)
	}
	s.Contract.Savings.MinRate = small.MSRFor5pct
	o.Sizes, o.Seed = []int{10000}, 4
	again, err := Run(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	if r := again[0]; math.Abs(r.FalseReward-0.05) > 4*r.FalseRewardSE+0.005 {
		t.Errorf("with MSR %v false_reward is %v ± %v, want 0.05", small.MSRFor5pct, r.FalseReward, r.FalseRewardSE)
	}
}

// TestPlaceShocksAverage: a holder made of k places averages k places'
// shocks, so the shocks' part of its SD against the benchmark is one
// place's divided by √k. Holders of 20,000 people are one place each
// (places of 20,000, practices of 5,000 that fill them exactly) and
// holders of 80,000 four; the shocks' variance is sd_own² less chance's
// (the same holders and chance draws with no shocks: common random
// numbers), and its ratio between the sizes must be 4 within 4 standard
// errors (delta method from the batch-means SEs of sd_own).
func TestPlaceShocksAverage(t *testing.T) {
	shocked := func(sd float64) *scenarios.Scenario {
		s := stationary(t, 0)
		y := *s.Population.Synthetic
		y.ListSizeMean, y.ListSizeSD, y.MinList, y.MaxList = 5000, 0, 5000, 5000
		y.Areas, y.Geography = 1, scenarios.Geography{Place: 20000}
		s.Population.Synthetic = &y
		v := scenarios.StreamValues{Outpatient: sd, Prescribing: sd, AE: sd, Emergency: sd, Elective: sd}
		s.Shocks.PlaceSD = v
		s.ChanceOnly = false // resolved already: every other effect stays off
		return s
	}
	o := Options{Sizes: []int{20000, 80000}, Holders: 40, Reps: 40, Seed: 11, Workers: 2, PriorDraws: -1}
	with, err := Run(context.Background(), shocked(0.05), o)
	if err != nil {
		t.Fatal(err)
	}
	without, err := Run(context.Background(), shocked(0), o)
	if err != nil {
		t.Fatal(err)
	}
	part := func(i int) (v, se float64) {
		w, c := with[i], without[i]
		v = w.SDOwn*w.SDOwn - c.SDOwn*c.SDOwn
		se = math.Hypot(2*w.SDOwn*w.SDOwnSE, 2*c.SDOwn*c.SDOwnSE)
		return v, se
	}
	v1, se1 := part(0)
	v4, se4 := part(1)
	if !(v1 > 4*se1 && v4 > 4*se4) {
		t.Fatalf("shocks' variance %v ± %v and %v ± %v: the place shocks did not act", v1, se1, v4, se4)
	}
	ratio := v1 / v4
	se := ratio * math.Hypot(se1/v1, se4/v4)
	if math.Abs(ratio-4) > 4*se {
		t.Errorf("shocks' variance: one place %v ± %v, four places %v ± %v: ratio %v ± %v, want 4", v1, se1, v4, se4, ratio, se)
	}
	// With no region, ICB or national shock, places' shocks are the
	// holder's own: the shared part stays chance's (about 0).
	if r := with[0]; r.SDShared > 4*r.SDSharedSE+0.1*r.SDOwn {
		t.Errorf("sd_shared %v ± %v with only place shocks, want about 0", r.SDShared, r.SDSharedSE)
	}
}

// TestPriorsAreNotRisk: priors on every stream's rate and unit cost (10%,
// lognormal) move a replication's whole world, and a benchmark built from
// what a commissioner in that world knows holds them: last year's spend
// (historic), or a capitation target scaled to the area's spend in that
// world. So neither the holder's own SD nor the shared SD moves from its
// value at the priors' point values, beyond 4 standard errors (batch means;
// the two runs share their chance draws). A capitation target scaled at the
// point values would put the priors' 14% spread of the level into sd_shared.
func TestPriorsAreNotRisk(t *testing.T) {
	for _, method := range []string{"historic", "capitation"} {
		s := stationary(t, 0)
		s.ChanceOnly = false // resolved already: every other effect stays off
		s.Budget.Method = method
		s.Uncertainty.Priors = map[string]scenarios.PriorSpec{}
		for _, st := range []string{"outpatient", "prescribing", "ae", "emergency", "elective"} {
			s.Uncertainty.Priors["rate."+st] = scenarios.PriorSpec{Dist: "lognormal", SD: 0.1}
			s.Uncertainty.Priors["cost."+st] = scenarios.PriorSpec{Dist: "lognormal", SD: 0.1}
		}
		hs, _, err := s.ForHolders(20000, 40, 5, 0)
		if err != nil {
			t.Fatal(err)
		}
		m, err := model(hs, 5, sim.Effect{})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Uncertain()) != 10 {
			t.Fatalf("%s: %d uncertain parameters, want the 10 priors", method, len(m.Uncertain()))
		}
		measure := func(mm *sim.Model) (own, ownSE, shared, sharedSE float64) {
			a, err := newAccumulator(mm, 40, 1, 40)
			if err != nil {
				t.Fatal(err)
			}
			if err := sim.Run(context.Background(), mm, sim.Options{Seed: 5, LastRep: 40, Years: 1, Workers: 2, Cohort: true}, a); err != nil {
				t.Fatal(err)
			}
			r := a.row()
			return r.SDOwn, r.SDOwnSE, r.SDShared, r.SDSharedSE
		}
		o1, o1se, s1, s1se := measure(m)
		o0, o0se, s0, s0se := measure(m.Fixing())
		if d := o1 - o0; math.Abs(d) > 4*math.Hypot(o1se, o0se) {
			t.Errorf("%s: sd_own %v ± %v with priors, %v ± %v at their point values", method, o1, o1se, o0, o0se)
		}
		if d := s1 - s0; math.Abs(d) > 4*math.Hypot(s1se, s0se)+0.002 {
			t.Errorf("%s: sd_shared %v ± %v with priors, %v ± %v at their point values", method, s1, s1se, s0, s0se)
		}
	}
}
