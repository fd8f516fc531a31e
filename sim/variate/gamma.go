package variate

import (
	"math"
	"math/rand/v2"
)

// Gamma is the Gamma(Shape, 1) distribution, drawn by Marsaglia & Tsang's
// method (ACM TOMS 26(3), 2000): with d = shape - 1/3 and c = 1/sqrt(9d),
// x normal and v = (1 + c·x)³, d·v is accepted if log U < x²/2 + d(1 - v +
// log v) (a squeeze first); for shape < 1, Gamma(shape+1)·U^(1/shape). Its
// normal comes from the ziggurat (Normal): exact, and about a log and a
// square root cheaper per draw than the polar method.
type Gamma struct{ Shape float64 }

// Rand returns a Gamma(g.Shape, 1) variate.
func (gd Gamma) Rand(g *rand.PCG) float64 {
	shape := gd.Shape
	boost := 1.0
	if shape < 1 {
		boost = math.Pow(Unit(g.Uint64())+0x1p-54, 1/shape)
		shape++
	}
	dd := shape - 1.0/3
	c := 1 / math.Sqrt(9*dd)
	for {
		x := Normal{}.Rand(g)
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := Unit(g.Uint64())
		x2 := x * x
		if u < 1-0.0331*x2*x2 || math.Log(u) < 0.5*x2+dd*(1-v+math.Log(v)) {
			return dd * v * boost
		}
	}
}
