package sim

import (
	"errors"
	"math"
	"math/bits"
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
	share        []bprob       // per state: stationary share, given not an earlier state
	age          bprob         // a band's survivor moves up a band
	births       alias         // a birth's sex and state (band 0, stationary shares)
	joinCell     [NCells]bprob // practice joinersOf-1's joiner is in a cell, given not an earlier one
	joinersOf    int
	scratch      aliasScratch
}

// ErrCohortStopLoss says a model with a per-patient stop-loss cannot run in
// cohort mode.
var ErrCohortStopLoss = errors.New("cohort mode cannot apply a per-patient stop-loss; run at patient level")

// bprob is a binomial probability with what repeated draws need computed
// once: p folded to at most 1/2 (flip: the draw counts failures), log(1-p),
// log(p/(1-p)) for BTRS, and powers of 1-p for the inversion's starting term
// (1-p)^n = pow[n&15]·pow[16+(n>>4)&15]·pow[32+n>>8] for n < 4096, three
// lookups and two products in place of an exponential.
type bprob struct {
	p, l1p, lr float64
	flip       bool
	pow        *[48]float64
	tab        *binomTable // for the probabilities drawn most often
}

func newBprob(p float64) bprob {
	p = min(max(p, 0), 1)
	b := bprob{p: p}
	if p > 0.5 {
		b = bprob{p: 1 - p, flip: true}
	}
	if b.p == 0 {
		return b
	}
	b.l1p = math.Log1p(-b.p)
	b.lr = math.Log(b.p) - b.l1p
	return b
}

// withPowers adds b's power table, for probabilities drawn with many times.
func (b bprob) withPowers() bprob {
	if b.p == 0 {
		return b
	}
	b.pow = new([48]float64)
	for i := range 16 {
		b.pow[i] = math.Exp(float64(i) * b.l1p)
		b.pow[16+i] = math.Exp(float64(16*i) * b.l1p)
		b.pow[32+i] = math.Exp(float64(256*i) * b.l1p)
	}
	return b
}

// binomialOf returns a Binomial(n, b) count, exactly (see Binomial and
// binomTable).
func (d *Draws) binomialOf(n int64, b *bprob) int64 {
	var x int64
	switch {
	case n <= 0 || b.p == 0:
	case b.tab != nil && n <= blockMax:
		x = d.binomialBlocks(n, b.tab)
	case float64(n)*b.p >= inversionMax:
		x = int64(d.btrs(int(n), b.p, b.lr))
	case n < 4096 && b.pow != nil:
		t := b.pow
		x = int64(d.binomialInv(int(n), b.p, t[n&15]*t[16+(n>>4)&15]*t[32+n>>8]))
	default:
		x = int64(d.binomialInv(int(n), b.p, fastExp(float64(n)*b.l1p)))
	}
	if b.flip {
		return n - x
	}
	return x
}

// binomTable draws Binomial(n, p) for one p and n <= blockMax in blocks:
// n = 64q + r is the sum of q Binomial(64, p) counts and one Binomial(r, p),
// each from an alias table with one 64-bit word (see alias). Exact up to the
// 2^-56 resolution of the thresholds, and a few nanoseconds a block where
// inversion takes three per unit of n·p.
type binomTable struct {
	off [blockSize + 1]int32 // Binomial(r, p)'s entries are e[off[r] : off[r]+r+1]
	e   []uint64
}

const (
	blockSize = 64
	blockMax  = 4 * blockSize // beyond, BTRS or inversion is as fast
)

func newBinomTable(p float64) *binomTable {
	t := &binomTable{}
	var sc aliasScratch
	pmf := make([]float64, blockSize+1)
	for r := 0; r <= blockSize; r++ {
		t.off[r] = int32(len(t.e))
		n := float64(r)
		for k := 0; k <= r; k++ {
			kf := float64(k)
			lp := lfact(n) - lfact(kf) - lfact(n-kf)
			if k > 0 {
				lp += kf * math.Log(p)
			}
			if k < r {
				lp += (n - kf) * math.Log1p(-p)
			}
			pmf[k] = math.Exp(lp)
		}
		t.e = appendAlias(t.e, pmf[:r+1], &sc)
	}
	return t
}

