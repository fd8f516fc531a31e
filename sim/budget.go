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

// HistoricBudget is the mean spend of the last Years years (all there are if
// fewer; 0 or 1: last year only; at most histCap = 16) times (1 + Uplift).
// The model works in constant prices, so Uplift is real growth.
type HistoricBudget struct {
	Years  int
	Uplift float64
}

// Set implements BudgetSetter.
func (b HistoricBudget) Set(_ float64, hist []float64, _ float64, _ int) float64 {
	k := min(max(b.Years, 1), len(hist))
	sum := 0.0
	for _, v := range hist[len(hist)-k:] {
		sum += v
	}
	return sum / float64(k) * (1 + b.Uplift)
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
