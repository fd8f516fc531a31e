package sim

import "math"

// Today's risk-sharing contracts (Medicare's Shared Savings Program, and the
// designs open for England's neighbourhood providers and integrated health
// organisations): the commissioner pays providers for all care, as under
// indicative budgets, and settles each holder's year against a benchmark
// (the budget) through a corridor:
//
//   - savings s = benchmark - measured spend; a holder whose savings reach
//     the minimum savings rate (MSR, a share of the benchmark) is paid a
//     share of them (shared savings), up to a cap;
//   - under a two-sided contract, a holder whose losses reach the minimum
//     loss rate (MLR) pays a share of them from its own money (shared
//     losses), up to a cap on the benchmark or on the holder's revenue;
//   - measured spend leaves out each patient's cost above a truncation
//     point (the engine's per-patient threshold, Model.StopLoss);
//   - the terms may change by contract year (a glide path).
//
// The arithmetic follows 42 CFR 425.604-605: savings and losses are shared
// from the first pound once the corridor is passed (or, with AboveCorridor,
// only beyond it), the MSR slides with the holder's population and is
// interpolated within each band of its table, and the loss cap is the lesser
// of its two limits.

// RateBand is one band of a sliding rate table: a holder of Min to Max
// people (Max 0: Min or more) has a rate interpolated linearly from AtMin
// (at Min) to AtMax (at Max), as 42 CFR 425.604(b) interpolates the MSR
// within each band. SqrtBelow, in a table's first band, extends the table
// below Min as a confidence interval's width grows: AtMin·√(Min/pop).
type RateBand struct {
	Min, Max     int
	AtMin, AtMax float64
	SqrtBelow    bool
}

// RateTable is a rate that slides with a holder's population: bands in
// increasing order. A population below the first band has the first band's
// AtMin (or, with SqrtBelow, AtMin·√(Min/pop), at most 1); above a band's
// Max (and below the next band, or past the last band) its AtMax; in an
// open last band (Max 0) its AtMin.
type RateTable []RateBand

// At returns the rate for a holder of pop people.
func (t RateTable) At(pop float64) float64 {
	if len(t) == 0 {
		return 0
	}
	if b := t[0]; b.SqrtBelow && pop < float64(b.Min) {
		if !(pop > 0) {
			return 1
		}
		return math.Min(1, b.AtMin*math.Sqrt(float64(b.Min)/pop))
	}
	k := 0
	for k+1 < len(t) && pop >= float64(t[k+1].Min) {
		k++
	}
	b := t[k]
	switch {
	case pop <= float64(b.Min) || b.Max == 0:
		return b.AtMin
	case pop >= float64(b.Max):
		return b.AtMax
	}
	return b.AtMin + (b.AtMax-b.AtMin)*(pop-float64(b.Min))/float64(b.Max-b.Min)
}

// MedicareMSR is the Medicare Shared Savings Program's minimum savings rate
// for one-sided tracks (and the size-based symmetric MSR/MLR of two-sided
// ones) by number of assigned beneficiaries, 42 CFR 425.604(b) [ref §8].
// Program eligibility starts at 5,000 beneficiaries; for an ACO that falls
// below, Medicare sets the MSR "at a level consistent with the number of
// assigned beneficiaries" (42 CFR 425.110(b); UNVERIFIED, not in the
// reference sheet), so below 5,000 the rate grows as the table's confidence
// interval does, 3.9%·√(5,000/n) (ASSUMPTION: 5.5% at 2,500).
var MedicareMSR = RateTable{
	{Min: 5000, Max: 5999, AtMin: 0.039, AtMax: 0.036, SqrtBelow: true},
	{Min: 6000, Max: 6999, AtMin: 0.036, AtMax: 0.034},
	{Min: 7000, Max: 7999, AtMin: 0.034, AtMax: 0.032},
	{Min: 8000, Max: 8999, AtMin: 0.032, AtMax: 0.031},
	{Min: 9000, Max: 9999, AtMin: 0.031, AtMax: 0.030},
	{Min: 10000, Max: 14999, AtMin: 0.030, AtMax: 0.027},
	{Min: 15000, Max: 19999, AtMin: 0.027, AtMax: 0.025},
	{Min: 20000, Max: 49999, AtMin: 0.025, AtMax: 0.022},
	{Min: 50000, Max: 59999, AtMin: 0.022, AtMax: 0.020},
	{Min: 60000, AtMin: 0.020, AtMax: 0.020},
}

