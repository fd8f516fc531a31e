package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// ListDynamics moves practices' lists beyond births, deaths and turnover, as
// real lists move (NHS Payments to General Practice, 2014/15-2018/19;
// docs/parameters.md, "Real-data calibration"): a drift that persists and
// varies from year to year, rare jumps (list cleaning, new estates, part of
// a neighbour's list), and practices that close (patients dispersed to
// their neighbours) or merge (absorbed by one neighbour). Each year's list
// events happen after the year's budgets are set, so budgets set on last
// year's list or spend meet the moved list. Events are drawn per
// practice-year, never per patient.
//
// A practice's annual log change X is drawn from the measured mixture
//
//	X ~ (1 − Σ P_k)·N(Drift + s_y + Persistence·(x − PersistenceCentre), v(n)) + Σ_k P_k·N(Mean_k, SD_k²)
//
// with s_y ~ N(0, DriftYearSD²) the year's drift, common to the area; x the
// practice's last annual change winsorised at ±PersistenceLimit (none in
// the first budget year); v(n) = DriftSD²·(DriftSDList/n)^DriftSDExponent
// less the variance the engine's own demography already gives a list of n
// (binomial leavers and deaths, Poisson joiners and births); X kept within
// ±JumpLimit. The engine applies D = X − g, where g is the growth per head
// its demography (births − deaths, turnover's joiners against leavers) and
// closures' dispersal supply in expectation, so a list's total mean change
// is the measured one: D > 0 adds Poisson(n(e^D − 1)) patients with the
// practice's age-sex mix, D < 0 removes each patient with probability
// 1 − e^D.
type ListDynamics struct {
	Drift, DriftYearSD                    float64
	DriftSD, DriftSDList, DriftSDExponent float64
	Persistence, PersistenceLimit         float64
	PersistenceCentre                     float64
	Jumps                                 []ListJump
	JumpLimit                             float64
	// Leaving: the yearly probabilities that a practice closes or merges,
	// by the band of its starting list.
	Leaving []LeavingBand
	// Neighbours: a closed practice's patients are dispersed over its
	// Neighbours nearest open practices (in the model's practice order,
	// standing in for geography), in proportion to their starting lists; a
	// merged practice is absorbed by one of them, drawn in that proportion.
	Neighbours int
}

// ListJump is one jump component of the annual list change: probability,
// mean and SD of the log change.
type ListJump struct{ P, Mean, SD float64 }

// LeavingBand is the yearly probability that a practice whose starting
// list is below Below (0: no bound, the last band) closes or merges.
type LeavingBand struct {
	Below           int
	Closure, Merger float64
}

// MaxNeighbours bounds ListDynamics.Neighbours.
const MaxNeighbours = 50

// RegimeClosed is the regime column of a practice-year after the practice
// closed or merged: list, budget, spend and money are all zero.
const RegimeClosed = "closed"

func (l *ListDynamics) check() error {
	var errs []error
	bad := func(name string, v, lo, hi float64) {
		if !(v >= lo && v <= hi) {
			errs = append(errs, fmt.Errorf("list dynamics: %s %v: accepted %v to %v", name, v, lo, hi))
		}
	}
	bad("drift", l.Drift, -0.5, 0.5)
	bad("drift year SD", l.DriftYearSD, 0, 1)
	bad("drift SD", l.DriftSD, 0, 1)
	bad("drift SD list", l.DriftSDList, 1, math.MaxInt32)
	bad("drift SD exponent", l.DriftSDExponent, 0, 2)
	bad("persistence", l.Persistence, -0.99, 0.99)
	bad("persistence limit", l.PersistenceLimit, 0, 1)
	bad("persistence centre", l.PersistenceCentre, -0.5, 0.5)
	bad("jump limit", l.JumpLimit, 0, math.Log(10))
	p := 0.0
	for k, j := range l.Jumps {
		bad(fmt.Sprintf("jump %d probability", k+1), j.P, 0, 1)
		bad(fmt.Sprintf("jump %d mean", k+1), j.Mean, -5, 5)
		bad(fmt.Sprintf("jump %d SD", k+1), j.SD, 0, 5)
		p += j.P
	}
	if !(p <= 1) {
		errs = append(errs, fmt.Errorf("list dynamics: jump probabilities sum to %v: accepted at most 1", p))
	}
	if len(l.Leaving) == 0 {
		errs = append(errs, errors.New("list dynamics: no leaving bands: accepted one or more, the last without a bound"))
	}
	for k, b := range l.Leaving {
		last := k == len(l.Leaving)-1
		switch {
		case last && b.Below != 0:
			errs = append(errs, fmt.Errorf("list dynamics: the last leaving band has a bound (%d): accepted none (0), so every list has a band", b.Below))
		case !last && (b.Below <= 0 || (k > 0 && b.Below <= l.Leaving[k-1].Below)):
			errs = append(errs, fmt.Errorf("list dynamics: leaving band %d's bound %d: accepted bounds above 0, increasing", k+1, b.Below))
		}
		if !(b.Closure >= 0 && b.Merger >= 0 && b.Closure+b.Merger <= 1) {
			errs = append(errs, fmt.Errorf("list dynamics: leaving band %d: closure %v and merger %v: accepted probabilities summing to at most 1", k+1, b.Closure, b.Merger))
		}
	}
	if l.Neighbours < 1 || l.Neighbours > MaxNeighbours {
		errs = append(errs, fmt.Errorf("list dynamics: %d neighbours: accepted 1 to %d", l.Neighbours, MaxNeighbours))
	}
	return errors.Join(errs...)
}

