package sim

import (
	"errors"
	"fmt"
	"math"
)

// Audit checks a replication's ledger against its rows, recomputing every
// money column from the entries alone:
//   - each entry moves a finite, non-negative amount between two parties
//     (consortium pooling, inside one party, may be negative);
//   - providers receive exactly each row's spend_total;
//   - each row's money columns are the sums of its entries;
//   - money is conserved on every row: what the commissioner pays equals
//     spend + what holders keep (savings kept, shared savings, incentives)
//   - holders' own money (shared losses) + what went into pools;
//   - a hard-budget holder's closing debt is what it was lent (deficits
//     financed) less what it repaid, summed over the years so far.
//
// Run calls it on every replication, so a settlement that loses or invents
// money fails the run rather than writing results.
func Audit(m *Model, rep *Replication) error {
	return audit(m, m.PartyNames(), holders(m), rep)
}

// audit is Audit with the model's party names and practices' holders.
func audit(m *Model, names []string, holder []int, rep *Replication) error {
	np := len(m.Practices)
	rows := rep.Rows
	if np == 0 || len(rows)%np != 0 {
		return fmt.Errorf("%d rows do not divide into %d practices", len(rows), np)
	}
	nParties := Party(len(names))
	type sums struct{ providers, comm, kept, own, pool, stop, repaid, shared, lost, incentive float64 }
	got := make([]sums, len(rows))
	var errs []error
	bad := func(format string, a ...any) {
		if len(errs) < 10 {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	for k, e := range rep.Ledger {
		i := int(e.Year-1)*np + int(e.Practice)
		switch {
		case e.Year < 1 || int(e.Practice) < 0 || int(e.Practice) >= np || i >= len(rows):
			bad("entry %d: year %d, practice %d: no such row", k, e.Year, e.Practice)
			continue
		case e.From < 0 || e.From >= nParties || e.To < 0 || e.To >= nParties:
			bad("entry %d: party %d or %d does not exist", k, e.From, e.To)
			continue
		case math.IsNaN(e.Amount) || math.IsInf(e.Amount, 0):
			bad("entry %d (%s): amount %v", k, e.Reason, e.Amount)
		case e.Reason == ReasonConsortiumPooling:
			if e.From != e.To {
				bad("entry %d: pooling between two parties", k)
			}
		case e.Amount < 0 || e.From == e.To:
			bad("entry %d (%s): %v from party %d to %d", k, e.Reason, e.Amount, e.From, e.To)
		}
		g := &got[i]
		if e.To == Providers {
			g.providers += e.Amount
		}
		if e.From == Providers {
			g.providers -= e.Amount
		}
		if e.From == Commissioner {
			g.comm += e.Amount
		}
		if e.To == Commissioner {
			g.comm -= e.Amount
		}
		switch e.Reason {
		case ReasonSavingsKept:
			g.kept += e.Amount
		case ReasonSharedSavings:
			g.kept += e.Amount
			g.shared += e.Amount
		case ReasonIncentive:
			g.kept += e.Amount
			g.incentive += e.Amount
		case ReasonSharedLoss:
			g.own += e.Amount
			g.lost += e.Amount
		case ReasonStopLoss:
			g.stop += e.Amount
		case ReasonDeficitRepaid:
			g.repaid += e.Amount
		case ReasonPoolContribution, ReasonConsortiumPooling:
			g.pool += e.Amount
		case ReasonPoolPayout:
			g.pool -= e.Amount
		}
	}
	tol := func(v float64) float64 { return 1e-9 * math.Max(1, math.Abs(v)) }
	for i := range rows {
		x, g := &rows[i], &got[i]
		where := fmt.Sprintf("replication %d, year %d, practice %s", rep.Rep, x.Year, m.Practices[i%np].ID)
		if math.Abs(g.providers-x.SpendTotal) > tol(x.SpendTotal) {
			bad("%s: providers were paid %v for spend of %v", where, g.providers, x.SpendTotal)
		}
		for _, c := range []struct {
			name      string
			col, want float64
		}{
			{"commissioner_paid", x.CommissionerPaid, g.comm}, {"savings_retained", x.SavingsRetained, g.kept},
			{"holder_paid", x.HolderPaid, g.own}, {"pool_transfer", x.PoolTransfer, g.pool},
			{"stop_loss_paid", x.StopLossPaid, g.stop}, {"deficit_repaid", x.DeficitRepaid, g.repaid},
			{"shared_savings", x.SharedSavings, g.shared}, {"shared_loss", x.SharedLoss, g.lost},
			{"incentive_paid", x.IncentivePaid, g.incentive},
		} {
			if math.Abs(c.col-c.want) > tol(c.want) {
				bad("%s: %s is %v, its entries sum to %v", where, c.name, c.col, c.want)
			}
		}
		if d := g.comm - (g.providers + g.kept - g.own + g.pool); math.Abs(d) > tol(g.comm) {
			bad("%s: money not conserved: the commissioner paid %v, spend %v + kept %v - own money %v + pools %v",
				where, g.comm, g.providers, g.kept, g.own, g.pool)
		}
	}
	// Hard-budget debt, holder by holder and year by year.
	regs := m.Policy.regimes()
	debt := make([]float64, nParties)    // lent less repaid so far
	carried := make([]float64, nParties) // the year's rows' DeficitCarried
	held := make([]bool, nParties)
	k := 0
	for y0 := 0; y0 < len(rows); y0 += np {
		y := int32(rows[y0].Year)
		for ; k < len(rep.Ledger) && rep.Ledger[k].Year <= y; k++ {
			switch e := rep.Ledger[k]; e.Reason {
			case ReasonDeficitFinanced:
				debt[e.To] += e.Amount
			case ReasonDeficitRepaid:
				debt[e.From] -= e.Amount
			}
		}
		clear(carried)
		clear(held)
		for j := range np {
			x := &rows[y0+j]
			if r := regs[x.regime]; r != nil && r.Holds() {
				h := HolderParty(holder[j])
				carried[h] += x.DeficitCarried
				held[h] = true
			}
		}
		for h, ok := range held {
			if ok && math.Abs(carried[h]-debt[h]) > 1e-9*math.Max(1, debt[h]) {
				bad("replication %d, year %d, holder %s: carries a deficit of %v, lent less repaid is %v", rep.Rep, y, names[h], carried[h], debt[h])
			}
		}
	}
	return errors.Join(errs...)
}
