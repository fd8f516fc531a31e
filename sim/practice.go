package sim

import (
	"context"
	"fmt"
	"math"
	"math/bits"
)

// list is one practice's patients in structure-of-arrays form, owned by a
// worker for the span of one (replication, practice) task.
type list struct {
	sa    []uint8  // sex·(MaxAge+1) + age (saOf): one byte read and written per patient-year
	row   []uint16 // (cell*K + state): the patient's row in the tables (its frailty state is row % K)
	cells [NCells]int32
}

// saOf packs a sex and an age into a list's sa byte.
func saOf(sex, age int) uint8 { return uint8(sex*(MaxAge+1) + age) }

func (l *list) reset() {
	l.sa, l.row = l.sa[:0], l.row[:0]
	l.cells = [NCells]int32{}
}

func (l *list) add(sex, age, state, K int) {
	c := CellOf(sex, age)
	l.sa = append(l.sa, saOf(sex, age))
	l.row = append(l.row, uint16(c*K+state))
	l.cells[c]++
}

// worker holds everything one goroutine reuses across tasks, so the hot
// loop allocates nothing once buffers have grown.
type worker struct {
	p      *prepared
	counts Draws
	costs  Draws
	costsB Draws // lognormal events alternate between costs and costsB
	demo   Draws
	other  Draws
	tab    countTables
	mu     []float64
	pop    list

	// Built once per worker (they depend only on the model): rowOf maps
	// (sex, age, state) to a patient's table row, trans is p.trans flattened
	// (row*(K+2) + outcome) so advance reads one contiguous slice.
	rowOf []uint16
	older []uint8 // sa -> sa a year on (ages stop at MaxAge)
	// ageing[sa*(K+2) + outcome]: where a patient of sa who stays, in state
	// outcome, is a year on, packed: row (bits 0-15), its cell (16-23), sa
	// (32-39). One load per patient-year; outcomes K and K+1 (died, left)
	// repeat K-1's, as the fused loop writes everyone and keeps stayers.
	ageing  []uint64
	trans   []uint64
	rowCell []uint8      // row (cell*K + state) -> cell, sparing a division by K
	shareTh []uint64     // per cell, its state shares' cumulative thresholds, the last state's omitted (cell*(K-1) + k)
	woman   []uint8      // (sex, age) -> 1 for women aged 15-44 (who may give birth)
	dem     []guideEntry // trans's guide tables (demGuide)

	// patientYears counts patient-years simulated, for benchmarks.
	patientYears int64

	plan  practicePlan              // the current task's policy (plan.go)
	out   yearOut                   // the current year's results (task.go)
	built [NStreams]float64         // the rate multipliers the tables are built for (task.go)
	coh   cohort                    // cohort-mode state (cohort.go)
	parts [NStreams][]lognormalPart // lognormal cost parts for spend (costsum.go)

	// The current year's effects (task.go): the share of the events drawn
	// at the tables' rates that the year's own rates keep (thinned by
	// binomials from thin), and the multiplier on cost per event.
	fx      taskEffects
	keep    [NStreams]float64
	price   [NStreams]float64
	thin    Draws // a stream's total, reseeded per stream (thinPurpose)
	thinP   Draws // patient by patient (the streams a stop-loss covers)
	yearKey Key   // the year's key (reseedYear)

	ev        *listEvents // the replication's list events; nil: no list dynamics (lists.go)
	ls        listTask
	listDraws Draws
	marks     []uint64 // patients a list change removes (lists.go)
	demU      []uint64 // the year's demography uniforms, by patient (simulateYear, advance)
}

