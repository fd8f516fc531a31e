package sim

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// ParamKind is a kind of uncertain parameter.
type ParamKind uint8

// The kinds of uncertain parameter. Per-stream kinds name a stream too.
const (
	_                     ParamKind = iota
	ParamRate                       // rate.<stream>: multiplier on the stream's event rates (point value 1)
	ParamCost                       // cost.<stream>: multiplier on its cost per event (point value 1)
	ParamDemand                     // demand_growth.<stream>: yearly growth of its rates (point: Effects.Trend)
	ParamPrice                      // price_growth.<stream>: yearly growth of its cost per event (point: Effects.Trend)
	ParamDriftSD                    // drift.sd: multiplier on every stream's drift SD (point 1)
	ParamDriftPersistence           // drift.persistence: the drift's ρ (point: Effects.Drift.Persistence)
	ParamAreaSD                     // shocks.area_sd: multiplier on every level's (neighbourhood to region) shock SD, every stream (point 1)
	ParamNationalSD                 // shocks.national_sd: multiplier on every stream's national shock SD (point 1)
	ParamBehaviour                  // behaviour.<stream>: the standard normal draw behind every regime's behaviour effect on the stream (point 0)
	nParamKinds
)

var paramKindNames = [nParamKinds]string{"", "rate", "cost", "demand_growth", "price_growth", "drift.sd", "drift.persistence", "shocks.area_sd", "shocks.national_sd", "behaviour"}

// perStream says whether a kind names a stream.
func (k ParamKind) perStream() bool {
	switch k {
	case ParamRate, ParamCost, ParamDemand, ParamPrice, ParamBehaviour:
		return true
	}
	return false
}

// Param is an uncertain parameter: a kind and, for per-stream kinds, a
// stream (Outpatient ... Elective).
type Param struct {
	Kind   ParamKind
	Stream Stream
}

// String is the parameter's name: "cost.emergency", "drift.sd", ...
func (p Param) String() string {
	if p.Kind == 0 || p.Kind >= nParamKinds {
		return fmt.Sprintf("param(%d)", p.Kind)
	}
	if p.Kind.perStream() {
		return paramKindNames[p.Kind] + "." + StreamNames[p.Stream]
	}
	return paramKindNames[p.Kind]
}

// index is the parameter's place in the fixed order of every parameter
// the engine knows (AllParams), which keys its draw.
func (p Param) index() int {
	i := 0
	for k := ParamKind(1); k < nParamKinds; k++ {
		if k == p.Kind {
			if k.perStream() {
				return i + int(p.Stream)
			}
			return i
		}
		if k.perStream() {
			i += NStreams
		} else {
			i++
		}
	}
	return -1
}

// AllParams lists every parameter the engine can hold uncertain, in a
// fixed order.
func AllParams() []Param {
	var out []Param
	for k := ParamKind(1); k < nParamKinds; k++ {
		if k.perStream() {
			for s := range NStreams {
				out = append(out, Param{k, Stream(s)})
			}
		} else {
			out = append(out, Param{Kind: k})
		}
	}
	return out
}

// ParseParam returns the parameter of a name, and whether there is one.
func ParseParam(name string) (Param, bool) {
	for _, p := range AllParams() {
		if p.String() == name {
			return p, true
		}
	}
	return Param{}, false
}

// ParamNames lists every parameter's name, for messages.
func ParamNames() string {
	var names []string
	for _, p := range AllParams() {
		names = append(names, p.String())
	}
	return strings.Join(names, ", ")
}

// Dist is a prior's family. Every prior is centred on the parameter's
// point value (its mean is the point value) with a given SD.
type Dist uint8

const (
	// DistNormal: point + SD·z.
	DistNormal Dist = iota + 1
	// DistLognormal: point·exp(σz - σ²/2) with σ² = log(1 + (SD/point)²):
	// positive, mean the point value, SD the given SD.
	DistLognormal
	// DistBeta: on (0, 1), mean the point value, SD the given SD (the method
	// of moments: a+b = point(1-point)/SD² - 1).
	DistBeta
)

