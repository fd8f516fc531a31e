package variate

import (
	"math"
	"testing"
)

// TestNormalTail checks the conditional tail sampler: P(Z > c+x | Z > c) =
// Φ̄(c+x)/Φ̄(c) at several x (200,000 draws, 5 binomial standard errors).
func TestNormalTail(t *testing.T) {
	const n = 200_000
	g := src(12)
	for _, c := range []float64{1, 3} {
		xs := []float64{0.05, 0.2, 0.6, 1.2}
		above := make([]int, len(xs))
		for range n {
			z := NormalTail{C: c}.Rand(g)
			if z < c {
				t.Fatalf("NormalTail(%v) = %v", c, z)
			}
			for i, x := range xs {
				if z > c+x {
					above[i]++
				}
			}
		}
		for i, x := range xs {
			p := math.Erfc((c+x)/math.Sqrt2) / math.Erfc(c/math.Sqrt2)
			if got := float64(above[i]) / n; math.Abs(got-p) > 5*math.Sqrt(p*(1-p)/n) {
				t.Errorf("NormalTail(%v): P(Z > %v) = %.5f, want %.5f", c, c+x, got, p)
			}
		}
	}
}
