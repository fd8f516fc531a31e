package realrisk

import (
	"math"
	"math/rand/v2"

	"github.com/gpbudget/gpbudget/internal/stats"
)

// Sizes are the holder sizes validate-risk measures.
var Sizes = []int{5000, 10000, 30000, 50000, 100000, 250000, 1000000}

// Stats describe x = (benchmark - spend) / benchmark = 1 - exp(residual)
// over holders (pooled over pairs of years, and shuffles).
type Stats struct {
	SD       float64 // population SD (divisor n)
	RobustSD float64 // 1.4826 × median absolute deviation from the median
	POver2   float64 // share of holders with x > 0.02: an underspend of 2% or more
	Holders  int     // holder-years
	MeanSize float64 // mean people per holder (first year's lists)
}

// Describe returns the Stats of x (sizes: each holder's people).
func Describe(x, sizes []float64) Stats {
	s := Stats{Holders: len(x), SD: math.NaN(), RobustSD: math.NaN(), POver2: math.NaN(), MeanSize: math.NaN()}
	if len(x) == 0 {
		return s
	}
	n := float64(len(x))
	mean, over, msize := 0.0, 0.0, 0.0
	for i, v := range x {
		mean += v
		if v > 0.02 {
			over++
		}
		msize += sizes[i]
	}
	mean /= n
	ss := 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	s.SD, s.POver2, s.MeanSize = math.Sqrt(ss/n), over/n, msize/n
	_, s.RobustSD = stats.MedianRobustSD(x)
	return s
}

// Options say what Measure measures.
type Options struct {
	Sizes []int
	// Shuffles of each pair for random groupings (of holders above
	// SingleMax people).
	Shuffles int
	Seed     uint64
}

// Measured is one size and grouping's statistics.
type Measured struct {
	Size     int
	Grouping string
	Stats
}

// Measure builds holders of each size from each pair's practices, random
// and geographic groupings (single practices up to SingleMax people, the
// same for both), and describes x over all of them. Random groupings of
// pair k at size s are drawn from a generator seeded by (Seed, k, s), so
// the result does not depend on which other sizes are measured.
func Measure(pairs []Pair, o Options) []Measured {
	var out []Measured
	for _, size := range o.Sizes {
		var rx, rs, gx, gs []float64
		add := func(p *Pair, g float64, groups [][]int, x, s *[]float64) {
			for _, m := range groups {
				*x = append(*x, -math.Expm1(p.Residual(m, g)))
				n := 0.0
				for _, i := range m {
					n += p.Rows[i].List0
				}
				*s = append(*s, n)
			}
		}
		for k := range pairs {
			p := &pairs[k]
			g := p.NationalGrowth()
			if size <= SingleMax {
				add(p, g, Singles(p, size), &rx, &rs)
				continue
			}
			rng := rand.New(rand.NewPCG(o.Seed, uint64(k)<<32|uint64(size)))
			for range o.Shuffles {
				add(p, g, RandomGroups(p, size, rng), &rx, &rs)
			}
			add(p, g, GeoGroups(p, size), &gx, &gs)
		}
		if size <= SingleMax {
			gx, gs = rx, rs
		}
		out = append(out, Measured{Size: size, Grouping: Random, Stats: Describe(rx, rs)},
			Measured{Size: size, Grouping: Geographic, Stats: Describe(gx, gs)})
	}
	return out
}