// Rate is a corridor's minimum rate (a share of the benchmark): Fixed, or
// sliding with the holder's population by Table when it has bands.
type Rate struct {
	Fixed float64
	Table RateTable
}

// At returns the rate for a holder of pop people.
func (r *Rate) At(pop float64) float64 {
	if len(r.Table) > 0 {
		return r.Table.At(pop)
	}
	return r.Fixed
}

// Terms are a contract's terms in one contract year. Shares and rates are
// fractions; caps are fractions of the benchmark (or of the holder's
// revenue), 0 meaning no cap.
type Terms struct {
	MSR          Rate    // minimum savings rate
	SavingsShare float64 // share of savings paid to the holder
	SavingsCap   float64 // shared savings at most this share of the benchmark
	TwoSided     bool    // the holder shares losses
	MLR          Rate    // minimum loss rate
	LossShare    float64 // share of losses the holder pays
	// The holder pays at most the lesser of LossCapBenchmark times the
	// benchmark and LossCapRevenue times its revenue.
	LossCapBenchmark, LossCapRevenue float64
	// AboveCorridor shares only savings (losses) beyond the corridor, a
	// deductible; otherwise they are shared from the first pound once the
	// corridor is reached (Medicare).
	AboveCorridor bool
}

// Share returns what a holder with benchmark b, measured spend s, pop people
// and revenue rev is paid in shared savings, or pays in shared losses (at
// most one of them is positive). With savings x = b - s and rate r = x/b:
//
//	shared savings = min(share·(x - [above]·MSR·b), cap·b)   if r >= MSR and x > 0
//	shared losses  = min(share·(-x - [above]·MLR·b), capB·b, capR·rev)
//	                                                         if two-sided, -r >= MLR and x < 0
//
// where a cap of 0 is none, and the revenue cap applies only to a holder
// whose revenue is known (rev > 0).
// (42 CFR 425.604(c)-(d), 425.605(b)-(d)).
func (t *Terms) Share(b, s, pop, rev float64) (savings, losses float64) {
	if !(b > 0) {
		return 0, 0
	}
	x := b - s
	switch {
	case x > 0:
		msr := t.MSR.At(pop)
		if !reaches(x, msr*b) {
			return 0, 0
		}
		base := x
		if t.AboveCorridor {
			base -= msr * b
		}
		savings = t.SavingsShare * base
		if t.SavingsCap > 0 {
			savings = math.Min(savings, t.SavingsCap*b)
		}
		return savings, 0
	case x < 0 && t.TwoSided:
		mlr := t.MLR.At(pop)
		if !reaches(-x, mlr*b) {
			return 0, 0
		}
		base := -x
		if t.AboveCorridor {
			base -= mlr * b
		}
		losses = t.LossShare * base
		if t.LossCapBenchmark > 0 {
			losses = math.Min(losses, t.LossCapBenchmark*b)
		}
		if t.LossCapRevenue > 0 && rev > 0 {
			losses = math.Min(losses, t.LossCapRevenue*rev)
		}
		return 0, losses
	}
	return 0, 0
}

// reaches says whether savings (losses) x meet or exceed the corridor c,
// compared in whole pence: "meets or exceeds" the MSR (42 CFR 425.604(c))
// is a comparison of money, and in floating point a saving of exactly 3% of
// £12,345,678 falls a hair short of 0.03 × £12,345,678.
func reaches(x, c float64) bool { return math.Round(x*100) >= math.Round(c*100) }

// Quality is a quality gate on the sharing rate: in a holder-year that
// meets the quality standard (a chance event of probability Meets) the
// holder is paid its full share of savings; otherwise the share times
// Otherwise (0: none). Medicare pays the full rate to ACOs meeting the
// quality performance standard and, since 2024, scales it by the quality
// score for those that do not but pass a lower bar (42 CFR 425.512;
// UNVERIFIED, not in the reference sheet). Losses are not gated.
type Quality struct {
	Meets, Otherwise float64
}

// factor is the share of the sharing rate paid given the holder-year's
// uniform draw u.
func (q *Quality) factor(u float64) float64 {
	if q == nil || u < q.Meets {
		return 1
	}
	return q.Otherwise
}

// SharedSavings is a shared-savings contract (Medicare's Shared Savings
// Program; England's neighbourhood and whole-population contracts): the
// commissioner pays providers for all care; each holder's year is settled
// against its benchmark (the budget) by the year's Terms (Years[y-1] in
// contract year y, the last from then on: a glide path). Measured spend
// leaves out care above the per-patient truncation point (Model.StopLoss),
// and a held benchmark is set on measured spend. RevenuePerPatient (pounds a
// year per registered patient) is the holder's own revenue, for
// Terms.LossCapRevenue. Quality, if set, gates the savings share.
type SharedSavings struct {
	Years             []Terms
	RevenuePerPatient float64
	Behaviour         [NStreams]Effect
	Quality           *Quality
}

