package sim

import "math"

// expTab[k] = 2^(k/64).
var expTab = func() (t [64]float64) {
	for k := range t {
		t[k] = math.Exp2(float64(k) / 64)
	}
	return t
}()

// fastExp returns e^x to within about 2 ulp (math.Exp's own bound is 1 ulp):
// x = (64m + k)·ln2/64 + r with |r| <= ln2/128, e^x = 2^m · 2^(k/64) · e^r,
// and e^r by its Taylor polynomial to r^5 (truncation error below 4e-17,
// relative). Cost draws call it once per lognormal event. Arguments outside
// [-700, 700] go to math.Exp.
func fastExp(x float64) float64 {
	if x > -700 && x < 700 {
		return expPoly(x)
	}
	return expWide(x)
}

//go:noinline
func expWide(x float64) float64 { return math.Exp(x) }

func expPoly(x float64) float64 {
	const (
		inv   = 64 / math.Ln2
		ln2hi = 6.93147180369123816490e-01 / 64
		ln2lo = 1.90821492927058770002e-10 / 64
	)
	// Round to nearest; the offset makes truncation a floor for |x| < 700.
	n := int64(x*inv+0.5+(1<<20)) - (1 << 20)
	r := (x - float64(n)*ln2hi) - float64(n)*ln2lo
	p := 1 + r*(1+r*(0.5+r*(1.0/6+r*(1.0/24+r*(1.0/120)))))
	return expTab[n&63] * p * math.Float64frombits(uint64((n>>6)+1023)<<52)
}