// DistNames are the families' names in scenario files.
var DistNames = map[Dist]string{DistNormal: "normal", DistLognormal: "lognormal", DistBeta: "beta"}

// Prior is the distribution of an uncertain parameter across
// replications (probabilistic sensitivity analysis: Briggs, Claxton &
// Sculpher, Decision Modelling for Health Economic Evaluation, 2006, ch. 4).
type Prior struct {
	Param Param
	Dist  Dist
	SD    float64
}

// Quantile returns the parameter's value at probability u in (0, 1) given
// its point value.
func (pr Prior) Quantile(point, u float64) float64 {
	if pr.Dist == DistBeta {
		if pr.SD == 0 {
			return point
		}
		ab := point*(1-point)/(pr.SD*pr.SD) - 1
		return distuv.Beta{Alpha: point * ab, Beta: (1 - point) * ab}.Quantile(u)
	}
	return pr.value(point, distuv.UnitNormal.Quantile(u))
}

// value is the parameter's value for a standard normal draw z (the prior's
// quantile at Φ(z); for the normal and lognormal families directly, so
// their tails keep full precision).
func (pr Prior) value(point, z float64) float64 {
	switch pr.Dist {
	case DistLognormal:
		if point == 0 {
			return 0
		}
		cv := pr.SD / point
		s2 := math.Log1p(cv * cv)
		return point * math.Exp(math.Sqrt(s2)*z-s2/2)
	case DistBeta:
		return pr.Quantile(point, distuv.UnitNormal.CDF(z))
	}
	return point + pr.SD*z
}

// Check checks a prior against its parameter's point value.
func (pr Prior) Check(point float64) error {
	if !(pr.SD >= 0 && pr.SD <= 10) {
		return fmt.Errorf("prior on %s: SD %v: accepted 0 to 10", pr.Param, pr.SD)
	}
	switch pr.Dist {
	case DistNormal:
	case DistLognormal:
		if !(point > 0) {
			return fmt.Errorf("prior on %s: a lognormal prior needs a positive point value, not %v", pr.Param, point)
		}
	case DistBeta:
		if !(point > 0 && point < 1) || pr.SD*pr.SD >= point*(1-point) {
			return fmt.Errorf("prior on %s: a beta prior needs a point value in (0, 1) and SD below sqrt(point·(1-point)) (%.3g); got point %v, SD %v", pr.Param, math.Sqrt(max(point*(1-point), 0)), point, pr.SD)
		}
	default:
		return fmt.Errorf("prior on %s: unknown family %d", pr.Param, pr.Dist)
	}
	return nil
}

// Uncertainty is parameter uncertainty (PSA): Priors are drawn once per
// replication, from the replication's own key, and may be correlated (a
// Gaussian copula: correlated standard normals, each turned into its
// parameter by its prior's quantile, as hesim's multivariate normal draws
// are for normal priors). Fixed holds parameters at a value in every
// replication (one-way sensitivity analysis), whatever their prior or
// older draw (Stream.RateUncertaintySD, behaviour effects).
type Uncertainty struct {
	Priors []Prior
	// Corr is the correlation between the priors' standard normals, in
	// Priors order; nil means independent.
	Corr  [][]float64
	Fixed []Fixed
}

// Fixed holds a parameter at a value.
type Fixed struct {
	Param Param
	Value float64
}

