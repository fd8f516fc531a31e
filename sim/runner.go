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

	// StopLossExcess is the cost above the per-patient stop-loss threshold in
	// the covered streams; the rule decides who pays it.
	StopLossExcess float64
}

// StopLoss caps what a budget holder bears for one patient in a year: cost
// above Threshold in the covered streams falls to the commissioner.
type StopLoss struct {
	Threshold float64
	Streams   [NStreams]bool
}

// Sink receives results: each call carries one replication's rows, year-major
// (all practices of year 1, then year 2, ...). Calls come in replication order
// from a single goroutine, so output is identical whatever the worker count.
type Sink interface {
	Write(rows []PracticeYear) error
}

// Progress counts finished (replication, practice) tasks; a caller may read
// it from another goroutine while a run is under way.
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
	if o.Cohort && m.StopLoss != nil && m.StopLoss.Threshold > 0 && m.StopLoss.Streams != [NStreams]bool{} {
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
		remaining atomic.Int32
		mult      [NStreams]float64
	}
	type task struct {
		rs *repState
		i  int
	}
	tasks := make(chan task, workers)
	done := make(chan *repState, inflight)
	slots := make(chan struct{}, inflight)
	if o.Progress != nil {
		o.Progress.Total.Store(int64((o.LastRep - o.FirstRep) * np))
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
					if err := m.Rule.Settle(t.rs.rows, m.Practices, &d); err != nil {
						cancel(fmt.Errorf("replication %d: rule %s: %w", t.rs.rep, m.Rule.Name(), err))
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
			if err := sink.Write(r.rows); err != nil {
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
// Years reported years, writing its rows (and their budgets) into rows.
func (w *worker) run(seed uint64, rep, i, years int, mult *[NStreams]float64, rows []PracticeYear) error {
	p := w.p
	m := p.m
	np := len(m.Practices)
	w.initList(seed, rep, i)
	w.buildTables(i, mult)
	prevSpend, prevBudget := 0.0, 0.0
	for year := 0; year <= years; year++ {
		target := p.capitation(i, &w.pop.cells)
		var y yearOut
		w.stepYear(seed, rep, i, year, year == years, &y)
		if err := checkFinite(rep, i, m.Practices[i].ID, &y); err != nil {
			return err
		}
		total := 0.0
		for _, v := range y.spend {
			total += v
		}
		if year > 0 {
			b := setBudget(&m.Budget, target, prevSpend, prevBudget, year)
			r := &rows[(year-1)*np+i]
			*r = PracticeYear{
				Replication: rep, Year: year, Practice: i, ListSize: y.listSize,
				Budget: b, Target: target, Spend: y.spend, Events: y.events,
				SpendTotal: total, Variance: b - total, StopLossExcess: y.stopLoss,
				Holder: m.Practices[i].ID,
			}
			prevBudget = b
		}
		prevSpend = total
	}
	return nil
}

// setBudget returns a practice-year's budget. Historic: last year's spend
// times (1+uplift). Capitation: the target. Blend: last year's budget (the
// base year's spend in year 1) with uplift, moved Pace of the way to target.
func setBudget(b *Budget, target, prevSpend, prevBudget float64, year int) float64 {
	hist := prevSpend * (1 + b.Uplift)
	switch b.Method {
	case Capitation:
		return target
	case Historic:
		return hist
	default:
		base := prevBudget
		if year == 1 {
			base = prevSpend
		}
		base *= 1 + b.Uplift
		return base + b.Pace*(target-base)
	}
}
