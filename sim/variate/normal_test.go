package variate

import (
	"math"
	"testing"
)

// TestNormal checks the ziggurat's mean and variance (checkMoments) and
// its tail: |z| > 3.44 has probability 5.8e-4, within 5 binomial SE.
func TestNormal(t *testing.T) {
	const n = 200_000
	g := src(5)
	checkMoments(t, "Normal", func() float64 { return Normal{}.Rand(g) }, 0, 1)
	tail := 0
	for range n {
		if math.Abs(Normal{}.Rand(g)) > zigR {
			tail++
		}
	}
	if p := math.Erfc(zigR / math.Sqrt2); math.Abs(float64(tail)/n-p) > 5*math.Sqrt(p/n) {
		t.Errorf("Normal tail beyond %.3f: %d of %d, want %.1f", zigR, tail, n, p*n)
	}
}

// TestPolar checks the polar method's mean and variance.
func TestPolar(t *testing.T) {
	g := src(6)
	var p Polar
	checkMoments(t, "Polar", func() float64 { return p.Rand(g) }, 0, 1)
}
