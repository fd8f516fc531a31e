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
// TOMS 26(3), 2000), with the U^(1/shape) boost for shape < 1.
func (d *Draws) Gamma(shape float64) float64 {
	boost := 1.0
	if shape < 1 {
		boost = math.Pow(unit(d.G.Uint64())+0x1p-54, 1/shape)
		shape++
	}
	dd := shape - 1.0/3
	c := 1 / math.Sqrt(9*dd)
	for {
		x := d.Norm()
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

// Poisson returns a Poisson(lambda) count: by inversion for small means and
// by a normal approximation with continuity correction above 500, where its
// error is far below the model's other approximations. Used a few times per
// practice-year (births, joiners), never per patient.
func (d *Draws) Poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 500 {
		n := math.Floor(lambda + math.Sqrt(lambda)*d.Norm() + 0.5)
		if n < 0 {
			return 0
		}
		return int(n)
	}
	// Inversion in chunks of mean at most 30 keeps exp(-lambda) well above underflow.
	n := 0
	for lambda > 0 {
		l := math.Min(lambda, 30)
		lambda -= l
		p := math.Exp(-l)
		cdf := p
		u := unit(d.G.Uint64())
		k := 0
		for u > cdf && k < 1000 {
			k++
			p *= l / float64(k)
			cdf += p
		}
		n += k
	}
	return n
}

// ExpMeanOne returns exp(sd·z - sd²/2): a lognormal multiplier with mean 1
// for a standard normal z.
func ExpMeanOne(sd, z float64) float64 { return math.Exp(sd*z - sd*sd/2) }
