package realrisk

import (
	"math/rand/v2"
	"sort"
)

// Groupings of a pair's practices into holders of about size people (by
// the first year's lists).
const (
	Random     = "random"
	Geographic = "geographic"
)

// Single practices stand for holders of up to SingleMax people: those of
// 0.7 to 1.4 times the size (groups of several smaller practices would be
// a different thing, a consortium of a few).
const (
	SingleMax          = 10_000
	singleLo, singleHi = 0.7, 1.4
	geoCCGMax          = 50_000 // geographic holders up to this size lie inside one CCG, larger ones inside one region
)

// Singles returns the practices of 0.7-1.4 × size people, one holder each.
func Singles(p *Pair, size int) [][]int {
	var out [][]int
	s := float64(size)
	for i, r := range p.Rows {
		if r.List0 >= singleLo*s && r.List0 <= singleHi*s {
			out = append(out, []int{i})
		}
	}
	return out
}

// RandomGroups shuffles the practices and cuts the order into holders of
// consecutive practices, each closed once it reaches size people; the
// incomplete last one is dropped.
func RandomGroups(p *Pair, size int, rng *rand.Rand) [][]int {
	order := rng.Perm(len(p.Rows))
	return chunk(p, order, size, nil)
}

// GeoGroups sorts the practices by region, CCG and postcode (and code) and
// cuts the order into holders of consecutive practices of size people
// inside one CCG (size up to 50,000) or one region (above); each unit's
// incomplete tail is dropped.
func GeoGroups(p *Pair, size int) [][]int {
	order := make([]int, len(p.Rows))
	for i := range order {
		order[i] = i
	}
	rs := p.Rows
	sort.SliceStable(order, func(a, b int) bool {
		x, y := &rs[order[a]], &rs[order[b]]
		if x.Region != y.Region {
			return x.Region < y.Region
		}
		if x.CCG != y.CCG {
			return x.CCG < y.CCG
		}
		if x.Postcode != y.Postcode {
			return x.Postcode < y.Postcode
		}
		return x.Practice < y.Practice
	})
	unit := func(i int) string { return rs[i].Region }
	if size <= geoCCGMax {
		unit = func(i int) string { return rs[i].Region + "\x00" + rs[i].CCG }
	}
	return chunk(p, order, size, unit)
}

// chunk cuts order into runs of at least size people (first year's
// lists); a run is abandoned where unit (if not nil) changes.
func chunk(p *Pair, order []int, size int, unit func(int) string) [][]int {
	var out [][]int
	var cur []int
	tot := 0.0
	last := ""
	for k, i := range order {
		if unit != nil {
			if u := unit(i); k == 0 || u != last {
				cur, tot, last = nil, 0, u
			}
		}
		cur = append(cur, i)
		tot += p.Rows[i].List0
		if tot >= float64(size) {
			out = append(out, cur)
			cur, tot = nil, 0
		}
	}
	return out
}
