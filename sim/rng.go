package sim

import (
	"math"
	"math/rand/v2"
)

// Purpose names what a random stream is for. Together with the seed, the
// replication, the practice and the year it forms the stream's key, so every
// draw is fixed by what it models and never by which worker, shard or
// machine happens to compute it.
type Purpose uint64

const (
	PurposeCounts     Purpose = iota + 1 // event counts: one uniform per patient per stream
	PurposeCosts                         // cost per event
	PurposeDemography                    // frailty transitions, deaths, leavers
	PurposeJoiners                       // births and new registrations
	PurposeInitial                       // initial frailty states of the list
	PurposeParameters                    // per-replication draws of uncertain parameters
	PurposePopulation                    // synthetic practice characteristics (fixed per scenario and seed)
	PurposeAges                          // ages within band of the starting list
	PurposeRules                         // chance events in budget rules (e.g. business-case approval)
	PurposeCostsB                        // a second cost stream, so two chains of cost draws run side by side
)

// mix64 is the SplitMix64 finaliser (Steele, Lea & Flood, OOPSLA 2014): a
// bijection on 64-bit words whose output bits each depend on every input bit.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// StreamKey hashes (seed, purpose, replication, practice, year) into two
// 64-bit words for seeding a PCG. Replication or practice may be -1 where the
// stream does not depend on them.
func StreamKey(seed uint64, p Purpose, rep, practice, year int) (uint64, uint64) {
	h := mix64(seed ^ 0x9e3779b97f4a7c15)
	h = mix64(h ^ uint64(p)*0xd1b54a32d192ed03)
	h = mix64(h ^ uint64(int64(rep))*0x8cb92ba72f3d8dd7)
	h = mix64(h ^ uint64(int64(practice))*0xa0761d6478bd642f)
	h = mix64(h ^ uint64(int64(year))*0xe7037ed1a0b428db)
	return h, mix64(h ^ 0x2545f4914f6cdd1d)
}

// seed re-keys a PCG in place (no allocation).
func seedPCG(g *rand.PCG, seed uint64, p Purpose, rep, practice, year int) {
	a, b := StreamKey(seed, p, rep, practice, year)
	g.Seed(a, b)
}

// unit converts 64 random bits to a float64 uniform on [0, 1), as math/rand/v2 does.
func unit(x uint64) float64 { return float64(x>>11) * 0x1p-53 }

// Draws bundles the samplers the model needs over one concrete generator, so
// the hot loop makes direct calls rather than calls through rand.Source.
type Draws struct {
	G     rand.PCG
	spare float64
	has   bool
}

// Reseed re-keys the generator for a new stream and forgets any cached normal.
func (d *Draws) Reseed(seed uint64, p Purpose, rep, practice, year int) {
	seedPCG(&d.G, seed, p, rep, practice, year)
	d.has = false
}

// Uint64 returns 64 uniform random bits.
func (d *Draws) Uint64() uint64 { return d.G.Uint64() }

// Float64 returns a uniform on [0, 1).
func (d *Draws) Float64() float64 { return unit(d.G.Uint64()) }

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

// Gamma returns a Gamma(shape, 1) variate by Marsaglia & Tsang's method (ACM
// TOMS 26(3), 2000), with the U^(1/shape) boost for shape < 1. Its normal
// comes from the ziggurat (NormZ): exact, and about a log and a square root
// cheaper per draw than the polar method.
func (d *Draws) Gamma(shape float64) float64 {
	boost := 1.0
	if shape < 1 {
		boost = math.Pow(unit(d.G.Uint64())+0x1p-54, 1/shape)
		shape++
	}
	dd := shape - 1.0/3
	c := 1 / math.Sqrt(9*dd)
	for {
		x := d.NormZ()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := unit(d.G.Uint64())
		x2 := x * x
		if u < 1-0.0331*x2*x2 || math.Log(u) < 0.5*x2+dd*(1-v+math.Log(v)) {
			return dd * v * boost
		}
	}
}

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

