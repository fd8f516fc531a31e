package sim

import (
	"errors"
	"math"
	"slices"
)

// Cohort mode simulates a practice from the counts of its patients in each
// (age-sex cell, frailty state) group rather than patient by patient, for
// runs too large for patient level (all of England, many replications). It
// draws exact aggregate distributions wherever that is cheap, and elsewhere
// approximations that keep the first three cumulants exact:
//
//   - Event counts. A patient's count in stream s is Poisson(mu·G) with G ~
//     Gamma(r, 1/r) (negative binomial). Over the n patients of a group the
//     G's sum to one Gamma(n·r, 1/r) draw, and since Poisson counts add, the
//     stream's year total is Poisson(λ), λ = Σ_groups mu_g·Gamma(n_g·r)/r.
//     λ is drawn as one shifted gamma with λ's exact mean, variance and
//     skewness (see cohortYear; exact where all groups share one rate), then
//     one Poisson per stream.
//   - Costs. As at patient level, a stream's year spend is drawn from its
//     total count (worker.spend, costsum.go).
//   - Frailty transitions, deaths and leavers: per group a binomial count
//     leaves the list (death or moving away: the output does not tell them
//     apart) and of those staying a binomial count has its state redrawn
//     from q (the model's transitions are exactly this: keep the state with
//     probability persistence, else redraw). A cell's redraws from all
//     states are then one multinomial over q. All these probabilities are
//     fixed, so their logarithms and powers are computed once (bprob), and
//     the most used are tabulated (binomTable). All these draws are exact.
//     Births and joiners: Poisson totals as in patient mode, spread over
//     cells and states by multinomials, also exact.
//
// One approximation in the list: ages within a 5-year band are not tracked,
// so a band's survivors move up a band with probability 1/5 (one binomial per
// cell and state, after the transitions), which is exact when ages are
// uniform within the band (as the starting list's are in expectation) and
// otherwise close. The 95+ band does not age out.
//
// Cohort mode does not apply where a scenario needs individual patients: a
// per-patient stop-loss (cost above a threshold per patient). Run rejects
// that combination. Its results agree with patient mode in distribution but
// not draw for draw: cohort_test.go checks means and variances against
// patient level, cohort_approx_test.go each approximation against its exact
// counterpart, by Kolmogorov-Smirnov.
type cohort struct {
	n, mid, next []int64       // patients per group, group = cell*K + state; mid: after transitions, before ageing
	exit         []bprob       // per group: leaves the list (dies or moves away)
	redraw       []bprob       // per state k: a staying patient's state is redrawn from q (1 - persistence)
	q            []bprob       // per state j: a redraw lands on j, given not an earlier state
	share        []bprob       // per cell and state (cell*K + k): the cell's share of the state, given not an earlier state
	age          bprob         // a band's survivor moves up a band
	births       alias         // a birth's sex and state (band 0, stationary shares)
	joinCell     [NCells]bprob // practice joinersOf-1's joiner is in a cell, given not an earlier one
	joinersOf    int
	scratch      aliasScratch
}

// ErrCohortStopLoss says a model with a per-patient stop-loss cannot run in
// cohort mode.
var ErrCohortStopLoss = errors.New("cohort mode cannot apply a per-patient stop-loss or truncation; run at patient level")