// setup builds the worker's model-wide lookup tables on first use.
func (w *worker) setup() {
	if w.rowOf != nil {
		return
	}
	w.costSetup()
	K := w.p.k
	w.rowOf = make([]uint16, NSex*(MaxAge+1)*K)
	for sex := range NSex {
		for age := 0; age <= MaxAge; age++ {
			c := CellOf(sex, age)
			for k := range K {
				w.rowOf[(sex*(MaxAge+1)+age)*K+k] = uint16(c*K + k)
			}
		}
	}
	w.woman = make([]uint8, NSex*(MaxAge+1))
	for a := 15; a <= 44; a++ {
		w.woman[saOf(Female, a)] = 1
	}
	w.older = make([]uint8, NSex*(MaxAge+1))
	for sex := range NSex {
		for a := 0; a <= MaxAge; a++ {
			w.older[saOf(sex, a)] = saOf(sex, min(a+1, MaxAge))
		}
	}
	w.rowCell = make([]uint8, NCells*K)
	for r := range w.rowCell {
		w.rowCell[r] = uint8(r / K)
	}
	w.ageing = make([]uint64, NSex*(MaxAge+1)*(K+2))
	for sa := range NSex * (MaxAge + 1) {
		na := w.older[sa]
		for k := range K + 2 {
			nr := w.rowOf[int(na)*K+min(k, K-1)]
			w.ageing[sa*(K+2)+k] = uint64(nr) | uint64(w.rowCell[nr])<<16 | uint64(na)<<32
		}
	}
	// Per cell, then newborns' (cell NCells: the stationary shares).
	for c := range NCells + 1 {
		shares := w.p.m.Frailty.Share
		if c < NCells {
			shares = w.p.cellShare[c*K : c*K+K]
		}
		cum := 0.0
		for _, sh := range shares[:K-1] {
			cum += sh
			w.shareTh = append(w.shareTh, toThreshold(cum))
		}
	}
	for s := range NStreams {
		w.keep[s], w.price[s] = 1, 1
	}
	w.trans = make([]uint64, 0, NCells*K*(K+2))
	for _, row := range w.p.trans {
		w.trans = append(w.trans, row...)
	}
	w.demGuide()
}

// yearOut is what simulating one practice-year yields.
type yearOut struct {
	listSize int
	spend    [NStreams]float64
	events   [NStreams]int
	stopLoss float64 // cost above the per-patient stop-loss threshold
}

// stateOf draws a frailty state for a patient in cell c (c = NCells: a
// newborn, from the stationary shares) with one word of d (stateAt).
func (w *worker) stateOf(d *Draws, c int) int { return w.stateAt(c, d.G.Uint64()) }

// stateAt returns the frailty state of uniform word u for a patient in cell
// c: the number of the cell's cumulative-share thresholds u reaches (no
// branch to mispredict).
func (w *worker) stateAt(c int, u uint64) int {
	k := 0
	K1 := w.p.k - 1
	for _, th := range w.shareTh[c*K1 : c*K1+K1] {
		if u >= th {
			k++
		}
	}
	return k
}

// initList builds the starting list of practice i: ages within band are fixed
// for the scenario and seed (the practice's characteristics), frailty states
// are chance and drawn per replication. The list is written in place, band by
// band.
func (w *worker) initList(k Key) {
	i := k.Practice
	w.setup()
	pr := &w.p.m.Practices[i]
	K := w.p.k
	l := &w.pop
	l.reset()
	n := 0
	for sex := range NSex {
		for b := range NBands {
			n += pr.Count[sex][b]
		}
	}
	l.sa, l.row = grow(l.sa, n)[:n], grow(l.row, n)[:n]
	w.other.Reseed(Key{Seed: k.Seed, Rep: -1, Practice: i, Year: -1}, PurposeAges)
	w.demo.Reseed(k.At(-1), PurposeInitial)
	j := 0
	for sex := range NSex {
		for b := range NBands {
			cnt := pr.Count[sex][b]
			c := sex*NBands + b
			l.cells[c] += int32(cnt)
			lo, span := uint64(5*b), uint64(5)
			if b == NBands-1 {
				lo, span = 95, 10 // 95 to 104
			}
			for range cnt {
				age, _ := bits.Mul64(w.other.G.Uint64(), span)
				st := w.stateOf(&w.demo, c)
				l.sa[j] = saOf(sex, int(lo+age))
				l.row[j] = uint16(c*K + st)
				j++
			}
		}
	}
}

// buildTables sets the count tables for practice i with per-stream rate
// multipliers mult (replication uncertainty, behaviour).
func (w *worker) buildTables(i int, mult *[NStreams]float64) {
	w.rates(i, mult)
	var disp [NStreams]float64
	for s := range NStreams {
		disp[s] = w.p.m.Streams[s].Dispersion
	}
	w.tab.build(w.mu, &disp)
}

