package variate

import (
	"math"
	"math/rand/v2"
)

// NormalTail is the standard normal conditioned to exceed C > 0, drawn
// exactly by Marsaglia's method (Ann. Math. Statist. 35, 1964): C + x with x
// exponential of rate C, accepted with probability exp(-x²/2).
type NormalTail struct{ C float64 }

// Rand returns a standard normal above t.C.
func (t NormalTail) Rand(g *rand.PCG) float64 {
	c := t.C
	for {
		x := -math.Log(Unit(g.Uint64())+0x1p-54) / c
		y := -math.Log(Unit(g.Uint64()) + 0x1p-54)
		if y+y >= x*x {
			return c + x
		}
	}
}
