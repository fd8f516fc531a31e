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
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Median is the type-7 median of x (in any order; x is not changed): the
// middle value, or the mean of the two middle values, computed as
// (a + b)/2. That equals Quantile(sorted, 0.5) but for the last bit, which
// can differ where a + 0.5(b - a) rounds otherwise. NaN for no values.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := slices.Clone(x)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
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
