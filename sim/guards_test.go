package sim

import (
	"math"
	"strings"
	"testing"
	"time"
)

// oneRow builds count tables with a single stream's row of the given mean
// and dispersion (row index s, the stream).
func oneRow(s Stream, mean, disp float64) *countTables {
	var t countTables
	var d [NStreams]float64
	d[s] = disp
	mu := make([]float64, NStreams)
	mu[s] = mean
	t.build(mu, &d)
	return &t
}

// Rows of oneRow's tables, by stream.
const (
	rowOP = int(Outpatient)
	rowRx = int(Prescribing)
)

// within runs f and fails the test if it has not returned after a second:
// the guards are about never looping.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatalf("%s: still running after 1 s", what)
	}
}

// A row whose mean is NaN, infinite or negative draws no events and reports
// an error; neither the walk nor building the row loops (before the guard, a
// NaN mean looped forever at 100% CPU: issue 13).
func TestCountTablesBadMeansEndWithError(t *testing.T) {
	for _, c := range []struct {
		mean, disp float64
	}{{math.NaN(), 0}, {math.Inf(1), 0}, {math.Inf(1), 1.5}, {-1, 0}, {1, math.NaN()}, {math.NaN(), 1.5}} {
		tb := oneRow(Prescribing, c.mean, c.disp)
		within(t, "walk", func() {
			if k := tb.walk(rowRx, math.MaxUint64/2, false); k != 0 {
				t.Errorf("mean %v, dispersion %v: walk gave %d events, want 0", c.mean, c.disp, k)
			}
			tb.buildRow(rowRx)
		})
		if tb.Err() == nil || !strings.Contains(tb.Err().Error(), "prescribing") {
			t.Errorf("mean %v, dispersion %v: error %v, want one naming the stream", c.mean, c.disp, tb.Err())
		}
	}
	if tb := oneRow(AE, 0.4, 1); tb.Err() != nil {
		t.Errorf("a good row reports %v", tb.Err())
	}
}

// Poisson means above about 700 make P(N = 0) underflow; the walk used to
// stop at count 21 whatever the mean. Counts now match the exact Poisson
// quantiles, computed here in logs (lgamma) independently of the walk.
func TestCountTablesLargeMeansExact(t *testing.T) {
	for _, m := range []float64{50, 800, 1000, 5000} {
		tb := oneRow(Prescribing, m, 0)
		for _, p := range []float64{0.001, 0.1, 0.5, 0.9, 0.999} {
			u := uint64(p * 0x1p64)
			want, cum := 0, 0.0
			for k := 0; ; k++ {
				lg, _ := math.Lgamma(float64(k + 1))
				cum += math.Exp(-m + float64(k)*math.Log(m) - lg)
				if float64(u)*0x1p-64+0x1p-64 <= cum {
					want = k
					break
				}
			}
			if got := tb.walk(rowRx, u, false); got != want {
				t.Errorf("Poisson(%v) at P = %v: walk %d, exact %d", m, p, got, want)
			}
			tb.buildRow(rowRx)
			if got := tb.sample(rowRx, u); got != want {
				t.Errorf("Poisson(%v) at P = %v: table %d, exact %d", m, p, got, want)
			}
			tb = oneRow(Prescribing, m, 0)
		}
		if tb.Err() != nil {
			t.Errorf("Poisson(%v): %v", m, tb.Err())
		}
	}
}

// A negative binomial so dispersed that its tail runs past maxCount stops
// there with an error, quickly, rather than walking on (or storing) for ever.
func TestCountTablesCapTheCount(t *testing.T) {
	tb := oneRow(Outpatient, 1, 1e-9)
	within(t, "walk to the cap", func() {
		if k := tb.walk(rowOP, math.MaxUint64, false); k != maxCount {
			t.Errorf("walk gave %d, want the cap %d", k, maxCount)
		}
	})
	if tb.Err() == nil || !strings.Contains(tb.Err().Error(), "far too large") {
		t.Errorf("error %v, want one saying the count reached the cap", tb.Err())
	}
}

// Once the tables hold maxTableEntries thresholds, further rows are drawn by
// walking and not stored, so a worker's table memory is bounded.
func TestCountTablesMemoryBound(t *testing.T) {
	tb := oneRow(Prescribing, 30, 4)
	tb.cdf = make([]uint64, maxTableEntries)
	for range 2 * lazyUses {
		tb.sample(rowRx, math.MaxUint64/2)
	}
	if tb.info[rowRx].off >= 0 || len(tb.cdf) != maxTableEntries {
		t.Errorf("a row was stored past the bound: %d entries", len(tb.cdf))
	}
}

