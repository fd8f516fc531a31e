package sim

import "math"

// practicePlan is the part of a practice's policy that shapes the
// simulation itself, for one (replication, practice) task: whether the
// practice takes part, its regime each year (earned autonomy depends on
// earlier years' results), the streams its budget covers, its budgets, and
// the behaviour effect on its rates. Any way of simulating a practice's
// years calls reset once, then yearStart and yearEnd around each year.
type practicePlan struct {
	p        *prepared
	pol      *Policy
	regs     [nRegimes]Regime
	i, rep   int
	engaged  bool
	z        [NStreams]float64 // behaviour draws of the replication
	strength float64           // share of the year left after budgets are issued
	regime   uint8             // index into regs
	calm     int               // consecutive years within the earned-autonomy band
	// Spend in the last histCap years (rings indexed by year % histCap): all
	// streams (basis 0), and what a holder in each regime that answers for
	// less answers for (basis = the regime's index: covered streams, net of
	// the per-patient threshold). Fixed arrays, so a task allocates nothing.
	hist    [nRegimes][histCap]float64
	nHist   int
	scratch [histCap]float64
	prevRaw float64 // last year's budget before top-slice
	prevOn  int     // the spend basis last year's budget was set on
	sl      StopLoss
}

// reset prepares the plan of practice i in replication rep. Its chance
// events are keyed by what they model: engagement per (replication,
// practice), behaviour per replication.
func (pl *practicePlan) reset(p *prepared, seed uint64, rep, i int) {
	m := p.m
	*pl = practicePlan{p: p, pol: m.Policy, regs: m.Policy.regimes(), i: i, rep: rep}
	var d Draws
	d.Reseed(Key{Seed: seed, Rep: rep, Practice: i, Year: -1}, PurposeRules)
	pl.engaged = d.Float64() < pl.pol.Participation && m.Practices[i].ListSize() >= pl.pol.MinList
	d.Reseed(Key{Seed: seed, Rep: rep, Practice: -1, Year: -2}, PurposeRules)
	for s := range NStreams {
		pl.z[s] = d.Norm()
	}
	pl.strength = math.Max(0, 52-m.Budget.IssueWeek) / 52
	if m.StopLoss != nil {
		pl.sl = *m.StopLoss
	}
}

// yearStart sets the year's regime and returns the rate multipliers (base
// times behaviour) and the stop-loss (uprated) to simulate it with.
func (pl *practicePlan) yearStart(year int, base *[NStreams]float64) ([NStreams]float64, *StopLoss) {
	pol := pl.pol
	if year > 0 {
		switch {
		case !pl.engaged:
			pl.regime = regimeNone
		case pl.regs[regimeEarned] != nil && pl.calm >= pol.Autonomy.Years:
			pl.regime = regimeEarned
		default:
			pl.regime = regimeStart
		}
	}
	var eff *[NStreams]Effect
	if r := pl.regs[pl.regime]; r != nil {
		eff = r.Effects()
	}
	want := *base
	bm := pol.multipliers(eff, &pl.z, pl.strength)
	for s := range NStreams {
		want[s] *= bm[s]
	}
	sl := pl.p.m.StopLoss
	if sl == nil {
		return want, nil
	}
	if year > 1 {
		pl.sl.Threshold = sl.Threshold * math.Pow(1+sl.Uprating, float64(year-1))
	}
	return want, &pl.sl
}

// yearEnd records the year's spend as history and, for a reported year
// (r non-nil), sets the budget and fills the row. cells is the list at the
// start of the year (for the capitation target).
func (pl *practicePlan) yearEnd(year int, cells *[NCells]int32, y *yearOut, r *PracticeYear) {
	p, m := pl.p, pl.p.m
	total := 0.0
	for _, v := range y.spend {
		total += v
	}
	if r != nil {
		target := p.capitation(pl.i, cells)
		// A budget is set on what its holder answers for, so cost above
		// the per-patient threshold (a stop-loss the commissioner pays, a
		// contract's truncation) is not in its base, nor are streams it
		// does not cover.
		on := 0
		spent := total
		if rg := pl.regs[pl.regime]; rg != nil && rg.Answers() {
			on = int(pl.regime)
			if c := rg.Covers(); c != nil {
				target *= p.coveredShare(cells, c)
				spent = coveredSpend(&y.spend, c)
			}
		}
		prev := pl.prevRaw
		if on != pl.prevOn {
			prev = 0 // the budget covers other costs now: restart from history
		}
		raw := m.Budget.Setter.Set(target, pl.recent(&pl.hist[on]), prev, year)
		b := raw * (1 - m.Budget.TopSlice)
		*r = PracticeYear{
			Replication: pl.rep, Year: year, Practice: pl.i, ListSize: y.listSize,
			Budget: b, Target: target, Spend: y.spend, Events: y.events,
			SpendTotal: total, Variance: b - spent, StopLossExcess: y.stopLoss,
			regime: pl.regime, TopSlice: raw - b,
		}
		if pl.regime == regimeStart && pl.pol.Autonomy != nil {
			if math.Abs(b-total) <= pl.pol.Autonomy.Band*b {
				pl.calm++
			} else {
				pl.calm = 0
			}
		}
		pl.prevRaw, pl.prevOn = raw, on
	}
	k := pl.nHist % histCap
	pl.hist[0][k] = total
	for rg := regimeStart; rg < nRegimes; rg++ {
		if r := pl.regs[rg]; r != nil && r.Answers() {
			pl.hist[rg][k] = coveredSpend(&y.spend, r.Covers()) - y.stopLoss
		}
	}
	pl.nHist++
}

// coveredSpend is the spend of the streams in cover (nil: all).
func coveredSpend(spend *[NStreams]float64, cover *[NStreams]bool) float64 {
	t := 0.0
	for s, v := range spend {
		if cover == nil || cover[s] {
			t += v
		}
	}
	return t
}

// histCap is the most past years a historic budget can average.
const histCap = 16

// recent returns the recorded years of a history ring, oldest first (at most
// histCap), in the plan's scratch space.
func (pl *practicePlan) recent(ring *[histCap]float64) []float64 {
	n := min(pl.nHist, histCap)
	for k := range n {
		pl.scratch[k] = ring[(pl.nHist-n+k)%histCap]
	}
	return pl.scratch[:n]
}

// coveredShare is the share of a list's expected cost (age-sex unit costs)
// that falls in the covered streams.
func (p *prepared) coveredShare(cells *[NCells]int32, cover *[NStreams]bool) float64 {
	num, den := 0.0, 0.0
	for c := range NCells {
		n := float64(cells[c])
		for s := range NStreams {
			v := n * p.unitCost[c][s]
			den += v
			if cover[s] {
				num += v
			}
		}
	}
	if den == 0 {
		return 0
	}
	return num / den
}
