package sim

import (
	"context"
	"fmt"
)

// simulator is one way of simulating a practice's years: patient by patient
// (patients) or from its group counts (cohorts). The one per-practice year
// loop (runTask) calls it per task and per year, never per patient.
type simulator interface {
	// start builds the starting list of practice k.Practice in replication k.Rep.
	start(k Key)
	// rates sets practice i's event rates, with stream multipliers mult.
	rates(i int, mult *[NStreams]float64)
	// cells is the list by age-sex cell, as it stands.
	cells() [NCells]int32
	// year simulates year k.Year's events and costs on the list as it
	// stands, then, unless last, moves the list on a year.
	year(k Key, last bool, sl *StopLoss, out *yearOut)
}

// patients simulates a practice patient by patient.
type patients struct{ w *worker }

func (s patients) start(k Key)                          { s.w.initList(k) }
func (s patients) rates(i int, mult *[NStreams]float64) { s.w.buildTables(i, mult) }
func (s patients) cells() [NCells]int32                 { return s.w.pop.cells }
func (s patients) year(k Key, last bool, sl *StopLoss, out *yearOut) {
	s.w.stepYear(k, last, sl, out)
}

// reseedYear keys the year's count and cost streams.
func (w *worker) reseedYear(k Key) {
	w.counts.Reseed(k, PurposeCounts)
	w.costs.Reseed(k, PurposeCosts)
	w.costsB.Reseed(k, PurposeCostsB)
}

// runTask is the per-practice year loop, for every way of simulating a
// practice: practice k.Practice of replication k.Rep through the base year
// and years reported years, its rows (and their budgets) written into rows
// (year-major). The practice's policy (practicePlan) shapes its rates each
// year, its budgets and its regime. It stops between years when ctx is
// done.
func (w *worker) runTask(ctx context.Context, sim simulator, k Key, years int, mult *[NStreams]float64, rows []PracticeYear) error {
	m := w.p.m
	i, np := k.Practice, len(m.Practices)
	sim.start(k)
	pl := &w.plan // in the worker, so the plan never escapes per task
	pl.reset(w.p, k.Seed, k.Rep, i)
	built := &w.built // in the worker, as it passes through the interface
	*built = *mult
	sim.rates(i, built)
	for year := 0; year <= years; year++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		want, sl := pl.yearStart(year, mult)
		if want != *built {
			*built = want
			sim.rates(i, built)
		}
		cells := sim.cells() // the list at the start of the year
		// List events come after the year's budgets are set (lists.go).
		if w.ev != nil {
			if gone, err := w.listYear(ctx, sim, k.At(year), years, rows); gone || err != nil {
				return err
			}
		}
		y := &w.out // in the worker: a pointer passed through the interface would escape
		*y = yearOut{}
		sim.year(k.At(year), year == years || (year == 0 && m.ListsAtYearOne), sl, y)
		err := checkFinite(y)
		if err == nil {
			err = w.tab.Err() // a count table that met a bad rate (patient level)
		}
		if err != nil {
			return fmt.Errorf("replication %d, practice %s (#%d), year %d: %w", k.Rep, m.Practices[i].ID, i, year, err)
		}
		var r *PracticeYear
		if year > 0 {
			r = &rows[(year-1)*np+i]
		}
		pl.yearEnd(year, &cells, y, r)
	}
	return nil
}
