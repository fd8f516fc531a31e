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
	expect  [histCap]float64 // each year's expected spend (projected budgets)
	nHist   int
	scratch [histCap]float64
	prevRaw float64 // last year's budget before top-slice
	prevOn  int     // the spend basis last year's budget was set on
	sl      StopLoss
	// rate is this year's rate multipliers before the effects: the
	// replication's parameters times behaviour (yearStart).
	rate [NStreams]float64
	// mult is the replication's rate multipliers (its priors), without
	// behaviour: the level of spending a commissioner in this world sees in
	// its history.
	mult [NStreams]float64
}

// reset prepares the plan of practice i in replication rep, whose
// parameters are rp. Its chance events are keyed by what they model:
// engagement per (replication, practice), behaviour per replication
// (unless a sensitivity analysis holds a behaviour draw fixed).
func (pl *practicePlan) reset(p *prepared, seed uint64, rep, i int, rp *repParams) {
	m := p.m
	*pl = practicePlan{p: p, pol: m.Policy, regs: m.Policy.regimes(), i: i, rep: rep}
	var d Draws
	d.Reseed(Key{Seed: seed, Rep: rep, Practice: i, Year: -1}, PurposeRules)
	pl.engaged = d.Float64() < pl.pol.Participation && m.Practices[i].ListSize() >= pl.pol.MinList
	pl.mult = rp.mult
	pl.z = behaviourDraws(seed, rep)
	for s := range NStreams {
		if rp.zFixed[s] {
			pl.z[s] = rp.z[s]
		}
	}
	pl.strength = math.Max(0, 52-m.Budget.IssueWeek) / 52
	if m.StopLoss != nil {
		pl.sl = *m.StopLoss
	}
}

// behaviourDraws are replication rep's standard normals behind every
// regime's behaviour effects (one per stream, shared by regimes and
// scenarios, so comparisons are paired).
func behaviourDraws(seed uint64, rep int) [NStreams]float64 {
	var d Draws
	d.Reseed(Key{Seed: seed, Rep: rep, Practice: -1, Year: -2}, PurposeRules)
	var z [NStreams]float64
	for s := range NStreams {
		z[s] = d.Norm()
	}
	return z
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
	pl.rate = want
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
// start of the year (for the capitation target), fx the year's effects.
func (pl *practicePlan) yearEnd(year int, cells *[NCells]int32, y *yearOut, fx *yearEffect, r *PracticeYear) {
	p, m := pl.p, pl.p.m
	total := 0.0
	for _, v := range y.spend {
		total += v
	}
	if r != nil {
		target := p.capitation(pl.i, cells) * pl.worldGrowth(fx)
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
		hist := pl.recent(&pl.hist[on])
		if m.Budget.Project {
			// Past years' spend and last year's budget in the budget
			// year's terms: scaled by how the practice's expected spend
			// (its list as it stands at each year's start, the trends'
			// point values) has moved since.
			e := pl.projectedAt(cells, fx)
			n := len(hist)
			// A year with no expected spend (an empty list) has no
			// terms to convert from; its spend is kept as it was.
			for k := range hist {
				if d := pl.expect[(pl.nHist-n+k)%histCap]; d > 0 {
					hist[k] *= e / d
				}
			}
			if d := pl.expect[(pl.nHist-1)%histCap]; d > 0 {
				prev *= e / d
			}
		}
		raw := m.Budget.Setter.Set(target, hist, prev, year)
		b := raw * (1 - m.Budget.TopSlice)
		*r = PracticeYear{
			Replication: pl.rep, Year: year, Practice: pl.i, ListSize: y.listSize,
			Budget: b, Target: target, Spend: y.spend, Events: y.events,
			SpendTotal: total, Variance: b - spent, StopLossExcess: y.stopLoss,
			regime: pl.regime, TopSlice: raw - b,
		}
		r.ExpectedSpendParams, r.ExpectedSpendShocks, r.ExpectedSpend = pl.expected(cells, fx)
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
	if m.Budget.Project {
		pl.expect[k] = pl.projectedAt(cells, fx)
	}
	for rg := regimeStart; rg < nRegimes; rg++ {
		if r := pl.regs[rg]; r != nil && r.Answers() {
			pl.hist[rg][k] = coveredSpend(&y.spend, r.Covers()) - y.stopLoss
		}
	}
	pl.nHist++
}

// expected returns the year's expected spend given the list at its start
// (cells, frailty at its shares), conditional on the replication's
// parameters (and behaviour) alone, on those and the year's shocks, and on
// those, the shocks and the practice's drift: the nested conditional means
// a decomposition of variance by the law of total variance needs.
func (pl *practicePlan) expected(cells *[NCells]int32, fx *yearEffect) (params, shocks, all float64) {
	p := pl.p
	for s := range NStreams {
		e0 := 0.0
		for c := range NCells {
			e0 += float64(cells[c]) * p.unitCost[c][s]
		}
		e := e0 * p.pmult[pl.i][s] * pl.rate[s] * fx.trend[s] * fx.cost[s]
		params += e
		e *= fx.shock[s]
		shocks += e
		all += e * fx.drift[s]
	}
	return params, shocks, all
}

// worldGrowth is what the area's capitation total is scaled by in a year
// with effects fx: the area's expected spend in this replication's world
// (its rate and cost levels and trends, which a commissioner sees in the
// area's history of spending) over its expected spend at the point values
// in the base year (exactly 1 there). The modeller's doubt about the level
// of rates and costs (the priors) is not a surprise to a commissioner in
// that world, so it does not move a budget away from spend.
func (pl *practicePlan) worldGrowth(fx *yearEffect) float64 {
	g, point := 0.0, true
	for s := range NStreams {
		v := pl.mult[s] * fx.trend[s] * fx.cost[s]
		point = point && v == 1
		g += pl.p.streamShare[s] * v
	}
	if point {
		return 1 // exactly, whatever the shares' rounding
	}
	return g
}

// projectedAt is what a budget's projection scales by in year t with
// effects fx: the practice's expected spend on its list cells at the
// growth of the replication's world (its drawn trends and prices, which a
// commissioner sees in national growth realised so far), and with
// Budget.Trend realised, also the year's national shock, which every
// practice in the country shares and is known once the year is over.
// Ratios of it are used, so a level common to every year (a cost prior)
// cancels.
func (pl *practicePlan) projectedAt(cells *[NCells]int32, fx *yearEffect) float64 {
	p := pl.p
	realised := p.m.Budget.Trend == TrendRealised
	e := 0.0
	for s := range NStreams {
		e0 := 0.0
		for c := range NCells {
			e0 += float64(cells[c]) * p.unitCost[c][s]
		}
		g := fx.trend[s] * fx.cost[s]
		if realised {
			g *= fx.national[s]
		}
		e += e0 * p.pmult[pl.i][s] * g
	}
	return e
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
