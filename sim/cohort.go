package sim

import (
	"errors"
	"math"
)

// Cohort mode simulates a practice from the counts of its patients in each
// (age-sex cell, frailty state) group rather than patient by patient. It uses
// exact aggregate distributions wherever the model has them:
//
//   - Event counts. A patient's count in stream s is Poisson(mu·G) with G ~
//     Gamma(r, 1/r) (negative binomial). Over the n patients of a group the
//     G's sum to one Gamma(n·r, 1/r) draw, and since Poisson counts add, the
//     stream's year total is one Poisson(Σ_groups mu_g·Gamma(n_g·r)/r) draw:
//     one gamma per group and stream, one Poisson per stream (Poisson streams
//     need no gamma).
//   - Costs. Costs per event do not depend on the patient, so the year's
//     spend is drawn from the stream's total count exactly as in patient
//     mode: one Gamma(N·shape) draw for a gamma-sum stream, N lognormal draws
//     for a lognormal mixture (no closed form exists for their sum).
//   - Frailty transitions, deaths and leavers: a multinomial per group over
//     next state, death and leaving, drawn as conditional binomials.
//     Births and joiners: Poisson totals as in patient mode, spread over
//     cells and states by multinomials.
//
// One approximation: ages within a 5-year band are not tracked, so a band's
// survivors move up a band with probability 1/5 (Binomial), which is exact
// when ages are uniform within the band (as the starting list's are in
// expectation) and otherwise close. The 95+ band does not age out.
//
// Cohort mode does not apply where a scenario needs individual patients: a
// per-patient stop-loss (cost above a threshold per patient). Run rejects
// that combination. Its results agree with patient mode in distribution but
// not draw for draw (cohort_test.go checks means and variances).
type cohort struct {
	n, next []int64 // patients per group, group = cell*K + state
	prob    []float64
}

// ErrCohortStopLoss says a model with a per-patient stop-loss cannot run in
// cohort mode.
var ErrCohortStopLoss = errors.New("cohort mode cannot apply a per-patient stop-loss; run at patient level")

// cohortSetup sizes the buffers and turns the transition thresholds into
// probabilities (row*(K+2) + outcome).
func (w *worker) cohortSetup() {
	c := &w.coh
	K := w.p.k
	if len(c.n) == NCells*K {
		return
	}
	c.n = make([]int64, NCells*K)
	c.next = make([]int64, NCells*K)
	c.prob = make([]float64, 0, NCells*K*(K+2))
	for _, row := range w.p.trans {
		prev := 0.0
		for _, th := range row {
			x := float64(th) * 0x1p-64
			if th == math.MaxUint64 {
				x = 1
			}
			c.prob = append(c.prob, x-prev)
			prev = x
		}
	}
}

// multinomialStates spreads n patients of cell c over frailty states with
// the stationary shares, adding them to dst.
func (w *worker) multinomialStates(d *Draws, n int64, c int, dst []int64) {
	K := w.p.k
	share := w.p.m.Frailty.Share
	rem, mass := n, 1.0
	for k := 0; k < K-1 && rem > 0; k++ {
		x := int64(d.Binomial(int(rem), math.Min(share[k]/mass, 1)))
		dst[c*K+k] += x
		rem -= x
		mass -= share[k]
		if mass <= 0 {
			break
		}
	}
	dst[c*K+K-1] += rem
}

