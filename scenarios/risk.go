package scenarios

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gpbudget/gpbudget/sim"
	"go.yaml.in/yaml/v3"
)

// Risk beyond chance: the scenario sections for drift, common shocks,
// trends, imperfect risk adjustment and parameter uncertainty, their
// validation, and how they build the engine's model (sim.Effects,
// sim.Uncertainty, sim.EstimateFormula). Defaults and their sources are in
// riskDefaults (risk_defaults.go); docs/model.md describes each effect.

// Risk is the scenario's sections on risk beyond chance (inline in Scenario).
type Risk struct {
	ChanceOnly     bool           `yaml:"chance_only" json:"chance_only" jsonschema_description:"Switch off every effect beyond chance (drift, shocks, trends, priors, style correlation, streams' own need, budget-setting lag, projected budgets, estimated formula, frailty by age): the model as it was before them, for comparison."`
	Drift          Drift          `yaml:"drift" json:"drift" jsonschema_description:"Practice effects that drift from year to year (AR(1) on the log scale, per stream)."`
	Shocks         Shocks         `yaml:"shocks" json:"shocks" jsonschema_description:"Year effects common to an area's practices, and to all (national)."`
	Trends         Trends         `yaml:"trends" json:"trends" jsonschema_description:"Yearly growth in demand (event rates) and prices (cost per event)."`
	RiskAdjustment RiskAdjustment `yaml:"risk_adjustment" json:"risk_adjustment" jsonschema_description:"How the capitation formula is made: perfect, or estimated from a sample."`
	Uncertainty    Uncertainty    `yaml:"uncertainty" json:"uncertainty" jsonschema_description:"Priors on parameters, drawn once per replication (probabilistic sensitivity analysis)."`
}

// StreamValues is a value for each stream.
type StreamValues struct {
	Outpatient  float64 `yaml:"outpatient" json:"outpatient"`
	Prescribing float64 `yaml:"prescribing" json:"prescribing"`
	AE          float64 `yaml:"ae" json:"ae"`
	Emergency   float64 `yaml:"emergency" json:"emergency"`
	Elective    float64 `yaml:"elective" json:"elective"`
}

func (v *StreamValues) array() [sim.NStreams]float64 {
	return [sim.NStreams]float64{v.Outpatient, v.Prescribing, v.AE, v.Emergency, v.Elective}
}

// Correlation is a correlation matrix between the streams: All between
// every pair, except the Pairs given.
type Correlation struct {
	All   float64    `yaml:"all" json:"all" jsonschema:"minimum=-0.25,maximum=1" jsonschema_description:"Correlation between every pair of streams (for five streams, at least -0.25)."`
	Pairs []PairCorr `yaml:"pairs,omitempty" json:"pairs,omitempty" jsonschema_description:"Pairs of streams with another correlation."`
}

// PairCorr is one pair's correlation.
type PairCorr struct {
	A   string  `yaml:"a" json:"a" jsonschema_description:"A stream (or, in uncertainty.correlations, a parameter)."`
	B   string  `yaml:"b" json:"b" jsonschema_description:"Another stream (or parameter)."`
	Rho float64 `yaml:"rho" json:"rho" jsonschema:"minimum=-1,maximum=1" jsonschema_description:"Their correlation."`
}

func (c *Correlation) matrix() sim.Corr {
	m := sim.Exchangeable(c.All)
	for _, p := range c.Pairs {
		a, b := streamIndex(p.A), streamIndex(p.B)
		if a >= 0 && b >= 0 && a != b {
			m[a][b], m[b][a] = p.Rho, p.Rho
		}
	}
	return m
}

// Drift is practice effects that drift (sim.Drift).
type Drift struct {
	SD          StreamValues `yaml:"sd" json:"sd" jsonschema_description:"Per stream, the stationary log-SD of the practice effect that drifts, on top of the fixed style (0 = none)."`
	Persistence float64      `yaml:"persistence" json:"persistence" jsonschema:"minimum=0,maximum=0.99" jsonschema_description:"Year-to-year autocorrelation of the drifting effect (AR(1) coefficient): it regresses to the mean by this factor a year."`
	Correlation Correlation  `yaml:"correlation" json:"correlation" jsonschema_description:"Correlation of the streams' yearly innovations."`
}

