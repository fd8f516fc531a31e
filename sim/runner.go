package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
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
	SharedSavings    float64 // shared savings paid to the holder (also in SavingsRetained)
	SharedLoss       float64 // shared losses the holder paid from its own money (also in HolderPaid)
	IncentivePaid    float64 // incentive payments to the holder (also in SavingsRetained)
	// Truncated is spend above the per-patient truncation point, left out of
	// the spend a contract measures against its benchmark (not money: the
	// commissioner still pays providers for it).
	Truncated float64

	// StopLossExcess is the cost above the per-patient stop-loss threshold in
	// the covered streams; the rule decides who pays it.
	StopLossExcess float64
	// TopSlice is what the commissioner kept back from this practice's
	// budget as a contingency reserve (Budget is after the top-slice).
	TopSlice float64

	// Expected spend given the list at the start of the year: conditional
	// on the replication's parameters alone (ExpectedSpendParams), on
	// those and the year's common shocks (ExpectedSpendShocks), and on
	// those and the practice's drift (ExpectedSpend): everything but
	// chance. By the law of total variance, spend's variance across
	// replications is Var(params) + E[(shocks - params)²] + E[(expected -
	// shocks)²] + E[(spend - expected)²]: parameter uncertainty, shocks,
	// drift and chance.
	ExpectedSpendParams, ExpectedSpendShocks, ExpectedSpend float64

	regime uint8 // index into the policy's regimes (regimeNone, ...)
	closed bool  // the practice has left (closed or merged): RegimeClosed
}

// StopLoss is the per-patient threshold: cost above Threshold (uprated each
// year by Uprating) in the covered streams is a row's StopLossExcess. Under
// a held budget it is a stop-loss (the commissioner pays that cost); under a
// shared-savings contract it is the truncation point (that cost is left out
// of the spend measured against the benchmark).
type StopLoss struct {
	Threshold float64 // pounds per patient in year 1
	Uprating  float64 // yearly growth of the threshold (fraction)
	Streams   [NStreams]bool
	// WithTrend also moves the threshold (set in year 0's terms) with the
	// area's expected spend per head in each year, base years included
	// (the trends' point values): as a percentile recomputed from each
	// year's spend moves, where the distribution keeps its shape.
	WithTrend bool
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
	if err := p.checkCounts(o.Years); err != nil {
		return fmt.Errorf("model %q over %d years: %w", m.Name, o.Years, err)
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
		params    *repParams
		ev        *listEvents
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
	identity := make([]int, np)
	for i := range identity {
		identity[i] = i
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
			rs.params = new(repParams)
			drawParams(m, p.unc, o.Seed, r, rs.params)
			order := identity
			if p.lists != nil {
				// Practices that leave come first, so no task waits for one
				// not yet started (lists.go).
				rs.ev = p.drawListEvents(o.Seed, r, o.Years, true, nil)
				order = rs.ev.order
			}
			for _, i := range order {
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
			defer func() {
				// A panic here is a bug; it ends the run with an error the
				// caller can tell from bad input, not a crash.
				if r := recover(); r != nil {
					cancel(&PanicError{Value: r, Stack: debug.Stack()})
				}
			}()
			w := &worker{p: p}
			st := settlement{p: p}
			var sim simulator = patients{w}
			if o.Cohort {
				sim = cohorts{w}
			}
			for t := range tasks {
				if ctx.Err() != nil {
					continue
				}
				w.ev = t.rs.ev
				if err := w.runTask(ctx, sim, TaskKey(o.Seed, t.rs.rep, t.i), o.Years, t.rs.params, t.rs.rows); err != nil {
					cancel(err)
					continue
				}
				if o.Progress != nil {
					o.Progress.Done.Add(1)
				}
				if t.rs.remaining.Add(-1) == 0 {
					// A ledger of about three entries per row, allocated per
					// replication since the sink holds it until written.
					led, err := st.settle(t.rs.rows, Key{Seed: o.Seed, Rep: t.rs.rep, Practice: -1, Year: -1}, make([]Entry, 0, 3*len(t.rs.rows)))
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
			out := Replication{Rep: r.rep, Rows: r.rows, Ledger: r.ledger, Params: r.params.values}
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

// PanicError is a panic inside the engine (a bug), recovered and returned by
// Run with its stack.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("internal error in the engine: %v", e.Value) }

// repMultipliers draws the per-replication rate multipliers of streams with
// parameter uncertainty: exp(σZ - σ²/2), mean 1.
func repMultipliers(m *Model, seed uint64, rep int) [NStreams]float64 {
	var d Draws
	d.Reseed(Key{Seed: seed, Rep: rep, Practice: -1, Year: -1}, PurposeParameters)
	var out [NStreams]float64
	for s := range NStreams {
		z := d.Norm() // drawn for every stream so streams keep their numbers when another's SD changes
		sd := m.Streams[s].RateUncertaintySD
		out[s] = math.Exp(sd*z - sd*sd/2)
	}
	return out
}
