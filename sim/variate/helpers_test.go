package variate

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// src is a fixed-seed generator for a test: each test its own seed.
func src(seed uint64) *rand.PCG { return rand.NewPCG(seed, seed^0x9e3779b97f4a7c15) }

// checkMoments draws 200,000 variates and compares their mean and variance
// with the analytic ones, within 5 standard errors (the variance's from the
// fourth central moment: Var(s²) ≈ (m4 - s⁴)/n).
func checkMoments(t *testing.T, name string, draw func() float64, mean, vari float64) {
	t.Helper()
	const n = 200_000
	x := make([]float64, n)
	for i := range x {
		x[i] = draw()
	}
	m, v := stat.MeanVariance(x, nil)
	m4 := stat.Moment(4, x, nil)
	seMean, seVar := math.Sqrt(v/n), math.Sqrt(math.Max(m4-v*v, 0)/n)
	if math.Abs(m-mean) > 5*seMean {
		t.Errorf("%s: mean %.5g, want %.5g (SE %.2g)", name, m, mean, seMean)
	}
	if math.Abs(v-vari) > 5*seVar {
		t.Errorf("%s: variance %.5g, want %.5g (SE %.2g)", name, v, vari, seVar)
	}
}

// binomialChiSquare draws 200,000 Binomial(n, p) counts and tests them
// against the exact pmf by chi-square, cells pooled to expected counts of at
// least 20, rejected at p < 1e-4: a fixed-seed test with a 1-in-10,000 false
// alarm rate if the sampler is right.
func binomialChiSquare(t *testing.T, name string, n int64, p float64, draw func() int64) {
	t.Helper()
	const draws = 200_000
	counts := make([]float64, n+1)
	for range draws {
		k := draw()
		if k < 0 || k > n {
			t.Fatalf("%s: drew %d", name, k)
		}
		counts[k]++
	}
	nf := float64(n)
	chi, df := 0.0, -1
	obs, exp := 0.0, 0.0
	for k := int64(0); k <= n; k++ {
		kf := float64(k)
		obs += counts[k]
		exp += draws * math.Exp(lfact(nf)-lfact(kf)-lfact(nf-kf)+kf*math.Log(p)+(nf-kf)*math.Log1p(-p))
		if exp >= 20 || k == n {
			chi += (obs - exp) * (obs - exp) / exp
			df++
			obs, exp = 0, 0
		}
	}
	if crit := (distuv.ChiSquared{K: float64(df)}).Quantile(1 - 1e-4); chi > crit {
		t.Errorf("%s: chi-square %.1f on %d df, critical %.1f", name, chi, df, crit)
	}
}
