package sim

import (
	"math"
	"math/bits"
)

// countTables holds, for one practice and replication, the distribution of a
// year's event count for every (age-sex cell, frailty state, stream) as
// cumulative thresholds on 64-bit uniforms, so drawing a count costs one
// random word and, usually, one comparison. Inversion with one word per
// patient-stream also keeps scenarios that share patients on the same random
// numbers (common random numbers) whatever their rates.
//
// Row r = (cell*K + state)*NStreams + stream. For count k the threshold
// cdf[off[r]+k] is floor(P(N <= k)·2^64); N = min{k : u < cdf[k]}. A guide
// table (Chen & Asau, 1974) of 2^gbits entries per row gives the first k to
// try, so long rows (prescribing) cost O(1) comparisons on average.
// The tail beyond P = 1-1e-13 is folded into the last count. Tables store
// thresholds up to P = 1 - 2^-12 and a sentinel; the rare u beyond is
// resolved by walking the sums.
//
// Rows are built lazily: build sets only each row's P(N = 0) threshold (the
// fast path); a row's first draws beyond zero walk the same cumulative sums
// directly (identical thresholds, so identical counts), and the row's table
// is built once it has been used lazyUses times. Long rows (the frail elderly's
// prescribing, thousands of entries) mostly hold a handful of patients, so
// most are never built.
type countTables struct {
	zero  []uint64 // per row: threshold for N = 0 (fast path)
	one   []uint64 // per row: threshold for N <= 1 once the row is built, else zero's
	info  []rowInfo
	mu    []float64 // per row: mean count
	p0    []float64 // per row: P(N = 0)
	disp  [NStreams]float64
	cdf   []uint64
	guide []int32
}

type rowInfo struct {
	off   int32 // offset into cdf; -1 until built
	n     int32 // stored thresholds, sentinel included
	goff  int32 // offset into guide
	shift uint8 // 64 - guide bits
	uses  uint8 // direct draws so far
}

const (
	tailMass  = 1e-13
	tableTail = 0x1p-12 // rows store thresholds up to P = 1 - tableTail; beyond, sample walks
	lazyUses  = 8
)

// build resets the tables for rates mu[r] (means) with dispersion r per
// stream; rows are filled in on demand.
func (t *countTables) build(mu []float64, disp *[NStreams]float64) {
	n := len(mu)
	t.zero = grow(t.zero, n)
	t.one = grow(t.one, n)
	t.info = grow(t.info, n)
	t.mu = grow(t.mu, n)
	t.p0 = grow(t.p0, n)
	copy(t.mu, mu)
	t.disp = *disp
	t.cdf = t.cdf[:0]
	t.guide = t.guide[:0]
	for r := range n {
		t.info[r] = rowInfo{off: -1}
		t.zero[r] = t.firstThreshold(r)
		t.one[r] = t.zero[r] // until built, every u past zero goes to sample
	}
}

// pmf0 returns P(N = 0) for row r (as cached by firstThreshold) and the
// ratio constants of the recurrence p(k+1) = p(k)·(k + a)/(k + 1)·q
// (negative binomial) or p(k)·m/(k+1) (Poisson).
func (t *countTables) pmf0(r int) (p, q, a float64, poisson bool) {
	m := t.mu[r]
	rr := t.disp[r%NStreams]
	if rr == 0 || math.IsInf(rr, 1) {
		return t.p0[r], m, 0, true
	}
	return t.p0[r], m / (rr + m), rr, false
}

func (t *countTables) firstThreshold(r int) uint64 {
	m := t.mu[r]
	if m <= 0 {
		return math.MaxUint64
	}
	rr := t.disp[r%NStreams]
	p := math.Exp(-m)
	if rr != 0 && !math.IsInf(rr, 1) {
		p = math.Exp(rr * math.Log(rr/(rr+m)))
	}
	t.p0[r] = p
	if p >= 1-tailMass {
		return math.MaxUint64
	}
	return toThreshold(p)
}

