package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// PracticeYear is one row of results: one practice in one year of one
// replication. Money is in pounds at the model's price year.
type PracticeYear struct {
	Replication int
	Year        int // 1..Years; year 0 is the unreported base year that gives history
	Practice    int // index into Model.Practices
	ListSize    int // registered patients at the start of the year
	Budget      float64
	Target      float64 // capitation target (fair share) for the year
	Spend       [NStreams]float64
	Events      [NStreams]int
	SpendTotal  float64
	Variance    float64 // Budget - SpendTotal

	// Columns the budget rule fills.
	Regime           string
	Holder           string  // who holds the budget: the practice or its group
	SavingsRetained  float64 // underspend the holder keeps to reinvest
	DeficitCarried   float64 // overspend the holder owes at the end of the year
	StopLossPaid     float64 // cost above the per-patient stop-loss, paid by the commissioner
	PoolTransfer     float64 // net paid into (+) or out of (-) a risk pool
	CommissionerPaid float64 // what the commissioner paid for the year's care and settlements
	Reinvested       float64 // retained savings spent on patient services
	HolderPaid       float64 // what the holder paid from its own funds (overspend it bore)
	DeficitRepaid    float64 // earlier deficit repaid this year, out of the budget or an underspend

	// StopLossExcess is the cost above the per-patient stop-loss threshold in
	// the covered streams; the rule decides who pays it.
	StopLossExcess float64
	// TopSlice is what the commissioner kept back from this practice's
	// budget as a contingency reserve (Budget is after the top-slice).
	TopSlice float64

	regime uint8 // index into the policy's regimes (regimeNone, ...)
}

// StopLoss caps what a budget holder bears for one patient in a year: cost
// above Threshold (uprated each year by Uprating) in the covered streams
// falls to the commissioner.
type StopLoss struct {
	Threshold float64 // pounds per patient in year 1
	Uprating  float64 // yearly growth of the threshold (fraction)
	Streams   [NStreams]bool
}

// Active says whether the stop-loss applies to anything: a nil or empty
// stop-loss is none. The one test of it, so every caller agrees.
func (s *StopLoss) Active() bool {
	return s != nil && s.Threshold > 0 && s.Streams != [NStreams]bool{}
}

// Progress counts finished (replication, practice) tasks; a caller may read
// it from another goroutine while a run is under way. Run adds its tasks to
// Total when it starts, so one Progress can follow several runs (compare).
type Progress struct {
	Done  atomic.Int64
	Total atomic.Int64
}

// Options sets the size and spread of a run.
type Options struct {
	Seed uint64
	// Replications FirstRep <= r < LastRep are run (a shard of a larger run
	// runs a sub-range; results do not depend on how a run is split).
	FirstRep, LastRep int
	Years             int
	Workers           int // 0 = all cores
	Progress          *Progress
	// Cohort simulates practices from group counts rather than patient by
	// patient (see cohort.go); not for models with a per-patient stop-loss.
	Cohort bool
}