// rates sets w.mu to each (group, stream)'s mean count per patient of
// practice i (group = cell*K + state), with stream multipliers mult: both
// modes' rates.
func (w *worker) rates(i int, mult *[NStreams]float64) {
	p := w.p
	K := p.k
	w.mu = grow(w.mu, NCells*K*NStreams)
	for c := range NCells {
		sex, b := c/NBands, c%NBands
		for k := range K {
			for s := range NStreams {
				w.mu[(c*K+k)*NStreams+s] = p.m.Streams[s].Rate[sex][b] * p.pmult[i][s] * mult[s] * p.frailMult[s][c*K+k]
			}
		}
	}
}

// stepYear simulates practice i's year: events and costs for the list at the
// start of the year, then (unless it is the last year) the list moves on a
// year. Without a per-patient stop-loss both happen in one pass over the
// patients (yearAndAdvance); with one, simulateYear draws each covered
// patient's costs and keeps the demography uniforms for advanceWith. Both
// paths take each patient's three words (patientdraws.go) in the same
// order and drop leavers without reordering the list, so a scenario with a
// stop-loss and one without give the same patients the same counts and
// demography draws (common random numbers).
func (w *worker) stepYear(k Key, last bool, sl *StopLoss, out *yearOut) {
	w.reseedYear(k)
	if sl.Active() {
		w.simulateYear(sl, out, !last)
		if !last {
			w.advanceWith(k, w.demU)
		}
		return
	}
	w.yearAndAdvance(k, out, !last)
}

// yearAndAdvance simulates the year without a stop-loss and, if advance,
// moves the list on (advanceWith): for each patient, three words
// (patientdraws.go), for the five streams' counts and the demography's
// next state, death or leaving. The counts pass keeps each patient's
// demography uniform, which the demography pass then reads: two loops, each
// with few enough live values to keep them in registers. Without advance
// (the last year) the list is left as it is.
func (w *worker) yearAndAdvance(k Key, out *yearOut, advance bool) {
	w.setup()
	t := &w.tab
	rows := w.pop.row
	n := len(rows)
	out.listSize = n
	w.patientYears += int64(n)
	g := &w.counts.G
	fast, guide := t.fast, t.guide
	w.demU = grow(w.demU, n)
	demU := w.demU[:n]
	var ev [NStreams]int // counts past one (the tables' part); the rest below
	// pastA and pastB count the lanes of words a and b at or past their
	// zero threshold (a count of 1 or more): one 32-bit counter per lane,
	// the guard bits shifted down to bits 32 and 0 (a list is far below
	// 2^32 patients).
	var pastA, pastB uint64
	for j, row := range rows {
		r := int(row)
		f := &fast[r]
		a, b, c := g.Uint64(), g.Uint64(), g.Uint64()
		demU[j] = c << 32
		// The four rarer streams are mostly 0 or 1 events: a lane's count
		// is [x >= zero] (its guard bit after the subtraction), two lanes
		// at once, and only a lane past one (a count of 2 or more, or a row
		// not yet built) goes to the table.
		xa, xb := a|laneGuard, b|laneGuard
		pastA += (xa - f.zero[0]) & laneGuard >> 31
		pastB += (xb - f.zero[1]) & laneGuard >> 31
		// A guard bit left set by the subtraction marks a lane at or past
		// its threshold for one (a count of 2 or more): rare.
		if pa, pb := xa-f.one[0], xb-f.one[1]; (pa|pb)&laneGuard != 0 {
			t.pastOne(r*NStreams, a, b, pa, pb, &ev)
			guide = t.guide // building a row may have moved it
		}
		// Prescribing draws past zero for nearly every patient: straight
		// to its guide entry (sample's fast path by hand: sample is too big
		// to inline).
		u := c &^ lowHalf
		e := guide[f.goff+int32(u>>(f.shift&63))]
		if e.k >= 0 {
			_, br := bits.Sub64(u, e.th, 0) // 1 if u < th
			ev[Prescribing] += int(e.k) + 1 - int(br)
		} else {
			ev[Prescribing] += t.scan(r*NStreams+int(Prescribing), u, int(-1-e.k))
			guide = t.guide // building a row may have moved it
		}
	}
	ev[Outpatient] += int(pastA >> 32)
	ev[AE] += int(uint32(pastA))
	ev[Emergency] += int(pastB >> 32)
	ev[Elective] += int(uint32(pastB))
	w.finishYear(&ev, out)
	if advance {
		w.advanceWith(k, demU)
	}
}

