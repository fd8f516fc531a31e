package sim

import "math"

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

// NormZ returns a standard normal by the ziggurat method (Marsaglia & Tsang
// 2000) on one 64-bit word: the low 7 bits pick the layer and the top 56
// bits, as a signed integer, the abscissa, so layer and value use disjoint
// bits. About 99% of draws take this inlined fast path (one word, one
// multiply); the rest are resolved exactly by the wedge and tail tests.
func (d *Draws) NormZ() float64 {
	u := d.G.Uint64()
	i := u & 127
	j := int64(u) >> 8
	if (j^(j>>63))-(j>>63) < zigK[i] {
		return float64(j) * zigW[i]
	}
	return d.normSlow(u)
}

func (d *Draws) normSlow(u uint64) float64 {
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
				xt := -math.Log(unit(d.G.Uint64())+0x1p-54) / zigR
				y := -math.Log(unit(d.G.Uint64()) + 0x1p-54)
				if y+y >= xt*xt {
					if j > 0 {
						return zigR + xt
					}
					return -zigR - xt
				}
			}
		}
		if zigF[i]+unit(d.G.Uint64())*(zigF[i-1]-zigF[i]) < math.Exp(-0.5*x*x) {
			return x
		}
		u = d.G.Uint64()
	}
}

// NormTail returns a standard normal conditioned to exceed c > 0, exactly, by
// Marsaglia's method (Ann. Math. Statist. 35, 1964): c + x with x
// exponential of rate c, accepted with probability exp(-x²/2).
func (d *Draws) NormTail(c float64) float64 {
	for {
		x := -math.Log(unit(d.G.Uint64())+0x1p-54) / c
		y := -math.Log(unit(d.G.Uint64()) + 0x1p-54)
		if y+y >= x*x {
			return c + x
		}
	}
}

// Norm returns a standard normal by Marsaglia's polar method (Marsaglia &
// Bray, SIAM Review 1964), caching the second variate of each pair.
func (d *Draws) Norm() float64 {
	if d.has {
		d.has = false
		return d.spare
	}
	for {
		u := 2*unit(d.G.Uint64()) - 1
		v := 2*unit(d.G.Uint64()) - 1
		s := u*u + v*v
		if s >= 1 || s == 0 {
			continue
		}
		f := math.Sqrt(-2 * math.Log(s) / s)
		d.spare, d.has = v*f, true
		return u * f
	}
}
