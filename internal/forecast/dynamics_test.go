package forecast

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/sim"
)

// CRPS of a mixture: one component is the lognormal closed form; two
// components match ∫(F(x) − 1{x ≥ y})² dx by the trapezium rule.
func TestMixtureCRPS(t *testing.T) {
	for _, y := range []float64{0.3, 1, 2.5, 10} {
		if a, b := LogNormal(0.2, 0.5).CRPS(y), CRPSLogNormal(0.2, 0.5, y); math.Abs(a-b) > 1e-12 {
			t.Errorf("y %v: mixture %v, lognormal %v", y, a, b)
		}
	}
	m := Mixture{W: []float64{0.7, 0.3}, Mu: []float64{0, 0.5}, SD: []float64{0.1, 0.8}}
	for _, y := range []float64{0.5, 1, 1.7, 6} {
		const dx = 1e-4
		s := 0.0
		for x := dx / 2; x < 200; x += dx {
			f := m.LogCDF(math.Log(x))
			if x >= y {
				f--
			}
			s += f * f * dx
		}
		if got := m.CRPS(y); math.Abs(got-s) > 1e-4*s+1e-6 {
			t.Errorf("y %v: closed form %v, integral %v", y, got, s)
		}
	}
	for _, p := range []float64{0.025, 0.5, 0.9} {
		if got := m.LogCDF(math.Log(m.Quantile(p))); math.Abs(got-p) > 1e-8 {
			t.Errorf("CDF(Quantile(%v)) = %v", p, got)
		}
	}
}

// simChanges draws n annual changes from a known model: drift 0.01 with SD
// 0.02·(5000/list)^0.5, persistence 0.4 on the previous change, and jumps
// with probability 0.04 from N(0.2, 0.3²).
func simChanges(r *rand.Rand, n int) []Change {
	var out []Change
	for len(out) < n {
		list := 1000 + 15000*r.Float64()
		prev := math.NaN()
		for y := 1; y <= 4; y++ {
			x := 0.0
			if !math.IsNaN(prev) {
				x = math.Max(-0.05, math.Min(0.05, prev)) - 0.01
			}
			d := 0.01 + 0.4*x + 0.02*math.Sqrt(5000/list)*r.NormFloat64()
			if r.Float64() < 0.04 {
				d = 0.2 + 0.3*r.NormFloat64()
			}
			out = append(out, Change{D: d, Prev: prev, List: list, Year: y})
			list *= math.Exp(d)
			prev = d
		}
	}
	return out
}

// The EM estimates recover the generating model. Tolerances are about four
// standard errors at n = 20,000: SE(Sigma) ≈ Sigma/√(2n(1−Pi)) ≈ 0.0001,
// SE(Pi) ≈ √(Pi(1−Pi)/n) ≈ 0.0014, SE(Phi) ≈ 0.012 (prev's spread about
// 0.025 against the drift's 0.02).
func TestFitChangesRecovers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m, err := FitChanges(simChanges(r, 20000), ChangeOptions{SizeScaled: true, Persistent: true})
	if err != nil {
		t.Fatal(err)
	}
	sig := m.Sigma * math.Pow(m.NRef/5000, m.Gamma/2) // SD at a list of 5,000
	if m.Gamma != 1 || math.Abs(sig-0.02) > 0.0008 || math.Abs(m.Pi-0.04) > 0.005 || math.Abs(m.Phi-0.4) > 0.05 || math.Abs(m.Mu-0.01) > 0.001 {
		t.Errorf("fitted Gamma %v (want 1: variance ∝ 1/list), SD at 5,000 %.4f (0.02), Pi %.4f (0.04), Phi %.3f (0.4), Mu %.4f (0.01); jumps %+v",
			m.Gamma, sig, m.Pi, m.Phi, m.Mu, m.Jumps)
	}
}