// pastOne adds to ev, for each of the four rarer streams whose lane in
// words a and b is at or past its row's threshold for one event (its guard
// bit in pa or pb, words a and b less their one thresholds, is set),
// the count's excess over one (the fused loop has counted one already).
// base is the patient's first row (group·NStreams).
func (t *countTables) pastOne(base int, a, b, pa, pb uint64, ev *[NStreams]int) {
	if pa&(1<<63) != 0 {
		ev[Outpatient] += t.sample(base+int(Outpatient), laneU(a, laneShift[Outpatient])) - 1
	}
	if pa&(1<<31) != 0 {
		ev[AE] += t.sample(base+int(AE), laneU(a, laneShift[AE])) - 1
	}
	if pb&(1<<63) != 0 {
		ev[Emergency] += t.sample(base+int(Emergency), laneU(b, laneShift[Emergency])) - 1
	}
	if pb&(1<<31) != 0 {
		ev[Elective] += t.sample(base+int(Elective), laneU(b, laneShift[Elective])) - 1
	}
}

// demBits: each transition row's guide (dem) has 2^demBits entries.
const demBits = 6

// demGuide builds w.dem: for each row of w.trans and each of 2^demBits
// equal intervals of u, the number k of the row's first K+1 thresholds at
// or below the interval's start and the next threshold th, so the outcome
// is k + [u >= th] with one comparison; k < 0 marks an interval holding a
// second threshold, resolved by demSlow.
func (w *worker) demGuide() {
	K := w.p.k
	K2 := K + 2
	rowsN := len(w.trans) / K2
	w.dem = make([]guideEntry, 0, rowsN<<demBits)
	for r := range rowsN {
		th := w.trans[r*K2 : r*K2+K+1]
		for j := range 1 << demBits {
			lo := uint64(j) << (64 - demBits)
			hi := lo | math.MaxUint64>>demBits
			k := 0
			for k < len(th) && th[k] <= lo {
				k++
			}
			e := guideEntry{k: int32(k)}
			switch {
			case k == len(th): // every threshold passed: k + [u >= 0]
				e.k, e.th = int32(k-1), 0
			case k+1 < len(th) && th[k+1] <= hi:
				e.k = -1
			default:
				e.th = th[k]
			}
			w.dem = append(w.dem, e)
		}
	}
}

// demSlow counts row r's first K+1 transition thresholds at or below u.
// Kept out of line, so that advanceWith's loop keeps its values in registers.
//
//go:noinline
func (w *worker) demSlow(r int, u uint64) int {
	K := w.p.k
	next := 0
	for _, th := range w.trans[r*(K+2) : r*(K+2)+K+1] {
		if u >= th {
			next++
		}
	}
	return next
}

// simulateYear draws one year of events and costs for the current list
// under a per-patient stop-loss: each patient's three words
// (patientdraws.go) from the counts stream, in patient order (so counts
// are common random numbers across scenarios), then the cost draws. Costs
// are independent of which patient has the event, so streams the stop-loss
// does not cover draw their costs after the loop from the year's total
// count (spend, costsum.go: one Gamma(N·shape) draw for a gamma-sum
// stream, an exact tail and a moment-matched body for a lognormal one);
// covered streams draw each patient's own cost (and thin its counts to the
// year's rates patient by patient). With keep, each patient's demography
// uniform is kept in w.demU for advanceWith.
func (w *worker) simulateYear(sl *StopLoss, out *yearOut, keep bool) {
	w.setup()
	t := &w.tab
	rows := w.pop.row
	out.listSize = len(rows)
	w.patientYears += int64(len(rows))
	g := &w.counts.G
	if keep {
		w.demU = grow(w.demU, len(rows))
	}
	var ev [NStreams]int
	covered, threshold := sl.Streams, sl.Threshold
	var inline [NStreams]float64
	var evCovered [NStreams]int
	for i := range rows {
		base := int(rows[i]) * NStreams
		u, dem := patientUniforms(g.Uint64(), g.Uint64(), g.Uint64())
		if keep {
			w.demU[i] = dem
		}
		pc := 0.0
		for s := range NStreams {
			r := base + s
			if u[s] < t.zero[r] {
				continue
			}
			k := t.sample(r, u[s])
			if covered[s] {
				if w.keep[s] < 1 {
					k = w.thinP.Binomial(k, w.keep[s])
				}
				evCovered[s] += k
				c := w.costSum(s, k) * w.price[s]
				inline[s] += c
				pc += c
			} else {
				ev[s] += k
			}
		}
		if pc > threshold {
			out.stopLoss += pc - threshold
		}
	}
	w.finishYear(&ev, out)
	for s := range NStreams {
		out.events[s] += evCovered[s]
		out.spend[s] += inline[s]
	}
}

