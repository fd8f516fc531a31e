package sim

import (
	"math"
	"math/bits"
)

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

// bprob is a binomial probability with what repeated draws need computed
// once: p folded to at most 1/2 (flip: the draw counts failures), log(1-p),
// log(p/(1-p)) for BTRS, and powers of 1-p for the inversion's starting term
// (1-p)^n = pow[n&15]·pow[16+(n>>4)&15]·pow[32+n>>8] for n < 4096, three
// lookups and two products in place of an exponential.
type bprob struct {
	p, l1p, lr float64
	flip       bool
	pow        *[48]float64
	tab        *binomTable // for the probabilities drawn most often
}

func newBprob(p float64) bprob {
	p = min(max(p, 0), 1)
	b := bprob{p: p}
	if p > 0.5 {
		b = bprob{p: 1 - p, flip: true}
	}
	if b.p == 0 {
		return b
	}
	b.l1p = math.Log1p(-b.p)
	b.lr = math.Log(b.p) - b.l1p
	return b
}

// withPowers adds b's power table, for probabilities drawn with many times.
func (b bprob) withPowers() bprob {
	if b.p == 0 {
		return b
	}
	b.pow = new([48]float64)
	for i := range 16 {
		b.pow[i] = math.Exp(float64(i) * b.l1p)
		b.pow[16+i] = math.Exp(float64(16*i) * b.l1p)
		b.pow[32+i] = math.Exp(float64(256*i) * b.l1p)
	}
	return b
}

// binomialOf returns a Binomial(n, b) count, exactly (see Binomial and
// binomTable).
func (d *Draws) binomialOf(n int64, b *bprob) int64 {
	var x int64
	switch {
	case n <= 0 || b.p == 0:
	case b.tab != nil && n <= blockMax:
		x = d.binomialBlocks(n, b.tab)
	case float64(n)*b.p >= inversionMax:
		x = int64(d.btrs(int(n), b.p, b.lr))
	case n < 4096 && b.pow != nil:
		t := b.pow
		x = int64(d.binomialInv(int(n), b.p, t[n&15]*t[16+(n>>4)&15]*t[32+n>>8]))
	default:
		x = int64(d.binomialInv(int(n), b.p, fastExp(float64(n)*b.l1p)))
	}
	if b.flip {
		return n - x
	}
	return x
}

// binomTable draws Binomial(n, p) for one p and n <= blockMax in blocks:
// n = 64q + r is the sum of q Binomial(64, p) counts and one Binomial(r, p),
// each from an alias table with one 64-bit word (see alias). Exact up to the
// 2^-56 resolution of the thresholds, and a few nanoseconds a block where
// inversion takes three per unit of n·p.
type binomTable struct {
	off [blockSize + 1]int32 // Binomial(r, p)'s entries are e[off[r] : off[r]+r+1]
	e   []uint64
}

const (
	blockSize = 64
	blockMax  = 4 * blockSize // beyond, BTRS or inversion is as fast
)

func newBinomTable(p float64) *binomTable {
	t := &binomTable{}
	var sc aliasScratch
	pmf := make([]float64, blockSize+1)
	for r := 0; r <= blockSize; r++ {
		t.off[r] = int32(len(t.e))
		n := float64(r)
		for k := 0; k <= r; k++ {
			kf := float64(k)
			lp := lfact(n) - lfact(kf) - lfact(n-kf)
			if k > 0 {
				lp += kf * math.Log(p)
			}
			if k < r {
				lp += (n - kf) * math.Log1p(-p)
			}
			pmf[k] = math.Exp(lp)
		}
		t.e = appendAlias(t.e, pmf[:r+1], &sc)
	}
	return t
}

// binomialBlocks draws Binomial(n, p) for n <= blockMax from t.
func (d *Draws) binomialBlocks(n int64, t *binomTable) int64 {
	x := int64(0)
	for ; n > 0; n -= blockSize {
		r := min(n, blockSize)
		hi, lo := bits.Mul64(d.G.Uint64(), uint64(r+1))
		e := t.e[int64(t.off[r])+int64(hi)]
		k := e & 0xff
		if lo < e&^0xff { // a conditional move, not a branch
			k = hi
		}
		x += int64(k)
	}
	return x
}
