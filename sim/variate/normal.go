package variate

import (
	"math"
	"math/rand/v2"
)

// Ziggurat tables for the standard normal: 128 layers of equal area
// (Marsaglia & Tsang, "The Ziggurat Method for Generating Random Variables",
// J. Stat. Softw. 5(8), 2000), scaled for a 56-bit signed integer.
const (
	zigR     = 3.442619855899      // start of the tail
	zigV     = 9.91256303526217e-3 // area of each layer
	zigScale = float64(1 << 55)    // |x| < 2^55 from a 56-bit signed integer
)

var zigK [128]int64
var zigW, zigF [128]float64

func init() {
	dn, tn := zigR, zigR
	q := zigV / math.Exp(-0.5*dn*dn)
	zigK[0] = int64(dn / q * zigScale)
	zigK[1] = 0
	zigW[0] = q / zigScale
	zigW[127] = dn / zigScale
	zigF[0] = 1
	zigF[127] = math.Exp(-0.5 * dn * dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigV/dn+math.Exp(-0.5*dn*dn)))
		zigK[i+1] = int64(dn / tn * zigScale)
		tn = dn
		zigF[i] = math.Exp(-0.5 * dn * dn)
		zigW[i] = dn / zigScale
	}
}

// Normal is the standard normal, drawn by the ziggurat method (Marsaglia &
// Tsang 2000) on one 64-bit word: the low 7 bits pick the layer and the top
// 56 bits, as a signed integer, the abscissa, so layer and value use
// disjoint bits. About 99% of draws take the inlined fast path (one word,
// one multiply); the rest are resolved exactly by the wedge and tail tests.
type Normal struct{}

// Rand returns a standard normal.
func (n Normal) Rand(g *rand.PCG) float64 {
	u := g.Uint64()
	if z, ok := n.Fast(u); ok {
		return z
	}
	return normSlow(g, u)
}

// Fast returns the standard normal that the word u gives on the fast path,
// and whether u took it; Slow resolves the rest. A caller that draws its
// words itself (two generators side by side) uses them.
func (Normal) Fast(u uint64) (float64, bool) {
	i := u & 127
	j := int64(u) >> 8
	return float64(j) * zigW[i], (j^(j>>63))-(j>>63) < zigK[i]
}

// Slow returns the standard normal for a word u off the fast path, drawing
// further words from g (the generator u came from).
func (Normal) Slow(g *rand.PCG, u uint64) float64 { return normSlow(g, u) }

func normSlow(g *rand.PCG, u uint64) float64 {
	for {
		i := u & 127
		j := int64(u) >> 8
		x := float64(j) * zigW[i]
		if (j^(j>>63))-(j>>63) < zigK[i] {
			return x
		}
		if i == 0 {
			// Tail beyond zigR (Marsaglia 1964).
			for {
				xt := -math.Log(Unit(g.Uint64())+0x1p-54) / zigR
				y := -math.Log(Unit(g.Uint64()) + 0x1p-54)
				if y+y >= xt*xt {
					if j > 0 {
						return zigR + xt
					}
					return -zigR - xt
				}
			}
		}
		if zigF[i]+Unit(g.Uint64())*(zigF[i-1]-zigF[i]) < math.Exp(-0.5*x*x) {
			return x
		}
		u = g.Uint64()
	}
}