// check checks the priors, their correlation and the fixed values.
func (u *Uncertainty) check(m *Model) []error {
	var errs []error
	seen := map[Param]bool{}
	for _, pr := range u.Priors {
		if pr.Param.index() < 0 {
			errs = append(errs, fmt.Errorf("prior on an unknown parameter %s: accepted %s", pr.Param, ParamNames()))
			continue
		}
		if seen[pr.Param] {
			errs = append(errs, fmt.Errorf("two priors on %s", pr.Param))
		}
		seen[pr.Param] = true
		if pr.Param.Kind == ParamRate && m.Streams[pr.Param.Stream].RateUncertaintySD > 0 {
			errs = append(errs, fmt.Errorf("prior on %s: the stream's rate_uncertainty_sd is already a prior on it: use one", pr.Param))
		}
		if pr.Param.Kind == ParamBehaviour {
			errs = append(errs, fmt.Errorf("prior on %s: behaviour effects carry their own SD (Effect.SD); they cannot have a prior here", pr.Param))
		}
		if err := pr.Check(m.point(pr.Param)); err != nil {
			errs = append(errs, err)
		}
	}
	if u.Corr != nil {
		if len(u.Corr) != len(u.Priors) {
			errs = append(errs, fmt.Errorf("prior correlation: %d rows for %d priors", len(u.Corr), len(u.Priors)))
		} else if _, err := choleskyOf(u.Corr); err != nil {
			errs = append(errs, fmt.Errorf("prior correlation: %w", err))
		}
	}
	for _, f := range u.Fixed {
		if f.Param.index() < 0 {
			errs = append(errs, fmt.Errorf("fixed value for an unknown parameter %s", f.Param))
		} else if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
			errs = append(errs, fmt.Errorf("fixed value for %s is %v", f.Param, f.Value))
		}
	}
	return errs
}

// point is a parameter's point value: its value when it is not uncertain.
func (m *Model) point(p Param) float64 {
	switch p.Kind {
	case ParamDemand:
		return m.Effects.Trend[p.Stream].Demand
	case ParamPrice:
		return m.Effects.Trend[p.Stream].Price
	case ParamDriftPersistence:
		return m.Effects.Drift.Persistence
	case ParamBehaviour:
		return 0
	}
	return 1
}

// Point is parameter p's point value in the model.
func (m *Model) Point(p Param) float64 { return m.point(p) }

// Uncertain lists the parameters that vary across replications: those with
// a prior, the rates of streams with RateUncertaintySD, and the behaviour
// draws of streams some regime's effect has an SD on; none held Fixed.
// With each, its prior (for the older draws, the equivalent one).
func (m *Model) Uncertain() []Prior {
	fixed := map[Param]bool{}
	for _, f := range m.Uncertainty.Fixed {
		fixed[f.Param] = true
	}
	var out []Prior
	for s := range NStreams {
		p := Param{ParamRate, Stream(s)}
		if sd := m.Streams[s].RateUncertaintySD; sd > 0 && !fixed[p] {
			// exp(σz - σ²/2) is lognormal with mean 1 and SD sqrt(exp(σ²)-1).
			out = append(out, Prior{Param: p, Dist: DistLognormal, SD: math.Sqrt(math.Expm1(sd * sd))})
		}
	}
	for _, pr := range m.Uncertainty.Priors {
		if pr.SD > 0 && !fixed[pr.Param] {
			out = append(out, pr)
		}
	}
	if m.Policy != nil {
		regs := m.Policy.regimes()
		for s := range NStreams {
			p := Param{ParamBehaviour, Stream(s)}
			for _, r := range regs {
				if r == nil || fixed[p] {
					continue
				}
				if e := r.Effects(); e != nil && e[s].SD > 0 {
					out = append(out, Prior{Param: p, Dist: DistNormal, SD: 1})
					break
				}
			}
		}
	}
	return out
}

// repParams are one replication's values of every parameter the engine
// can hold uncertain (their point values where they are not).
type repParams struct {
	mult        [NStreams]float64 // rate multipliers: older rate uncertainty × rate prior
	cost        [NStreams]float64
	demand      [NStreams]float64
	price       [NStreams]float64
	driftSD     [NStreams]float64
	persistence float64
	levelSD     [NLevels][NStreams]float64
	nationalSD  [NStreams]float64
	z           [NStreams]float64 // behaviour draws, where fixed (zFixed)
	zFixed      [NStreams]bool
	values      []float64 // the uncertain parameters' values, in Model.Uncertain order
}