// cohortSetup sizes the buffers and turns the transition thresholds into the
// conditional probabilities of each group's draws.
func (w *worker) cohortSetup() {
	c := &w.coh
	K := w.p.k
	if len(c.n) == NCells*K {
		return
	}
	c.n = make([]int64, NCells*K)
	c.mid = make([]int64, NCells*K)
	c.next = make([]int64, NCells*K)
	c.exit = make([]bprob, NCells*K)
	for g := range NCells * K {
		c.exit[g] = newBprob(w.p.exit[g]).withPowers()
	}
	tabulate := func(b *bprob) {
		if b.p > 0 {
			b.tab = newBinomTable(b.p)
		}
	}
	c.redraw = make([]bprob, K)
	c.q = make([]bprob, K)
	mass := 1.0
	for k := range K {
		c.redraw[k] = newBprob(1 - w.p.m.Frailty.Persistence[k]).withPowers()
		if mass > 0 && k < K-1 {
			c.q[k] = newBprob(w.p.q[k] / mass).withPowers()
		}
		mass -= w.p.q[k]
	}
	share := w.p.m.Frailty.Share
	c.share = make([]bprob, NCells*K)
	// One vector of shares for every cell (frailty not by age): its tables
	// serve every cell and stay in cache. Shares by age differ per cell:
	// their 40 sets of tables would not, and inversion with powers of 1-p
	// is faster then.
	shared := true
	for cell := 1; cell < NCells; cell++ {
		shared = shared && slices.Equal(w.p.cellShare[cell*K:cell*K+K], w.p.cellShare[:K])
	}
	for cell := range NCells {
		if shared && cell > 0 {
			copy(c.share[cell*K:cell*K+K], c.share[:K]) // the same draws, tables shared
			continue
		}
		cs := w.p.cellShare[cell*K : cell*K+K]
		mass = 1.0
		for k := range K - 1 {
			if mass > 0 {
				c.share[cell*K+k] = newBprob(cs[k] / mass).withPowers()
				if shared {
					tabulate(&c.share[cell*K+k])
				}
			}
			mass -= cs[k]
		}
	}
	c.age = newBprob(0.2).withPowers()
	tabulate(&c.age)
	for k := range K {
		tabulate(&c.redraw[k])
		tabulate(&c.q[k])
	}
	mb := w.p.m.Demography.MaleBirthShare
	wt := make([]float64, 2*K)
	for k := range K {
		wt[k] = mb * share[k]
		wt[K+k] = (1 - mb) * share[k]
	}
	c.births.build(wt, &c.scratch)

}

// multinomialStates spreads n patients of cell c over frailty states with
// the stationary shares, adding them to dst.
func (w *worker) multinomialStates(d *Draws, n int64, c int, dst []int64) {
	K := w.p.k
	rem := n
	for k := 0; k < K-1 && rem > 0; k++ {
		x := d.binomialOf(rem, &w.coh.share[c*K+k])
		dst[c*K+k] += x
		rem -= x
	}
	dst[c*K+K-1] += rem
}

// cohorts simulates a practice from its group counts (cohort mode).
type cohorts struct{ w *worker }

// start spreads practice k.Practice's starting list over frailty states.
func (c cohorts) start(k Key) {
	w := c.w
	p := w.p
	w.setup()
	w.cohortSetup()
	co := &w.coh
	clear(co.n)
	i := k.Practice
	pr := &p.m.Practices[i]
	if co.joinersOf != i+1 {
		cdf := &p.joinCDF[i]
		prev := 0.0
		for cell := range NCells {
			if mass := 1 - prev; mass > 0 {
				co.joinCell[cell] = newBprob((cdf[cell] - prev) / mass)
			} else {
				co.joinCell[cell] = bprob{}
			}
			prev = cdf[cell]
		}
		co.joinersOf = i + 1
	}
	w.demo.Reseed(k.At(-1), PurposeInitial)
	for cell := range NCells {
		w.multinomialStates(&w.demo, int64(pr.Count[cell/NBands][cell%NBands]), cell, co.n)
	}
}

func (c cohorts) rates(i int, mult *[NStreams]float64) { c.w.rates(i, mult) }

func (c cohorts) cells() [NCells]int32 {
	var cells [NCells]int32
	K := c.w.p.k
	for g, x := range c.w.coh.n {
		cells[g/K] += int32(x)
	}
	return cells
}

func (c cohorts) year(k Key, last bool, _ *StopLoss, out *yearOut) {
	w := c.w
	size := int64(0)
	for _, x := range w.coh.n {
		size += x
	}
	out.listSize = int(size)
	w.patientYears += size
	w.reseedYear(k)
	w.cohortYear(out)
	if !last {
		w.advanceCohort(k)
	}
}

// cohortYear draws one year's event totals and spend from the group counts.
//
// A negative binomial stream's year total is Poisson(λ) with λ =
// Σ_g (mu_g/r)·G_g, G_g ~ Gamma(n_g·r) independent: a sum of gammas of
// different scales, with cumulants κ_j = (j-1)!·r^(1-j)·S_j where S_j =
// Σ_g n_g·mu_g^j. λ is drawn as the shifted gamma with the same first three
// cumulants, shift + theta·Gamma(shape) with theta = S3/(r·S2),
// shape = r·S2³/S3² and shift = S1 - S2²/S3 (never negative, by
// Cauchy-Schwarz): one gamma per stream rather than one per group. Where all
// groups share one rate (shift = 0) this is λ's exact distribution; otherwise
// mean, variance and skewness are exact and only the fourth and higher
// cumulants are approximate (the gamma's κ4 = 1.5·κ3²/κ2 is at most λ's).
// The Poisson noise on top, and the cost noise, shrink the remaining
// difference further (TestCohortLambda bounds it).
func (w *worker) cohortYear(out *yearOut) {
	d := &w.counts
	n := w.coh.n
	for s := range NStreams {
		r := w.p.m.Streams[s].Dispersion
		var s1, s2, s3 float64
		for g, x := range n {
			if x == 0 {
				continue
			}
			mu := w.mu[g*NStreams+s]
			xm := float64(x) * mu
			s1 += xm
			s2 += xm * mu
			s3 += xm * mu * mu
		}
		// The year's own rate is keep times the tables' (see blockRefs):
		// λ scales exactly.
		out.events[s] = d.Poisson(d.lambdaOf(r, s1, s2, s3) * w.keep[s])
		out.spend[s] = w.spend(s, out.events[s]) * w.price[s]
	}
}