// Shocks are common shocks to nested geographic units and the nation
// (sim.Shocks).
type Shocks struct {
	NeighbourhoodSD StreamValues `yaml:"neighbourhood_sd" json:"neighbourhood_sd" jsonschema_description:"Per stream, log-SD of a year effect shared by every practice of a neighbourhood (primary care network)."`
	PlaceSD         StreamValues `yaml:"place_sd" json:"place_sd" jsonschema_description:"Per stream, log-SD of a year effect shared by every practice of a place (sub-ICB location, CCG, PCT: population.synthetic.geography or areas, or practices' area)."`
	// AreaSD is place_sd's older name, still read: a file may set one of them.
	AreaSD      StreamValues `yaml:"area_sd,omitempty" json:"area_sd,omitempty" jsonschema_description:"The older name of place_sd (set one of them)."`
	ICBSD       StreamValues `yaml:"icb_sd" json:"icb_sd" jsonschema_description:"Per stream, log-SD of a year effect shared by every practice of an ICB."`
	RegionSD    StreamValues `yaml:"region_sd" json:"region_sd" jsonschema_description:"Per stream, log-SD of a year effect shared by every practice of a region."`
	NationalSD  StreamValues `yaml:"national_sd" json:"national_sd" jsonschema_description:"Per stream, log-SD of a year effect shared by every practice (a national component)."`
	Correlation Correlation  `yaml:"correlation" json:"correlation" jsonschema_description:"Correlation of the streams' shocks in a year."`
}

// Geography gives a synthetic population nested units by population:
// people per neighbourhood, place, ICB and region (0: one unit at that
// level for the whole population).
type Geography struct {
	Neighbourhood int `yaml:"neighbourhood" json:"neighbourhood" jsonschema:"minimum=0" jsonschema_description:"People per neighbourhood (primary care network); 0: one."`
	Place         int `yaml:"place" json:"place" jsonschema:"minimum=0" jsonschema_description:"People per place (sub-ICB location); 0: one."`
	ICB           int `yaml:"icb" json:"icb" jsonschema:"minimum=0" jsonschema_description:"People per ICB; 0: one."`
	Region        int `yaml:"region" json:"region" jsonschema:"minimum=0" jsonschema_description:"People per region; 0: one."`
}

// sizes is the geography's people per unit, indexed by sim.Level.
func (g Geography) sizes() [sim.NLevels]int {
	return [sim.NLevels]int{g.Neighbourhood, g.Place, g.ICB, g.Region}
}

// assign gives practices (in order, with their lists) nested units: each
// level's unit is consecutive practices, and a unit closes when it holds
// its size or its parent unit closes, so units nest as England's do
// (neighbourhoods in places, places in ICBs, ICBs in regions). Codes are
// the level's initial and a number: N0001, P001, I01, R1.
func (g Geography) assign(lists []int) [][sim.NLevels]string {
	size := g.sizes()
	prefix := [sim.NLevels]string{"N%04d", "P%03d", "I%02d", "R%d"}
	out := make([][sim.NLevels]string, len(lists))
	var n, held [sim.NLevels]int
	for i, l := range lists {
		closed := false // a larger unit closed: every smaller one does
		for lv := int(sim.NLevels) - 1; lv >= 0; lv-- {
			if size[lv] <= 0 {
				continue
			}
			if i == 0 || closed || held[lv] >= size[lv] {
				n[lv]++
				held[lv] = 0
				closed = true
			}
			held[lv] += l
			out[i][lv] = fmt.Sprintf(prefix[lv], n[lv])
		}
	}
	return out
}

// levels are the shocks' SDs by sim.Level.
func (sh *Shocks) levels() [sim.NLevels]StreamValues {
	return [sim.NLevels]StreamValues{sh.NeighbourhoodSD, sh.PlaceSD, sh.ICBSD, sh.RegionSD}
}

// Trends are yearly growth in demand and prices (sim.Trend).
type Trends struct {
	DemandGrowth StreamValues `yaml:"demand_growth" json:"demand_growth" jsonschema_description:"Per stream, yearly growth of event rates (0.045 = 4.5% a year), compounded from the base year."`
	PriceGrowth  StreamValues `yaml:"price_growth" json:"price_growth" jsonschema_description:"Per stream, yearly growth of cost per event relative to the price year's prices."`
}

