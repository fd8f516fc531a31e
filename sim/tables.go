package sim

import (
	"fmt"
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
// table (Chen & Asau, 1974) of about as many entries as the row has
// thresholds gives, for the interval of u an entry covers, the first k to
// try and its threshold: where the interval holds no further threshold
// (most of the mass) the count is k or k+1 from that one comparison, with
// no second load and no loop; elsewhere (the tails) the entry says so and
// the draw scans the row.
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
//
// Bad numbers never make the walk loop: a row whose mean is not a finite
// number 0 or more draws no events and sets err, and no count goes past
// maxCount (reaching it sets err). The engine checks Err after building and
// after each year; Model.Validate refuses models whose count distributions
// need more than maxCount counts, so a valid model never reaches it.
type countTables struct {
	zero  []uint64  // per row: threshold for N = 0 (fast path)
	one   []uint64  // per row: threshold for N <= 1 once the row is built, else zero's
	fast  []rowFast // per group (cell*K + state): its rows' zero, one and prescribing guide, together
	info  []rowInfo
	mu    []float64 // per row: mean count
	p0    []float64 // per row: P(N = 0)
	disp  [NStreams]float64
	cdf   []uint64
	guide []guideEntry // entries 0 and 1: those of every row not yet built (shift 63)
	err   error        // the first bad row met since build; see Err
}

// rowFast is what the fused year loop reads of a patient's group, in one
// place (40 bytes): the four rarer streams' zero and one thresholds, packed
// as lanes of words a and b (setLane, patientdraws.go), and prescribing's
// guide (as its rowInfo).
type rowFast struct {
	zero, one [2]uint64
	goff      int32
	shift     uint8
}

// guideEntry is one entry of a row's guide table: for u in its interval,
// k is the first count whose threshold th = cdf[k] exceeds the interval's
// start. If k >= 0 the count is k + [u >= th]; k < 0 (-1 minus that first
// count) marks an interval that holds a second threshold or reaches the
// row's stored end, where sample scans.
type guideEntry struct {
	th uint64
	k  int32
}

type rowInfo struct {
	off   int32 // offset into cdf; -1 until built
	n     int32 // stored thresholds, sentinel included
	goff  int32 // offset into guide (0 until built: the shared entries that send every draw to sampleLazy)
	shift uint8 // 64 - guide bits (63 until built)
	uses  uint8 // direct draws so far
}

const (
	tailMass  = 1e-13
	tableTail = 0x1p-12 // rows store thresholds up to P = 1 - tableTail; beyond, sample walks
	lazyUses  = 8
	// maxCount bounds a count, and so a walk and a row's table (8 MiB):
	// 2^20 events of one stream for one patient in a year is far beyond any
	// care pattern (the default's largest mean is in the tens), so reaching
	// it means the rates are wrong, and the walk stops there with an error
	// rather than running on.
	maxCount   = 1 << 20
	countSlack = 1e-9
	// maxTableEntries bounds the thresholds one worker's tables hold, a
	// guide entry counting as two (64 MiB): rows used after that are drawn
	// by walking, which is slower but needs no memory.
	maxTableEntries = 1 << 23
	// logTiny: below exp(logTiny) a probability is carried as its logarithm
	// (P(N = 0) underflows for Poisson means above about 700).
	logTiny = -690.0
)

// build resets the tables for rates mu[r] (means) with dispersion r per
// stream; rows are filled in on demand.
func (t *countTables) build(mu []float64, disp *[NStreams]float64) {
	n := len(mu)
	t.zero = grow(t.zero, n)
	t.one = grow(t.one, n)
	t.fast = grow(t.fast, n/NStreams)
	t.info = grow(t.info, n)
	t.mu = grow(t.mu, n)
	t.p0 = grow(t.p0, n)
	copy(t.mu, mu)
	t.disp = *disp
	t.cdf = t.cdf[:0]
	t.guide = append(t.guide[:0], guideEntry{k: -1}, guideEntry{k: -1})
	t.err = nil
	for r := range n {
		if m := t.mu[r]; !(m >= 0 && m <= math.MaxFloat64) {
			t.fail(r, "mean %v is not a finite number 0 or more", m)
			t.mu[r] = 0
		}
		if d := t.disp[r%NStreams]; !(d >= 0) {
			t.fail(r, "dispersion %v is not a number 0 or more", d)
			t.mu[r] = 0
		}
		t.info[r] = rowInfo{off: -1, shift: 63}
		t.zero[r] = t.firstThreshold(r)
		t.one[r] = t.zero[r] // until built, every u past zero goes to sample
		f := &t.fast[r/NStreams]
		if s := r % NStreams; Stream(s) != Prescribing {
			setLane(&f.zero, s, t.zero[r])
			setLane(&f.one, s, t.one[r])
		}
		f.goff, f.shift = 0, 63
	}
}

// Err returns the first problem met since build: a row whose mean or
// dispersion is not a usable number (its counts are zero), or a count that
// reached maxCount (and was cut there). A run must stop on it.
func (t *countTables) Err() error { return t.err }

func (t *countTables) fail(r int, format string, a ...any) {
	if t.err == nil {
		t.err = fmt.Errorf("count table row %d (stream %s): %s", r, StreamNames[r%NStreams], fmt.Sprintf(format, a...))
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
		t.p0[r] = 1
		return math.MaxUint64
	}
	p := math.Exp(t.logP0(r))
	t.p0[r] = p
	if p >= 1-tailMass {
		return math.MaxUint64
	}
	return toThreshold(p)
}

// logP0 returns log P(N = 0) for row r: -mu (Poisson) or r·log(r/(r+mu)).
func (t *countTables) logP0(r int) float64 {
	m, rr := t.mu[r], t.disp[r%NStreams]
	if rr == 0 || math.IsInf(rr, 1) {
		return -m
	}
	return rr * math.Log(rr/(rr+m))
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
	k := 0
	if lp := t.logP0(r); lp < logTiny {
		// A large mean: the first counts' probabilities underflow. Their
		// thresholds are zero (no draw selects them), so they are passed over
		// with the pmf carried in logs until it is representable.
		for lp < logTiny && k < maxCount {
			if emit {
				t.cdf = append(t.cdf, 0)
			}
			lp += math.Log(t.ratio(k, q, a, poisson))
			k++
		}
		p = math.Exp(lp)
	}
	for ; ; k++ {
		cum += p
		// Written so that a NaN ends the walk too.
		if !(cum < 1-tailMass) || (k > 20 && !(p >= 1e-300)) || k >= maxCount {
			// At maxCount, a tail of more than countSlack means the
			// distribution does not fit (within it, the sum's rounding, up to
			// maxCount·2^-53, can hold cum below 1 - tailMass).
			if k >= maxCount && !(cum >= 1-countSlack) {
				t.fail(r, "a count reached %d with %.3g of the distribution beyond (mean %v, dispersion %v): the rates are far too large", maxCount, 1-cum, t.mu[r], t.disp[r%NStreams])
			}
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
		p *= t.ratio(k, q, a, poisson)
	}
}

// ratio is p(k+1)/p(k): (k + a)/(k + 1)·q (negative binomial) or q/(k+1)
// (Poisson, q the mean).
func (t *countTables) ratio(k int, q, a float64, poisson bool) float64 {
	f := q * recip(k+1)
	if !poisson {
		f *= float64(k) + a
	}
	return f
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
// sentinel) and a guide table of 2^b >= (the row's length - 1) entries (see
// guideEntry): as many as the old plain guide had, so a row costs no more
// to build and its guide no more cache; twice as many would settle a few
// more draws with one comparison but cost 13% more instructions per
// practice task, where rows are built lazily (callgrind).
func (t *countTables) buildRow(r int) {
	start := len(t.cdf)
	t.walk(r, 0, true)
	row := t.cdf[start:]
	n := len(row)
	in := &t.info[r]
	in.off = int32(start)
	in.n = int32(n)
	t.one[r] = row[1] // a real threshold: walk stores at least counts 0 and 1
	if s := r % NStreams; Stream(s) != Prescribing {
		setLane(&t.fast[r/NStreams].one, s, row[1])
	}
	b := bits.Len(uint(n - 1))
	in.shift = uint8(64 - b)
	in.goff = int32(len(t.guide))
	k := 0
	for j := range 1 << b {
		lo := uint64(j) << (64 - b)
		hi := min(lo|(math.MaxUint64>>b), math.MaxUint64-1) // the last u drawn from it (sample clamps u)
		for row[k] <= lo && k < n-1 {
			k++
		}
		e := guideEntry{th: row[k], k: int32(k)}
		// One comparison settles it if no later threshold falls in the
		// interval, neither count is the sentinel's, and the threshold is
		// below the largest u (so the clamp changes nothing).
		if !(k+1 < n-1 && row[k+1] > hi && row[k] < math.MaxUint64) {
			e.k = -1 - int32(k)
		}
		t.guide = append(t.guide, e)
	}
	if r%NStreams == int(Prescribing) {
		f := &t.fast[r/NStreams]
		f.goff, f.shift = in.goff, in.shift
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

// sample returns the count for row r and a uniform word u.
// The fast path (one guide entry, one comparison) inlines into the hot loop.
func (t *countTables) sample(r int, u uint64) int {
	in := &t.info[r]
	e := t.guide[in.goff+int32(u>>(in.shift&63))]
	if e.k >= 0 {
		_, br := bits.Sub64(u, e.th, 0) // 1 if u < th
		return int(e.k) + 1 - int(br)
	}
	return t.scan(r, u, int(-1-e.k))
}

// scan returns the count for row r and u from first count k on: the guide
// entry's slow path, and every draw from a row not yet built.
func (t *countTables) scan(r int, u uint64, k int) int {
	in := &t.info[r]
	if in.off < 0 {
		if u < t.zero[r] { // drawn without a table, as before it is built
			return 0
		}
		return t.sampleLazy(r, u)
	}
	u = min(u, math.MaxUint64-1) // the sentinel stops every scan
	cdf := t.cdf[in.off : in.off+in.n]
	for u >= cdf[k] {
		k++
	}
	if k == int(in.n)-1 {
		return t.walk(r, u, false) // beyond the stored part (probability < tableTail)
	}
	return k
}

// sampleLazy draws from a row not yet built: directly for its first
// lazyUses draws, then from its newly built table.
func (t *countTables) sampleLazy(r int, u uint64) int {
	in := &t.info[r]
	if in.uses < lazyUses {
		in.uses++
		return t.walk(r, u, false)
	}
	if len(t.cdf)+2*len(t.guide) >= maxTableEntries { // memory bound reached: walk
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
