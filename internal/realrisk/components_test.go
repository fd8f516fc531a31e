package realrisk

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The method-of-moments estimates are unbiased: over 400 data sets drawn
// from known components on one unbalanced design (6 regions of 2-6 CCGs of
// 3-15 practices), their means lie within 4 Monte Carlo standard errors
// (the estimates' SD / √400) of the true variances. Fixed seed.
func TestNestedUnbiased(t *testing.T) {
	const sa, sb, se = 0.02, 0.035, 0.065
	rng := rand.New(rand.NewPCG(21, 4))
	var region, ccg []string
	for r := range 6 {
		for c := range 2 + rng.IntN(5) {
			for range 3 + rng.IntN(13) {
				region = append(region, fmt.Sprint("R", r))
				ccg = append(ccg, fmt.Sprint("C", c))
			}
		}
	}
	const sets = 400
	var sum, sum2 [3]float64
	y := make([]float64, len(region))
	for range sets {
		a, b := map[string]float64{}, map[string]float64{}
		for i := range y {
			ka, kb := region[i], region[i]+ccg[i]
			if _, ok := a[ka]; !ok {
				a[ka] = sa * rng.NormFloat64()
			}
			if _, ok := b[kb]; !ok {
				b[kb] = sb * rng.NormFloat64()
			}
			y[i] = 0.01 + a[ka] + b[kb] + se*rng.NormFloat64()
		}
		n := nested(y, region, ccg)
		for k, v := range []float64{n.va, n.vb, n.ve} {
			sum[k] += v
			sum2[k] += v * v
		}
	}
	for k, want := range []float64{sa * sa, sb * sb, se * se} {
		mean := sum[k] / sets
		mcse := math.Sqrt((sum2[k]/sets - mean*mean) / sets)
		if math.Abs(mean-want) > 4*mcse {
			t.Errorf("component %d: mean estimate %.6f, true %.6f, Monte Carlo SE %.6f", k, mean, want, mcse)
		}
	}
}

// Estimate recovers an AR(1) drift's persistence and SD and the shock SDs
// from synthetic pairs built like real ones: 12 regions of 10 CCGs of 20
// practices, four pairs of years; per practice a drift x_t = ρ x_{t-1} +
// √(1-ρ²) σ η_t, per CCG and region independent yearly shocks. The
// tolerances are 4 Monte Carlo SEs of one such data set (the estimates' SD
// over 50 seeds, TestEstimateSpread: persistence 0.023, drift SD 0.0032,
// place shock SD 0.0011, region shock SD 0.0019; their means 0.7005,
// 0.0803, 0.0250, 0.0123). Fixed seed.
func TestEstimateRecovers(t *testing.T) {
	const rho, sd, place, region = 0.7, 0.08, 0.025, 0.012
	pairs := syntheticPairs(rand.New(rand.NewPCG(5, 6)), rho, sd, place, region)
	e := Estimate(pairs)
	near(t, "persistence", e.Persistence, rho, 4*0.023)
	near(t, "drift SD", e.DriftSD, sd, 4*0.0032)
	near(t, "place shock SD", e.PlaceShockSD, place, 4*0.0011)
	near(t, "region shock SD", e.RegionShockSD, region, 4*0.0019)
	if e.Pairs != 4 || e.Regions != 12 || e.CCGs != 120 {
		t.Errorf("design: %d pairs, %v regions, %v CCGs", e.Pairs, e.Regions, e.CCGs)
	}
}

func syntheticPairs(rng *rand.Rand, rho, sd, place, region float64) []Pair {
	const regions, ccgs, practices, years = 12, 10, 20, 5
	n := regions * ccgs * practices
	x := make([]float64, n)
	level := make([][]float64, years) // log drug cost per head
	for t := range years {
		level[t] = make([]float64, n)
		ps := make([]float64, regions*ccgs)
		for k := range ps {
			ps[k] = place * rng.NormFloat64()
		}
		rs := make([]float64, regions)
		for k := range rs {
			rs[k] = region * rng.NormFloat64()
		}
		for i := range n {
			if t == 0 {
				x[i] = sd * rng.NormFloat64()
			} else {
				x[i] = rho*x[i] + math.Sqrt(1-rho*rho)*sd*rng.NormFloat64()
			}
			c := i / practices
			level[t][i] = math.Log(100) + 0.02*float64(t) + x[i] + ps[c] + rs[c/ccgs]
		}
	}
	var out []Pair
	for t := 0; t+1 < years; t++ {
		p := Pair{From: 2014 + t, To: 2015 + t}
		for i := range n {
			c := i / practices
			p.Rows = append(p.Rows, Row{Practice: fmt.Sprintf("P%04d", i), Region: fmt.Sprint("R", c/ccgs), CCG: fmt.Sprint("C", c),
				List0: 5000, List1: 5000, Drugs0: 5000 * math.Exp(level[t][i]), Drugs1: 5000 * math.Exp(level[t+1][i])})
		}
		out = append(out, p)
	}
	return out
}

// TestEstimateSpread measures the Monte Carlo SEs TestEstimateRecovers
// uses (go test -run EstimateSpread -v -spread).
func TestEstimateSpread(t *testing.T) {
	if !*spread {
		t.Skip("measures the SEs other tests use: -spread")
	}
	var s, s2 [4]float64
	const n = 50
	for seed := range uint64(n) {
		e := Estimate(syntheticPairs(rand.New(rand.NewPCG(seed, 99)), 0.7, 0.08, 0.025, 0.012))
		for k, v := range []float64{e.Persistence, e.DriftSD, e.PlaceShockSD, e.RegionShockSD} {
			s[k] += v
			s2[k] += v * v
		}
	}
	for k, name := range []string{"persistence", "drift SD", "place shock SD", "region shock SD"} {
		m := s[k] / n
		t.Logf("%s: mean %.4f SD %.4f", name, m, math.Sqrt(s2[k]/n-m*m))
	}
}

var spread = flag.Bool("spread", false, "measure the Monte Carlo SEs of TestEstimateRecovers")
