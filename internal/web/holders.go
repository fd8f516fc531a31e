package web

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
)

// What a finance lead asks of a pool or a consortium is what a practice
// must still find from its own resources once the pool or consortium has
// paid: a practice-year's result after pooling is its budget less its
// spend less what it paid into a pool or its consortium, plus what it was
// paid out of one (variance - pool_transfer, both columns of the run's
// practice-years). The summary's chances of over- and underspending are of
// variance alone (before pooling), so pools and consortia leave them as
// they were; holderRisk adds the chances after pooling, and the Monte
// Carlo uncertainty of both and of the reserves, from one reading of the
// run's practice-years (two passes: the practices' mean lists, which set
// their bands as the summary sets them, then the counts).

// holderLine is one band's chances after pooling, with standard errors.
type holderLine struct {
	Band string `json:"band"`
	// Chances a practice-year's result, after any pool or consortium
	// paid, is an overspend of more than 5% (10%) of its budget.
	POver5After  jf `json:"p_over_5_after"`
	POver10After jf `json:"p_over_10_after"`
	// Monte Carlo standard errors: of the chances before pooling (the
	// summary's p_over_5, p_over_10, p_under_5, p_under_10) and after.
	POver5SE       jf `json:"p_over_5_se"`
	POver10SE      jf `json:"p_over_10_se"`
	PUnder5SE      jf `json:"p_under_5_se"`
	PUnder10SE     jf `json:"p_under_10_se"`
	POver5AfterSE  jf `json:"p_over_5_after_se"`
	POver10AfterSE jf `json:"p_over_10_after_se"`
}

// afterDiff is one band's paired difference B - A of a chance after
// pooling, between a comparison's two runs (the same seed: common random
// numbers), with its standard error over the replications' pairs.
type afterDiff struct {
	Band       string `json:"band"`
	Metric     string `json:"metric"` // p_over_5_after or p_over_10_after
	A          jf     `json:"a"`
	B          jf     `json:"b"`
	Difference jf     `json:"difference"`
	SEPaired   jf     `json:"se_paired"`
}

// reserveRange is a reserve with an interval that holds the true quantile
// with about 95% chance (order statistics of the replications' needs).
type reserveRange struct {
	Level jf `json:"level"`
	Value jf `json:"value"`
	Low   jf `json:"low"`
	High  jf `json:"high"`
}

type holderRisk struct {
	Bands    []holderLine   `json:"bands"`
	Reserves []reserveRange `json:"reserves"`
}

var (
	holderListCols = []runfolder.Column{{Name: "practice_id", Kind: runfolder.String}, {Name: "list_size", Kind: runfolder.Int}, {Name: "regime", Kind: runfolder.String}}
	holderCols     = []runfolder.Column{
		{Name: "practice_id", Kind: runfolder.String}, {Name: "replication", Kind: runfolder.Int}, {Name: "year", Kind: runfolder.Int},
		{Name: "budget", Kind: runfolder.Float}, {Name: "variance", Kind: runfolder.Float}, {Name: "pool_transfer", Kind: runfolder.Float},
		{Name: "commissioner_paid", Kind: runfolder.Float}, {Name: "regime", Kind: runfolder.String},
	}
)

// closedRegime marks practice-years after a practice closed or merged:
// no list, budget or spend, left out as the summary leaves them out.
const closedRegime = "closed"

// counts are one band's practice-years in one replication, and how many
// passed 5% and 10% over or under before pooling (for their standard
// errors: the summary has the chances) and 5% and 10% over after.
type counts struct{ n, over5, over10, under5, under10, over5After, over10After float64 }

// add counts one practice-year: its budget, its variance (budget - spend)
// and what it paid into a pool or its consortium, net (pool_transfer).
func (c *counts) add(budget, variance, pool float64) {
	after := variance - pool
	c.n++
	if -variance > 0.05*budget {
		c.over5++
	}
	if -variance > 0.10*budget {
		c.over10++
	}
	if variance > 0.05*budget {
		c.under5++
	}
	if variance > 0.10*budget {
		c.under10++
	}
	if -after > 0.05*budget {
		c.over5After++
	}
	if -after > 0.10*budget {
		c.over10After++
	}
}