// binomialBlocks draws Binomial(n, p) for n <= blockMax from t.
func (d *Draws) binomialBlocks(n int64, t *binomTable) int64 {
	x := int64(0)
	for ; n > 0; n -= blockSize {
		r := min(n, blockSize)
		hi, lo := bits.Mul64(d.G.Uint64(), uint64(r+1))
		e := t.e[int64(t.off[r])+int64(hi)]
		k := e & 0xff
		if lo < e&^0xff { // a conditional move, not a branch
			k = hi
		}
		x += int64(k)
	}
	return x
}

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
	c.share = make([]bprob, K)
	mass = 1.0
	for k := range K - 1 {
		if mass > 0 {
			c.share[k] = newBprob(share[k] / mass).withPowers()
		}
		mass -= share[k]
	}
	c.age = newBprob(0.2).withPowers()
	tabulate := func(b *bprob) {
		if b.p > 0 {
			b.tab = newBinomTable(b.p)
		}
	}
	tabulate(&c.age)
	for k := range K {
		tabulate(&c.redraw[k])
		tabulate(&c.q[k])
		tabulate(&c.share[k])
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
		x := d.binomialOf(rem, &w.coh.share[k])
		dst[c*K+k] += x
		rem -= x
	}
	dst[c*K+K-1] += rem
}

// runCohort is run in cohort mode: practice i of replication rep through the
// base year and years reported years.
func (w *worker) runCohort(seed uint64, rep, i, years int, mult *[NStreams]float64, rows []PracticeYear) error {
	p := w.p
	m := p.m
	if m.StopLoss.Active() {
		return ErrCohortStopLoss
	}
	np := len(m.Practices)
	w.setup()
	w.cohortSetup()
	K := p.k
	c := &w.coh
	clear(c.n)
	pr := &m.Practices[i]
	if c.joinersOf != i+1 {
		cdf := &p.joinCDF[i]
		prev := 0.0
		for cell := range NCells {
			if mass := 1 - prev; mass > 0 {
				c.joinCell[cell] = newBprob((cdf[cell] - prev) / mass)
			} else {
				c.joinCell[cell] = bprob{}
			}
			prev = cdf[cell]
		}
		c.joinersOf = i + 1
	}
	w.demo.Reseed(seed, PurposeInitial, rep, i, -1)
	for cell := range NCells {
		w.multinomialStates(&w.demo, int64(pr.Count[cell/NBands][cell%NBands]), cell, c.n)
	}
	// The practice's policy (regime, behaviour, budgets) as at patient level.
	pl := &w.plan // in the worker, so the plan never escapes per task
	pl.reset(p, seed, rep, i)
	built := *mult
	w.cohortRates(i, &built)
	for year := 0; year <= years; year++ {
		if want, _ := pl.yearStart(year, mult); want != built {
			built = want
			w.cohortRates(i, &built)
		}
		var cells [NCells]int32
		size := int64(0)
		for g, x := range c.n {
			cells[g/K] += int32(x)
			size += x
		}
		var y yearOut
		y.listSize = int(size)
		w.patientYears += size
		w.counts.Reseed(seed, PurposeCounts, rep, i, year)
		w.costs.Reseed(seed, PurposeCosts, rep, i, year)
		w.costsB.Reseed(seed, PurposeCostsB, rep, i, year)
		w.cohortYear(&y)
		if err := checkFinite(rep, i, pr.ID, &y); err != nil {
			return err
		}
		var r *PracticeYear
		if year > 0 {
			r = &rows[(year-1)*np+i]
		}
		pl.yearEnd(year, &cells, &y, r)
		if year < years && !(year == 0 && w.p.m.ListsAtYearOne) {
			w.advanceCohort(seed, rep, i, year)
		}
	}
	return nil
}

