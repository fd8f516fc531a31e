package analysis

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"unsafe"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"

	"github.com/gpbudget/gpbudget/internal/stats"
)

// Quantiles says how a summary's quantiles, VaR and ES were computed:
// exactly from every value held as float32 (RelError 0), or from DDSketch
// quantile sketches (Masson, Rim and Lee 2019, "DDSketch: a fast and
// fully-mergeable quantile sketch with relative-error guarantees", VLDB 12;
// github.com/DataDog/sketches-go) whose every quantile is within RelError of
// the exact one, relatively: |q̂ - q| <= RelError·|q|. Sketches are used when
// the values would not fit the memory budget, so a summary's memory stays
// flat in the number of rows.
type Quantiles struct {
	RelError float64
	// PracticesExact: with sketches (RelError > 0), each practice's
	// quantiles, VaR and ES are nonetheless exact, from its values spilled
	// to disk (see spill); the pooled ones (bands, "all", spend per head by
	// year) are sketched. Each row's quantile_rel_error says which.
	PracticesExact bool
	mapping        mapping.IndexMapping
}

// SketchRelError is the relative error of the sketches: 1% of a VaR of
// £50,000 is £500, well inside the Monte Carlo error of 1,000 replications.
const SketchRelError = 0.01

// Exact holds every value.
func Exact() *Quantiles { return &Quantiles{} }

// Sketched holds a DDSketch of relative error rel.
func Sketched(rel float64) (*Quantiles, error) {
	m, err := mapping.NewCubicallyInterpolatedMapping(rel)
	if err != nil {
		return nil, err
	}
	return &Quantiles{RelError: rel, mapping: m}, nil
}

// Method says in words how quantiles were computed.
func (q *Quantiles) Method() string {
	if q.RelError == 0 {
		return "exact"
	}
	if q.PracticesExact {
		return "exact per practice (spilled to disk), DDSketch pooled"
	}
	return "DDSketch"
}

// New is an empty distribution.
func (q *Quantiles) New() *Dist {
	if q.RelError == 0 {
		return &Dist{}
	}
	return &Dist{sk: ddsketch.NewDDSketch(q.mapping, store.NewBufferedPaginatedStore(), store.NewBufferedPaginatedStore())}
}

// Dist is the distribution of a stream of values: exact (every value as
// float32) or a sketch. Its quantiles follow Quantile (type 7) when exact,
// and DDSketch's rank rule, within the relative error, when sketched. An
// exact Dist that merges others refers to their values rather than copying
// them, so pooling practices into bands costs no memory.
type Dist struct {
	vals   []float32
	sorted bool
	parts  []*Dist // exact: merged distributions (leaves), referred to
	sk     *ddsketch.DDSketch
	bins   []bin // the sketch's bins in ascending order of value, once asked
	// pool indexes an exact distribution of many leaves once an order
	// statistic is asked for (see orderStat).
	pool *pool
}

// pool is an exact distribution of many leaves indexed for order
// statistics: its sorted leaves, the count of values in bins by the top
// histBits of their key, cumulatively (cum[b] values lie in bins below b),
// and the values of each bin asked for, sorted.
type pool struct {
	ls   [][]float32
	cum  []int
	bins map[int][]float32
}

// histBits is the bits of a value's key that choose its bin: 2^16 bins,
// each 1/128 of a power of two wide.
const histBits = 16

// bin is one of a sketch's bins: its value and the count of values up to
// and including it (ascending).
type bin struct{ v, cum float64 }

// sortedBins are the sketch's bins, ascending, with cumulative counts; they
// are computed once, when quantiles are first asked for.
func (d *Dist) sortedBins() []bin {
	if d.bins == nil {
		d.sk.ForEach(func(v, c float64) bool { d.bins = append(d.bins, bin{v, c}); return false })
		slices.SortFunc(d.bins, func(x, y bin) int { return cmp.Compare(x.v, y.v) })
		cum := 0.0
		for i := range d.bins {
			cum += d.bins[i].cum
			d.bins[i].cum = cum
		}
	}
	return d.bins
}

// release drops what quantiles were computed from (a sketch's sorted bins,
// an exact pooled distribution's histogram).
func (d *Dist) release() { d.bins, d.pool = nil, nil }

// Add takes one value; NaN is not a value and is left out (as a sketch
// leaves it out).
func (d *Dist) Add(x float64) {
	if x != x {
		return
	}
	if d.sk == nil {
		d.vals = append(d.vals, float32(x))
		d.sorted, d.pool = false, nil
		return
	}
	_ = d.sk.Add(x) // finite values are always accepted
	d.bins = nil
}

// addExact adds the values v[i][j] to an exact d, as Add does.
func (d *Dist) addExact(v [][2]float32, j int) {
	vals := d.vals
	for i := range v {
		if x := v[i][j]; x == x {
			vals = append(vals, x)
		}
	}
	d.vals, d.sorted, d.pool = vals, false, nil
}