// RiskAdjustment says how the capitation formula is made.
type RiskAdjustment struct {
	Formula      string  `yaml:"formula" json:"formula" jsonschema:"enum=perfect,enum=estimated" jsonschema_description:"perfect: the formula knows each practice's age-sex mix and true need; estimated: a person-level regression on age-sex and a need proxy measured with error, fitted to a sample (as PBRA was)."`
	SampleSize   int     `yaml:"sample_size" json:"sample_size" jsonschema:"minimum=100,maximum=10000000" jsonschema_description:"Patients in the estimation sample."`
	ProxyErrorSD float64 `yaml:"proxy_error_sd" json:"proxy_error_sd" jsonschema:"minimum=0,maximum=10" jsonschema_description:"Log-scale SD of the person-level error in the need proxy."`
	ProxyBiasSD  float64 `yaml:"proxy_bias_sd" json:"proxy_bias_sd" jsonschema:"minimum=0,maximum=10" jsonschema_description:"Log-scale SD of the practice-level error in the need proxy (what the indicator gets wrong about a practice's need)."`
}

// Uncertainty is parameter uncertainty (probabilistic sensitivity analysis).
type Uncertainty struct {
	Priors       map[string]PriorSpec `yaml:"priors,omitempty" json:"priors,omitempty" jsonschema_description:"Priors by parameter name (rate.<stream>, cost.<stream>, demand_growth.<stream>, price_growth.<stream>, drift.sd, drift.persistence, shocks.area_sd, shocks.national_sd); each is centred on the parameter's value in the scenario."`
	Correlations []PairCorr           `yaml:"correlations,omitempty" json:"correlations,omitempty" jsonschema_description:"Correlations between priors (a Gaussian copula), by parameter name."`
}

// PriorSpec is one parameter's prior.
type PriorSpec struct {
	Dist   string  `yaml:"dist" json:"dist" jsonschema:"enum=normal,enum=lognormal,enum=beta" jsonschema_description:"normal (around the value), lognormal (positive, mean the value) or beta (in (0, 1), mean the value)."`
	SD     float64 `yaml:"sd" json:"sd" jsonschema:"minimum=0" jsonschema_description:"SD of the prior (0 = not uncertain)."`
	Source string  `yaml:"source,omitempty" json:"source,omitempty" jsonschema_description:"Where the prior comes from, or that it is an assumption."`
}

// chanceOnly is the scenario with every effect beyond chance switched off:
// no drift, shocks, trends or priors, styles independent across streams,
// one need index for every stream, a one-year budget-setting lag, budgets not projected, the perfect capitation formula and frailty
// shares that do not depend on age. It is the model before those effects
// existed: for the same seed, its runs are those of that model bit for bit.
// Rate uncertainty (streams' rate_uncertainty_sd) and behaviour effects'
// SDs, which that model had, stay as the scenario sets them.
func (s *Scenario) chanceOnly() *Scenario {
	c := *s
	c.Drift = Drift{Persistence: s.Drift.Persistence}
	c.Shocks = Shocks{}
	c.Trends = Trends{}
	c.Uncertainty = Uncertainty{}
	c.RiskAdjustment.Formula = "perfect"
	c.Frailty.ByAge = false
	c.Population.StyleCorr = 0
	if sy := s.Population.Synthetic; sy != nil {
		y := *sy
		y.NeedCorr = 1
		c.Population.Synthetic = &y
	}
	c.Budget.Lag = 1
	c.Budget.Project = false
	c.Budget.Trend = "expected"
	return &c
}

