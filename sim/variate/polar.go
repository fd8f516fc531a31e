package variate

import (
	"math"
	"math/rand/v2"
)

// Polar draws standard normals in pairs by Marsaglia's polar method
// (Marsaglia & Bray, SIAM Review 1964): u, v uniform on (-1, 1) with
// s = u² + v² in (0, 1), then u·f and v·f with f = sqrt(-2·log(s)/s). The
// second of each pair is kept in the value for the next draw; Reset
// forgets it (when the generator is reseeded).
type Polar struct {
	spare float64
	has   bool
}

// Reset forgets a kept variate.
func (p *Polar) Reset() { p.has = false }

// Rand returns a standard normal.
func (p *Polar) Rand(g *rand.PCG) float64 {
	if p.has {
		p.has = false
		return p.spare
	}
	for {
		u := 2*Unit(g.Uint64()) - 1
		v := 2*Unit(g.Uint64()) - 1
		s := u*u + v*v
		if s >= 1 || s == 0 {
			continue
		}
		f := math.Sqrt(-2 * math.Log(s) / s)
		p.spare, p.has = v*f, true
		return u * f
	}
}
