// Package sim is gpbudget's engine: synthetic practice populations, the five
// GP-driven cost streams simulated patient by patient, budget setting, budget
// rules and a concurrent Monte Carlo runner whose results are fixed by the
// seed alone. It knows no file format: a Model comes in, rows leave through a
// Sink.
package sim

import (
	"errors"
	"fmt"
	"math"
)

// Age-sex cells: 20 five-year bands (0-4 ... 90-94, 95+) for each sex.
const (
	NSex     = 2
	NBands   = 20
	NCells   = NSex * NBands
	NStreams = 5
	MaxAge   = 110
)

// Sex indices.
const (
	Male   = 0
	Female = 1
)

// Stream identifies one of the five GP-driven cost streams.
type Stream int

const (
	Outpatient  Stream = iota // GP-referred outpatient episodes (first attendance and follow-ups)
	Prescribing               // prescription items
	AE                        // A&E attendances
	Emergency                 // emergency admissions
	Elective                  // elective admissions, day case and inpatient
)

// StreamNames are the streams' names as used in scenario files and columns.
var StreamNames = [NStreams]string{"outpatient", "prescribing", "ae", "emergency", "elective"}

// BandLabel returns a band's label, e.g. "15-19" or "95+".
func BandLabel(b int) string {
	if b == NBands-1 {
		return "95+"
	}
	return fmt.Sprintf("%d-%d", 5*b, 5*b+4)
}

// CellOf returns the age-sex cell of a person.
func CellOf(sex, age int) int {
	b := age / 5
	if b >= NBands {
		b = NBands - 1
	}
	return sex*NBands + b
}

// CostFamily says how the cost of a patient-year's events in a stream is drawn.
type CostFamily int

const (
	// Lognormal: each event's cost is drawn from a mixture of lognormals
	// (heavy-tailed, as admission costs are).
	Lognormal CostFamily = iota
	// GammaSum: each event's cost is Gamma with the part's mean and CV, so the
	// sum of k events is one Gamma(k/CV², mean·CV²) draw (prescribing items).
	GammaSum
)

// CostPart is one component of a cost-per-event distribution.
type CostPart struct {
	Name  string
	Share float64 // probability an event is of this part
	Mean  float64 // pounds per event
	CV    float64 // coefficient of variation of cost per event
}

// StreamParams are one stream's event rates and costs.
type StreamParams struct {
	// Rate is events per person-year by sex and band, for a patient of mean
	// frailty in a practice of need 1 and average style.
	Rate [NSex][NBands]float64
	// Dispersion is the negative-binomial shape r of a year's count given the
	// patient's frailty state (Poisson with Gamma(r, 1/r) noise, variance
	// mu + mu²/r). Zero or +Inf means Poisson.
	Dispersion float64
	// FrailtyLoading is the exponent on the frailty level: 1 for hospital
	// admissions, smaller for streams less concentrated in the frail.
	FrailtyLoading float64
	// NeedElasticity: a practice of need n multiplies the rate by n^elasticity.
	NeedElasticity float64
	// StyleSD is the log-scale SD of the practice's referral or prescribing style.
	StyleSD float64
	// RateUncertaintySD is the log-scale SD of a rate multiplier drawn once per
	// replication (parameter uncertainty); zero fixes the rate.
	RateUncertaintySD float64
	Family            CostFamily
	Cost              []CostPart
}

// MeanCost is the expected cost of one event.
func (s *StreamParams) MeanCost() float64 {
	m := 0.0
	for _, p := range s.Cost {
		m += p.Share * p.Mean
	}
	return m
}

// Frailty is a patient's latent need for care as a Markov chain over states
// that persists from year to year: state k multiplies a stream's rate by
// Level[k]^loading (normalised to mean 1 over the stationary distribution).
// From state k a patient stays with probability Persistence[k] and otherwise
// moves to state j with probability q_j ∝ Share[j]·(1-Persistence[j]), which
// keeps Share stationary and lets high-cost patients regress to the mean.
type Frailty struct {
	Share       []float64 // stationary share of the population in each state
	Level       []float64 // relative need in each state
	Persistence []float64 // probability of staying in the state for another year
	Mortality   []float64 // death-rate multiplier in each state
	// ByAge makes the mix of states depend on age (see frailty.go): each
	// age-sex cell's shares are the chain's equilibrium there (the frail
	// die sooner), and rates and death rates are normalised per cell to
	// them. Off, every cell has Share and normalisation is over Share.
	ByAge bool
}

