package variate

import "testing"

// TestGamma checks Gamma(a, 1)'s mean and variance (both a), below 1 (the
// boost), near 1 and far above.
func TestGamma(t *testing.T) {
	g := src(7)
	for _, a := range []float64{0.25, 1, 4.5, 300} {
		checkMoments(t, "Gamma", func() float64 { return Gamma{Shape: a}.Rand(g) }, a, a)
	}
}