// cohortRates sets w.mu to each (group, stream)'s mean count per patient.
func (w *worker) cohortRates(i int, mult *[NStreams]float64) {
	p := w.p
	K := p.k
	w.mu = grow(w.mu, NCells*K*NStreams)
	for c := range NCells {
		sex, b := c/NBands, c%NBands
		for k := range K {
			for s := range NStreams {
				w.mu[(c*K+k)*NStreams+s] = p.m.Streams[s].Rate[sex][b] * p.pmult[i][s] * mult[s] * p.frailMult[s][k]
			}
		}
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
		out.events[s] = d.Poisson(d.lambdaOf(r, s1, s2, s3))
		out.spend[s] = w.spend(s, out.events[s])
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
func (w *worker) advanceCohort(seed uint64, rep, i, year int) {
	p := w.p
	K := p.k
	c := &w.coh
	d := &w.demo
	d.Reseed(seed, PurposeDemography, rep, i, year)
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
	j.Reseed(seed, PurposeJoiners, rep, i, year)
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
	// Joiners: over cells by conditional binomials, then over states.
	joiners := int64(j.Poisson(dm.Turnover * float64(start)))
	for cell := 0; cell < NCells && joiners > 0; cell++ {
		x := joiners
		if cell < NCells-1 {
			x = j.binomialOf(joiners, &c.joinCell[cell])
		}
		joiners -= x
		w.multinomialStates(j, x, cell, c.next)
	}
	c.n, c.next = c.next, c.n
}

// alias draws from a distribution on at most 256 outcomes with one 64-bit
// word, by Walker's alias method (built by Vose's method, IEEE TSE 17(9),
// 1991): the word's high part times the number of outcomes picks a column,
// its low part (uniform given the column) keeps the column if below the
// column's threshold, else takes the column's alias. An entry packs the
// threshold (top 56 bits; resolution 2^-56) and the alias (low 8 bits).
type alias struct{ e []uint64 }

type aliasScratch struct {
	w            []float64
	small, large []int
}

// build makes a from weights w (non-negative, not all zero, at most 256),
// reusing a's storage.
func (a *alias) build(w []float64, sc *aliasScratch) {
	n := len(w)
	if n > 256 {
		panic("sim: alias table over more than 256 outcomes")
	}
	a.e = appendAlias(a.e[:0], w, sc)
}

// draw returns an outcome.
func (a *alias) draw(u uint64) int {
	hi, lo := bits.Mul64(u, uint64(len(a.e)))
	e := a.e[hi]
	k := e & 0xff
	if lo < e&^0xff {
		k = hi
	}
	return int(k)
}

// appendAlias appends the alias entries of weights w to dst.
func appendAlias(dst []uint64, w []float64, sc *aliasScratch) []uint64 {
	n := len(w)
	total := 0.0
	for _, x := range w {
		total += x
	}
	sc.w = grow(sc.w, n)[:n]
	sc.small, sc.large = sc.small[:0], sc.large[:0]
	for k, x := range w {
		sc.w[k] = x / total * float64(n) // mean 1 per column
		if sc.w[k] < 1 {
			sc.small = append(sc.small, k)
		} else {
			sc.large = append(sc.large, k)
		}
	}
	start := len(dst)
	for k := range n {
		dst = append(dst, math.MaxUint64&^0xff|uint64(k))
	}
	e := dst[start:]
	for len(sc.small) > 0 && len(sc.large) > 0 {
		s, l := sc.small[len(sc.small)-1], sc.large[len(sc.large)-1]
		sc.small = sc.small[:len(sc.small)-1]
		e[s] = toThreshold(sc.w[s])&^0xff | uint64(l)
		sc.w[l] -= 1 - sc.w[s]
		if sc.w[l] < 1 {
			sc.large = sc.large[:len(sc.large)-1]
			sc.small = append(sc.small, l)
		}
	}
	// Columns left in either list hold weight 1 up to rounding: kept always.
	return dst
}