// validateRisk resolves and checks the risk sections. Supplied capitation
// weights (budget.weights) are a formula: with them, a formula the file
// does not set is the perfect one (the weights, with need as the engine
// knows it). chance_only switches the effects off in the scenario itself,
// so its resolved form says what runs; a file that also switches one on
// is refused.
func (s *Scenario) validateRisk(c *checker) {
	if s.Budget.Weights != nil && !present(c.root, "risk_adjustment.formula") {
		s.RiskAdjustment.Formula = "perfect"
	}
	if s.ChanceOnly {
		for _, f := range switchedOn(c.root) {
			c.fail(f, "switches an effect on, but chance_only: true switches it off: accepted one of them")
		}
		*s = *s.chanceOnly()
	}
	c.num("population.style_correlation", s.Population.StyleCorr, -0.25, 1)
	if sy := s.Population.Synthetic; sy != nil && len(s.Population.Practices) == 0 {
		c.num("population.synthetic.need_correlation", sy.NeedCorr, 0, 1)
		if sy.Areas < 1 || sy.Areas > max(sy.Practices, 1) {
			c.fail("population.synthetic.areas", "%d is out of range: accepted 1 to the number of practices (%d)", sy.Areas, sy.Practices)
		}
	}
	sds := func(f string, v StreamValues, hi float64) {
		for i, x := range v.array() {
			c.num(f+"."+sim.StreamNames[i], x, 0, hi)
		}
	}
	sds("drift.sd", s.Drift.SD, 3)
	c.num("drift.persistence", s.Drift.Persistence, 0, 0.99)
	c.correlation("drift.correlation", &s.Drift.Correlation)
	if s.Shocks.AreaSD != (StreamValues{}) {
		if present(c.root, "shocks.place_sd") {
			c.fail("shocks.area_sd", "and shocks.place_sd are one setting (area_sd is place_sd's older name): accepted one of them")
		}
		s.Shocks.PlaceSD, s.Shocks.AreaSD = s.Shocks.AreaSD, StreamValues{}
	}
	for l, v := range s.Shocks.levels() {
		sds("shocks."+sim.LevelNames[l]+"_sd", v, 3)
	}
	sds("shocks.national_sd", s.Shocks.NationalSD, 3)
	if sy := s.Population.Synthetic; sy != nil {
		for l, v := range sy.Geography.sizes() {
			if v < 0 || v > 100_000_000 {
				c.fail("population.synthetic.geography."+sim.LevelNames[l], "%d is out of range: accepted 0 (one unit) to 100000000 people", v)
			}
		}
	}
	c.correlation("shocks.correlation", &s.Shocks.Correlation)
	for i, x := range s.Trends.DemandGrowth.array() {
		c.num("trends.demand_growth."+sim.StreamNames[i], x, -0.5, 0.5)
	}
	for i, x := range s.Trends.PriceGrowth.array() {
		c.num("trends.price_growth."+sim.StreamNames[i], x, -0.5, 0.5)
	}
	switch s.Budget.Trend {
	case "", "expected":
		s.Budget.Trend = "expected"
	case "realised":
		if !s.Budget.Project {
			c.fail("budget.trend", "is realised, but budget.project is false: a trend is what a projection uses (accepted project: true, or trend: expected)")
		}
	default:
		c.fail("budget.trend", "%q is not a trend: accepted expected, realised", s.Budget.Trend)
	}
	if s.Budget.Lag < 1 || s.Budget.Lag > 5 {
		c.fail("budget.lag", "%d is out of range: accepted 1 (last year's spend) to 5", s.Budget.Lag)
	}
	ra := s.RiskAdjustment
	switch ra.Formula {
	case "perfect":
	case "estimated":
		if s.Budget.Weights != nil {
			c.fail("risk_adjustment.formula", "is estimated, but budget.weights supplies a formula: accepted one of them (set risk_adjustment.formula: perfect to use the weights)")
		}
		if ra.SampleSize < 100 || ra.SampleSize > 10_000_000 {
			c.fail("risk_adjustment.sample_size", "%d is out of range: accepted 100 to 10000000 patients", ra.SampleSize)
		}
	default:
		c.fail("risk_adjustment.formula", "%q is not a formula: accepted perfect, estimated", ra.Formula)
	}
	c.num("risk_adjustment.proxy_error_sd", ra.ProxyErrorSD, 0, 10)
	c.num("risk_adjustment.proxy_bias_sd", ra.ProxyBiasSD, 0, 10)
	s.validatePriors(c)
}

// present says whether a dotted field is in the file itself (lineOf finds
// the nearest enclosing field).
func present(root *yaml.Node, field string) bool { return FieldNode(root, field) != nil }