func readHolderRisk(ctx context.Context, dir string) (*holderRisk, error) {
	by, excess, reps, years, err := holderCounts(ctx, dir)
	if err != nil {
		return nil, err
	}
	nb := len(analysis.Bands)
	out := &holderRisk{}
	for k, cs := range by {
		name := analysis.AllBands
		if k < nb {
			name = analysis.Bands[k].Name
		}
		p5, se5 := shareSE(cs, func(c counts) float64 { return c.over5 })
		_, se10 := shareSE(cs, func(c counts) float64 { return c.over10 })
		_, seU5 := shareSE(cs, func(c counts) float64 { return c.under5 })
		_, seU10 := shareSE(cs, func(c counts) float64 { return c.under10 })
		p5a, se5a := shareSE(cs, func(c counts) float64 { return c.over5After })
		p10a, se10a := shareSE(cs, func(c counts) float64 { return c.over10After })
		if math.IsNaN(p5) {
			continue // no practice in this band
		}
		out.Bands = append(out.Bands, holderLine{Band: name, POver5After: jf(p5a), POver10After: jf(p10a),
			POver5SE: jf(se5), POver10SE: jf(se10), PUnder5SE: jf(seU5), PUnder10SE: jf(seU10), POver5AfterSE: jf(se5a), POver10AfterSE: jf(se10a)})
	}
	need := make([]float64, reps)
	for r := range reps {
		need[r] = analysis.ReserveNeed(excess[r*years : (r+1)*years])
	}
	slices.Sort(need)
	for _, q := range analysis.ReserveLevels {
		lo, hi := quantileInterval(len(need), q)
		out.Reserves = append(out.Reserves, reserveRange{Level: jf(q), Value: jf(analysis.Quantile(need, q)), Low: jf(need[lo]), High: jf(need[hi])})
	}
	return out, nil
}

// afterPoolDiffs are the paired differences B - A of the chances after
// pooling, by band, between two runs of the same seed (folders a and b).
// A band either run lacks is left out.
func afterPoolDiffs(ctx context.Context, a, b string) ([]afterDiff, error) {
	ca, _, _, _, err := holderCounts(ctx, a)
	if err != nil {
		return nil, err
	}
	cb, _, _, _, err := holderCounts(ctx, b)
	if err != nil {
		return nil, err
	}
	var out []afterDiff
	nb := len(analysis.Bands)
	for k := range ca {
		if len(ca[k]) != len(cb[k]) {
			return nil, fmt.Errorf("the two runs have %d and %d replications: a paired difference needs the same", len(ca[k]), len(cb[k]))
		}
		name := analysis.AllBands
		if k < nb {
			name = analysis.Bands[k].Name
		}
		for _, m := range []struct {
			name string
			f    func(counts) float64
		}{{"p_over_5_after", func(c counts) float64 { return c.over5After }}, {"p_over_10_after", func(c counts) float64 { return c.over10After }}} {
			pa, pb, se := pairedShareSE(ca[k], cb[k], m.f)
			if math.IsNaN(pa) || math.IsNaN(pb) {
				continue
			}
			out = append(out, afterDiff{Band: name, Metric: m.name, A: jf(pa), B: jf(pb), Difference: jf(pb - pa), SEPaired: jf(se)})
		}
	}
	return out, nil
}

// pairedShareSE is two shares pooled over replications (as shareSE) and
// the standard error of their difference b - a over the replications'
// pairs: each replication's linearised contributions to b's ratio less
// a's (delta method), whose spread the common random numbers shrink.
func pairedShareSE(ca, cb []counts, f func(counts) float64) (pa, pb, se float64) {
	var na, da, nb, db float64
	for r := range ca {
		na, da = na+f(ca[r]), da+ca[r].n
		nb, db = nb+f(cb[r]), db+cb[r].n
	}
	if da == 0 || db == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	pa, pb = na/da, nb/db
	n := float64(len(ca))
	if n < 2 {
		return pa, pb, math.NaN()
	}
	ma, mb := da/n, db/n
	var ss float64
	for r := range ca {
		z := (f(cb[r])-pb*cb[r].n)/mb - (f(ca[r])-pa*ca[r].n)/ma
		ss += z * z
	}
	return pa, pb, math.Sqrt(ss / (n * (n - 1)))
}

