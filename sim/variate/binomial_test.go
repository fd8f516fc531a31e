package variate

import (
	"fmt"
	"testing"
)

// TestBinomialMoments checks Binomial(n, p)'s mean and variance.
func TestBinomialMoments(t *testing.T) {
	g := src(9)
	for _, c := range []struct {
		n int64
		p float64
	}{{10, 0.3}, {500, 0.02}, {500, 0.5}, {100000, 0.9}, {3000, 0.2}} {
		b := NewBinomial(c.p)
		checkMoments(t, "Binomial", func() float64 { return float64(b.Rand(g, c.n)) }, float64(c.n)*c.p, float64(c.n)*c.p*(1-c.p))
	}
}

// TestBinomialPMF checks every path's whole distribution, not just its
// moments, against the exact pmf (binomialChiSquare): inversion (n·p < 25)
// from an exponential and from the power table (within 4096 and beyond),
// BTRS (n·p >= 25) near its threshold and far beyond it, the alias blocks
// (one column, a partial block, full blocks), and p > 1/2 folded.
func TestBinomialPMF(t *testing.T) {
	g := src(13)
	for _, c := range []struct {
		n           int64
		p           float64
		pow, blocks bool
		name        string
	}{
		{12, 0.5, false, false, "inversion"},
		{400, 0.004, false, false, "inversion, small p"},
		{25, 0.42, false, false, "BTRS at its threshold"},
		{60, 0.2, false, false, "inversion"},
		{130, 0.2, false, false, "BTRS"},
		{1000, 0.3, false, false, "BTRS"},
		{200, 0.93, false, false, "BTRS folded"},
		{90_000, 0.011, false, false, "BTRS, large n"},
		{1, 0.2, true, true, "blocks, one column"},
		{37, 0.2, true, true, "blocks, one partial block"},
		{64, 0.45, true, true, "blocks, one full block"},
		{200, 0.2, true, true, "blocks, four blocks"},
		{256, 0.8, true, true, "blocks, folded p"},
		{300, 0.05, true, true, "past the blocks: inversion"},
		{2000, 0.3, true, true, "past the blocks: BTRS"},
		{90, 0.21, true, false, "power table inversion"},
		{5000, 0.001, true, false, "power table beyond 4096: FastExp"},
		{700, 0.9, true, false, "BTRS folded, power table"},
	} {
		b := NewBinomial(c.p)
		if c.pow {
			b = b.WithPowers()
		}
		if c.blocks {
			b = b.WithBlocks()
		}
		binomialChiSquare(t, fmt.Sprintf("%s: Binomial(%d, %v)", c.name, c.n, c.p), c.n, c.p,
			func() int64 { return b.Rand(g, c.n) })
	}
}
