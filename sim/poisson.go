package sim

import "math"

// Poisson returns a Poisson(lambda) count, exactly: by inversion for means
// below 10 and above by Hörmann's transformed rejection with squeeze, PTRS
// ("The transformed rejection method for generating Poisson random
// variables", Insurance: Mathematics and Economics 12, 1993), whose cost does
// not grow with the mean.
func (d *Draws) Poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda < 10 {
		p := math.Exp(-lambda)
		u := unit(d.G.Uint64())
		k := 0
		for u >= p && k < 1000 {
			u -= p
			k++
			p *= lambda / float64(k)
		}
		return k
	}
	slam, loglam := math.Sqrt(lambda), math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := unit(d.G.Uint64()) - 0.5
		v := unit(d.G.Uint64())
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return int(k)
		}
	}
}
