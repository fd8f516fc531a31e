package realrisk

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/gpbudget/gpbudget/sim"
)

// Member is one practice of the pairs, once: its list in the first pair it
// is kept in, its geography in the last (codes as the latest file has
// them, after CCG mergers).
type Member struct {
	Practice, Region, CCG, Postcode string
	List                            float64
}

// Population returns the practices kept in any pair, in geographic order
// (region, CCG, postcode, code).
func Population(pairs []Pair) []Member {
	at := map[string]int{}
	var out []Member
	for _, p := range pairs {
		for _, r := range p.Rows {
			i, ok := at[r.Practice]
			if !ok {
				at[r.Practice] = len(out)
				out = append(out, Member{Practice: r.Practice, List: r.List0})
				i = len(out) - 1
			}
			out[i].Region, out[i].CCG, out[i].Postcode = r.Region, r.CCG, r.Postcode
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.CCG != b.CCG {
			return a.CCG < b.CCG
		}
		if a.Postcode != b.Postcode {
			return a.Postcode < b.Postcode
		}
		return a.Practice < b.Practice
	})
	return out
}

// Simulate runs m, whose practices include every member (by code), over the pairs' years (the first pair's first year is the
// model's year 1), and returns for each replication and pair the same
// practices as the real pair, with the model's lists at the start of each
// year and prescribing spend in place of the real ones, the real geography,
// and the filter applied as to the real rows: pairs for Measure and
// Estimate, replication by replication. Practices the model closed are
// left out.
func Simulate(ctx context.Context, m *sim.Model, members []Member, pairs []Pair, f Filter, o sim.Options) ([]Pair, error) {
	idx := map[string]int{}
	for i := range m.Practices {
		idx[m.Practices[i].ID] = i
	}
	for _, mb := range members {
		if _, ok := idx[mb.Practice]; !ok {
			return nil, fmt.Errorf("the model has no practice %s", mb.Practice)
		}
	}
	first := pairs[0].From
	o.Years = pairs[len(pairs)-1].To - first + 1
	c := &pairCollector{pairs: pairs, idx: idx, first: first, filter: f, n: len(m.Practices), years: o.Years}
	if err := sim.Run(ctx, m, o, c); err != nil {
		return nil, err
	}
	return c.out, nil
}

type pairCollector struct {
	pairs        []Pair
	idx          map[string]int
	first, years int
	n            int
	filter       Filter
	list, spend  []float64 // [year-1][practice], NaN where closed
	out          []Pair
}

func (c *pairCollector) Write(rep *sim.Replication) error {
	if c.list == nil {
		c.list = make([]float64, c.years*c.n)
		c.spend = make([]float64, c.years*c.n)
	}
	for i := range c.list {
		c.list[i], c.spend[i] = math.NaN(), math.NaN()
	}
	for _, r := range rep.Rows {
		if r.Year < 1 || r.Year > c.years || r.Regime == sim.RegimeClosed {
			continue
		}
		k := (r.Year-1)*c.n + r.Practice
		c.list[k], c.spend[k] = float64(r.ListSize), r.Spend[sim.Prescribing]
	}
	for _, p := range c.pairs {
		t0 := p.From - c.first
		q := Pair{From: p.From, To: p.To, Rows: make([]Row, 0, len(p.Rows))}
		for _, r := range p.Rows {
			i := c.idx[r.Practice]
			a, b := t0*c.n+i, (t0+1)*c.n+i
			n0, n1, x0, x1 := c.list[a], c.list[b], c.spend[a], c.spend[b]
			if math.IsNaN(n0+n1+x0+x1) || !c.filter.Keep(n0, n1, x0, x1) {
				continue
			}
			r.List0, r.List1, r.Drugs0, r.Drugs1 = n0, n1, x0, x1
			q.Rows = append(q.Rows, r)
		}
		if len(q.Rows) > 0 {
			c.out = append(c.out, q)
		}
	}
	return nil
}