// thinPurpose is the purpose of stream s's thinning draws: one stream of
// draws per stream, so one stream's thinning does not depend on another's
// count (a stop-loss scenario and one without then thin the streams it
// does not cover alike).
func thinPurpose(s int) Purpose { return PurposeThin | Purpose(s+1)<<32 }

// finishYear sets the year's events and spend from the counts ev drawn at
// the count tables' rates: each stream's count is thinned to the year's
// own rate (Binomial(N, keep), exact: see taskEffects.blockRefs), then its
// spend is drawn from the count and priced at the year's cost multiplier.
// Without effects keep and price are 1 and nothing extra is drawn.
func (w *worker) finishYear(ev *[NStreams]int, out *yearOut) {
	for s := range NStreams {
		n := ev[s]
		if w.keep[s] < 1 {
			w.thin.Reseed(w.yearKey, thinPurpose(s))
			n = w.thin.Binomial(n, w.keep[s])
		}
		out.events[s] = n
		out.spend[s] = w.spend(s, n) * w.price[s]
	}
}

// costSum draws the total cost of k events of stream s from the costs stream:
// for a gamma-sum stream one Gamma(k·shape)·scale draw, for a lognormal
// mixture k draws of part j (chosen with the parts' shares) with cost
// exp(mu_j + sigma_j·Z).
func (w *worker) costSum(s, k int) float64 {
	if k == 0 {
		return 0
	}
	cs := &w.p.cost[s]
	d := &w.costs
	if cs.family == GammaSum {
		if cs.shape == 0 {
			return float64(k) * cs.mean[0]
		}
		return d.Gamma(float64(k)*cs.shape) * cs.scale
	}
	total := 0.0
	if len(cs.cum) == 1 {
		mu, sigma := cs.mu[0], cs.sigma[0]
		if sigma == 0 {
			return float64(k) * cs.mean[0]
		}
		// Events alternate between two generators, whose draws are
		// independent chains the processor overlaps.
		g, gb := &d.G, &w.costsB.G
		db := &w.costsB
		for e := 0; e < k; e += 2 {
			// NormZ's fast path and fastExp, by hand, for each generator.
			ua, ub := g.Uint64(), uint64(0)
			if e+1 < k {
				ub = gb.Uint64()
			}
			ia, ja := ua&127, int64(ua)>>8
			ib, jb := ub&127, int64(ub)>>8
			var za, zb float64
			if (ja^(ja>>63))-(ja>>63) < zigK[ia] {
				za = float64(ja) * zigW[ia]
			} else {
				za = d.normSlow(ua)
			}
			if (jb^(jb>>63))-(jb>>63) < zigK[ib] {
				zb = float64(jb) * zigW[ib]
			} else {
				zb = db.normSlow(ub)
			}
			xa, xb := mu+sigma*za, mu+sigma*zb
			if xa > -700 && xa < 700 && xb > -700 && xb < 700 {
				ea, eb := expPoly(xa), expPoly(xb)
				total += ea
				if e+1 < k {
					total += eb
				}
			} else {
				total += math.Exp(xa)
				if e+1 < k {
					total += math.Exp(xb)
				}
			}
		}
		return total
	}
	last := len(cs.cum) - 1
	for range k {
		j := 0
		u := d.Float64()
		for j < last && u >= cs.cum[j] {
			j++
		}
		if cs.sigma[j] == 0 {
			total += cs.mean[j]
		} else {
			total += fastExp(cs.mu[j] + cs.sigma[j]*d.NormZ())
		}
	}
	return total
}

// advance moves the list on a year outside a run's year loop (calibration):
// it draws the year's three words per patient from the counts stream of
// key k, as a run's year does, and moves the list with their demography
// uniforms (advanceWith). It leaves the counts stream reseeded at k.
func (w *worker) advance(k Key) {
	w.counts.Reseed(k, PurposeCounts)
	g := &w.counts.G
	n := len(w.pop.row)
	w.demU = grow(w.demU, n)
	for j := range n {
		_, _, c := g.Uint64(), g.Uint64(), g.Uint64()
		_, w.demU[j] = patientUniforms(0, 0, c)
	}
	w.advanceWith(k, w.demU)
}

