package sim

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// ksTwoSample returns the two-sample Kolmogorov-Smirnov distance between a
// and b (sorted in place) and its critical value at level alpha.
func ksTwoSample(a, b []float64, alpha float64) (d, crit float64) {
	slices.Sort(a)
	slices.Sort(b)
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		x := min(a[i], b[j])
		for i < len(a) && a[i] <= x {
			i++
		}
		for j < len(b) && b[j] <= x {
			j++
		}
		d = max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	n, m := float64(len(a)), float64(len(b))
	return d, math.Sqrt(-math.Log(alpha/2)/2) * math.Sqrt((n+m)/(n*m))
}

// TestBinomialOfPMF checks the cohort-mode binomial paths (alias blocks,
// inversion from the power table, BTRS, and folding p > 1/2) against the
// exact pmf (binomialChiSquare).
func TestBinomialOfPMF(t *testing.T) {
	var d Draws
	d.Reseed(Key{Seed: 13, Rep: 0, Practice: 0, Year: 0}, PurposeDemography)
	for _, c := range []struct {
		n    int64
		p    float64
		tab  bool
		name string
	}{
		{1, 0.2, true, "blocks, one column"},
		{37, 0.2, true, "blocks, one partial block"},
		{64, 0.45, true, "blocks, one full block"},
		{200, 0.2, true, "blocks, four blocks"},
		{256, 0.8, true, "blocks, folded p"},
		{300, 0.05, true, "past the blocks: inversion"},
		{2000, 0.3, true, "past the blocks: BTRS"},
		{90, 0.21, false, "power table inversion"},
		{5000, 0.001, false, "power table beyond 4096: fastExp"},
		{700, 0.9, false, "BTRS folded"},
	} {
		b := newBprob(c.p).withPowers()
		if c.tab {
			b.tab = newBinomTable(b.p)
		}
		binomialChiSquare(t, fmt.Sprintf("%s: Binomial(%d, %v)", c.name, c.n, c.p), c.n, c.p,
			func() int64 { return d.binomialOf(c.n, &b) })
	}
}

// TestAlias checks the alias table's outcome shares against its weights
// (chi-square, 200,000 draws, p < 1e-4), including zero weights, which must
// never be drawn.
func TestAlias(t *testing.T) {
	const draws = 200_000
	w := []float64{0.3, 0, 2.5, 0.01, 1, 0, 7, 0.2}
	var a alias
	var sc aliasScratch
	a.build(w, &sc)
	var d Draws
	d.Reseed(Key{Seed: 14, Rep: 0, Practice: 0, Year: 0}, PurposeJoiners)
	counts := make([]float64, len(w))
	for range draws {
		counts[a.draw(d.G.Uint64())]++
	}
	total := 0.0
	for _, x := range w {
		total += x
	}
	chi, df := 0.0, -1
	for k, x := range w {
		if x == 0 {
			if counts[k] != 0 {
				t.Errorf("outcome %d has weight 0 but was drawn %v times", k, counts[k])
			}
			continue
		}
		e := draws * x / total
		chi += (counts[k] - e) * (counts[k] - e) / e
		df++
	}
	if crit := (distuv.ChiSquared{K: float64(df)}).Quantile(1 - 1e-4); chi > crit {
		t.Errorf("alias: chi-square %.1f on %d df, critical %.1f (counts %v)", chi, df, crit, counts)
	}
}

