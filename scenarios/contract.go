package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/gpbudget/gpbudget/internal/stats"
	"github.com/gpbudget/gpbudget/sim"
	"go.yaml.in/yaml/v3"
)

// Contract is a shared-savings contract's terms (rule.type shared_savings):
// the commissioner pays providers for all care; each holder's year is
// settled against its benchmark (the budget, set by budget.method) through
// a corridor. See docs/model.md, "Shared-savings contracts".
type Contract struct {
	Sides             string        `yaml:"sides" json:"sides" jsonschema:"enum=one,enum=two" jsonschema_description:"one: the holder shares savings only (upside); two: it also pays a share of losses from its own money."`
	Risk              string        `yaml:"risk" json:"risk" jsonschema:"enum=asymmetric,enum=symmetric" jsonschema_description:"symmetric: the loss side mirrors the savings side (minimum rate, share and benchmark cap), and losses is not accepted; asymmetric: each side has its own terms."`
	Sharing           string        `yaml:"sharing" json:"sharing" jsonschema:"enum=first_pound,enum=above_corridor" jsonschema_description:"first_pound: once savings (losses) reach the minimum rate they are shared from the first pound (Medicare); above_corridor: only the part beyond the minimum rate is shared (a deductible)."`
	Savings           ContractSide  `yaml:"savings" json:"savings" jsonschema_description:"The savings side: minimum savings rate (MSR), share and cap (cap_revenue is not accepted here)."`
	Losses            ContractSide  `yaml:"losses" json:"losses" jsonschema_description:"The loss side of a two-sided contract: minimum loss rate (MLR), share and caps (the lesser of cap_benchmark and cap_revenue applies)."`
	RevenuePerPatient float64       `yaml:"revenue_per_patient" json:"revenue_per_patient" jsonschema:"minimum=0,maximum=100000" jsonschema_description:"The holder's own revenue in pounds a year per registered patient (at price_year), for losses.cap_revenue; 0 = not given (no revenue cap)."`
	Truncation        *Truncation   `yaml:"truncation,omitempty" json:"truncation,omitempty" jsonschema_description:"Per-patient truncation of the spend measured against the benchmark; omit for none. Needs patient level (not --cohort)."`
	GlidePath         []GlideStep   `yaml:"glide_path,omitempty" json:"glide_path,omitempty" jsonschema_description:"Terms that change from a contract year on (only what a step names changes); omit for the same terms every year."`
	Benchmark         *Benchmark    `yaml:"benchmark,omitempty" json:"benchmark,omitempty" jsonschema_description:"A benchmark set for an agreement (Medicare's): once from weighted base years, then updated each year by a reference's realised growth. Replaces budget.method (and budget.historic_years, uplift, lag, project) for the holders' benchmarks; omit to set benchmarks by budget.method."`
	Quality           *Quality      `yaml:"quality,omitempty" json:"quality,omitempty" jsonschema_description:"A quality gate on the savings share: omit for none (every holder paid the full share, an upper bound)."`
	Behaviour         RegimeEffects `yaml:"behaviour" json:"behaviour" jsonschema_description:"Effects on the rates of practices holding a contract."`
}

// ContractSide is one side of the corridor.
type ContractSide struct {
	MinRate      float64    `yaml:"min_rate" json:"min_rate" jsonschema:"minimum=0,maximum=0.5" jsonschema_description:"Minimum savings (loss) rate, a fixed fraction of the benchmark: savings (losses) smaller than this are not shared. Not used when min_rate_table or min_rate_bands is set; a file that sets min_rate without a table replaces the default table."`
	MinRateTable string     `yaml:"min_rate_table,omitempty" json:"min_rate_table,omitempty" jsonschema:"enum=medicare" jsonschema_description:"A built-in table by which the minimum rate slides with the holder's population: medicare (42 CFR 425.604(b): 3.9% at 5,000 people down to 2.0% at 60,000 and more, interpolated within bands). Default medicare; set \"\" (or only min_rate) for a fixed rate."`
	MinRateBands []RateBand `yaml:"min_rate_bands,omitempty" json:"min_rate_bands,omitempty" jsonschema_description:"Your own sliding table: bands of population, in increasing order, the rate interpolated linearly within each."`
	Share        float64    `yaml:"share" json:"share" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Share of savings paid to the holder (of losses paid by it), a fraction."`
	CapBenchmark float64    `yaml:"cap_benchmark" json:"cap_benchmark" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Shared savings (losses) at most this fraction of the benchmark; 0 = no cap."`
	CapRevenue   float64    `yaml:"cap_revenue" json:"cap_revenue" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Losses only: shared losses at most this fraction of the holder's revenue (revenue_per_patient x list); 0 = no cap; no cap either where revenue_per_patient is 0 (not given)."`
}