// advanceWith moves the list on a year with patient j's demography uniform
// dem[j]: frailty transitions, deaths and leavers, ageing, then births and
// new registrations. Each patient's outcome (0..K-1: next state, K: death,
// K+1: leaves) is the number of its row's thresholds at or below u, from
// the row's guide entry (see demGuide).
func (w *worker) advanceWith(k Key, dem []uint64) {
	w.setup()
	K := w.p.k
	l := &w.pop
	n := len(l.row)
	start := n
	rows := l.row[:n]
	sas := l.sa[:len(rows)]
	dem = dem[:len(rows)]
	ageing, guide := w.ageing, w.dem
	K2 := K + 2
	wi := 0
	// The list's cells a year on: a histogram of who stays, by their new
	// cell (indexed by a byte, so without bounds checks).
	var cells [256]int32
	// Two passes, each with few enough live values for the registers: the
	// outcomes first, each written over its patient's uniform, then the
	// list moved on.
	for j, row := range rows {
		r := int(row)
		u := dem[j]
		de := guide[r<<demBits|int(u>>(64-demBits))]
		if de.k < 0 {
			dem[j] = uint64(w.demSlow(r, u))
			continue
		}
		_, br := bits.Sub64(u, de.th, 0)
		dem[j] = uint64(int(de.k) + 1 - int(br))
	}
	for j := range rows {
		next := int(dem[j])
		// Who died or left is dropped without a branch: every patient is
		// written at wi, which moves on only for those who stay, so the
		// list keeps its order.
		stay := 0
		if next < K {
			stay = 1
		}
		x := ageing[int(sas[j])*K2+next]
		sas[wi], rows[wi] = uint8(x>>32), uint16(x)
		wi += stay
		cells[uint8(x>>16)] += int32(stay)
	}
	// Women aged 15-44 after ageing are the female cells of bands 3 to 8
	// (15-19 ... 40-44).
	women := 0
	for b := 3; b <= 8; b++ {
		women += int(cells[Female*NBands+b])
	}
	copy(l.cells[:], cells[:NCells])
	l.sa, l.row = sas[:wi], rows[:wi]
	w.addJoiners(k, women, start)
}

// addJoiners adds the year's births (to women aged 15-44 after ageing) and
// new registrations (as many as turnover takes, in expectation, from a list
// of start patients) with the practice's own age-sex mix. A birth takes one
// word of the joiners stream: its top half the sex, its bottom half the
// frailty state (from the stationary shares).
func (w *worker) addJoiners(k Key, women, start int) {
	p := w.p
	K := p.k
	l := &w.pop
	dm := &p.m.Demography
	j := &w.other
	j.Reseed(k, PurposeJoiners)
	births := j.Poisson(dm.BirthRate * float64(women))
	boy := toThreshold(dm.MaleBirthShare)
	for range births {
		v := j.G.Uint64()
		sex := Female
		if v&^lowHalf < boy {
			sex = Male
		}
		l.add(sex, 0, w.stateAt(NCells, v<<32), K)
	}
	w.joinFromMix(j, k.Practice, j.Poisson(dm.Turnover*float64(start)))
}

// joinFromMix adds count patients with practice i's own age-sex mix (ages
// uniform within band, frailty from the cell's shares), each from two words
// of j: the first picks the cell (Walker's alias table of the practice's
// mix), the second's top half the age within the band and its bottom half
// the frailty state.
func (w *worker) joinFromMix(j *Draws, i, count int) {
	K := w.p.k
	l := &w.pop
	mix := alias{e: w.p.joinAlias[i*NCells : (i+1)*NCells]}
	for range count {
		c := mix.draw(j.G.Uint64())
		v := j.G.Uint64()
		sex, b := c/NBands, c%NBands
		lo, span := 5*b, uint64(5)
		if b == NBands-1 {
			lo, span = 95, 10 // 95 to 104
		}
		age, _ := bits.Mul64(v&^lowHalf, span)
		l.add(sex, lo+int(age), w.stateAt(c, v<<32), K)
	}
}