// Intervals from the fitted model cover fresh changes at their nominal
// rates, the tails included: over 20,000 new changes the binomial SE of
// the 95% coverage is 0.0015 and of the 80% 0.0028; tolerance 4 SE.
func TestChangeModelCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m, err := FitChanges(simChanges(r, 20000), ChangeOptions{SizeScaled: true, Persistent: true})
	if err != nil {
		t.Fatal(err)
	}
	test := simChanges(r, 20000)
	var c80, c95 int
	for _, o := range test {
		p := m.Predict(o.Prev, o.List, 1)
		z := math.Exp(o.D)
		if z >= p.Quantile(0.1) && z <= p.Quantile(0.9) {
			c80++
		}
		if z >= p.Quantile(0.025) && z <= p.Quantile(0.975) {
			c95++
		}
	}
	n := float64(len(test))
	if f := float64(c80) / n; math.Abs(f-0.8) > 4*math.Sqrt(0.8*0.2/n) {
		t.Errorf("80%% intervals cover %.4f", f)
	}
	if f := float64(c95) / n; math.Abs(f-0.95) > 4*math.Sqrt(0.95*0.05/n) {
		t.Errorf("95%% intervals cover %.4f", f)
	}
}

// A quarter-mean step has drift 5/8 and variance 7.5/16 of a year's, by
// Monte Carlo of a random walk seen at 1/4, 2/4, 3/4 and 1 year: with
// 200,000 walks the SEs are 0.00003 (mean) and 0.3% (variance).
func TestQuarterMeanStep(t *testing.T) {
	m := &ChangeModel{Mu: 0.02, Sigma: 0.03, NRef: 1, Years: 1}
	p := m.PredictToQuarterMean(math.NaN(), 1, 1)
	if len(p.W) != 1 || math.Abs(p.Mu[0]-0.0125) > 1e-12 || math.Abs(p.SD[0]*p.SD[0]-0.03*0.03*7.5/16) > 1e-12 {
		t.Fatalf("quarter-mean step %+v", p)
	}
	r := rand.New(rand.NewPCG(5, 6))
	const n = 200000
	s, s2 := 0.0, 0.0
	for range n {
		w, sum := 0.0, 0.0
		for range 4 {
			w += 0.02/4 + 0.03/2*r.NormFloat64()
			sum += w / 4
		}
		s += sum
		s2 += sum * sum
	}
	mean := s / n
	v := s2/n - mean*mean
	if math.Abs(mean-p.Mu[0]) > 4*0.03*math.Sqrt(7.5/16/n) || math.Abs(v/(p.SD[0]*p.SD[0])-1) > 0.012 {
		t.Errorf("simulated mean %v variance %v; model %v %v", mean, v, p.Mu[0], p.SD[0]*p.SD[0])
	}
}

// The backtest on the real sample (internal/nhsdata/testdata: about 370 practices,
// 70 dispensing, 2014/15-2018/19) scores list size and drug cost with the
// new keys, and the model beats the naive forecast on lists.
func TestBacktestRealSample(t *testing.T) {
	files, _ := filepath.Glob("../nhsdata/testdata/payments/payments_*.csv")
	var ps []*nhsdata.Payments
	for _, f := range files {
		p, err := nhsdata.ReadPaymentsFile(f, 0)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	rows, _, err := nhsdata.BuildHistory(ps)
	if err != nil {
		t.Fatal(err)
	}
	h := &History{}
	for _, r := range rows {
		rec := Record{Practice: r.Practice, Year: r.Year, List: r.List, ListMean: r.ListBasis == "mean of quarters"}
		rec.Spend[sim.Prescribing] = r.Drugs
		h.Records = append(h.Records, rec)
	}
	h.sort()
	res, err := Backtest(h, 1, math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	if res.ListForecasts < 300 || res.Forecasts < 50 || res.Forecasts > 100 {
		t.Fatalf("scored %d lists and %d drug costs", res.ListForecasts, res.Forecasts)
	}
	if !(res.ListCRPS < res.ListNaiveCRPS) || res.ListCoverage95 < 0.85 || res.ListCoverage80SE <= 0 {
		t.Errorf("lists: %+v", res)
	}
	t.Logf("real sample 2018/19: list %.3f/%.3f/%.3f CRPS %.0f (naive %.0f); drugs %.3f/%.3f/%.3f CRPS %.0f (naive %.0f)",
		res.ListCoverage50, res.ListCoverage80, res.ListCoverage95, res.ListCRPS, res.ListNaiveCRPS,
		res.Coverage50, res.Coverage80, res.Coverage95, res.CRPS, res.NaiveCRPS)
}