// band returns the leaving band of a list of n.
func (l *ListDynamics) band(n int) *LeavingBand {
	for k := range l.Leaving {
		if b := &l.Leaving[k]; b.Below == 0 || n < b.Below {
			return b
		}
	}
	return &l.Leaving[len(l.Leaving)-1]
}

// listPrep is what a run derives once from ListDynamics.
type listPrep struct {
	d *ListDynamics
	// own is the growth per head the engine supplies without the list
	// change: its demography's and closures' dispersal's, in expectation
	// over the area's starting lists; demoVar the variance per head of a
	// year's change from its demography.
	own, demoVar  float64
	natural       float64 // births less deaths, joiners less leavers, per head
	inflow        float64 // closed practices' patients per head of the area
	close, merger []float64
}

// prepareLists checks m.Lists and derives what a run needs; nil when the
// model has no list dynamics.
func prepareLists(p *prepared) (*listPrep, error) {
	m := p.m
	if m.Lists == nil {
		return nil, nil
	}
	if err := m.Lists.check(); err != nil {
		return nil, err
	}
	lp := &listPrep{d: m.Lists}
	dm := &m.Demography
	total, births, deaths, inflow := 0.0, 0.0, 0.0, 0.0
	for i := range m.Practices {
		pr := &m.Practices[i]
		n := pr.ListSize()
		b := m.Lists.band(n)
		lp.close = append(lp.close, b.Closure)
		lp.merger = append(lp.merger, b.Merger)
		inflow += b.Closure * float64(n)
		total += float64(n)
		for sex := range NSex {
			for band := range NBands {
				c := float64(pr.Count[sex][band])
				die := math.Min(dm.Mortality[sex][band], maxDeathProb)
				deaths += c * die
				if sex == Female && band >= 3 && band <= 8 {
					// Births are to the women of 15-44 who stay the year.
					births += c * dm.BirthRate * (1 - die) * (1 - dm.Turnover)
				}
			}
		}
	}
	// Joiners are turnover × the list, leavers turnover × the survivors:
	// net turnover × deaths.
	lp.natural = (births - deaths + dm.Turnover*deaths) / total
	lp.inflow = inflow / total
	lp.own = lp.natural + lp.inflow
	// Leavers are binomial (variance T(1 − T) a head), joiners, births
	// and deaths about Poisson.
	t := dm.Turnover
	lp.demoVar = ((2*t-t*t)*total + births + deaths) / total
	return lp, nil
}

// listEvents is one replication's list events, drawn before its tasks run
// (keyed by the replication), so each task knows what happens to it: the
// year's drift common to the area, and which practices leave, when, and to
// whom their patients go. A leaving practice's task publishes its list's
// group counts; its receivers' tasks wait for them. Tasks run in an order
// in which every donor comes before its receivers (order), so a task only
// ever waits for one started before it.
type listEvents struct {
	shock []float64 // per year: the area's drift this year less the mean
	leave []int32   // per practice: the year at whose start it is gone; 0: never
	merge []bool    // per practice: it leaves by merging (absorbed by one neighbour)
	out   [][]listMove
	in    [][]int32 // per practice: the practices that move patients to it, in index order
	done  []chan struct{}
	order []int
}

