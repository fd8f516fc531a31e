package variate

import (
	"math"
)

// Tables the samplers share, computed once at start and read only.

// lfact returns log(k!): from a table below 4096 (exact to rounding), else
// math.Lgamma.
func lfact(k float64) float64 {
	if k < float64(len(lfactTab)) {
		return lfactTab[int(k)]
	}
	lg, _ := math.Lgamma(k + 1)
	return lg
}

var lfactTab = func() (t [4096]float64) {
	for k := range t {
		t[k], _ = math.Lgamma(float64(k) + 1)
	}
	return t
}()

// recips[k] = 1/k, so the pmf recurrences multiply rather than divide.
var recips = func() (r [4096]float64) {
	for k := 1; k < len(r); k++ {
		r[k] = 1 / float64(k)
	}
	return r
}()

// Recip returns 1/k, from a table below 4096, so the pmf recurrences
// multiply rather than divide.
func Recip(k int) float64 {
	if k < len(recips) {
		return recips[k]
	}
	return 1 / float64(k)
}