// lambdaOf draws the Poisson mean of a negative binomial total with
// dispersion r and rate sums S1, S2, S3 (see cohortYear); r = 0 or +Inf is
// Poisson, λ = S1.
func (d *Draws) lambdaOf(r, s1, s2, s3 float64) float64 {
	if r == 0 || math.IsInf(r, 1) || s1 <= 0 {
		return s1
	}
	theta := s3 / (r * s2)
	shape := r * s2 * s2 * s2 / (s3 * s3)
	shift := max(s1-s2*s2/s3, 0)
	return shift + theta*d.Gamma(shape)
}

// advanceCohort moves the group counts on a year: per group a multinomial
// over leaving and next state; then survivors age into the next band with
// probability 1/5; then births and joiners.
func (w *worker) advanceCohort(k Key) {
	p := w.p
	K := p.k
	c := &w.coh
	d := &w.demo
	d.Reseed(k, PurposeDemography)
	clear(c.mid)
	clear(c.next)
	start := int64(0)
	for cell := range NCells {
		pool := int64(0)
		for k := range K {
			g := cell*K + k
			x := c.n[g]
			if x == 0 {
				continue
			}
			start += x
			stay := x - d.binomialOf(x, &c.exit[g])
			redrawn := d.binomialOf(stay, &c.redraw[k])
			c.mid[g] += stay - redrawn
			pool += redrawn
		}
		// The cell's redrawn patients, pooled over the states they came
		// from, are one multinomial over q.
		for j := 0; j < K-1 && pool > 0; j++ {
			y := d.binomialOf(pool, &c.q[j])
			c.mid[cell*K+j] += y
			pool -= y
		}
		c.mid[cell*K+K-1] += pool
	}
	// Ageing: a sum of Binomial(x, 1/5) over the groups that moved into
	// (cell, state) is one Binomial of their total.
	for cell := range NCells {
		for g := cell * K; g < cell*K+K; g++ {
			x := c.mid[g]
			if x == 0 {
				continue
			}
			if cell%NBands == NBands-1 {
				c.next[g] += x
				continue
			}
			up := d.binomialOf(x, &c.age)
			c.next[g] += x - up
			c.next[g+K] += up
		}
	}
	// Births: women aged 15-44 are female bands 3 to 8 after ageing.
	women := int64(0)
	for b := 3; b <= 8; b++ {
		for k := range K {
			women += c.next[(Female*NBands+b)*K+k]
		}
	}
	dm := &p.m.Demography
	j := &w.other
	j.Reseed(k, PurposeJoiners)
	// Each birth lands in a group drawn from a table (one word each).
	for range j.Poisson(dm.BirthRate * float64(women)) {
		// Outcome k < K: a boy in state k; K+k: a girl.
		o := c.births.draw(j.G.Uint64())
		if o < K {
			c.next[(Male*NBands)*K+o]++
		} else {
			c.next[(Female*NBands)*K+o-K]++
		}
	}
	w.cohortJoin(j, int64(j.Poisson(dm.Turnover*float64(start))), c.next)
	c.n, c.next = c.next, c.n
}

// cohortJoin adds joiners with the practice's own age-sex mix to the group
// counts dst: over cells by conditional binomials, then over states.
func (w *worker) cohortJoin(j *Draws, joiners int64, dst []int64) {
	c := &w.coh
	for cell := 0; cell < NCells && joiners > 0; cell++ {
		x := joiners
		if cell < NCells-1 {
			x = j.binomialOf(joiners, &c.joinCell[cell])
		}
		joiners -= x
		w.multinomialStates(j, x, cell, dst)
	}
}
