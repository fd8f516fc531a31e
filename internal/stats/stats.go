// Package stats is the one home of the project's order statistics: the
// type-7 quantile, the median and the robust SD (1.4826 × the median
// absolute deviation). Every package that needs one calls it here, so a
// figure called a median or a quantile means the same thing everywhere.
package stats

import (
	"math"
	"slices"
	"sort"
)

// Quantile is the p-quantile of sorted values by linear interpolation between
// order statistics (Hyndman and Fan 1996, type 7, as R's default and NumPy's
// "linear"): h = (n-1)p, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
// gonum's stat.Quantile offers types 1 and 4 only. It is NaN for no values.
func Quantile(sorted []float64, p float64) float64 {
	return QuantileOf(len(sorted), p, func(k int) float64 { return sorted[k] })
}

// QuantileOf is Quantile of n values that are not held in one sorted
// slice: at(k) is the k-th smallest (0-based), asked for at most two ranks
// (a selection over sorted runs, say). NaN for no values.
func QuantileOf(n int, p float64, at func(k int) float64) float64 {
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return at(n - 1)
	}
	x0 := at(lo)
	if h == float64(lo) {
		return x0
	}
	return x0 + (h-float64(lo))*(at(lo+1)-x0)
}

// Median is the type-7 median of x (in any order; x is not changed):
// Quantile(sorted x, 0.5), the middle value, or for an even count
// a + 0.5(b - a) of the two middle values a <= b. NaN for no values.
func Median(x []float64) float64 {
	s := slices.Clone(x)
	sort.Float64s(s)
	return Quantile(s, 0.5)
}

// MADScale makes the median absolute deviation an estimate of the SD for
// normal data: 1/Φ⁻¹(3/4) = 1.4826 (Hampel 1974; Rousseeuw and Croux 1993).
const MADScale = 1.4826

// MedianRobustSD returns the median of x and its robust SD, MADScale × the
// median absolute deviation from it (both by Median).
func MedianRobustSD(x []float64) (med, rsd float64) {
	med = Median(x)
	dev := make([]float64, len(x))
	for i, v := range x {
		dev[i] = math.Abs(v - med)
	}
	return med, MADScale * Median(dev)
}