// TestCohortLambda compares cohort mode's draw of a negative binomial
// stream's Poisson mean (one shifted gamma matching three cumulants) with
// the exact sum of one gamma per group, for a practice-like spread of group
// sizes and rates (rates 0.05 to 6 per head, frailty levels as in the
// default scenario). Means and variances must agree within 4 Monte Carlo
// SE, and the two distributions must be indistinguishable by a two-sample
// Kolmogorov-Smirnov test at 20,000 draws each (level 0.001, critical
// distance 0.0195). A single rate is exact, and is checked to be.
func TestCohortLambda(t *testing.T) {
	const n = 20_000
	level := []float64{0.45, 1.2, 2.6, 5.0}
	share := []float64{0.62, 0.26, 0.10, 0.02}
	for _, c := range []struct {
		name  string
		list  float64
		r     float64
		rates []float64
	}{
		{"A&E-like, 6,000 patients", 6000, 1.2, []float64{0.3, 0.2, 0.25, 0.3, 0.45, 0.6}},
		{"admissions, steep age gradient, 1,500 patients", 1500, 1, []float64{0.05, 0.03, 0.06, 0.15, 0.4, 1.2}},
		{"outpatients, 300 patients", 300, 1.5, []float64{0.5, 0.7, 1.2, 2, 3, 6}},
		{"one rate", 800, 1, []float64{1}},
	} {
		var x, mu []float64
		for _, rate := range c.rates {
			for k, l := range level {
				if c.name == "one rate" && k > 0 {
					continue
				}
				sh := share[k]
				if c.name == "one rate" {
					l, sh = 1, 1
				}
				x = append(x, math.Round(c.list*sh/float64(len(c.rates))))
				mu = append(mu, rate*l)
			}
		}
		var s1, s2, s3 float64
		for g := range x {
			s1 += x[g] * mu[g]
			s2 += x[g] * mu[g] * mu[g]
			s3 += x[g] * mu[g] * mu[g] * mu[g]
		}
		var d Draws
		d.Reseed(Key{Seed: 15, Rep: 0, Practice: 0, Year: 0}, PurposeCounts)
		exact, approx := make([]float64, n), make([]float64, n)
		for i := range n {
			for g := range x {
				if x[g] > 0 {
					exact[i] += mu[g] / c.r * d.Gamma(x[g]*c.r)
				}
			}
			approx[i] = d.lambdaOf(c.r, s1, s2, s3)
		}
		a, b := momentsOf(exact), momentsOf(approx)
		if diff, se := math.Abs(a.mean-b.mean), math.Hypot(a.seMean, b.seMean); diff > 4*se {
			t.Errorf("%s: mean %.5g exact vs %.5g approximate, %.1f SE apart", c.name, a.mean, b.mean, diff/se)
		}
		if diff, se := math.Abs(a.vari-b.vari), math.Hypot(a.seVar, b.seVar); diff > 4*se {
			t.Errorf("%s: variance %.5g exact vs %.5g approximate, %.1f SE apart", c.name, a.vari, b.vari, diff/se)
		}
		if dist, crit := ksTwoSample(exact, approx, 0.001); dist > crit {
			t.Errorf("%s: Kolmogorov-Smirnov distance %.4f, critical %.4f", c.name, dist, crit)
		}
	}
}

// TestLognormalSum compares spend's lognormal sums, both modes' (exact tail plus
// shifted-gamma body) with sums of exact lognormal draws, for CVs from 0.01
// to 2.5 and event counts from the threshold (exactCostEvents) up: means
// and variances within 4 Monte Carlo SE (variance SE from the fourth
// moment), distributions indistinguishable by two-sample Kolmogorov-Smirnov
// at 20,000 draws each (level 0.001).
func TestLognormalSum(t *testing.T) {
	const n = 20_000
	// CV 0.01: the body is skewed left (mirrored gamma); 0.1: barely right.
	for _, cv := range []float64{0.01, 0.1, 0.6, 1.5, 2.5} {
		sigma := math.Sqrt(math.Log1p(cv * cv))
		mean := 700.0
		mu := math.Log(mean) - sigma*sigma/2
		lp := newLognormalPart(mu, sigma, mean)
		for _, k := range []int64{exactCostEvents, 150, 2000} {
			var d Draws
			d.Reseed(Key{Seed: 16, Rep: int(k)}, PurposeCosts)
			exact, approx := make([]float64, n), make([]float64, n)
			for i := range n {
				for range k {
					exact[i] += math.Exp(mu + sigma*d.NormZ())
				}
				approx[i] = d.lognormalSum(&lp, k)
			}
			a, b := momentsOf(exact), momentsOf(approx)
			name := func() string { return fmt.Sprintf("CV %v, %d events", cv, k) }
			if diff, se := math.Abs(a.mean-b.mean), math.Hypot(a.seMean, b.seMean); diff > 4*se {
				t.Errorf("%s: mean %.6g exact vs %.6g, %.1f SE apart", name(), a.mean, b.mean, diff/se)
			}
			if diff, se := math.Abs(a.vari-b.vari), math.Hypot(a.seVar, b.seVar); diff > 4*se {
				t.Errorf("%s: variance %.6g exact vs %.6g, %.1f SE apart", name(), a.vari, b.vari, diff/se)
			}
			if dist, crit := ksTwoSample(exact, approx, 0.001); dist > crit {
				t.Errorf("%s: Kolmogorov-Smirnov distance %.4f, critical %.4f", name(), dist, crit)
			}
		}
	}
}