// switchedOn lists the fields the file itself sets to switch an effect on
// (each section decoded alone, without defaults): a drift, shock or trend
// that is not zero, a prior with an SD, the estimated formula, frailty by
// age, style correlation, a lag over one year. A resolved chance-only
// scenario sets none of them.
func switchedOn(root *yaml.Node) []string {
	var out []string
	on := func(field string, v any, isOn func() bool) {
		if n := FieldNode(root, field); n != nil && n.Decode(v) == nil && isOn() {
			out = append(out, field)
		}
	}
	var d Drift
	on("drift", &d, func() bool { return d.SD != (StreamValues{}) })
	var sh Shocks
	on("shocks", &sh, func() bool {
		return sh.AreaSD != (StreamValues{}) || sh.NationalSD != (StreamValues{}) || sh.levels() != [sim.NLevels]StreamValues{}
	})
	var tr Trends
	on("trends", &tr, func() bool { return tr != (Trends{}) })
	var u Uncertainty
	on("uncertainty", &u, func() bool {
		for _, p := range u.Priors {
			if p.SD != 0 {
				return true
			}
		}
		return false
	})
	var ra RiskAdjustment
	on("risk_adjustment", &ra, func() bool { return ra.Formula == "estimated" })
	var by bool
	on("frailty.by_age", &by, func() bool { return by })
	var sc float64
	on("population.style_correlation", &sc, func() bool { return sc != 0 })
	var lag int
	on("budget.lag", &lag, func() bool { return lag > 1 })
	var proj bool
	on("budget.project", &proj, func() bool { return proj })
	var trend string
	on("budget.trend", &trend, func() bool { return trend == "realised" })
	nc := 1.0
	on("population.synthetic.need_correlation", &nc, func() bool { return nc < 1 })
	return out
}

// correlation checks a stream correlation: values in range, streams
// named, and a matrix some variables can have (positive definite).
func (c *checker) correlation(f string, k *Correlation) {
	c.num(f+".all", k.All, -0.25, 1)
	for i, p := range k.Pairs {
		pf := fmt.Sprintf("%s.pairs[%d]", f, i)
		if streamIndex(p.A) < 0 {
			c.fail(pf+".a", "%q is not a stream: accepted %s", p.A, strings.Join(streamList(), ", "))
		}
		if streamIndex(p.B) < 0 || p.B == p.A {
			c.fail(pf+".b", "%q is not another stream: accepted %s, other than a", p.B, strings.Join(streamList(), ", "))
		}
		c.num(pf+".rho", p.Rho, -1, 1)
	}
	m := k.matrix()
	if err := sim.CheckCorr(&m); err != nil {
		c.fail(f, "%v", err)
	}
}

// validatePriors checks the priors: known parameters, known families, SDs
// the family accepts around the parameter's value, and correlations.
func (s *Scenario) validatePriors(c *checker) {
	for _, name := range sortedKeys(s.Uncertainty.Priors) {
		pr := s.Uncertainty.Priors[name]
		f := "uncertainty.priors." + name
		p, ok := sim.ParseParam(name)
		if !ok || p.Kind == sim.ParamBehaviour {
			c.fail(f, "is not a parameter a prior can be put on: accepted %s (behaviour effects carry their own sd)", priorParamNames())
			continue
		}
		if p.Kind == sim.ParamRate && s.Streams.all()[p.Stream].RateUncertaintySD > 0 {
			c.fail(f, "is a prior on the stream's rate, which streams.%s.rate_uncertainty_sd already is: accepted one of them", sim.StreamNames[p.Stream])
		}
		if _, ok := distOf(pr.Dist); !ok {
			c.fail(f+".dist", "%q is not a family: accepted normal, lognormal, beta", pr.Dist)
			continue
		}
		c.num(f+".sd", pr.SD, 0, 10)
		if err := s.prior(p, pr).Check(s.point(p)); err != nil {
			c.fail(f, "%v", err)
		}
	}
	for i, p := range s.Uncertainty.Correlations {
		f := fmt.Sprintf("uncertainty.correlations[%d]", i)
		if _, ok := s.Uncertainty.Priors[p.A]; !ok {
			c.fail(f+".a", "%q has no prior: accepted a parameter in uncertainty.priors", p.A)
		}
		if _, ok := s.Uncertainty.Priors[p.B]; !ok || p.B == p.A {
			c.fail(f+".b", "%q has no prior, or is a: accepted another parameter in uncertainty.priors", p.B)
		}
		c.num(f+".rho", p.Rho, -1, 1)
	}
	if len(c.errs) == 0 && len(s.Uncertainty.Correlations) > 0 {
		if err := sim.CheckCorrMatrix(s.priorCorr()); err != nil {
			c.fail("uncertainty.correlations", "%v", err)
		}
	}
}