// K is the number of states.
func (f *Frailty) K() int { return len(f.Share) }

// MaxFrailtyStates bounds the frailty chain's size (cohort mode tabulates
// birth outcomes over 2 sexes × states in one 256-outcome alias table).
const MaxFrailtyStates = 64

// Demography drives the list from year to year.
type Demography struct {
	// Mortality is the annual probability of death by sex and band.
	Mortality [NSex][NBands]float64
	// BirthRate is live births a year per woman aged 15-44.
	BirthRate float64
	// MaleBirthShare is the share of births that are boys.
	MaleBirthShare float64
	// Turnover is the annual probability a patient leaves the list; as many
	// join, in expectation, with the practice's own age-sex mix.
	Turnover float64
}

// Practice is one practice's fixed characteristics.
type Practice struct {
	ID    string
	Need  float64           // need (deprivation) index, 1 = average
	Style [NStreams]float64 // referral/prescribing style multipliers, mean 1
	Count [NSex][NBands]int // registered patients by sex and band
	Group string            // budget-holding group (consortium); empty = the practice alone
	// Geo is the practice's unit at each level (Level: neighbourhood,
	// place, ICB, region), whose common shocks it shares (Effects.Shocks);
	// practices with no code at a level share one unit there.
	Geo [NLevels]string

	// NeedDev is each stream's own need on the log scale beside Need: the
	// stream's need index is Need·exp(NeedDev[s]) (zero: Need alone). Real
	// practices' need indices correlate about 0.92, not 1, between streams.
	NeedDev [NStreams]float64
}

// StreamNeed is the practice's need index in stream s: Need·exp(NeedDev[s]).
func (p *Practice) StreamNeed(s Stream) float64 {
	if p.NeedDev[s] == 0 {
		return p.Need
	}
	return p.Need * math.Exp(p.NeedDev[s])
}

// ListSize is the practice's registered list.
func (p *Practice) ListSize() int {
	n := 0
	for s := range NSex {
		for b := range NBands {
			n += p.Count[s][b]
		}
	}
	return n
}

// Budget sets each practice-year's budget: Setter from the capitation
// target and past spend, then the commissioner keeps back TopSlice of it.
type Budget struct {
	Setter BudgetSetter
	// Weights, if set, are supplied per-head cost weights by sex and band
	// (relative; scaled so the area's capitation total equals its expected
	// spend). Nil uses the model's own expected cost per head.
	Weights *[NSex][NBands]float64
	// TopSlice is the share of each budget the commissioner keeps back as a
	// contingency reserve.
	TopSlice float64
	// IssueWeek is the week of the financial year in which budgets reach
	// practices; behaviour effects act on the (52-IssueWeek)/52 of the year left.
	IssueWeek float64
	// Project projects historic and blend budgets forward: each past
	// year's spend, and last year's budget, are scaled by how the
	// practice's expected spend (its list at each year's start and the
	// trends' point values) has moved since, before the setter uplifts
	// them. Without it, budgets fall behind a list that grows or ages and
	// behind the trends.
	Project bool
	// Trend is the growth a projection uses between the years a budget is
	// set from and its year: the trends' point values (TrendExpected), or
	// national growth as it turned out in the replication (TrendRealised:
	// the drawn trends and the year's national shocks), as Medicare updates
	// a benchmark by realised national growth after the year (42 CFR
	// 425.601(b)). Realised growth takes out of a holder's result what it
	// shares with every holder in the country. Only with Project.
	Trend BudgetTrend
	// Formula, if set, is an estimated capitation formula (EstimateFormula)
	// in place of the perfect one, which knows each practice's true need.
	Formula *Formula
}

// BudgetTrend is the growth a budget's projection uses (Budget.Trend).
type BudgetTrend uint8

// The budget trends.
const (
	TrendExpected BudgetTrend = iota // the trends' point values: what could be known before the year
	TrendRealised                    // national growth realised in the replication, known after the year
)

// Model is everything a run needs apart from the seed and run size.
type Model struct {
	Name       string
	Streams    [NStreams]StreamParams
	Frailty    Frailty
	Demography Demography
	Practices  []Practice
	Budget     Budget
	Policy     *Policy
	StopLoss   *StopLoss // nil: no per-patient stop-loss
	// Lists moves practices' lists beyond demography (lists.go); nil: no
	// list dynamics.
	Lists *ListDynamics
	// ListsAtYearOne says the practices' lists are those at the start of
	// year 1 (as a list-size file's are): the base year is simulated on the
	// same list, which moves on only from year 1.
	ListsAtYearOne bool
	// Effects beyond chance: drift, common shocks, trends (effects.go).
	Effects Effects
	// Uncertainty: priors on parameters, drawn per replication (uncertainty.go).
	Uncertainty Uncertainty
}