// Name implements Regime.
func (*SharedSavings) Name() string { return "shared_savings" }

// Holds implements Regime: the benchmark is not money the holder is given.
func (*SharedSavings) Holds() bool { return false }

// Answers implements Regime: the holder answers for measured (truncated)
// spend.
func (*SharedSavings) Answers() bool { return true }

// Covers implements Regime: every stream.
func (*SharedSavings) Covers() *[NStreams]bool { return nil }

// Effects implements Regime.
func (c *SharedSavings) Effects() *[NStreams]Effect { return &c.Behaviour }

// TermsIn returns the terms of contract year y (1-based).
func (c *SharedSavings) TermsIn(y int) *Terms {
	if len(c.Years) == 0 {
		return &Terms{}
	}
	return &c.Years[min(max(y, 1), len(c.Years))-1]
}

func (c *SharedSavings) settler(int) settler { return sharedSettler{c} }

// sharedSettler settles shared-savings holder-years; nothing carries over.
type sharedSettler struct{ c *SharedSavings }

func (s sharedSettler) settleYear(b *book, hs []holderYear) {
	t := s.c.TermsIn(int(b.year))
	for k := range hs {
		hy := &hs[k]
		spend, pop := 0.0, 0.0
		for _, j := range b.members[hy.lo:hy.hi] {
			x := &b.rows[j]
			measured := x.SpendTotal - x.StopLossExcess
			x.Variance = x.Budget - measured
			x.Truncated = x.StopLossExcess
			spend += measured
			pop += float64(x.ListSize)
			b.payRow(Commissioner, Providers, ReasonProviderPayment, x.SpendTotal, j)
		}
		tq := t
		if q := s.c.Quality.factor(b.u[2*b.members[hy.lo]]); q != 1 {
			// The holder misses the quality standard (its first member's
			// rule draw, unused by this regime otherwise): a lower
			// sharing rate, capped as the full one is.
			c := *t
			c.SavingsShare *= q
			tq = &c
		}
		sv, ls := tq.Share(hy.budget, spend, pop, s.c.RevenuePerPatient*pop)
		h := HolderParty(hy.h)
		b.pay(Commissioner, h, ReasonSharedSavings, sv, hy)
		b.pay(h, Commissioner, ReasonSharedLoss, ls, hy)
	}
}

// Against is how an incentive payment stands against the savings a holder
// keeps in the same year.
type Against uint8

const (
	// InAddition: the incentive is paid on top of any savings kept.
	InAddition Against = iota
	// AsFloor: the incentive tops what the holder keeps up to PerPatient a
	// head and pays nothing when savings kept reach it (PBC 2006/07).
	AsFloor
	// UnderCeiling: the incentive is paid as far as savings kept plus the
	// incentive stay within Ceiling a head.
	UnderCeiling
)

// Incentive is a payment to holders for taking part, or for meeting local
// targets, in pounds per registered patient a year: the general form of a
// local incentive scheme. PBC's "Towards practice based commissioning" DES
// (2006/07, component 2) paid 95p a patient to practices meeting their
// local plan's targets, topped up to that minimum where the freed-up
// resources the practice could use fell short and nothing where they
// exceeded it (GPC guidance, March 2007;
// [ref §6]): PerPatient 0.95, Against AsFloor. With a list of n patients and savings
// kept K in the year (savings kept and shared savings), the payment is
//
//	InAddition:   PerPatient·n
//	AsFloor:      max(0, PerPatient·n - K)
//	UnderCeiling: min(PerPatient·n, max(0, Ceiling·n - K))
//
// made only in a year the holder meets its targets, a chance event of
// probability TargetProb (1: paid for taking part).
type Incentive struct {
	PerPatient float64
	Against    Against
	Ceiling    float64 // pounds a patient, for Against UnderCeiling
	TargetProb float64
}

// Pay returns the payment to a holder of n patients that kept K.
func (in *Incentive) Pay(n, kept float64) float64 {
	p := in.PerPatient * n
	switch in.Against {
	case AsFloor:
		return math.Max(0, p-kept)
	case UnderCeiling:
		return math.Min(p, math.Max(0, in.Ceiling*n-kept))
	}
	return p
}