// nParams is how many parameters the engine can hold uncertain (AllParams).
const nParams = 5*NStreams + 4

// allParams is AllParams, once.
var allParams = AllParams()

// drawParams draws replication rep's parameters into rp (reusing its
// record of values). The older draws keep
// their streams: rate uncertainty (repMultipliers) and behaviour (the
// plan's). Priors draw one standard normal per parameter the engine
// knows, in AllParams order, from the replication's own key (purpose
// PurposePriors), whether or not it has a prior, so adding a prior leaves
// the others' draws alone; correlated priors mix their normals by the
// correlation's Cholesky factor.
func drawParams(m *Model, u *uncertainty, seed uint64, rep int, rp *repParams) {
	*rp = repParams{mult: repMultipliers(m, seed, rep), values: rp.values[:0]}
	e := &m.Effects
	for s := range NStreams {
		rp.cost[s] = 1
		rp.demand[s] = e.Trend[s].Demand
		rp.price[s] = e.Trend[s].Price
		rp.driftSD[s] = e.Drift.SD[s]
		rp.nationalSD[s] = e.Shocks.NationalSD[s]
	}
	rp.levelSD = e.Shocks.LevelSD
	rp.persistence = e.Drift.Persistence
	// Fixed arrays indexed by Param.index, so a replication's draws
	// allocate nothing.
	var val [nParams]float64
	var set [nParams]bool
	if priors := m.Uncertainty.Priors; len(priors) > 0 {
		var d Draws
		d.Reseed(Key{Seed: seed, Rep: rep, Practice: -1, Year: -1}, PurposePriors)
		var eps, z, c [nParams]float64
		for i := range eps {
			eps[i] = d.Norm()
		}
		for i, pr := range priors {
			z[i] = eps[pr.Param.index()]
		}
		if u.chol != nil {
			for i := range priors {
				for j := 0; j <= i; j++ {
					c[i] += u.chol[i][j] * z[j]
				}
			}
			z = c
		}
		for i, pr := range priors {
			k := pr.Param.index()
			val[k], set[k] = pr.value(m.point(pr.Param), z[i]), true
		}
	}
	fixedRate := [NStreams]bool{}
	for _, f := range m.Uncertainty.Fixed {
		k := f.Param.index()
		val[k], set[k] = f.Value, true
		if f.Param.Kind == ParamRate {
			fixedRate[f.Param.Stream] = true
		}
	}
	for k, p := range allParams {
		if !set[k] {
			continue
		}
		v, s := val[k], p.Stream
		switch p.Kind {
		case ParamRate:
			if fixedRate[s] {
				rp.mult[s] = v // held: the older draw does not apply either
			} else {
				rp.mult[s] *= v
			}
		case ParamCost:
			rp.cost[s] = v
		case ParamDemand:
			rp.demand[s] = v
		case ParamPrice:
			rp.price[s] = v
		case ParamDriftSD:
			for t := range NStreams {
				rp.driftSD[t] = e.Drift.SD[t] * v
			}
		case ParamDriftPersistence:
			rp.persistence = min(max(v, 0), 0.999)
		case ParamAreaSD:
			for l := range NLevels {
				for t := range NStreams {
					rp.levelSD[l][t] = e.Shocks.LevelSD[l][t] * v
				}
			}
		case ParamNationalSD:
			for t := range NStreams {
				rp.nationalSD[t] = e.Shocks.NationalSD[t] * v
			}
		case ParamBehaviour:
			rp.z[s], rp.zFixed[s] = v, true
		}
	}
	for _, pr := range u.uncertain {
		rp.values = append(rp.values, rp.valueOf(pr.Param, m, seed, rep))
	}
}

