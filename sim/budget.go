package sim

// BudgetSetter sets a practice-year's budget before any top-slice, from its
// capitation target, the spend of earlier years (hist, oldest first, at
// least one year; what the budget covers) and last year's budget (prev; 0
// when there is none to follow, as in year 1 or after the budget's basis
// changed).
type BudgetSetter interface {
	Set(target float64, hist []float64, prev float64, year int) float64
}

// CapitationBudget is the capitation target: the list weighted by age-sex
// cost weights and need (a fair share).
type CapitationBudget struct{}

// Set implements BudgetSetter.
func (CapitationBudget) Set(target float64, _ []float64, _ float64, _ int) float64 { return target }

// HistoricBudget is the mean spend of the last Years years known when the
// budget is set (all there are if fewer; 0 or 1: one year; at most 10)
// times (1 + Uplift) for each year since. Lag is how old the last known
// year is: with 1 (or 0) a budget for year t is set from year t-1's
// spend; with 2, from year t-2's, as budgets set before the year t-1
// closes must be (the runner simulates Lag base years to give year 1 its
// history). The model works in constant prices, so Uplift is real growth.
type HistoricBudget struct {
	Years  int
	Uplift float64
	Lag    int
}

// maxLag bounds the budget-setting lag: history rings hold histCap years,
// which must cover the years averaged and the lag.
const maxLag = 5

// lagged is a budget setter whose history is HistoryLag years old.
type lagged interface{ HistoryLag() int }

// HistoryLag is the age in years of the last spend a budget is set from.
func (b HistoricBudget) HistoryLag() int { return max(b.Lag, 1) }

// Set implements BudgetSetter. hist is the spend of every earlier year
// (oldest first), of which the last Lag-1 are not yet known.
func (b HistoricBudget) Set(_ float64, hist []float64, _ float64, _ int) float64 {
	lag := b.HistoryLag()
	known := hist[:max(len(hist)-(lag-1), 1)]
	k := min(max(b.Years, 1), len(known))
	sum := 0.0
	for _, v := range known[len(known)-k:] {
		sum += v
	}
	up := 1 + b.Uplift
	for range lag - 1 {
		up *= 1 + b.Uplift
	}
	return sum / float64(k) * up
}

// BlendBudget starts from history (a HistoricBudget in the first year, or
// when there is no budget to follow) and moves last year's budget, with
// uplift, Pace of the way to the capitation target each year: the pace of
// change towards fair shares.
type BlendBudget struct {
	HistoricBudget
	Pace float64
}

// Set implements BudgetSetter.
func (b BlendBudget) Set(target float64, hist []float64, prev float64, year int) float64 {
	base := prev * (1 + b.Uplift)
	if year == 1 || prev == 0 {
		base = b.HistoricBudget.Set(target, hist, prev, year)
	}
	return base + b.Pace*(target-base)
}
