package variate

import "testing"

// TestPoisson checks Poisson(λ)'s mean and variance (both λ) on both sides
// of the switch from inversion to PTRS at 10 and far above.
func TestPoisson(t *testing.T) {
	g := src(8)
	for _, l := range []float64{0.7, 9.9, 10, 55, 4000, 2e6} {
		checkMoments(t, "Poisson", func() float64 { return float64(Poisson{Lambda: l}.Rand(g)) }, l, l)
	}
}
