package variate

import (
	"math"
	"testing"
)

// TestFastExp checks FastExp against math.Exp (within 5e-16, relative)
// inside its polynomial's range and beyond it.
func TestFastExp(t *testing.T) {
	for _, x := range []float64{-750, -3, 0, 0.3, 5.5, 12, 709} {
		if e := math.Abs(FastExp(x)-math.Exp(x)) / math.Exp(x); e > 5e-16 {
			t.Errorf("FastExp(%v) relative error %.2g", x, e)
		}
	}
}
