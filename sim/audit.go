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
	type sums struct {
		providers, comm float64
		col             [nMoneyCols]float64 // by reasonColumns
	}
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
		if e.Reason < nReasons {
			for _, c := range reasonColumns[e.Reason] {
				g.col[c.col] += c.sign * e.Amount
			}
		}
	}
	tol := func(v float64) float64 { return 1e-9 * math.Max(1, math.Abs(v)) }
	for i := range rows {
		x, g := &rows[i], &got[i]
		where := fmt.Sprintf("replication %d, year %d, practice %s", rep.Rep, x.Year, m.Practices[i%np].ID)
		if math.Abs(g.providers-x.SpendTotal) > tol(x.SpendTotal) {
			bad("%s: providers were paid %v for spend of %v", where, g.providers, x.SpendTotal)
		}
		if math.Abs(x.CommissionerPaid-g.comm) > tol(g.comm) {
			bad("%s: commissioner_paid is %v, its entries sum to %v", where, x.CommissionerPaid, g.comm)
		}
		for c := range nMoneyCols {
			if col := *x.money(c); math.Abs(col-g.col[c]) > tol(g.col[c]) {
				bad("%s: %s is %v, its entries sum to %v", where, moneyColNames[c], col, g.col[c])
			}
		}
		// Conservation, from parties (the commissioner's and providers'
		// sums) against the columns the map fills: a reason mapped to the
		// wrong column, or to none, fails here.
		kept, own, pool := g.col[colSavingsRetained], g.col[colHolderPaid], g.col[colPoolTransfer]
		if d := g.comm - (g.providers + kept - own + pool); math.Abs(d) > tol(g.comm) {
			bad("%s: money not conserved: the commissioner paid %v, spend %v + kept %v - own money %v + pools %v",
				where, g.comm, g.providers, kept, own, pool)
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