// runCohort is run in cohort mode: practice i of replication rep through the
// base year and years reported years.
func (w *worker) runCohort(seed uint64, rep, i, years int, mult *[NStreams]float64, rows []PracticeYear) error {
	p := w.p
	m := p.m
	if m.StopLoss != nil && m.StopLoss.Threshold > 0 && m.StopLoss.Streams != [NStreams]bool{} {
		return ErrCohortStopLoss
	}
	np := len(m.Practices)
	w.cohortSetup()
	K := p.k
	c := &w.coh
	clear(c.n)
	pr := &m.Practices[i]
	w.demo.Reseed(seed, PurposeInitial, rep, i, -1)
	for cell := range NCells {
		w.multinomialStates(&w.demo, int64(pr.Count[cell/NBands][cell%NBands]), cell, c.n)
	}
	// The practice's policy (regime, behaviour, budgets) as at patient level.
	var pl practicePlan
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
func (w *worker) cohortYear(out *yearOut) {
	d := &w.counts
	n := w.coh.n
	for s := range NStreams {
		r := w.p.m.Streams[s].Dispersion
		poisson := r == 0 || math.IsInf(r, 1)
		lam := 0.0
		for g, x := range n {
			if x == 0 {
				continue
			}
			mu := w.mu[g*NStreams+s]
			if mu == 0 {
				continue
			}
			if poisson {
				lam += float64(x) * mu
			} else {
				lam += mu / r * d.Gamma(float64(x)*r)
			}
		}
		k := d.Poisson(lam)
		out.events[s] = k
		out.spend[s] = w.costSum(s, k)
	}
}

// advanceCohort moves the group counts on a year: per group a multinomial
// over next state, death and leaving; survivors age into the next band with
// probability 1/5; then births and joiners.
func (w *worker) advanceCohort(seed uint64, rep, i, year int) {
	p := w.p
	K := p.k
	c := &w.coh
	d := &w.demo
	d.Reseed(seed, PurposeDemography, rep, i, year)
	clear(c.next)
	start := int64(0)
	for g, x := range c.n {
		if x == 0 {
			continue
		}
		start += x
		cell, k := g/K, g%K
		b := cell % NBands
		prob := c.prob[g*(K+2) : g*(K+2)+K+2]
		// Conditional binomials: death, leaving, moves to other states; the
		// rest stay in state k (the largest share, so drawn last for free).
		rem, mass := x, 1.0
		rem -= int64(d.Binomial(int(rem), math.Min(prob[K]/mass, 1)))
		mass -= prob[K]
		if rem > 0 && mass > 0 {
			rem -= int64(d.Binomial(int(rem), math.Min(prob[K+1]/mass, 1)))
			mass -= prob[K+1]
		}
		for j := 0; j < K && rem > 0; j++ {
			var x int64
			if j == k {
				continue
			}
			if mass > 0 {
				x = int64(d.Binomial(int(rem), math.Min(prob[j]/mass, 1)))
			}
			mass -= prob[j]
			rem -= x
			w.ageInto(d, x, cell, b, j)
		}
		w.ageInto(d, rem, cell, b, k)
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
	births := int64(j.Poisson(dm.BirthRate * float64(women)))
	boys := int64(j.Binomial(int(births), dm.MaleBirthShare))
	w.multinomialStates(j, boys, Male*NBands, c.next)
	w.multinomialStates(j, births-boys, Female*NBands, c.next)
	joiners := int64(j.Poisson(dm.Turnover * float64(start)))
	cdf := &p.joinCDF[i]
	prev := 0.0
	for cell := 0; cell < NCells && joiners > 0; cell++ {
		share := cdf[cell] - prev
		mass := 1 - prev
		prev = cdf[cell]
		var x int64
		if cell == NCells-1 || mass <= 0 {
			x = joiners
		} else {
			x = int64(j.Binomial(int(joiners), math.Min(share/mass, 1)))
		}
		joiners -= x
		w.multinomialStates(j, x, cell, c.next)
	}
	c.n, c.next = c.next, c.n
}

// ageInto adds x survivors of cell (band b) now in state k to next year's
// counts, a Binomial(x, 1/5) share of them one band up.
func (w *worker) ageInto(d *Draws, x int64, cell, b, k int) {
	if x == 0 {
		return
	}
	K := w.p.k
	if b == NBands-1 {
		w.coh.next[cell*K+k] += x
		return
	}
	up := int64(d.Binomial(int(x), 0.2))
	w.coh.next[cell*K+k] += x - up
	w.coh.next[(cell+1)*K+k] += up
}