// Reserve makes room for n more values, so an exact Dist whose size is
// known holds no slack.
func (d *Dist) Reserve(n int) {
	if d.sk == nil {
		d.vals = slices.Grow(d.vals, n)
	}
}

// Merge adds o's values; an exact o must not change afterwards.
func (d *Dist) Merge(o *Dist) {
	if d.sk != nil {
		_ = d.sk.MergeWith(o.sk)
		d.bins = nil
		return
	}
	if len(o.vals) > 0 {
		d.parts = append(d.parts, o)
	}
	d.parts = append(d.parts, o.parts...)
	d.pool = nil
}

// N is the number of values.
func (d *Dist) N() int {
	if d.sk != nil {
		return int(d.sk.GetCount())
	}
	n := len(d.vals)
	for _, p := range d.parts {
		n += len(p.vals)
	}
	return n
}

// sortOwn sorts d's own values, once.
func (d *Dist) sortOwn() {
	if !d.sorted {
		sortValues(d.vals)
		d.sorted = true
	}
}

// leaves are the exact value slices, each sorted.
func (d *Dist) leaves() [][]float32 {
	var out [][]float32
	for _, l := range append([]*Dist{d}, d.parts...) {
		if len(l.vals) == 0 {
			continue
		}
		l.sortOwn()
		out = append(out, l.vals)
	}
	return out
}

// sortValues sorts x ascending: by radix (linear in len(x)) from radixMin
// values, by comparison below. In the summary, where a practice's few
// hundred values come cold from memory, the radix sort took about 60% of
// pdqsort's time (a benchmark on values in cache shows the reverse at 200).
func sortValues(x []float32) {
	if len(x) < radixMin {
		slices.Sort(x)
		return
	}
	radixSort(x)
}

// radixMin is the fewest values sorted by radix.
const radixMin = 48

// scratch holds radixSort's buffers for reuse (practices are sorted by
// several goroutines at once).
var scratch = sync.Pool{New: func() any { return new([]uint32) }}

// radixSort sorts x by its values' keys a byte at a time from the least
// significant (LSD radix sort, Knuth, The Art of Computer Programming
// vol. 3, 5.2.5), counting all four bytes in one pass and skipping a byte
// every value shares. A zero sorts -0 before +0.
func radixSort(x []float32) {
	n := len(x)
	if n == 0 {
		return
	}
	// One buffer of keys: the passes go from x's memory, holding the keys
	// (a float32 and its key are both four bytes), to the buffer and back,
	// so that the scratch is n words, not 2n, and each value is turned into
	// its key and back once, not at every pass.
	sp := scratch.Get().(*[]uint32)
	buf := slices.Grow((*sp)[:0], n)[:n]
	xk := unsafe.Slice((*uint32)(unsafe.Pointer(&x[0])), n)
	// Two counts per digit, of even and odd values, summed after: a
	// practice's values share their top bytes, and one count incremented
	// value after value waits on itself.
	var count, odd [4][256]uint32
	i := 0
	for ; i+1 < n; i += 2 {
		k, m := key(x[i]), key(x[i+1])
		xk[i], xk[i+1] = k, m
		count[0][k&0xff]++
		odd[0][m&0xff]++
		count[1][k>>8&0xff]++
		odd[1][m>>8&0xff]++
		count[2][k>>16&0xff]++
		odd[2][m>>16&0xff]++
		count[3][k>>24]++
		odd[3][m>>24]++
	}
	if i < n {
		k := key(x[i])
		xk[i] = k
		count[0][k&0xff]++
		count[1][k>>8&0xff]++
		count[2][k>>16&0xff]++
		count[3][k>>24]++
	}
	src, dst := xk, buf
	for d := range count {
		c, o, shift := &count[d], &odd[d], 8*d
		if j := xk[0] >> shift & 0xff; int(c[j]+o[j]) == n {
			continue
		}
		// Four buckets a step: with a few hundred values the 256 buckets'
		// sums are a quarter of the sort, most of it the loop's own count.
		sum := uint32(0)
		for i := 0; i < len(c); i += 4 {
			m0, m1, m2, m3 := c[i]+o[i], c[i+1]+o[i+1], c[i+2]+o[i+2], c[i+3]+o[i+3]
			c[i], c[i+1], c[i+2], c[i+3] = sum, sum+m0, sum+m0+m1, sum+m0+m1+m2
			sum += m0 + m1 + m2 + m3
		}
		for _, k := range src {
			j := k >> shift & 0xff
			dst[c[j]] = k
			c[j]++
		}
		src, dst = dst, src
	}
	if &src[0] != &xk[0] {
		copy(xk, src)
	}
	for i, k := range xk {
		x[i] = value(k)
	}
	*sp = buf
	scratch.Put(sp)
}