// Binomial returns a Binomial(n, p) count, exactly: by sequential inversion
// when n·min(p, 1-p) < 25 (cost grows with n·p, one uniform) and otherwise by
// Hörmann's transformed rejection with squeeze, BTRS ("The generation of
// binomial random variates", J. Statist. Comput. Simul. 46, 1993), whose cost
// does not grow with n: two uniforms, and a log-factorial test for the few
// draws outside the squeeze.
func (d *Draws) Binomial(n int, p float64) int {
	if n <= 0 || p <= 0 {
		return 0
	}
	if p >= 1 {
		return n
	}
	if p > 0.5 {
		return n - d.binomial(n, 1-p, math.Log1p(p-1))
	}
	return d.binomial(n, p, math.Log1p(-p))
}

// binomial is Binomial for 0 < p <= 1/2 with l1p = log(1-p) given, so
// callers drawing many times with one probability compute the log once.
func (d *Draws) binomial(n int, p, l1p float64) int {
	if n <= 0 || p <= 0 {
		return 0
	}
	if float64(n)*p >= inversionMax {
		return d.btrs(n, p, math.Log(p)-l1p)
	}
	return d.binomialInv(n, p, fastExp(float64(n)*l1p))
}

// inversionMax is the n·p from which BTRS (valid from 10) is faster than
// inversion: about 25 on amd64 (BenchmarkBinomial).
const inversionMax = 25

// binomialInv is Binomial by sequential inversion for 0 < p <= 1/2 given
// p0 = (1-p)^n. Its cost grows with n·p, so it serves n·p < inversionMax.
func (d *Draws) binomialInv(n int, p, p0 float64) int {
	// P(x)/P(x-1) = (n-x+1)/x · p/(1-p).
	r := p / (1 - p)
	pr := p0
	u := unit(d.G.Uint64())
	x := 0
	for u >= pr && x < n {
		u -= pr
		x++
		pr *= r * float64(n-x+1) * recip(x)
	}
	return x
}

// btrs is Hörmann's BTRS for p <= 1/2 and n·p >= 10, with lr = log(p/(1-p)). A candidate k comes
// from the transformed uniform u, with v uniform under the hat
// alpha/(a/us² + b); it is accepted in the squeeze region outright, and
// otherwise if log v' <= log f(k)/f(m), f the pmf and m its mode, computed
// from exact log-factorials.
func (d *Draws) btrs(n int, p, lr float64) int {
	nf := float64(n)
	spq := math.Sqrt(nf * p * (1 - p))
	b := 1.15 + 2.53*spq
	a := -0.0873 + 0.0248*b + 0.01*p
	c := nf*p + 0.5
	vr := 0.92 - 4.2/b
	alpha := (2.83 + 5.1/b) * spq
	m := math.Floor((nf + 1) * p)
	lm := lfact(m) + lfact(nf-m)
	for {
		u := unit(d.G.Uint64()) - 0.5
		v := unit(d.G.Uint64())
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + c)
		if k < 0 || k > nf {
			continue
		}
		if us >= 0.07 && v <= vr {
			return int(k)
		}
		v = math.Log(v * alpha / (a/(us*us) + b))
		if v <= lm-lfact(k)-lfact(nf-k)+(k-m)*lr {
			return int(k)
		}
	}
}

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

// ExpMeanOne returns exp(sd·z - sd²/2): a lognormal multiplier with mean 1
// for a standard normal z.
func ExpMeanOne(sd, z float64) float64 { return math.Exp(sd*z - sd*sd/2) }

// Floor draws n words from a PCG keyed like a counts stream and returns their
// XOR (so the loop cannot be optimised away): the least work any sampler on
// this generator can do for n uniforms, which benchmarks report the kernel
// against.
func Floor(seed uint64, n int) uint64 {
	var g rand.PCG
	seedPCG(&g, seed, PurposeCounts, 0, 0, 0)
	x := uint64(0)
	for range n {
		x ^= g.Uint64()
	}
	return x
}