// Run simulates the model and streams each replication's rows to sink.
func Run(ctx context.Context, m *Model, o Options, sink Sink) error {
	if o.Years < 1 {
		return fmt.Errorf("years must be at least 1, got %d", o.Years)
	}
	if o.LastRep <= o.FirstRep || o.FirstRep < 0 {
		return fmt.Errorf("replication range [%d, %d) is empty", o.FirstRep, o.LastRep)
	}
	p, err := prepare(m)
	if err != nil {
		return fmt.Errorf("model %q: %w", m.Name, err)
	}
	if o.Cohort && m.StopLoss.Active() {
		return fmt.Errorf("model %q: %w", m.Name, ErrCohortStopLoss)
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	np := len(m.Practices)
	// Bound replications in flight by rows held (about 1e6 rows) while keeping
	// enough to feed every worker.
	inflight := max(2, min(4*workers, 1_000_000/(np*o.Years)))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	type repState struct {
		rep       int
		rows      []PracticeYear
		ledger    []Entry
		remaining atomic.Int32
		mult      [NStreams]float64
	}
	type task struct {
		rs *repState
		i  int
	}
	// A deep task queue: with one slot per worker, a worker that ran dry
	// waited for the producer to be scheduled again, which with short tasks
	// (cohort mode, about 0.1 ms) idled the cores about 15% of the time.
	tasks := make(chan task, 256)
	done := make(chan *repState, inflight)
	slots := make(chan struct{}, inflight)
	if o.Progress != nil {
		o.Progress.Total.Add(int64((o.LastRep - o.FirstRep) * np))
	}

	go func() {
		defer close(tasks)
		for r := o.FirstRep; r < o.LastRep; r++ {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			rs := &repState{rep: r, rows: make([]PracticeYear, np*o.Years)}
			rs.remaining.Store(int32(np))
			rs.mult = repMultipliers(m, o.Seed, r)
			for i := range np {
				select {
				case tasks <- task{rs, i}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{p: p}
			st := settlement{p: p}
			run := w.run
			if o.Cohort {
				run = w.runCohort
			}
			for t := range tasks {
				if ctx.Err() != nil {
					continue
				}
				if err := run(o.Seed, t.rs.rep, t.i, o.Years, &t.rs.mult, t.rs.rows); err != nil {
					cancel(err)
					continue
				}
				if o.Progress != nil {
					o.Progress.Done.Add(1)
				}
				if t.rs.remaining.Add(-1) == 0 {
					var d Draws
					d.Reseed(o.Seed, PurposeRules, t.rs.rep, -1, -1)
					// A ledger of about three entries per row, allocated per
					// replication since the sink holds it until written.
					led, err := st.settle(t.rs.rows, &d, make([]Entry, 0, 3*len(t.rs.rows)))
					if err != nil {
						cancel(fmt.Errorf("replication %d: policy %s: %w", t.rs.rep, m.Policy.Name(), err))
						continue
					}
					t.rs.ledger = led
					if err := audit(m, p.names, p.holder, &Replication{Rep: t.rs.rep, Rows: t.rs.rows, Ledger: led}); err != nil {
						cancel(fmt.Errorf("replication %d: the ledger does not balance (a bug): %w", t.rs.rep, err))
						continue
					}
					select {
					case done <- t.rs:
					case <-ctx.Done():
					}
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	pending := map[int]*repState{}
	next := o.FirstRep
	for rs := range done {
		pending[rs.rep] = rs
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			out := Replication{Rep: r.rep, Rows: r.rows, Ledger: r.ledger}
			if err := sink.Write(&out); err != nil {
				cancel(fmt.Errorf("writing replication %d: %w", next, err))
				break
			}
			next++
			<-slots
		}
		if ctx.Err() != nil {
			break
		}
	}
	// Drain so workers can exit.
	go func() {
		for range done {
		}
	}()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if next != o.LastRep {
		return fmt.Errorf("run stopped after replication %d of [%d, %d)", next-1, o.FirstRep, o.LastRep)
	}
	return nil
}

// repMultipliers draws the per-replication rate multipliers of streams with
// parameter uncertainty: exp(σZ - σ²/2), mean 1.
func repMultipliers(m *Model, seed uint64, rep int) [NStreams]float64 {
	var d Draws
	d.Reseed(seed, PurposeParameters, rep, -1, -1)
	var out [NStreams]float64
	for s := range NStreams {
		z := d.Norm() // drawn for every stream so streams keep their numbers when another's SD changes
		sd := m.Streams[s].RateUncertaintySD
		out[s] = math.Exp(sd*z - sd*sd/2)
	}
	return out
}

// run simulates practice i of replication rep through the base year and
// Years reported years, writing its rows (and their budgets) into rows; the
// practice's policy (see practicePlan) shapes its rates, budgets and regime.
func (w *worker) run(seed uint64, rep, i, years int, mult *[NStreams]float64, rows []PracticeYear) error {
	p := w.p
	m := p.m
	np := len(m.Practices)
	w.initList(seed, rep, i)
	pl := &w.plan // in the worker, so the plan never escapes per task
	pl.reset(p, seed, rep, i)
	built := *mult
	w.buildTables(i, &built)
	for year := 0; year <= years; year++ {
		want, sl := pl.yearStart(year, mult)
		if want != built {
			built = want
			w.buildTables(i, &built)
		}
		var y yearOut
		w.stepYear(seed, rep, i, year, year == years || (year == 0 && m.ListsAtYearOne), sl, &y)
		if err := checkFinite(rep, i, m.Practices[i].ID, &y); err != nil {
			return err
		}
		var r *PracticeYear
		if year > 0 {
			r = &rows[(year-1)*np+i]
		}
		pl.yearEnd(year, &w.pop.cells, &y, r)
	}
	return nil
}

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
	// streams (basis 0), and what a holder in each regime that holds its
	// budget answers for (basis = the regime's index: covered streams, net of
	// stop-loss). Fixed arrays, so a task allocates nothing.
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
	d.Reseed(seed, PurposeRules, rep, i, -1)
	pl.engaged = d.Float64() < pl.pol.Participation && m.Practices[i].ListSize() >= pl.pol.MinList
	d.Reseed(seed, PurposeRules, rep, -1, -2)
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
		// A held budget is set on what its holder answers for, so cost
		// the stop-loss passes to the commissioner is not in its base, nor
		// are streams it does not cover.
		on := 0
		spent := total
		if rg := pl.regs[pl.regime]; rg != nil && rg.Holds() {
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
		if r := pl.regs[rg]; r != nil && r.Holds() {
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