// validModel is a small model that passes Validate; each case below breaks
// one thing.
func validModel() *Model {
	m := &Model{
		Name:    "v",
		Frailty: Frailty{Share: []float64{0.7, 0.3}, Level: []float64{0.5, 2}, Persistence: []float64{0.8, 0.5}, Mortality: []float64{1, 2}},
		Policy:  Everyone(&Indicative{}),
		Budget:  Budget{Setter: CapitationBudget{}},
	}
	for s := range NStreams {
		m.Streams[s] = StreamParams{Dispersion: 1.5, FrailtyLoading: 1, Cost: []CostPart{{Share: 1, Mean: 100, CV: 1}}}
		for sex := range NSex {
			for b := range NBands {
				m.Streams[s].Rate[sex][b] = 0.5
				m.Demography.Mortality[sex][b] = 0.01
			}
		}
	}
	m.Demography.Turnover = 0.1
	p := Practice{ID: "A", Need: 1, Style: [NStreams]float64{1, 1, 1, 1, 1}}
	p.Count[Female][8] = 100
	m.Practices = []Practice{p}
	return m
}

// Model.Validate refuses what would make a run divide by zero, produce NaN or
// loop: vectors whose normalising mean is zero, weights giving a zero
// capitation total, non-finite parameters, and rates so high that counts do
// not fit the tables.
func TestValidateRefusesWhatBreaksARun(t *testing.T) {
	if err := validModel().Validate(); err != nil {
		t.Fatalf("the valid model: %v", err)
	}
	cases := []struct {
		name    string
		breakIt func(m *Model)
		want    string
	}{
		{"zero levels", func(m *Model) { m.Frailty.Level = []float64{0, 0} }, "levels (to the power 1, stream outpatient's loading) have a share-weighted mean of 0"},
		{"levels only where no one is", func(m *Model) {
			m.Frailty.Share = []float64{1, 0}
			m.Frailty.Level = []float64{0, 3}
		}, "levels (to the power 1, stream outpatient's loading) have a share-weighted mean of 0"},
		{"zero mortality multipliers", func(m *Model) { m.Frailty.Mortality = []float64{0, 0} }, "mortality multipliers"},
		{"NaN mortality multiplier", func(m *Model) { m.Frailty.Mortality[1] = math.NaN() }, "frailty state 1"},
		{"zero weights", func(m *Model) { m.Budget.Weights = &[NSex][NBands]float64{} }, "capitation"},
		{"weights only where no one is", func(m *Model) {
			var w [NSex][NBands]float64
			w[Male][3] = 1
			m.Budget.Weights = &w
		}, "capitation"},
		{"no rates or costs", func(m *Model) {
			for s := range NStreams {
				m.Streams[s].Rate = [NSex][NBands]float64{}
			}
		}, "capitation"},
		{"infinite loading", func(m *Model) { m.Streams[AE].FrailtyLoading = math.Inf(1) }, "frailty loading"},
		{"NaN dispersion", func(m *Model) { m.Streams[AE].Dispersion = math.NaN() }, "dispersion"},
		{"NaN turnover", func(m *Model) { m.Demography.Turnover = math.NaN() }, "turnover"},
		{"mortality above 1", func(m *Model) { m.Demography.Mortality[Male][19] = 2 }, "mortality for 95+"},
		{"NaN uplift", func(m *Model) {
			m.Budget.Setter = BlendBudget{HistoricBudget: HistoricBudget{Uplift: math.NaN()}, Pace: 0.1}
		}, "uplift NaN"},
		{"NaN style", func(m *Model) { m.Practices[0].Style[Elective] = math.NaN() }, "elective style"},
		{"negative count", func(m *Model) { m.Practices[0].Count[Male][2] = -5 }, "patients in band 10-14"},
		{"list beyond int32", func(m *Model) { m.Practices[0].Count[Male][2] = math.MaxInt32 }, "list of"},
		{"huge rate", func(m *Model) { m.Streams[Emergency].Rate[Female][8] = 1e7 }, "does not fit"},
		{"tiny dispersion", func(m *Model) { m.Streams[Emergency].Dispersion = 1e-9 }, "does not fit"},
		{"huge need", func(m *Model) {
			m.Practices[0].Need = 1e60
			m.Streams[Outpatient].NeedElasticity = 5
		}, "outpatient"},
	}
	for _, c := range cases {
		m := validModel()
		c.breakIt(m)
		var err error
		within(t, c.name, func() { err = m.Validate() })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
