package sim

// Reference is whose realised growth updates an agreement's benchmark.
type Reference uint8

const (
	// ReferenceNational: the nation's (trends and the national shocks).
	ReferenceNational Reference = iota
	// ReferenceArea: the practice's area's (trends, and the shocks of its
	// place, ICB, region and nation), Medicare's regional component (the
	// growth of the counties its beneficiaries live in).
	ReferenceArea
)

// AgreementBenchmark is a benchmark set for an agreement, as Medicare's
// Shared Savings Program sets it (42 CFR 425.601): once, at the start of
// each agreement of AgreementYears years, from the measured spend of the
// len(Weights) years before it (the base years, oldest first, weighted by
// Weights: Medicare's 10/30/60), each base year brought to the agreement's
// last base year by the growth a Reference realised; then, in each year of
// the agreement, updated from that base by the Reference's realised growth
// since, blended with a prospective trend (the trends' point values, set
// before the agreement) of weight Prospective. Growth is per head and by
// age and sex: the index a year is brought by is the practice's expected
// spend on that year's list at the reference's costs and rates
// (practicePlan.refIndex), so a growing list raises the benchmark. A new
// agreement rebases on the years before it.
type AgreementBenchmark struct {
	Weights        []float64
	AgreementYears int
	Reference      Reference
	Prospective    float64
}

// agreementStart is the first year of the agreement that holds year y.
func (a AgreementBenchmark) agreementStart(y int) int {
	n := max(a.AgreementYears, 1)
	return 1 + (y-1)/n*n
}

// HistoryLag is the base years the first agreement needs: the runner
// simulates them before year 1.
func (a AgreementBenchmark) HistoryLag() int { return max(len(a.Weights), 1) }

// Set implements BudgetSetter. hist is the measured spend of every earlier
// year, oldest first (the last is year-1's), each already brought to year
// year's terms (practicePlan.yearEnd: by the reference's growth); Set
// weights the agreement's base years. A base year before the first
// simulated one (none, as the runner simulates them all) is left out and
// the weights of the rest rescaled.
func (a AgreementBenchmark) Set(_ float64, hist []float64, _ float64, year int) float64 {
	s := a.agreementStart(year)
	n := len(a.Weights)
	sum, w := 0.0, 0.0
	for k, wk := range a.Weights {
		by := s - n + k // base year k
		i := len(hist) - 1 - (year - 1 - by)
		if i < 0 || i >= len(hist) {
			continue
		}
		sum += wk * hist[i]
		w += wk
	}
	if w == 0 {
		return 0
	}
	return sum / w
}

// agreementGrowth is the factor that brings year by's measured spend to
// year t's terms under agreement benchmark a: the reference's realised
// growth from by to the agreement's last base year (b3), then from b3 to t
// its realised growth blended with the prospective trend's. real and pros
// are the indexes (refIndex) of by, b3 and t in that order.
func (a AgreementBenchmark) agreementGrowth(real, pros [3]float64) float64 {
	if real[0] <= 0 || real[1] <= 0 || pros[1] <= 0 {
		return 1
	}
	return real[1] / real[0] * ((1-a.Prospective)*real[2]/real[1] + a.Prospective*pros[2]/pros[1])
}