// valueOf is parameter p's value in the replication (for the record of
// what was drawn).
func (rp *repParams) valueOf(p Param, m *Model, seed uint64, rep int) float64 {
	s := p.Stream
	switch p.Kind {
	case ParamRate:
		return rp.mult[s]
	case ParamCost:
		return rp.cost[s]
	case ParamDemand:
		return rp.demand[s]
	case ParamPrice:
		return rp.price[s]
	case ParamDriftSD:
		return ratio(rp.driftSD, m.Effects.Drift.SD)
	case ParamDriftPersistence:
		return rp.persistence
	case ParamAreaSD:
		for l := range NLevels {
			if m.Effects.Shocks.LevelSD[l] != ([NStreams]float64{}) {
				return ratio(rp.levelSD[l], m.Effects.Shocks.LevelSD[l])
			}
		}
		return 1
	case ParamNationalSD:
		return ratio(rp.nationalSD, m.Effects.Shocks.NationalSD)
	case ParamBehaviour:
		if rp.zFixed[s] {
			return rp.z[s]
		}
		return behaviourDraws(seed, rep)[s]
	}
	return math.NaN()
}

// ratio is the scale a drawn set of SDs has over the model's (1 where the
// model's are all zero).
func ratio(got, base [NStreams]float64) float64 {
	for s := range NStreams {
		if base[s] > 0 {
			return got[s] / base[s]
		}
	}
	return 1
}

// uncertainty is what a run derives once from Model.Uncertainty.
type uncertainty struct {
	chol      [][]float64
	uncertain []Prior
}

func prepareUncertainty(m *Model) (*uncertainty, error) {
	u := &uncertainty{uncertain: m.Uncertain()}
	if c := m.Uncertainty.Corr; c != nil {
		l, err := choleskyOf(c)
		if err != nil {
			return nil, fmt.Errorf("prior correlation: %w", err)
		}
		u.chol = l
	}
	return u, nil
}

// ReplicationParams returns the value each uncertain parameter
// (Model.Uncertain, in order) takes in replication rep of a run with the
// given seed: what a run's parameter record holds.
func ReplicationParams(m *Model, seed uint64, rep int) ([]float64, error) {
	u, err := prepareUncertainty(m)
	if err != nil {
		return nil, err
	}
	var rp repParams
	drawParams(m, u, seed, rep, &rp)
	return rp.values, nil
}

// OneWay is one parameter's one-way sensitivity range: its point value
// and its prior's low and high quantiles.
type OneWay struct {
	Prior            Prior
	Point, Low, High float64
}

// OneWays lists every uncertain parameter (Model.Uncertain) with its prior's
// quantiles lo and hi (0.1 and 0.9 for the usual tornado).
func (m *Model) OneWays(lo, hi float64) []OneWay {
	var out []OneWay
	for _, pr := range m.Uncertain() {
		pt := m.point(pr.Param)
		out = append(out, OneWay{Prior: pr, Point: pt, Low: pr.Quantile(pt, lo), High: pr.Quantile(pt, hi)})
	}
	return out
}

// Fixing returns m with every uncertain parameter held at its point value
// but those in fix, held at theirs: the base case of a one-way sensitivity
// analysis (no fix) and its variants (one). Runs of it and of m with one
// seed share their chance draws (common random numbers). m is not changed.
func (m *Model) Fixing(fix ...Fixed) *Model {
	c := *m
	c.Uncertainty.Fixed = nil
	held := map[Param]bool{}
	for _, f := range fix {
		held[f.Param] = true
		c.Uncertainty.Fixed = append(c.Uncertainty.Fixed, f)
	}
	for _, pr := range m.Uncertain() {
		if !held[pr.Param] {
			c.Uncertainty.Fixed = append(c.Uncertainty.Fixed, Fixed{Param: pr.Param, Value: m.point(pr.Param)})
		}
	}
	c.Uncertainty.Fixed = append(c.Uncertainty.Fixed, m.Uncertainty.Fixed...)
	return &c
}