// listMove is part of a leaving practice's list: its share of the list
// (drawn by group when the practice leaves) for practice to.
type listMove struct {
	to     int32
	share  float64
	counts []int64 // per group (cell*K + state), filled by the donor
}

// drawListEvents draws replication rep's list events for years 1..years;
// structural false draws no closures or mergers (Kernel, which runs one
// practice at a time), reusing reuse's buffers if given.
func (p *prepared) drawListEvents(seed uint64, rep, years int, structural bool, reuse *listEvents) *listEvents {
	lp := p.lists
	np := len(p.m.Practices)
	ev := reuse
	if ev == nil || structural {
		ev = &listEvents{}
	}
	ev.shock, ev.leave = grow(ev.shock, years+1), grow(ev.leave, np)
	clear(ev.leave)
	var d Draws
	d.Reseed(Key{Seed: seed, Rep: rep, Practice: -1, Year: -1}, PurposeListEvents)
	for y := 1; y <= years; y++ {
		ev.shock[y] = lp.d.DriftYearSD * d.Norm()
	}
	ev.order = grow(ev.order, np)[:0]
	if !structural {
		for i := range np {
			ev.order = append(ev.order, i)
		}
		return ev
	}
	ev.out = make([][]listMove, np)
	ev.in = make([][]int32, np)
	ev.done = make([]chan struct{}, np)
	merger := make([]bool, np)
	ev.merge = merger
	var leaving []int
	for y := 1; y <= years; y++ {
		d.Reseed(Key{Seed: seed, Rep: rep, Practice: -1, Year: y}, PurposeListEvents)
		leaving = leaving[:0]
		stay := 0
		for i := range np {
			if ev.leave[i] != 0 {
				continue
			}
			u := d.Float64()
			switch {
			case u < lp.close[i]:
				leaving = append(leaving, i)
			case u < lp.close[i]+lp.merger[i]:
				leaving = append(leaving, i)
				merger[i] = true
			default:
				stay++
			}
		}
		if stay == 0 {
			for _, i := range leaving { // the last practices cannot all leave: none does
				merger[i] = false
			}
			continue
		}
		for _, i := range leaving {
			ev.leave[i] = int32(y)
		}
		for _, i := range leaving {
			moves := p.neighbours(ev.leave, i)
			if merger[i] {
				u, tot := d.Float64(), 0.0
				for _, mv := range moves {
					tot += mv.share
				}
				k := 0
				for c := 0.0; k < len(moves)-1; k++ {
					if c += moves[k].share; u*tot < c {
						break
					}
				}
				moves = []listMove{{to: moves[k].to, share: 1}}
			}
			ev.out[i] = moves
			ev.done[i] = make(chan struct{})
			for _, mv := range moves {
				ev.in[mv.to] = append(ev.in[mv.to], int32(i))
			}
		}
	}
	// Donors by the year they leave, earliest first; then everyone else.
	for y := 1; y <= years; y++ {
		for i := range np {
			if int(ev.leave[i]) == y {
				ev.order = append(ev.order, i)
			}
		}
	}
	for i := range np {
		if ev.leave[i] == 0 {
			ev.order = append(ev.order, i)
		}
	}
	for j := range ev.in {
		slices.Sort(ev.in[j])
	}
	return ev
}

// neighbours returns the moves of practice i's list to its nearest
// practices still open (leave 0) in the model's order (i+1, i−1, i+2, ...),
// at most Neighbours of them, with shares in proportion to their starting
// lists.
func (p *prepared) neighbours(leave []int32, i int) []listMove {
	np := len(leave)
	var out []listMove
	tot := 0.0
	for dist := 1; dist < np && len(out) < p.lists.d.Neighbours; dist++ {
		for _, j := range [2]int{i + dist, i - dist} {
			if j >= 0 && j < np && leave[j] == 0 && len(out) < p.lists.d.Neighbours {
				n := float64(p.m.Practices[j].ListSize())
				out = append(out, listMove{to: int32(j), share: n})
				tot += n
			}
		}
	}
	for k := range out {
		out[k].share /= tot
	}
	return out
}