// RateBand is one band of a sliding minimum-rate table.
type RateBand struct {
	Min   int     `yaml:"min" json:"min" jsonschema:"minimum=0" jsonschema_description:"Smallest population (people) of the band."`
	Max   int     `yaml:"max" json:"max" jsonschema:"minimum=0" jsonschema_description:"Largest population of the band; 0 in the last band = no upper end (the rate stays at_min)."`
	AtMin float64 `yaml:"at_min" json:"at_min" jsonschema:"minimum=0,maximum=0.5" jsonschema_description:"Rate at min (fraction of the benchmark)."`
	AtMax float64 `yaml:"at_max" json:"at_max" jsonschema:"minimum=0,maximum=0.5" jsonschema_description:"Rate at max; in between, interpolated linearly."`
}

// SideChange changes some of a side's terms from a contract year on.
type SideChange struct {
	MinRate      *float64   `yaml:"min_rate,omitempty" json:"min_rate,omitempty" jsonschema:"minimum=0,maximum=0.5" jsonschema_description:"A fixed minimum rate from this year (replaces any table)."`
	MinRateTable *string    `yaml:"min_rate_table,omitempty" json:"min_rate_table,omitempty" jsonschema:"enum=medicare" jsonschema_description:"A built-in sliding table from this year."`
	MinRateBands []RateBand `yaml:"min_rate_bands,omitempty" json:"min_rate_bands,omitempty" jsonschema_description:"Your own sliding table from this year."`
	Share        *float64   `yaml:"share,omitempty" json:"share,omitempty" jsonschema:"minimum=0,maximum=1"`
	CapBenchmark *float64   `yaml:"cap_benchmark,omitempty" json:"cap_benchmark,omitempty" jsonschema:"minimum=0,maximum=1"`
	CapRevenue   *float64   `yaml:"cap_revenue,omitempty" json:"cap_revenue,omitempty" jsonschema:"minimum=0,maximum=1"`
}

// GlideStep is a step of a glide path: from contract year FromYear on, the
// terms it names change (later steps build on earlier ones).
type GlideStep struct {
	FromYear int         `yaml:"from_year" json:"from_year" jsonschema:"minimum=2,maximum=50" jsonschema_description:"The contract year (budget year, 1 = first) from which the step applies; steps in increasing order."`
	Sides    *string     `yaml:"sides,omitempty" json:"sides,omitempty" jsonschema:"enum=one,enum=two"`
	Sharing  *string     `yaml:"sharing,omitempty" json:"sharing,omitempty" jsonschema:"enum=first_pound,enum=above_corridor"`
	Savings  *SideChange `yaml:"savings,omitempty" json:"savings,omitempty"`
	Losses   *SideChange `yaml:"losses,omitempty" json:"losses,omitempty"`
}