// key maps a float32 to a uint32 in the same order (negative values'
// bits inverted, positive values' sign bit set), and value back. Without a
// branch: variances are as often negative as positive, and a branch on the
// sign was mispredicted about every other value.
func key(v float32) uint32 {
	b := math.Float32bits(v)
	return b ^ (uint32(int32(b)>>31) | 1<<31) // all bits if negative, else the sign's
}

func value(k uint32) float32 {
	return math.Float32frombits(k ^ (uint32(int32(^k)>>31) | 1<<31))
}

// sortSearch is how many of sorted l are less than v (at most v).
func sortSearch(l []float32, v float32, orEqual bool) int {
	lo, hi := 0, len(l)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l[m] < v || (orEqual && l[m] == v) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// bisectLeaves is the most leaves whose order statistics are found by
// bisection; those of more are found from a histogram.
const bisectLeaves = 64

// orderStat is the k-th smallest exact value (k from 0). A distribution is
// never copied or merged. One of few leaves finds it by bisection (bisect).
// One of many (a band pools thousands of practices, where bisection would
// search every leaf at every step) counts its values once into 2^16 bins by
// the top bits of their key (order-preserving), then for each order
// statistic takes from every sorted leaf, by two binary searches, the
// values in the bin that holds it, and selects among those few: exact, in
// one pass over the values and a histogram's memory.
func (d *Dist) orderStat(k int) float64 {
	switch {
	case d.pool != nil:
		return d.pool.orderStat(k)
	case len(d.parts) == 0:
		d.sortOwn()
		return float64(d.vals[k])
	}
	ls := d.leaves()
	switch {
	case len(ls) == 1:
		return float64(ls[0][k])
	case len(ls) <= bisectLeaves:
		return bisect(ls, k)
	}
	if d.pool == nil {
		d.pool = newPool(ls)
	}
	return d.pool.orderStat(k)
}

// index builds d's pool where it has many leaves (see orderStat), before
// any order statistic is asked for. With counts, its values counted by bin
// elsewhere (countBins, each of counts a part of them), those are summed
// rather than its values counted again; counts that do not add up to its
// values are not used.
func (d *Dist) index(counts ...[]int32) {
	if d.sk != nil || d.pool != nil {
		return
	}
	ls := d.leaves()
	if len(ls) <= bisectLeaves {
		return
	}
	if len(counts) > 0 {
		if p := newPool(ls, counts...); p.cum[len(p.cum)-1] == d.N() {
			d.pool = p
			return
		}
	}
	d.pool = newPool(ls)
}

// indexAll builds the pool of d, whose leaves are those of subs together
// ("all" from its bands), from their pools' counts (built here where they
// have none) rather than counting d's values again.
func (d *Dist) indexAll(subs ...*Dist) {
	if d.sk != nil || d.pool != nil {
		return
	}
	ls := d.leaves()
	if len(ls) <= bisectLeaves {
		return
	}
	p := &pool{ls: ls, cum: make([]int, 1<<histBits+1), bins: map[int][]float32{}}
	for _, sub := range subs {
		c := sub.pool
		if c == nil {
			c = newPool(sub.leaves())
		}
		for b, n := range c.cum {
			p.cum[b] += n
		}
	}
	if p.cum[len(p.cum)-1] != d.N() {
		p = newPool(ls) // subs are not d's leaves: count them
	}
	d.pool = p
}

// countBins adds x's values to counts by bin, the top histBits of each
// one's key (+0's for -0, so that both zeros share a bin, as they compare
// equal), and returns counts (made if nil).
func countBins(counts []int32, x []float32) []int32 {
	if counts == nil {
		counts = make([]int32, 1<<histBits)
	}
	for _, v := range x {
		counts[key(v+0)>>(32-histBits)]++
	}
	return counts
}

// newPool indexes the sorted leaves ls: from counts of their values by bin
// (countBins), or without, by counting them.
func newPool(ls [][]float32, counts ...[]int32) *pool {
	if len(counts) == 0 {
		var c []int32
		for _, l := range ls {
			c = countBins(c, l)
		}
		counts = [][]int32{c}
	}
	p := &pool{ls: ls, cum: make([]int, 1<<histBits+1), bins: map[int][]float32{}}
	for _, c := range counts {
		for b, n := range c {
			p.cum[b+1] += int(n)
		}
	}
	for b := 1; b < len(p.cum); b++ {
		p.cum[b] += p.cum[b-1]
	}
	return p
}

func (p *pool) orderStat(k int) float64 {
	// The bin holding the k-th value: the last b with cum[b] <= k.
	b, _ := slices.BinarySearch(p.cum, k+1)
	b--
	in, ok := p.bins[b]
	if !ok {
		// Its values are those at least its smallest and below the next bin's.
		// A leaf has few values in one bin, if any: after the search for
		// the first, they are taken in turn.
		lo, end := value(uint32(b)<<(32-histBits)), uint32(b+1)<<(32-histBits)
		for _, l := range p.ls {
			j := sortSearch(l, lo, false)
			for ; j < len(l) && (b+1 == 1<<histBits || key(l[j]+0) < end); j++ {
				in = append(in, l[j])
			}
		}
		slices.Sort(in)
		p.bins[b] = in
	}
	x := in[k-p.cum[b]]
	if x == 0 {
		// Bisection's answer for a zero: -0, the largest key that compares equal.
		x = value(key(0) - 1)
	}
	return float64(x)
}

// bisect is the k-th smallest value of the sorted leaves ls, found by
// bisection over the float32s between the smallest and largest value,
// counting the values at most each candidate in every leaf by binary
// search. Each leaf keeps only its values still inside the bisection's
// range (those below it are counted once, those above it dropped), so after
// a few steps most leaves drop out and the rest are searched over a few
// values: exact, and costing nothing in memory but a window per leaf.
func bisect(ls [][]float32, k int) float64 {
	lo, hi := uint32(math.MaxUint32), uint32(0)
	for _, l := range ls {
		lo, hi = min(lo, key(l[0])), max(hi, key(l[len(l)-1]))
	}
	act := slices.Clone(ls) // each leaf's values within [value(lo), value(hi)]
	at := make([]int, len(act))
	base := 0 // values below value(lo)
	for lo < hi {
		m := lo + (hi-lo)/2
		v := value(m)
		n := base
		for i, l := range act {
			at[i] = sortSearch(l, v, true)
			n += at[i]
		}
		keep := act[:0]
		if n > k {
			hi = m
			for i, l := range act {
				if at[i] > 0 {
					keep = append(keep, l[:at[i]])
				}
			}
		} else {
			lo = m + 1
			for i, l := range act {
				base += at[i]
				if at[i] < len(l) {
					keep = append(keep, l[at[i]:])
				}
			}
		}
		act = keep
	}
	return float64(value(lo))
}

// Quantile is the p-quantile (NaN for no values): exactly, type 7 by
// stats.QuantileOf over the held values' order statistics; from a sketch,
// DDSketch's rule.
func (d *Dist) Quantile(p float64) float64 {
	n := d.N()
	if n == 0 {
		return math.NaN()
	}
	if d.sk != nil {
		// DDSketch's rule: the bin holding rank p(n-1).
		bins := d.sortedBins()
		rank := float64(p * float64(n-1))
		i, _ := slices.BinarySearchFunc(bins, rank, func(b bin, r float64) int {
			if b.cum > r {
				return 1
			}
			return -1
		})
		return bins[min(i, len(bins)-1)].v
	}
	return stats.QuantileOf(n, p, d.orderStat)
}

// Tail is the value at risk and expected shortfall at level a of the values
// as losses (see Tail), or, with neg, of their negatives.
func (d *Dist) Tail(a float64, neg bool) (VaR, ES float64) {
	n := d.N()
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	k := tailCount(n, a)
	sign := 1.0
	if neg {
		sign = -1
	}
	if d.sk == nil {
		// The k worst: the largest values, or with neg the smallest. The
		// k-th worst is an order statistic; the sum takes every value
		// strictly beyond it from each sorted leaf, and the rest at it.
		worst, sum, beyond := 0.0, 0.0, 0
		if neg {
			worst = d.orderStat(k - 1)
		} else {
			worst = d.orderStat(n - k)
		}
		var ls [][]float32
		var own [1][]float32
		switch {
		case d.pool != nil:
			ls = d.pool.ls
		case len(d.parts) == 0:
			own[0] = d.vals // sorted by orderStat
			ls = own[:]
		default:
			ls = d.leaves()
		}
		if neg {
			for _, l := range ls {
				j := sortSearch(l, float32(worst), false)
				for _, v := range l[:j] {
					sum += float64(v)
				}
				beyond += j
			}
		} else {
			for _, l := range ls {
				j := sortSearch(l, float32(worst), true)
				for _, v := range l[j:] {
					sum += float64(v)
				}
				beyond += len(l) - j
			}
		}
		sum += float64(k-beyond) * worst
		return sign * worst, sign * sum / float64(k)
	}
	// The k worst values from the sketch's bins, worst first.
	bins := d.sortedBins()
	left, sum, worst := float64(k), 0.0, 0.0
	for j := range bins {
		i := len(bins) - 1 - j // largest first
		if neg {
			i = j
		}
		c := bins[i].cum
		if i > 0 {
			c -= bins[i-1].cum
		}
		take := math.Min(c, left)
		sum += take * bins[i].v
		worst = bins[i].v
		if left -= take; left <= 0 {
			break
		}
	}
	return sign * worst, sign * sum / float64(k)
}