// listMover is what list events need of a way of simulating a practice
// (patients, cohorts), beside simulator.
type listMover interface {
	size() int
	// join adds m patients with the practice's own age-sex mix.
	join(d *Draws, i, m int)
	// thin removes each patient independently with probability p.
	thin(d *Draws, p float64)
	// groups adds the list's counts per group (cell*K + state) to dst.
	groups(dst []int64)
	// receive adds patients by group, ages drawn within each band.
	receive(d *Draws, counts []int64)
	// empty drops every patient (the practice has left).
	empty()
}

// listTask is a task's list state between years.
type listTask struct {
	n1, n2 int // the lists the last two years were simulated on (0: none yet)
}

// listYear applies practice k.Practice's list events of year k.Year (after
// the year's budgets are set, before its events): it leaves (publishing
// its list and writing its closed rows, gone true), or its list changes
// and it receives the patients of practices leaving this year. It also
// records the list each year is simulated on, for persistence.
func (w *worker) listYear(ctx context.Context, s simulator, k Key, years int, rows []PracticeYear) (gone bool, err error) {
	ev, lp := w.ev, w.p.lists
	mv := s.(listMover)
	i, year := k.Practice, k.Year
	if year <= 0 { // a base year (more than one with a budget-setting lag)
		w.ls = listTask{n1: mv.size()}
		return false, nil
	}
	d := &w.listDraws
	d.Reseed(k, PurposeLists)
	if int(ev.leave[i]) == year {
		w.publish(d, mv, ev, i)
		np := len(w.p.m.Practices)
		for y := year; y <= years; y++ {
			rows[(y-1)*np+i] = PracticeYear{Replication: k.Rep, Year: y, Practice: i, closed: true}
		}
		return true, nil
	}
	if n := mv.size(); n > 0 {
		x := math.NaN()
		if w.ls.n2 > 0 && w.ls.n1 > 0 {
			x = math.Log(float64(w.ls.n1) / float64(w.ls.n2))
		}
		dx := lp.change(d, n, x, ev.shock[year])
		if dx > 0 {
			mv.join(d, i, d.Poisson(float64(n)*math.Expm1(dx)))
		} else if dx < 0 {
			mv.thin(d, -math.Expm1(dx))
		}
	}
	if ev.in == nil {
		w.ls.n2, w.ls.n1 = w.ls.n1, mv.size()
		return false, nil
	}
	for _, from := range ev.in[i] {
		if int(ev.leave[from]) != year {
			continue
		}
		select {
		case <-ev.done[from]:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		for _, m := range ev.out[from] {
			if int(m.to) == i {
				mv.receive(d, m.counts)
			}
		}
	}
	w.ls.n2, w.ls.n1 = w.ls.n1, mv.size()
	return false, nil
}

// change draws a practice's list change D for the year: the measured
// annual change X (see ListDynamics) for a list of n whose last change was
// x (NaN: unknown) in a year whose common drift is shock, less the growth
// the engine supplies itself.
func (lp *listPrep) change(d *Draws, n int, x, shock float64) float64 {
	l := lp.d
	u := d.Float64()
	z := d.Norm()
	var v float64
	for _, j := range l.Jumps {
		if u < j.P {
			v = j.Mean + j.SD*z
			return math.Max(-l.JumpLimit, math.Min(l.JumpLimit, v)) - lp.own
		}
		u -= j.P
	}
	mean := l.Drift + shock
	if !math.IsNaN(x) {
		mean += l.Persistence * (math.Max(-l.PersistenceLimit, math.Min(l.PersistenceLimit, x)) - l.PersistenceCentre)
	}
	v = mean + math.Sqrt(lp.driftVar(n, mean))*z
	return math.Max(-l.JumpLimit, math.Min(l.JumpLimit, v)) - lp.own
}

// driftVar is the variance of the drift draw for a list of n with mean
// mean: the measured variance at n, less what the list's realised change
// adds by itself, per head and over n: the demography's counts
// (demoVar) and the list change's own Poisson or binomial count, about
// E|D| for D ~ N(mean − own, measured variance).
func (lp *listPrep) driftVar(n int, mean float64) float64 {
	l := lp.d
	nf := float64(n)
	s2 := l.DriftSD * l.DriftSD * math.Pow(l.DriftSDList/nf, l.DriftSDExponent)
	mu, s := mean-lp.own, math.Sqrt(s2)
	abs := math.Abs(mu)
	if s > 0 {
		abs = s*math.Sqrt(2/math.Pi)*math.Exp(-mu*mu/(2*s2)) + mu*math.Erf(mu/(s*math.Sqrt2))
	}
	return math.Max(s2-(lp.demoVar+abs)/nf, 0)
}

// publish splits practice i's list by group over its moves (a multinomial
// per group, with the moves' shares), then empties the list and signals
// the receivers.
func (w *worker) publish(d *Draws, mv listMover, ev *listEvents, i int) {
	g := NCells * w.p.k
	all := make([]int64, g)
	mv.groups(all)
	moves := ev.out[i]
	for k := range moves {
		moves[k].counts = make([]int64, g)
	}
	for gi, x := range all {
		left, rest := int(x), 1.0
		for k := range moves {
			y := left
			if k < len(moves)-1 {
				y = d.Binomial(left, moves[k].share/rest)
				rest -= moves[k].share
			}
			moves[k].counts[gi] = int64(y)
			left -= y
		}
	}
	mv.empty()
	close(ev.done[i])
}

// Patient level.

func (s patients) size() int { return len(s.w.pop.row) }

func (s patients) join(d *Draws, i, m int) { s.w.joinFromMix(d, i, m) }

// thin removes Binomial(n, p) patients chosen uniformly at random: the same
// distribution as removing each independently, with draws per patient
// removed, not per patient. Floyd's algorithm picks the set; one pass then
// drops them, keeping the list's order.
func (s patients) thin(d *Draws, p float64) {
	w := s.w
	l := &w.pop
	n := len(l.row)
	m := d.Binomial(n, p)
	if m == 0 {
		return
	}
	words := (n + 63) / 64
	w.marks = grow(w.marks, words)[:words]
	clear(w.marks)
	for j := n - m; j < n; j++ {
		t, _ := bits.Mul64(d.G.Uint64(), uint64(j+1))
		if w.marks[t>>6]&(1<<(t&63)) != 0 {
			t = uint64(j)
		}
		w.marks[t>>6] |= 1 << (t & 63)
	}
	K := w.p.k
	wi := 0
	for j := range n {
		if w.marks[j>>6]&(1<<(j&63)) != 0 {
			l.cells[int(l.row[j])/K]--
			continue
		}
		l.sa[wi], l.row[wi] = l.sa[j], l.row[j]
		wi++
	}
	l.sa, l.row = l.sa[:wi], l.row[:wi]
}

func (s patients) groups(dst []int64) {
	for _, r := range s.w.pop.row {
		dst[r]++
	}
}

func (s patients) receive(d *Draws, counts []int64) {
	K := s.w.p.k
	for g, x := range counts {
		c, st := g/K, g%K
		sex, b := c/NBands, c%NBands
		for range x {
			s.w.pop.add(sex, bandAge(d, b), st, K)
		}
	}
}

func (s patients) empty() { s.w.pop.reset() }

// bandAge draws an age uniformly within band b (95 to 104 in the last).
func bandAge(d *Draws, b int) int {
	if b == NBands-1 {
		return 95 + int(d.G.Uint64()%10)
	}
	return 5*b + int(d.G.Uint64()%5)
}

// Cohort mode.

func (c cohorts) size() int {
	n := int64(0)
	for _, x := range c.w.coh.n {
		n += x
	}
	return int(n)
}

func (c cohorts) join(d *Draws, _, m int) { c.w.cohortJoin(d, int64(m), c.w.coh.n) }

func (c cohorts) thin(d *Draws, p float64) {
	n := c.w.coh.n
	for g, x := range n {
		if x > 0 {
			n[g] -= int64(d.Binomial(int(x), p))
		}
	}
}

func (c cohorts) groups(dst []int64) {
	for g, x := range c.w.coh.n {
		dst[g] += x
	}
}

func (c cohorts) receive(_ *Draws, counts []int64) {
	for g, x := range counts {
		c.w.coh.n[g] += x
	}
}

func (c cohorts) empty() { clear(c.w.coh.n) }
