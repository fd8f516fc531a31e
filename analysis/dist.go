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
	return &Dist{sk: ddsketch.NewDDSketch(q.mapping, store.NewDenseStore(), store.NewDenseStore())}
}

// Dist is the distribution of a stream of values: exact (every value as
// float32) or a sketch. Its quantiles follow Quantile (type 7) when exact,
// and DDSketch's rank rule, within the relative error, when sketched.
type Dist struct {
	vals   []float32
	sorted bool
	sk     *ddsketch.DDSketch
}

// Add takes one value.
func (d *Dist) Add(x float64) {
	if d.sk != nil {
		_ = d.sk.Add(x) // finite values are always accepted
		return
	}
	d.vals = append(d.vals, float32(x))
	d.sorted = false
}

// Merge adds o's values.
func (d *Dist) Merge(o *Dist) {
	if d.sk != nil {
		_ = d.sk.MergeWith(o.sk)
		return
	}
	d.vals = append(d.vals, o.vals...)
	d.sorted = false
}

// N is the number of values.
func (d *Dist) N() int {
	if d.sk != nil {
		return int(d.sk.GetCount())
	}
	return len(d.vals)
}

func (d *Dist) sort() {
	if !d.sorted {
		slices.Sort(d.vals)
		d.sorted = true
	}
}

// at is the value of rank i (0-based) of the sorted exact values.
func (d *Dist) at(i int) float64 { return float64(d.vals[i]) }

// Quantile is the p-quantile (NaN for no values).
func (d *Dist) Quantile(p float64) float64 {
	if d.N() == 0 {
		return math.NaN()
	}
	if d.sk != nil {
		v, _ := d.sk.GetValueAtQuantile(p)
		return v
	}
	d.sort()
	n := len(d.vals)
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return d.at(n - 1)
	}
	return d.at(lo) + (h-float64(lo))*(d.at(lo+1)-d.at(lo))
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
		d.sort()
		sum := 0.0
		for j := range k {
			i := n - 1 - j
			if neg {
				i = j
			}
			sum += d.at(i)
		}
		last := n - k
		if neg {
			last = k - 1
		}
		return sign * d.at(last), sign * sum / float64(k)
	}
	// The k worst values from the sketch's bins, worst first.
	type bin struct{ v, c float64 }
	var bins []bin
	d.sk.ForEach(func(v, c float64) bool { bins = append(bins, bin{sign * v, c}); return false })
	slices.SortFunc(bins, func(x, y bin) int { return cmp.Compare(y.v, x.v) })
	left, sum, worst := float64(k), 0.0, 0.0
	for _, b := range bins {
		take := math.Min(b.c, left)
		sum += take * b.v
		worst = b.v
		if left -= take; left <= 0 {
			break
		}
	}
	return worst, sum / float64(k)
}