// walk returns min{k : u < threshold(P(N <= k))} by accumulating the pmf, the
// same sums buildRow stores, so both give the same count for the same u. If
// emit is true it appends thresholds to t.cdf until P(N <= k) reaches
// 1 - tableTail, then a sentinel, and returns the number appended.
func (t *countTables) walk(r int, u uint64, emit bool) int {
	if t.mu[r] <= 0 {
		if emit {
			t.cdf = append(t.cdf, math.MaxUint64, math.MaxUint64)
			return 2
		}
		return 0
	}
	p, q, a, poisson := t.pmf0(r)
	// Comparing in floating point, u < floor(cum·2^64) iff (u+1)·2^-64 <= cum up
	// to rounding of u at 2^-53: the walk and the table may disagree with
	// probability about 2^-53 per draw, which leaves the distribution as is.
	uf := float64(u)*0x1p-64 + 0x1p-64
	cum := 0.0
	for k := 0; ; k++ {
		cum += p
		if cum >= 1-tailMass || (k > 20 && p < 1e-300) {
			if emit {
				t.cdf = append(t.cdf, math.MaxUint64, math.MaxUint64)
				return k + 2
			}
			return k
		}
		if emit {
			t.cdf = append(t.cdf, toThreshold(cum))
			if cum >= 1-tableTail && k >= 1 { // t.one relies on entry 1 being real
				t.cdf = append(t.cdf, math.MaxUint64)
				return k + 2
			}
		} else if uf <= cum {
			return k
		}
		f := q * recip(k+1)
		if !poisson {
			f *= float64(k) + a
		}
		p *= f
	}
}

// recips[k] = 1/k, so the pmf recurrences multiply rather than divide.
var recips = func() (r [4096]float64) {
	for k := 1; k < len(r); k++ {
		r[k] = 1 / float64(k)
	}
	return r
}()

func recip(k int) float64 {
	if k < len(recips) {
		return recips[k]
	}
	return 1 / float64(k)
}

// buildRow stores row r's thresholds (up to P = 1 - tableTail, then a
// sentinel) and a guide table of 2^b >= the row's length entries.
func (t *countTables) buildRow(r int) {
	start := len(t.cdf)
	t.walk(r, 0, true)
	row := t.cdf[start:]
	in := &t.info[r]
	in.off = int32(start)
	in.n = int32(len(row))
	t.one[r] = row[1] // a real threshold: walk stores at least counts 0 and 1
	b := bits.Len(uint(len(row) - 1))
	in.shift = uint8(64 - b)
	in.goff = int32(len(t.guide))
	g := 1 << b
	k := int32(0)
	for j := range g {
		lo := uint64(j) << (64 - b)
		if b == 0 {
			lo = 0
		}
		for row[k] <= lo && int(k) < len(row)-1 {
			k++
		}
		t.guide = append(t.guide, k)
	}
}

// buildAll builds every row not yet built.
func (t *countTables) buildAll() {
	for r := range t.info {
		if t.info[r].off < 0 {
			t.buildRow(r)
		}
	}
}

// sample returns the count for row r and a uniform word u with u >= zero[r].
// The fast path (a built row) is small enough to inline into the hot loop.
func (t *countTables) sample(r int, u uint64) int {
	in := &t.info[r]
	if in.off < 0 {
		return t.sampleLazy(r, u)
	}
	u = min(u, math.MaxUint64-1)             // the sentinel stops every scan
	k := t.guide[in.goff+int32(u>>in.shift)] // a shift of 64 gives 0
	cdf := t.cdf[in.off : in.off+in.n]
	for u >= cdf[k] {
		k++
	}
	if k == in.n-1 {
		return t.walk(r, u, false) // beyond the stored part (probability < tableTail)
	}
	return int(k)
}

// sampleLazy draws from a row not yet built: directly for its first
// lazyUses draws, then from its newly built table.
func (t *countTables) sampleLazy(r int, u uint64) int {
	in := &t.info[r]
	if in.uses < lazyUses {
		in.uses++
		return t.walk(r, u, false)
	}
	t.buildRow(r)
	return t.sample(r, u)
}

func toThreshold(p float64) uint64 {
	if p >= 1 {
		return math.MaxUint64
	}
	return uint64(p * 0x1p64)
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