// Validate checks the model's invariants and that what a run derives from
// it is usable: frailty and mortality multipliers normalised by a positive
// share-weighted mean, capitation weights that give the area a positive
// total, and count distributions that fit in the engine's count tables.
// scenarios should catch bad input earlier with field names, so this is the
// engine's own guard: a model that passes never makes a run divide by zero,
// produce NaN or loop.
func (m *Model) Validate() error {
	_, err := prepare(m)
	return err
}

// check checks each value on its own: every number finite and in range.
func (m *Model) check() error {
	var errs []error
	bad := func(v float64) bool { return !(v >= 0 && v <= math.MaxFloat64) } // negative, infinite or NaN
	for s, sp := range m.Streams {
		for sex := range NSex {
			for b := range NBands {
				if bad(sp.Rate[sex][b]) {
					errs = append(errs, fmt.Errorf("stream %s: rate for %s is %v", StreamNames[s], BandLabel(b), sp.Rate[sex][b]))
				}
			}
		}
		if len(sp.Cost) == 0 {
			errs = append(errs, fmt.Errorf("stream %s: no cost distribution", StreamNames[s]))
		}
		if sp.Family == GammaSum && len(sp.Cost) != 1 {
			errs = append(errs, fmt.Errorf("stream %s: a gamma cost has exactly one part", StreamNames[s]))
		}
		share := 0.0
		for _, c := range sp.Cost {
			if bad(c.Mean) || bad(c.CV) || bad(c.Share) {
				errs = append(errs, fmt.Errorf("stream %s: cost part %q has a negative or non-finite value", StreamNames[s], c.Name))
			}
			share += c.Share
		}
		if math.Abs(share-1) > 1e-9 || math.IsNaN(share) {
			errs = append(errs, fmt.Errorf("stream %s: cost part shares sum to %v, not 1", StreamNames[s], share))
		}
		if !(sp.Dispersion >= 0) {
			errs = append(errs, fmt.Errorf("stream %s: dispersion %v: accepted 0 or more (0 or +Inf: Poisson)", StreamNames[s], sp.Dispersion))
		}
		for _, x := range []struct {
			name string
			v    float64
		}{{"frailty loading", sp.FrailtyLoading}, {"need elasticity", sp.NeedElasticity}, {"style SD", sp.StyleSD}, {"rate uncertainty SD", sp.RateUncertaintySD}} {
			if bad(x.v) {
				errs = append(errs, fmt.Errorf("stream %s: %s %v: accepted a finite number 0 or more", StreamNames[s], x.name, x.v))
			}
		}
	}
	f := m.Frailty
	k := f.K()
	if k == 0 || len(f.Level) != k || len(f.Persistence) != k || len(f.Mortality) != k {
		errs = append(errs, errors.New("frailty: share, level, persistence and mortality need one entry per state"))
	} else if k > MaxFrailtyStates {
		errs = append(errs, fmt.Errorf("frailty: %d states; at most %d are accepted", k, MaxFrailtyStates))
	} else {
		sum := 0.0
		for i := range k {
			if bad(f.Share[i]) || bad(f.Level[i]) || bad(f.Mortality[i]) || !(f.Persistence[i] >= 0 && f.Persistence[i] < 1) {
				errs = append(errs, fmt.Errorf("frailty state %d: bad share, level, mortality or persistence (persistence must be in [0,1))", i))
			}
			sum += f.Share[i]
		}
		if !(math.Abs(sum-1) <= 1e-9) {
			errs = append(errs, fmt.Errorf("frailty: shares sum to %v, not 1", sum))
		}
	}
	d := m.Demography
	for sex := range NSex {
		for b := range NBands {
			if v := d.Mortality[sex][b]; !(v >= 0 && v <= 1) {
				errs = append(errs, fmt.Errorf("demography: mortality for %s is %v: accepted a probability, 0 to 1", BandLabel(b), v))
			}
		}
	}
	if bad(d.BirthRate) || !(d.MaleBirthShare >= 0 && d.MaleBirthShare <= 1) || !(d.Turnover >= 0 && d.Turnover <= 1) {
		errs = append(errs, fmt.Errorf("demography: birth rate %v, male birth share %v, turnover %v: accepted a finite rate 0 or more and probabilities 0 to 1", d.BirthRate, d.MaleBirthShare, d.Turnover))
	}
	bu := m.Budget
	if !(bu.TopSlice >= 0 && bu.TopSlice < 1) || !(bu.IssueWeek >= 0 && bu.IssueWeek <= 52) {
		errs = append(errs, fmt.Errorf("budget: top-slice %v, issue week %v: accepted top-slice 0 to below 1, issue week 0 to 52", bu.TopSlice, bu.IssueWeek))
	}
	uplift, pace := 0.0, 0.0
	switch b := bu.Setter.(type) {
	case HistoricBudget:
		uplift = b.Uplift
	case BlendBudget:
		uplift, pace = b.Uplift, b.Pace
	case AgreementBenchmark:
		sum := 0.0
		for _, w := range b.Weights {
			if bad(w) {
				sum = math.NaN()
			}
			sum += w
		}
		if !(sum > 0) || len(b.Weights) > maxLag || !(b.AgreementYears >= 1 && b.AgreementYears <= histCap-maxLag) || !(b.Prospective >= 0 && b.Prospective <= 1) {
			errs = append(errs, fmt.Errorf("budget: agreement benchmark with weights %v, %d-year agreements, prospective weight %v: accepted 1 to %d weights 0 or more summing above 0, 1 to %d years, a weight 0 to 1", b.Weights, b.AgreementYears, b.Prospective, maxLag, histCap-maxLag))
		}
	}
	if !(uplift > -1 && uplift <= math.MaxFloat64) || !(pace >= 0 && pace <= 1) {
		errs = append(errs, fmt.Errorf("budget: uplift %v, pace %v: accepted uplift above -1, pace 0 to 1", uplift, pace))
	}
	if w := bu.Weights; w != nil {
		for sex := range NSex {
			for b := range NBands {
				if bad(w[sex][b]) {
					errs = append(errs, fmt.Errorf("budget: capitation weight for %s is %v: accepted a finite number 0 or more", BandLabel(b), w[sex][b]))
				}
			}
		}
	}
	if sl := m.StopLoss; sl != nil && (bad(sl.Threshold) || !(sl.Uprating > -1 && sl.Uprating <= math.MaxFloat64)) {
		errs = append(errs, fmt.Errorf("stop-loss: threshold %v, uprating %v: accepted a finite threshold 0 or more and uprating above -1", sl.Threshold, sl.Uprating))
	}
	if len(m.Practices) == 0 {
		errs = append(errs, errors.New("no practices"))
	}
	for i := range m.Practices {
		p := &m.Practices[i]
		n := 0
		for sex := range NSex {
			for b := range NBands {
				c := p.Count[sex][b]
				if c < 0 || c > math.MaxInt32 {
					errs = append(errs, fmt.Errorf("practice %s: %d patients in band %s: accepted 0 to %d", p.ID, c, BandLabel(b), math.MaxInt32))
				}
				n += min(max(c, 0), math.MaxInt32)
			}
		}
		if n <= 0 || n > math.MaxInt32 {
			errs = append(errs, fmt.Errorf("practice %s: list of %d patients: accepted 1 to %d", p.ID, n, math.MaxInt32))
		}
		if bad(p.Need) || p.Need == 0 {
			errs = append(errs, fmt.Errorf("practice %s: need index %v must be > 0", p.ID, p.Need))
		}
		for s, v := range p.Style {
			if bad(v) {
				errs = append(errs, fmt.Errorf("practice %s: %s style %v must be a finite number 0 or more", p.ID, StreamNames[s], v))
			}
		}
	}
	if m.Policy == nil || m.Policy.Start == nil {
		errs = append(errs, errors.New("no budget policy (a regime engaged practices start in)"))
	}
	if m.Budget.Setter == nil {
		errs = append(errs, errors.New("no way of setting budgets (Budget.Setter)"))
	}
	errs = append(errs, m.checkRisk()...)
	// Ledger parties are named by practice ID and group: names must not clash.
	seen := map[string]string{"commissioner": "a fixed party", "providers": "a fixed party", "pool": "a fixed party"}
	for i := range m.Practices {
		id := m.Practices[i].ID
		if what, ok := seen[id]; ok {
			errs = append(errs, fmt.Errorf("practice ID %q is already %s", id, what))
		}
		seen[id] = "a practice ID"
	}
	for _, g := range m.Groups() {
		if what, ok := seen[g]; ok {
			errs = append(errs, fmt.Errorf("group %q is already %s", g, what))
		}
		seen[g] = "a group"
	}
	return errors.Join(errs...)
}
