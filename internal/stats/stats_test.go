package stats

import (
	"math"
	"testing"
)

// Hand-computed cases: R's quantile(x, p, type = 7) and median(x).
func TestQuantileType7(t *testing.T) {
	s := []float64{1, 2, 3, 4, 10}
	for _, c := range []struct{ p, want float64 }{
		{0, 1}, {0.25, 2}, {0.5, 3}, {0.9, 7.6}, {1, 10}, {0.1, 1.4},
	} {
		if got := Quantile(s, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", s, c.p, got, c.want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("Quantile of no values is not NaN")
	}
}

func TestMedianAndRobustSD(t *testing.T) {
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", m)
	}
	x := []float64{5, 1, 100, 3, 2}
	// median 3; deviations 2, 2, 97, 0, 1: their median 2.
	med, rsd := MedianRobustSD(x)
	if med != 3 || math.Abs(rsd-2*1.4826) > 1e-12 {
		t.Errorf("MedianRobustSD = %v, %v, want 3, %v", med, rsd, 2*1.4826)
	}
	// An even count interpolates (type 7): deviations from 2.5 are
	// 0.5, 0.5, 1.5, 1.5, whose median is 1.
	if med, rsd := MedianRobustSD([]float64{4, 1, 3, 2}); med != 2.5 || math.Abs(rsd-1.4826) > 1e-12 {
		t.Errorf("MedianRobustSD of 1..4 = %v, %v, want 2.5, 1.4826", med, rsd)
	}
	if x[0] != 5 || x[2] != 100 {
		t.Error("Median reordered its argument")
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median of no values is not NaN")
	}
}

// QuantileOf asks for the order statistics it needs and agrees with
// Quantile bit for bit.
func TestQuantileOf(t *testing.T) {
	s := []float64{0.1, 0.7, 1.3, 2.9, 3.3, 8.8}
	for _, p := range []float64{0, 0.05, 0.2, 0.5, 0.95, 0.99, 1} {
		var asked []int
		got := QuantileOf(len(s), p, func(k int) float64 { asked = append(asked, k); return s[k] })
		if got != Quantile(s, p) || len(asked) > 2 {
			t.Errorf("p %v: QuantileOf %v (asked %v), Quantile %v", p, got, asked, Quantile(s, p))
		}
	}
	// Median: the even count's two middle values, a + 0.5(b - a).
	if m := Median([]float64{8.8, 0.1, 3.3, 0.7, 2.9, 1.3}); m != 1.3+0.5*(2.9-1.3) {
		t.Errorf("Median = %v, want %v", m, 1.3+0.5*(2.9-1.3))
	}
}