// holderCounts reads a run folder's practice-years once for their counts
// by band (the last: every band) and replication, and the area's excess
// of outlay over budgets by replication and year.
func holderCounts(ctx context.Context, dir string) (by [][]counts, excess []float64, reps, years int, err error) {
	man, files, err := runfolder.OpenTable(ctx, dir, runfolder.PracticeYears)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	// Pass 1: each practice's mean list, its band.
	type listAcc struct{ sum, n float64 }
	lists := map[string]*listAcc{}
	_, err = runfolder.Scan(ctx, dir, files, holderListCols, 0, func(b *runfolder.Batch) error {
		ids, dict := b.String(0)
		reg, rdict := b.String(2)
		ls := b.Int(1)
		for i := 0; i < b.N; i++ {
			if rdict[reg[i]] == closedRegime {
				continue
			}
			a := lists[dict[ids[i]]]
			if a == nil {
				a = &listAcc{}
				lists[dict[ids[i]]] = a
			}
			a.sum += float64(ls[i])
			a.n++
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, 0, err
	}
	band := make(map[string]int, len(lists))
	for id, a := range lists {
		band[id] = analysis.BandOf(a.sum / a.n)
	}
	// Pass 2: counts by band and replication; the area's outlay and
	// budgets by replication and year.
	reps, years = man.Replications, man.Years
	nb := len(analysis.Bands)
	by = make([][]counts, nb+1) // the last: every band
	for i := range by {
		by[i] = make([]counts, reps)
	}
	excess = make([]float64, reps*years)
	_, err = runfolder.Scan(ctx, dir, files, holderCols, 0, func(b *runfolder.Batch) error {
		ids, dict := b.String(0)
		rep, yr := b.Int(1), b.Int(2)
		budget, variance, pool, comm := b.Float(3), b.Float(4), b.Float(5), b.Float(6)
		reg, rdict := b.String(7)
		for i := 0; i < b.N; i++ {
			r, y := int(rep[i]), int(yr[i])
			if r < 0 || r >= reps || y < 1 || y > years {
				return fmt.Errorf("%s: replication %d, year %d is outside the run's %d replications of %d years", b.File, r, y, reps, years)
			}
			excess[r*years+y-1] += comm[i] - budget[i]
			if rdict[reg[i]] == closedRegime {
				continue
			}
			by[band[dict[ids[i]]]][r].add(budget[i], variance[i], pool[i])
			by[nb][r].add(budget[i], variance[i], pool[i])
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, 0, err
	}
	return by, excess, reps, years, nil
}

// shareSE is the share of practice-years counted by f, pooled over
// replications, and its standard error as a ratio estimator over the
// replications (which are independent; practice-years within one are not).
func shareSE(cs []counts, f func(counts) float64) (p, se float64) {
	var num, den float64
	for _, c := range cs {
		num += f(c)
		den += c.n
	}
	if den == 0 {
		return math.NaN(), math.NaN()
	}
	p = num / den
	r := float64(len(cs))
	if r < 2 {
		return p, math.NaN()
	}
	mean := den / r
	var ss float64
	for _, c := range cs {
		d := f(c) - p*c.n
		ss += d * d
	}
	return p, math.Sqrt(ss/(r*(r-1))) / mean
}

// quantileInterval is the ranks (0-based, in sorted order) of the order
// statistics that bound the q-quantile of n replications with about 95%
// chance: the number below the true quantile is binomial (n, q), so the
// 1-based ranks are n q -/+ 1.96 sqrt(n q (1 - q)), widened to whole
// ranks: 0-based, floor(low) - 1 and (one wider) ceil(high).
func quantileInterval(n int, q float64) (lo, hi int) {
	m, s := float64(n)*q, 1.96*math.Sqrt(float64(n)*q*(1-q))
	lo = max(int(math.Floor(m-s))-1, 0)
	hi = min(int(math.Ceil(m+s)), n-1)
	return lo, hi
}