// Truncation leaves each patient's cost above a point out of the spend
// measured against the benchmark (Medicare truncates at the national 99th
// percentile of per-person spend).
type Truncation struct {
	Amount     float64  `yaml:"amount,omitempty" json:"amount,omitempty" jsonschema:"minimum=0" jsonschema_description:"Truncation point in pounds per patient a year (at price_year); set this or percentile."`
	Percentile float64  `yaml:"percentile,omitempty" json:"percentile,omitempty" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Truncation point as a quantile (0.5 to 0.9999) of a patient's cost in a year over streams, across the scenario's whole population in the base year (simulated once from the population seed); set this or amount."`
	Streams    []string `yaml:"streams,omitempty" json:"streams,omitempty" jsonschema_description:"Streams whose cost is truncated (a patient's cost is summed over them); default all five."`
	Uprating   float64  `yaml:"uprating" json:"uprating" jsonschema:"minimum=-0.5,maximum=1" jsonschema_description:"Yearly growth of the truncation point after year 1 (fraction)."`
	WithTrend  bool     `yaml:"with_trend,omitempty" json:"with_trend,omitempty" jsonschema_description:"Also move the truncation point with the expected spend per head each year (the trends' point values), base years included, as a percentile recomputed from each year's spend would move (Medicare recomputes it each year)."`
}

// Benchmark is a benchmark set for an agreement (sim.AgreementBenchmark).
type Benchmark struct {
	Weights        []float64 `yaml:"weights" json:"weights" jsonschema:"minItems=1,maxItems=5" jsonschema_description:"Weights of the base years before each agreement, oldest first (Medicare: 0.1, 0.3, 0.6); their number is the number of base years."`
	AgreementYears int       `yaml:"agreement_years" json:"agreement_years" jsonschema:"minimum=1,maximum=11" jsonschema_description:"Years of an agreement; the benchmark is rebased on the years before each new one (Medicare: 5)."`
	Reference      string    `yaml:"reference" json:"reference" jsonschema:"enum=national,enum=area" jsonschema_description:"Whose realised growth in spend per head (by age and sex) brings base years forward and updates the benchmark each year: national (the trends and national shocks) or area (also the area's shocks: Medicare's regional)."`
	Prospective    float64   `yaml:"prospective" json:"prospective" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Weight of a prospective trend (the trends' point values, known when the agreement starts) in each year's update, against the realised growth (Medicare from 2024: one third)."`
}

// Quality is a quality gate on the savings share (sim.Quality).
type Quality struct {
	Meets     float64 `yaml:"meets" json:"meets" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Chance a holder meets the quality standard in a year (full savings share)."`
	Otherwise float64 `yaml:"otherwise" json:"otherwise" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Fraction of the savings share paid in a year the holder misses the standard (0: none)."`
}

// Incentive is an incentive payment for taking part or meeting local
// targets (any rule type): the general form of a local incentive scheme.
type Incentive struct {
	PerPatient        float64 `yaml:"per_patient" json:"per_patient" jsonschema:"minimum=0,maximum=1000" jsonschema_description:"Pounds per registered patient a year (at price_year): the payment, or with against_savings floor the minimum the holder receives."`
	Basis             string  `yaml:"basis" json:"basis" jsonschema:"enum=taking_part,enum=targets" jsonschema_description:"taking_part: paid to every holder taking part; targets: paid in a year the holder meets its local targets (a chance event, target_prob)."`
	TargetProb        float64 `yaml:"target_prob" json:"target_prob" jsonschema:"minimum=0,maximum=1" jsonschema_description:"With basis targets: the chance a holder meets its targets in a year."`
	AgainstSavings    string  `yaml:"against_savings" json:"against_savings" jsonschema:"enum=addition,enum=floor,enum=ceiling" jsonschema_description:"addition: paid on top of savings kept; floor: tops savings kept (retained or shared) up to per_patient and pays nothing when they reach it (PBC 2006/07's 95p); ceiling: paid as far as savings kept plus the incentive stay within ceiling_per_patient."`
	CeilingPerPatient float64 `yaml:"ceiling_per_patient,omitempty" json:"ceiling_per_patient,omitempty" jsonschema:"minimum=0,maximum=100000" jsonschema_description:"With against_savings ceiling: pounds per patient a year that savings kept plus the incentive may reach (at least per_patient)."`
}

// rateTables are the built-in sliding tables of min_rate_table.
var rateTables = map[string]sim.RateTable{"medicare": sim.MedicareMSR}

