package analysis

import (
	"cmp"
	"math"
	"slices"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/mapping"
	"github.com/DataDog/sketches-go/ddsketch/store"
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
	mapping  mapping.IndexMapping
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
}

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

// release drops what quantiles were computed from (a sketch's sorted bins).
func (d *Dist) release() { d.bins = nil }

// Add takes one value.
func (d *Dist) Add(x float64) {
	if d.sk != nil {
		_ = d.sk.Add(x) // finite values are always accepted
		d.bins = nil
		return
	}
	d.vals = append(d.vals, float32(x))
	d.sorted = false
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

// leaves are the exact value slices, each sorted.
func (d *Dist) leaves() [][]float32 {
	var out [][]float32
	for _, l := range append([]*Dist{d}, d.parts...) {
		if len(l.vals) == 0 {
			continue
		}
		if !l.sorted {
			slices.Sort(l.vals)
			l.sorted = true
		}
		out = append(out, l.vals)
	}
	return out
}

// walk calls f with the exact values in ascending order (descending with
// desc) until f returns false: a k-way merge of the sorted leaves.
func (d *Dist) walk(desc bool, f func(v float64) bool) {
	ls := d.leaves()
	if len(ls) == 1 {
		v := ls[0]
		for i := range v {
			j := i
			if desc {
				j = len(v) - 1 - i
			}
			if !f(float64(v[j])) {
				return
			}
		}
		return
	}
	// A binary heap of (leaf, position), ordered by the leaf's next value.
	type cur struct{ l, i int }
	val := func(c cur) float32 {
		if desc {
			return ls[c.l][len(ls[c.l])-1-c.i]
		}
		return ls[c.l][c.i]
	}
	less := func(a, b cur) bool {
		if desc {
			return val(a) > val(b)
		}
		return val(a) < val(b)
	}
	h := make([]cur, 0, len(ls))
	down := func(i int) {
		for {
			m, l, r := i, 2*i+1, 2*i+2
			if l < len(h) && less(h[l], h[m]) {
				m = l
			}
			if r < len(h) && less(h[r], h[m]) {
				m = r
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for l := range ls {
		h = append(h, cur{l, 0})
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(h) > 0 {
		if !f(float64(val(h[0]))) {
			return
		}
		if h[0].i+1 < len(ls[h[0].l]) {
			h[0].i++
		} else {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
	}
}

// Quantile is the p-quantile (NaN for no values).
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
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	var x0, x1 float64
	i := 0
	d.walk(false, func(v float64) bool {
		if i == lo {
			x0, x1 = v, v
		}
		if i == lo+1 {
			x1 = v
			return false
		}
		i++
		return true
	})
	return x0 + (h-float64(lo))*(x1-x0)
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
		// The k worst: the largest values, or with neg the smallest.
		sum, worst, i := 0.0, 0.0, 0
		d.walk(!neg, func(v float64) bool {
			sum += v
			worst = v
			i++
			return i < k
		})
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