// priorParamNames lists the parameters a prior can be put on.
func priorParamNames() string {
	var out []string
	for _, p := range sim.AllParams() {
		if p.Kind != sim.ParamBehaviour {
			out = append(out, p.String())
		}
	}
	return strings.Join(out, ", ")
}

func distOf(name string) (sim.Dist, bool) {
	for d, n := range sim.DistNames {
		if n == name {
			return d, true
		}
	}
	return 0, false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// prior is the engine's prior for a parameter.
func (s *Scenario) prior(p sim.Param, pr PriorSpec) sim.Prior {
	d, _ := distOf(pr.Dist)
	return sim.Prior{Param: p, Dist: d, SD: pr.SD}
}

// point is a parameter's value in the scenario (the prior's centre).
func (s *Scenario) point(p sim.Param) float64 {
	switch p.Kind {
	case sim.ParamDemand:
		return s.Trends.DemandGrowth.array()[p.Stream]
	case sim.ParamPrice:
		return s.Trends.PriceGrowth.array()[p.Stream]
	case sim.ParamDriftPersistence:
		return s.Drift.Persistence
	}
	return 1
}

// priorCorr is the priors' correlation matrix, in sortedKeys order.
func (s *Scenario) priorCorr() [][]float64 {
	names := sortedKeys(s.Uncertainty.Priors)
	idx := map[string]int{}
	out := make([][]float64, len(names))
	for i, n := range names {
		idx[n] = i
		out[i] = make([]float64, len(names))
		out[i][i] = 1
	}
	for _, p := range s.Uncertainty.Correlations {
		a, okA := idx[p.A]
		b, okB := idx[p.B]
		if okA && okB && a != b {
			out[a][b], out[b][a] = p.Rho, p.Rho
		}
	}
	return out
}

// buildRisk sets the model's effects, priors, lag and formula from the
// risk sections (after the practices are built), with the formula fitted
// to a sample keyed by popSeed.
func (s *Scenario) buildRisk(m *sim.Model, popSeed uint64) error {
	e := &m.Effects
	e.Drift = sim.Drift{SD: s.Drift.SD.array(), Persistence: s.Drift.Persistence, Corr: s.Drift.Correlation.matrix()}
	e.Shocks = sim.Shocks{NationalSD: s.Shocks.NationalSD.array(), Corr: s.Shocks.Correlation.matrix()}
	for l, v := range s.Shocks.levels() {
		e.Shocks.LevelSD[l] = v.array()
	}
	dg, pg := s.Trends.DemandGrowth.array(), s.Trends.PriceGrowth.array()
	for i := range sim.NStreams {
		e.Trend[i] = sim.Trend{Demand: dg[i], Price: pg[i]}
	}
	for _, name := range sortedKeys(s.Uncertainty.Priors) {
		p, _ := sim.ParseParam(name)
		m.Uncertainty.Priors = append(m.Uncertainty.Priors, s.prior(p, s.Uncertainty.Priors[name]))
	}
	if len(s.Uncertainty.Correlations) > 0 {
		m.Uncertainty.Corr = s.priorCorr()
	}
	m.Frailty.ByAge = s.Frailty.ByAge
	if sy := s.Population.Synthetic; len(s.Population.Practices) == 0 && sy != nil {
		lists := make([]int, len(m.Practices))
		for i := range m.Practices {
			lists[i] = m.Practices[i].ListSize()
		}
		geo := sy.Geography.assign(lists)
		for i := range m.Practices {
			m.Practices[i].Geo = geo[i]
			if sy.Areas > 1 {
				// Places as consecutive blocks of practices, as consortia by
				// population are.
				m.Practices[i].Geo[sim.LevelPlace] = fmt.Sprintf("A%03d", i*sy.Areas/len(m.Practices)+1)
			}
		}
	}
	if s.RiskAdjustment.Formula == "estimated" {
		if s.Budget.Weights != nil {
			return s.errorf("risk_adjustment.formula", "is estimated, but budget.weights supplies a formula: accepted one of them")
		}
		ra := s.RiskAdjustment
		f, err := sim.EstimateFormula(m, sim.FormulaSpec{SampleSize: ra.SampleSize, ErrorSD: ra.ProxyErrorSD, BiasSD: ra.ProxyBiasSD}, popSeed)
		if err != nil {
			return s.errorf("risk_adjustment", "%v", err)
		}
		m.Budget.Formula = f
	}
	return nil
}