func tableNames() string {
	var out []string
	for k := range rateTables {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// defaultContract is the contract rule.type shared_savings takes where the
// scenario says nothing: Medicare's Shared Savings Program BASIC track, the
// published example of these rules [ref §8].
func defaultContract() *Contract {
	return &Contract{
		// BASIC levels A and B are one-sided [ref §8].
		Sides: "one",
		Risk:  "asymmetric",
		// Medicare shares from the first pound once the MSR is met (42 CFR
		// 425.604(c)); the deductible form is an option.
		Sharing: "first_pound",
		Savings: ContractSide{
			// The one-sided MSR slides with assigned beneficiaries [ref §8];
			// min_rate is what a scenario that replaces the table gets:
			// 2.0%, the table's rate from 60,000 people [ref §8].
			MinRate:      0.02,
			MinRateTable: "medicare",
			Share:        0.40, // levels A and B: 40% [ref §8]
			CapBenchmark: 0.10, // savings capped at 10% of the benchmark [ref §8]
		},
		Losses: ContractSide{
			// Two-sided levels may choose the size-based symmetric MLR [ref §8].
			MinRate:      0.02,
			MinRateTable: "medicare",
			Share:        0.30, // losses shared at 30% [ref §8]
			// Level C: 2% of revenue or 1% of the benchmark, the lesser [ref §8].
			CapBenchmark: 0.01,
			CapRevenue:   0.02,
		},
		// ASSUMPTION: no revenue cap unless a scenario gives the holder's
		// revenue (there is no English figure for a neighbourhood provider's).
		RevenuePerPatient: 0,
	}
}

// terms resolves the glide path: the terms of each contract year up to the
// last step (the last applies from then on).
func (c *Contract) terms() []sim.Terms {
	sides, sharing := c.Sides, c.Sharing
	sv, ls := c.Savings, c.Losses
	out := []sim.Terms{c.termsOf(sides, sharing, &sv, &ls)}
	for _, st := range c.GlidePath {
		for len(out) < st.FromYear-1 {
			out = append(out, out[len(out)-1])
		}
		if st.Sides != nil {
			sides = *st.Sides
		}
		if st.Sharing != nil {
			sharing = *st.Sharing
		}
		st.Savings.apply(&sv)
		st.Losses.apply(&ls)
		out = append(out, c.termsOf(sides, sharing, &sv, &ls))
	}
	return out
}

// apply changes side s as the step says.
func (ch *SideChange) apply(s *ContractSide) {
	if ch == nil {
		return
	}
	if ch.MinRate != nil {
		s.MinRate, s.MinRateTable, s.MinRateBands = *ch.MinRate, "", nil
	}
	if ch.MinRateTable != nil {
		s.MinRateTable, s.MinRateBands = *ch.MinRateTable, nil
	}
	if ch.MinRateBands != nil {
		s.MinRateTable, s.MinRateBands = "", ch.MinRateBands
	}
	if ch.Share != nil {
		s.Share = *ch.Share
	}
	if ch.CapBenchmark != nil {
		s.CapBenchmark = *ch.CapBenchmark
	}
	if ch.CapRevenue != nil {
		s.CapRevenue = *ch.CapRevenue
	}
}

// rate is a side's minimum rate for the engine.
func (s *ContractSide) rate() sim.Rate {
	switch {
	case s.MinRateTable != "":
		return sim.Rate{Table: rateTables[s.MinRateTable]}
	case len(s.MinRateBands) > 0:
		t := make(sim.RateTable, len(s.MinRateBands))
		for i, b := range s.MinRateBands {
			t[i] = sim.RateBand{Min: b.Min, Max: b.Max, AtMin: b.AtMin, AtMax: b.AtMax}
		}
		return sim.Rate{Table: t}
	}
	return sim.Rate{Fixed: s.MinRate}
}

// termsOf is one year's terms; with symmetric risk the loss side mirrors
// the savings side.
func (c *Contract) termsOf(sides, sharing string, sv, ls *ContractSide) sim.Terms {
	if c.Risk == "symmetric" {
		ls = &ContractSide{MinRate: sv.MinRate, MinRateTable: sv.MinRateTable, MinRateBands: sv.MinRateBands, Share: sv.Share, CapBenchmark: sv.CapBenchmark}
	}
	return sim.Terms{
		MSR: sv.rate(), SavingsShare: sv.Share, SavingsCap: sv.CapBenchmark,
		TwoSided: sides == "two",
		MLR:      ls.rate(), LossShare: ls.Share, LossCapBenchmark: ls.CapBenchmark, LossCapRevenue: ls.CapRevenue,
		AboveCorridor: sharing == "above_corridor",
	}
}

// regime is the engine's contract.
func (c *Contract) regime() *sim.SharedSavings {
	r := &sim.SharedSavings{Years: c.terms(), RevenuePerPatient: c.RevenuePerPatient, Behaviour: c.Behaviour.effects()}
	if q := c.Quality; q != nil {
		r.Quality = &sim.Quality{Meets: q.Meets, Otherwise: q.Otherwise}
	}
	return r
}

// setter is the engine's agreement benchmark.
func (b *Benchmark) setter() sim.AgreementBenchmark {
	ref := sim.ReferenceNational
	if b.Reference == "area" {
		ref = sim.ReferenceArea
	}
	return sim.AgreementBenchmark{Weights: slices.Clone(b.Weights), AgreementYears: b.AgreementYears, Reference: ref, Prospective: b.Prospective}
}

// effects are the engine's behaviour effects.
func (e RegimeEffects) effects() (out [sim.NStreams]sim.Effect) {
	out[sim.Outpatient] = sim.Effect{Mean: e.Outpatient.Mean, SD: e.Outpatient.SD}
	out[sim.Prescribing] = sim.Effect{Mean: e.Prescribing.Mean, SD: e.Prescribing.SD}
	out[sim.Elective] = sim.Effect{Mean: e.Elective.Mean, SD: e.Elective.SD}
	return out
}

// engine is the engine's incentive step (nil for none).
func (in *Incentive) engine() *sim.Incentive {
	if in == nil {
		return nil
	}
	out := &sim.Incentive{PerPatient: in.PerPatient, Ceiling: in.CeilingPerPatient, TargetProb: 1}
	if in.Basis == "targets" {
		out.TargetProb = in.TargetProb
	}
	switch in.AgainstSavings {
	case "floor":
		out.Against = sim.AsFloor
	case "ceiling":
		out.Against = sim.UnderCeiling
	}
	return out
}

// truncation is the contract's per-patient truncation point as the
// engine's per-patient threshold: an amount, or a percentile of a patient's
// cost in the model's base year (from the population seed).
func (c *Contract) truncation(m *sim.Model, seed uint64) (*sim.StopLoss, error) {
	tr := c.Truncation
	sl := &sim.StopLoss{Threshold: tr.Amount, Uprating: tr.Uprating, WithTrend: tr.WithTrend}
	for s := range sim.NStreams {
		sl.Streams[s] = len(tr.Streams) == 0 || slices.Contains(tr.Streams, sim.StreamNames[s])
	}
	if tr.Percentile > 0 {
		costs, err := sim.PatientSpends(m, seed, sl.Streams)
		if err != nil {
			return nil, err
		}
		sl.Threshold = stats.Quantile(costs, tr.Percentile)
	}
	return sl, nil
}

// groupPrefix names the groups made by population or all (C where a
// scenario built in code leaves it empty).
func (s *Scenario) groupPrefix() string {
	if s.Rule.Consortium.NamePrefix == "" {
		return "C"
	}
	return s.Rule.Consortium.NamePrefix
}

// contract returns the scenario's contract terms, the defaults where it has
// none.
func (s *Scenario) contract() *Contract {
	if s.Contract == nil {
		return defaultContract()
	}
	return s.Contract
}

// mirror is the loss side a symmetric contract has: the savings side's
// minimum rate, share and benchmark cap.
func (sd *ContractSide) mirror() ContractSide {
	return ContractSide{MinRate: sd.MinRate, MinRateTable: sd.MinRateTable, MinRateBands: sd.MinRateBands, Share: sd.Share, CapBenchmark: sd.CapBenchmark}
}

// checkContract resolves and validates the contract, truncation and
// incentive fields and how they fit the rule type. Resolving: a scenario
// that is not a contract has no contract section (so a resolved scenario
// shows none); a side's minimum rate is what the file says (minRateInFile);
// a symmetric contract's loss side is its savings side's mirror.
func (s *Scenario) checkContract(c *checker) {
	isContract := s.Rule.Type == "shared_savings"
	inFile := func(f string) bool { return inFile(c.root, f) }
	if !isContract {
		if inFile("contract") {
			c.fail("contract", "is set for rule type %s, where it does nothing: accepted with rule type shared_savings", s.Rule.Type)
		}
		s.Contract = nil
	} else if s.Contract == nil {
		s.Contract = defaultContract()
	}
	s.checkIncentive(c)
	if strings.TrimSpace(s.CommissionerLabel) == "" {
		c.fail("commissioner_label", "is empty: accepted a name such as ICB or PCT")
	}
	if s.Contract == nil {
		return
	}
	k := s.Contract
	k.Savings.minRateInFile(c.root, "contract.savings")
	k.Losses.minRateInFile(c.root, "contract.losses")
	if k.Risk == "symmetric" {
		if m := k.Savings.mirror(); inFile("contract.losses") && !reflect.DeepEqual(k.Losses, m) {
			c.fail("contract.losses", "differs from the savings side with risk symmetric, where the loss side mirrors the savings side (min_rate, table, share, cap_benchmark; no cap_revenue): accepted risk asymmetric, or no losses section")
		} else {
			k.Losses = m
		}
	}
	if !slices.Contains([]string{"one", "two"}, k.Sides) {
		c.fail("contract.sides", "%q is not accepted: accepted one, two", k.Sides)
	}
	if !slices.Contains([]string{"asymmetric", "symmetric"}, k.Risk) {
		c.fail("contract.risk", "%q is not accepted: accepted asymmetric, symmetric", k.Risk)
	}
	if !slices.Contains([]string{"first_pound", "above_corridor"}, k.Sharing) {
		c.fail("contract.sharing", "%q is not accepted: accepted first_pound, above_corridor", k.Sharing)
	}
	c.side("contract.savings", &k.Savings, false)
	c.side("contract.losses", &k.Losses, true)
	c.num("contract.revenue_per_patient", k.RevenuePerPatient, 0, 1e5)
	prev := 1
	for i, st := range k.GlidePath {
		f := fmt.Sprintf("contract.glide_path[%d]", i)
		if st.FromYear <= prev || st.FromYear > MaxYears {
			c.fail(f+".from_year", "%d is out of range: accepted %d to %d (contract years after the previous step's, in increasing order)", st.FromYear, prev+1, MaxYears)
		}
		prev = max(prev, st.FromYear)
		if st.Sides != nil && !slices.Contains([]string{"one", "two"}, *st.Sides) {
			c.fail(f+".sides", "%q is not accepted: accepted one, two", *st.Sides)
		}
		if st.Sharing != nil && !slices.Contains([]string{"first_pound", "above_corridor"}, *st.Sharing) {
			c.fail(f+".sharing", "%q is not accepted: accepted first_pound, above_corridor", *st.Sharing)
		}
		c.sideChange(f+".savings", st.Savings, false)
		c.sideChange(f+".losses", st.Losses, true)
		if k.Risk == "symmetric" && st.Losses != nil {
			c.fail(f+".losses", "is set with risk symmetric, where the loss side mirrors the savings side: accepted risk asymmetric, or no losses in the step")
		}
	}
	if tr := k.Truncation; tr != nil {
		switch {
		case (tr.Amount > 0) == (tr.Percentile > 0) || tr.Amount < 0 || tr.Percentile < 0:
			c.fail("contract.truncation", "has amount %v and percentile %v: accepted exactly one of them, positive", tr.Amount, tr.Percentile)
		case tr.Amount > 0:
			c.num("contract.truncation.amount", tr.Amount, 1, 1e9)
		default:
			c.num("contract.truncation.percentile", tr.Percentile, 0.5, 0.9999)
		}
		c.num("contract.truncation.uprating", tr.Uprating, -0.5, 1)
		for i, n := range tr.Streams {
			if streamIndex(n) < 0 {
				c.fail(fmt.Sprintf("contract.truncation.streams[%d]", i), "%q is not a stream: accepted %s", n, strings.Join(streamList(), ", "))
			}
		}
	}
	if bm := k.Benchmark; bm != nil {
		if len(bm.Weights) < 1 || len(bm.Weights) > 5 {
			c.fail("contract.benchmark.weights", "has %d weights: accepted 1 to 5 (one per base year, oldest first)", len(bm.Weights))
		}
		sum := 0.0
		for i, w := range bm.Weights {
			c.num(fmt.Sprintf("contract.benchmark.weights[%d]", i), w, 0, 1)
			sum += w
		}
		if len(bm.Weights) > 0 && !(sum > 0) {
			c.fail("contract.benchmark.weights", "sum to 0: accepted weights with a positive sum")
		}
		if bm.AgreementYears < 1 || bm.AgreementYears > 11 {
			c.fail("contract.benchmark.agreement_years", "%d is out of range: accepted 1 to 11", bm.AgreementYears)
		}
		if !slices.Contains([]string{"national", "area"}, bm.Reference) {
			c.fail("contract.benchmark.reference", "%q is not accepted: accepted national, area", bm.Reference)
		}
		c.num("contract.benchmark.prospective", bm.Prospective, 0, 1)
	}
	if q := k.Quality; q != nil {
		c.num("contract.quality.meets", q.Meets, 0, 1)
		c.num("contract.quality.otherwise", q.Otherwise, 0, 1)
	}
	bh := k.Behaviour
	for _, x := range []struct {
		name string
		e    Effect
	}{{"outpatient", bh.Outpatient}, {"prescribing", bh.Prescribing}, {"elective", bh.Elective}} {
		f := "contract.behaviour." + x.name
		c.num(f+".mean", x.e.Mean, -0.9, 1)
		c.num(f+".sd", x.e.SD, 0, 1)
	}
	if s.StopLoss != nil {
		c.fail("stop_loss", "is set for rule type shared_savings, where the commissioner pays all care: accepted contract.truncation (a per-patient cap on the spend measured against the benchmark)")
	}
}

// checkIncentive validates the incentive.
func (s *Scenario) checkIncentive(c *checker) {
	inFile := func(f string) bool { return inFile(c.root, f) }
	if in := s.Incentive; in != nil {
		c.num("incentive.per_patient", in.PerPatient, 0, 1000)
		switch in.Basis {
		case "taking_part":
			if inFile("incentive.target_prob") {
				c.fail("incentive.target_prob", "is set with basis taking_part, where it does nothing: accepted with basis targets")
			}
		case "targets":
			c.num("incentive.target_prob", in.TargetProb, 0, 1)
		default:
			c.fail("incentive.basis", "%q is not accepted: accepted taking_part, targets", in.Basis)
		}
		switch in.AgainstSavings {
		case "addition", "floor":
			if in.CeilingPerPatient != 0 {
				c.fail("incentive.ceiling_per_patient", "is set with against_savings %s: accepted only with against_savings ceiling", in.AgainstSavings)
			}
		case "ceiling":
			c.num("incentive.ceiling_per_patient", in.CeilingPerPatient, in.PerPatient, 1e5)
		default:
			c.fail("incentive.against_savings", "%q is not accepted: accepted addition, floor, ceiling", in.AgainstSavings)
		}
	}
}

// side checks one side of the corridor.
func (c *checker) side(f string, sd *ContractSide, losses bool) {
	c.num(f+".min_rate", sd.MinRate, 0, 0.5)
	c.num(f+".share", sd.Share, 0, 1)
	c.num(f+".cap_benchmark", sd.CapBenchmark, 0, 1)
	c.num(f+".cap_revenue", sd.CapRevenue, 0, 1)
	if !losses && sd.CapRevenue != 0 {
		c.fail(f+".cap_revenue", "is set on the savings side: accepted only on losses (savings are capped on the benchmark, cap_benchmark)")
	}
	c.table(f, sd.MinRateTable, sd.MinRateBands)
}

// minRateInFile makes a side's minimum rate what the file says: a file
// that gives min_rate or min_rate_bands but no min_rate_table means that
// rate, not the default table. (Where a file gives min_rate and a table,
// the table is used, as a resolved scenario writes both.)
func (sd *ContractSide) minRateInFile(root *yaml.Node, f string) {
	if inFile(root, f+".min_rate_table") {
		return
	}
	if inFile(root, f+".min_rate") || inFile(root, f+".min_rate_bands") {
		sd.MinRateTable = ""
	}
}

// inFile says whether a dotted field path (mappings only) is in the file.
func inFile(root *yaml.Node, field string) bool { return root != nil && present(root, field) }

// sideChange checks a glide-path step's change to one side.
func (c *checker) sideChange(f string, ch *SideChange, losses bool) {
	if ch == nil {
		return
	}
	n := 0
	if ch.MinRate != nil {
		c.num(f+".min_rate", *ch.MinRate, 0, 0.5)
		n++
	}
	if ch.MinRateTable != nil {
		n++
	}
	if ch.MinRateBands != nil {
		n++
	}
	if n > 1 {
		c.fail(f, "sets more than one of min_rate, min_rate_table, min_rate_bands: accepted one")
	}
	tab := ""
	if ch.MinRateTable != nil {
		tab = *ch.MinRateTable
		if tab == "" {
			c.fail(f+".min_rate_table", "is empty: accepted %s (or set min_rate for a fixed rate)", tableNames())
		}
	}
	c.table(f, tab, ch.MinRateBands)
	for _, x := range []struct {
		name string
		v    *float64
		hi   float64
	}{{"share", ch.Share, 1}, {"cap_benchmark", ch.CapBenchmark, 1}, {"cap_revenue", ch.CapRevenue, 1}} {
		if x.v != nil {
			c.num(f+"."+x.name, *x.v, 0, x.hi)
		}
	}
	if !losses && ch.CapRevenue != nil {
		c.fail(f+".cap_revenue", "is set on the savings side: accepted only on losses")
	}
}

// table checks a side's sliding table: a built-in name, or bands in
// increasing order (max above min, the next band's min above this max; max
// 0 only in the last band), not both.
func (c *checker) table(f, name string, bands []RateBand) {
	if name != "" {
		if _, ok := rateTables[name]; !ok {
			c.fail(f+".min_rate_table", "%q is not a built-in table: accepted %s (or min_rate_bands for your own)", name, tableNames())
		}
		if len(bands) > 0 {
			c.fail(f+".min_rate_bands", "is set together with min_rate_table: accepted one of them")
		}
	}
	for i, b := range bands {
		bf := fmt.Sprintf("%s.min_rate_bands[%d]", f, i)
		c.num(bf+".at_min", b.AtMin, 0, 0.5)
		c.num(bf+".at_max", b.AtMax, 0, 0.5)
		if b.Min < 0 {
			c.fail(bf+".min", "%d is negative: accepted 0 or more people", b.Min)
		}
		last := i == len(bands)-1
		switch {
		case b.Max == 0 && !last:
			c.fail(bf+".max", "is 0 (no upper end) in a band that is not the last: accepted a population above min (%d)", b.Min)
		case b.Max != 0 && b.Max <= b.Min:
			c.fail(bf+".max", "%d is out of range: accepted a population above min (%d), or 0 in the last band for no upper end", b.Max, b.Min)
		}
		if i > 0 && b.Min <= bands[i-1].Max {
			c.fail(bf+".min", "%d is out of range: accepted a population above the previous band's max (%d)", b.Min, bands[i-1].Max)
		}
	}
}
