package sim

import (
	"fmt"
	"math"
)

// Rule settles budgets: given a replication's practice-years with budgets and
// spend, it decides who keeps savings and who bears overspends, and fills the
// rule columns. Rules see a whole replication (year-major rows) so that rules
// that pool risk across practices or carry balances between years fit the
// same interface. Money must be conserved: for every row,
//
//	SpendTotal = CommissionerPaid + HolderPaid - SavingsRetained
//
// i.e. providers are paid in full; the commissioner pays what the holder did
// not bear, plus any savings it lets the holder keep.
type Rule interface {
	Name() string
	Settle(rows []PracticeYear, practices []Practice, d *Draws) error
}

// Indicative is practice-based commissioning's indicative budget: the
// commissioner carries every overspend; a practice that underspends keeps
// RetentionShare of the underspend to reinvest in patient services.
type Indicative struct {
	RetentionShare float64
}

func (Indicative) Name() string { return "indicative" }

func (r Indicative) Settle(rows []PracticeYear, _ []Practice, _ *Draws) error {
	for i := range rows {
		x := &rows[i]
		x.Regime = "indicative"
		x.SavingsRetained = r.RetentionShare * math.Max(x.Variance, 0)
		x.Reinvested = x.SavingsRetained
		x.DeficitCarried = 0
		x.StopLossPaid = 0
		x.HolderPaid = 0
		x.CommissionerPaid = x.SpendTotal + x.SavingsRetained
	}
	return nil
}

// Hard is a hard budget held by each practice: it keeps RetentionShare of any
// underspend, after first repaying deficits it carries; an overspend becomes a
// deficit it carries into later years. The commissioner pays providers in
// full and recovers the carried deficit from later underspends; cost above a
// per-patient stop-loss (if the model has one) is the commissioner's.
type Hard struct {
	RetentionShare float64
}

func (Hard) Name() string { return "hard" }

func (r Hard) Settle(rows []PracticeYear, practices []Practice, _ *Draws) error {
	np := len(practices)
	if np == 0 || len(rows)%np != 0 {
		return fmt.Errorf("%d rows do not divide into %d practices", len(rows), np)
	}
	debt := make([]float64, np)
	for j := range rows {
		x := &rows[j]
		i := x.Practice
		x.Regime = "hard"
		x.StopLossPaid = x.StopLossExcess
		// The holder answers for spend net of stop-loss.
		net := x.Budget - (x.SpendTotal - x.StopLossPaid)
		x.SavingsRetained, x.HolderPaid = 0, 0
		if net >= 0 {
			repay := math.Min(debt[i], net)
			debt[i] -= repay
			x.HolderPaid = repay
			x.SavingsRetained = r.RetentionShare * (net - repay)
		} else {
			debt[i] += -net
		}
		x.Reinvested = x.SavingsRetained
		x.DeficitCarried = debt[i]
		x.CommissionerPaid = x.SpendTotal - x.HolderPaid + x.SavingsRetained
	}
	return nil
}