// checkFinite guards against a parameter combination that slipped past
// validation and produced non-finite money.
func checkFinite(y *yearOut) error {
	for s, v := range y.spend {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("stream %s: spend is %v", StreamNames[s], v)
		}
	}
	return nil
}

// Kernel runs the work of one (replication, practice) task outside Run, on
// the same code path as a run's workers, so benchmarks and profiles measure
// what runs do. A Kernel is not safe for concurrent use.
type Kernel struct {
	w      worker
	rp     *repParams // replication rpRep's parameters (params)
	rpSeed uint64
	rpRep  int
	rows   []PracticeYear
	years  int
	cohort bool
	evKey  Key // the replication k.w.ev was drawn for
}

// NewKernel prepares m for Kernel.Practice with the given number of years
// after the base year; cohort selects the cohort (aggregate) mode.
func NewKernel(m *Model, years int, cohort bool) (*Kernel, error) {
	if years < 1 {
		return nil, fmt.Errorf("years must be at least 1, got %d", years)
	}
	if cohort && m.StopLoss.Active() {
		return nil, fmt.Errorf("model %q: %w", m.Name, ErrCohortStopLoss)
	}
	p, err := prepare(m)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", m.Name, err)
	}
	if err := p.checkCounts(years); err != nil {
		return nil, fmt.Errorf("model %q over %d years: %w", m.Name, years, err)
	}
	return &Kernel{w: worker{p: p}, rows: make([]PracticeYear, len(m.Practices)*years), years: years, cohort: cohort}, nil
}

// Practice simulates practice i of replication rep through its base years
// and the Kernel's years, with the replication's parameters as a run
// draws them, and returns the patient-years it simulated (in cohort mode,
// the patient-years represented). With list dynamics it applies each
// year's list change, but no closures or mergers, which need the other
// practices' tasks.
func (k *Kernel) Practice(seed uint64, rep, i int) (int64, error) {
	before := k.w.patientYears
	var sim simulator = patients{&k.w}
	if k.cohort {
		sim = cohorts{&k.w}
	}
	if k.w.p.lists != nil && (k.w.ev == nil || k.evKey != TaskKey(seed, rep, -1)) {
		// List changes, without closures and mergers: those need the
		// other practices' tasks.
		k.w.ev, k.evKey = k.w.p.drawListEvents(seed, rep, k.years, false, k.w.ev), TaskKey(seed, rep, -1)
	}
	err := k.w.runTask(context.Background(), sim, TaskKey(seed, rep, i), k.years, k.params(seed, rep), k.rows)
	return k.w.patientYears - before, err
}

// Start sets up practice i of replication rep (its starting list, its
// effects for every year, and count tables, every table row built, at the
// first year's reference rates) for Year, untimed by kernel benchmarks.
func (k *Kernel) Start(seed uint64, rep, i int) {
	w := &k.w
	w.setup()
	key := TaskKey(seed, rep, i)
	w.initList(key)
	k.params(seed, rep)
	w.fx.reset(w.p, key, k.rp, w.p.firstYear(), w.p.firstYear()+k.years)
	w.built = k.rp.mult
	w.yearEffects(w.fx.at(w.p.firstYear()), &w.built)
	w.buildTables(i, &w.built)
	w.tab.buildAll()
}

// Year is the per-patient-year kernel: year's effects (the rates and prices
// they give it, and the count tables rebuilt if its reference rates moved),
// its events and costs for the current list, then its demography (the list
// moves on a year). year counts from the first base year (0, ...,
// Kernel's years). It returns the patient-years simulated.
func (k *Kernel) Year(seed uint64, rep, i, year int) int64 {
	n, _, _ := k.YearTotals(seed, rep, i, year)
	return n
}

// params returns replication rep's parameters, drawn once per replication
// as a run draws them.
func (k *Kernel) params(seed uint64, rep int) *repParams {
	if k.rp == nil {
		k.rp = new(repParams)
	} else if k.rpSeed == seed && k.rpRep == rep {
		return k.rp
	}
	drawParams(k.w.p.m, k.w.p.unc, seed, rep, k.rp)
	k.rpSeed, k.rpRep = seed, rep
	return k.rp
}

// Rows are the rows the Kernel's last calls wrote (year-major, as in Run).
func (k *Kernel) Rows() []PracticeYear { return k.rows }
