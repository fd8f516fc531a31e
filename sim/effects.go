package sim

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Effects are what moves a practice's costs from year to year beyond
// chance: practice effects that drift, common shocks to an area or the
// whole country, and trends in demand and prices. The zero value is none
// (chance alone, with a practice's style fixed). Each is drawn per
// practice-year or per area-year, never per patient, and the one
// per-practice year loop (runTask) applies them in every mode.
type Effects struct {
	Drift  Drift
	Shocks Shocks
	Trend  [NStreams]Trend
}

// Drift is a practice effect per stream that follows a stationary AR(1)
// process on the log scale, on top of the practice's fixed style:
//
//	x[t] = ρ·x[t-1] + sqrt(1-ρ²)·σ∘η[t],   η[t] ~ N(0, C)
//
// so x[t] ~ N(0, σ_s²) in every year, Corr(x[t], x[t+k]) = ρ^k (regression
// to the mean), and streams' innovations are correlated by C. The rate
// multiplier is exp(x - σ²/2), mean 1. A practice's first simulated year
// draws x from the stationary distribution (the state of its style when
// the run starts is not known), so replications differ in it. See
// Hamilton, Time Series Analysis (1994), ch. 3, for the AR(1) moments.
type Drift struct {
	SD          [NStreams]float64 // stationary log-SD σ_s
	Persistence float64           // ρ in [0, 1)
	Corr        Corr              // correlation C of the streams' innovations
}

// Shocks are year effects common to every practice of a geographic unit
// (a bad winter raises emergency admissions for all of a place's
// practices), at nested levels: neighbourhood, place, ICB and region
// (Practice.Geo names a practice's unit at each), and the nation. Each is
// drawn per unit and year, independent across units and years, log-normal
// with mean 1: exp(σ_s·z_s - σ_s²/2) with z ~ N(0, C) correlated across
// streams. A practice's shock is the product of its units' and the
// nation's, so a holder made of several places averages their shocks and
// shares one region's: its shared risk falls as sqrt(1/places) (the
// variance-components view of area effects: Searle, Casella & McCulloch,
// Variance Components, 1992, ch. 3).
type Shocks struct {
	LevelSD    [NLevels][NStreams]float64
	NationalSD [NStreams]float64
	Corr       Corr
}

// Level is a geographic level below the nation whose practices share a
// year's shock.
type Level uint8

// The levels, smallest first. England's units in 2022/23: 1,256 primary
// care networks (median 44,768 people), 106 sub-ICB locations (places), 42
// ICBs and 7 regions (NHS England need-weighted populations 2022/23;
// docs/references.md).
const (
	LevelNeighbourhood Level = iota // a primary care network or neighbourhood
	LevelPlace                      // a place: sub-ICB location, CCG or PCT
	LevelICB                        // an integrated care board
	LevelRegion                     // an NHS England region
	NLevels
)

// LevelNames are the levels' names in scenario files and tables.
var LevelNames = [NLevels]string{"neighbourhood", "place", "icb", "region"}

// on says whether any level or the nation has a shock.
func (sh *Shocks) on() bool {
	for l := range NLevels {
		if sh.LevelSD[l] != ([NStreams]float64{}) {
			return true
		}
	}
	return sh.NationalSD != [NStreams]float64{}
}

// Trend is a stream's yearly growth: Demand multiplies its event rates by
// (1+Demand)^t and Price its cost per event by (1+Price)^t in year t (the
// base year is t = 0). Money stays in the model's price year, so Price is
// growth relative to the price year's prices.
type Trend struct {
	Demand, Price float64
}

// Corr is a correlation matrix between the streams. The zero value means
// independent streams.
type Corr [NStreams][NStreams]float64

// Exchangeable returns the correlation matrix with rho between every pair
// of streams.
func Exchangeable(rho float64) Corr {
	var c Corr
	for i := range NStreams {
		for j := range NStreams {
			c[i][j] = rho
		}
		c[i][i] = 1
	}
	return c
}

// cholesky returns the lower-triangular L with L·Lᵀ = C (the identity for
// the zero value), or an error if C is not a correlation matrix.
func (c *Corr) cholesky() ([NStreams][NStreams]float64, error) {
	var l [NStreams][NStreams]float64
	if *c == (Corr{}) {
		for i := range NStreams {
			l[i][i] = 1
		}
		return l, nil
	}
	a := make([][]float64, NStreams)
	for i := range NStreams {
		a[i] = c[i][:]
	}
	f, err := choleskyOf(a)
	if err != nil {
		return l, err
	}
	for i := range NStreams {
		copy(l[i][:], f[i])
	}
	return l, nil
}

// CheckCorr says whether c is a correlation matrix (nil if it is).
func CheckCorr(c *Corr) error {
	_, err := c.cholesky()
	return err
}

// CheckCorrMatrix says whether a is a correlation matrix (nil if it is).
func CheckCorrMatrix(a [][]float64) error {
	_, err := choleskyOf(a)
	return err
}

// Correlate sets z to NStreams standard normals from d, correlated by c.
func Correlate(d *Draws, c *Corr, z *[NStreams]float64) error {
	l, err := c.cholesky()
	if err != nil {
		return err
	}
	correlated(d, &l, z)
	return nil
}

// choleskyOf returns the lower-triangular Cholesky factor of a correlation
// matrix a (symmetric, unit diagonal, positive definite), or says which of
// these it is not.
func choleskyOf(a [][]float64) ([][]float64, error) {
	n := len(a)
	data := make([]float64, 0, n*n)
	for i := range n {
		if len(a[i]) != n {
			return nil, fmt.Errorf("row %d has %d entries, not %d", i, len(a[i]), n)
		}
		if a[i][i] != 1 {
			return nil, fmt.Errorf("diagonal entry %d is %v, not 1", i, a[i][i])
		}
		for j := range n {
			v := a[i][j]
			if !(v >= -1 && v <= 1) {
				return nil, fmt.Errorf("entry (%d, %d) is %v: accepted -1 to 1", i, j, v)
			}
			if v != a[j][i] {
				return nil, fmt.Errorf("entries (%d, %d) and (%d, %d) differ: a correlation matrix is symmetric", i, j, j, i)
			}
			data = append(data, v)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(mat.NewSymDense(n, data)) {
		return nil, errors.New("the correlations are not positive definite (no set of variables can have them)")
	}
	var l mat.TriDense
	ch.LTo(&l)
	out := make([][]float64, n)
	for i := range n {
		out[i] = make([]float64, n)
		for j := 0; j <= i; j++ {
			out[i][j] = l.At(i, j)
		}
	}
	return out, nil
}

// on says whether any effect is switched on.
func (e *Effects) on() bool {
	for s := range NStreams {
		if e.Drift.SD[s] != 0 || e.Trend[s] != (Trend{}) {
			return true
		}
	}
	return e.Shocks.on()
}

// check checks the effects' values.
func (e *Effects) check() []error {
	var errs []error
	for s := range NStreams {
		n := StreamNames[s]
		for _, x := range []struct {
			what string
			v    float64
		}{{"drift SD", e.Drift.SD[s]}, {"national shock SD", e.Shocks.NationalSD[s]}} {
			if !(x.v >= 0 && x.v <= 3) {
				errs = append(errs, fmt.Errorf("stream %s: %s %v: accepted 0 to 3 (log scale)", n, x.what, x.v))
			}
		}
		for l := range NLevels {
			if v := e.Shocks.LevelSD[l][s]; !(v >= 0 && v <= 3) {
				errs = append(errs, fmt.Errorf("stream %s: %s shock SD %v: accepted 0 to 3 (log scale)", n, LevelNames[l], v))
			}
		}
		t := e.Trend[s]
		if !(t.Demand > -1 && t.Demand <= 1) || !(t.Price > -1 && t.Price <= 1) {
			errs = append(errs, fmt.Errorf("stream %s: demand growth %v, price growth %v: accepted above -1 and at most 1 a year", n, t.Demand, t.Price))
		}
	}
	if p := e.Drift.Persistence; !(p >= 0 && p < 1) {
		errs = append(errs, fmt.Errorf("drift persistence %v: accepted 0 to below 1", p))
	}
	if _, err := e.Drift.Corr.cholesky(); err != nil {
		errs = append(errs, fmt.Errorf("drift correlation: %w", err))
	}
	if _, err := e.Shocks.Corr.cholesky(); err != nil {
		errs = append(errs, fmt.Errorf("shock correlation: %w", err))
	}
	return errs
}

// yearEffect is what the effects do to one practice-year, per stream.
type yearEffect struct {
	drift    [NStreams]float64 // exp(x - σ²/2)
	shock    [NStreams]float64 // every level's × national
	national [NStreams]float64 // the national shock alone
	trend    [NStreams]float64 // (1+demand)^t
	rate     [NStreams]float64 // drift × shock × trend: the year's rate multiplier
	ref      [NStreams]float64 // the rate the count tables are built at (see blockRefs)
	cost     [NStreams]float64 // cost per event multiplier: parameter × (1+price)^t
}

// taskEffects holds one (replication, practice) task's effects for every
// simulated year, drawn when the task starts (each year's draws keyed by
// the year, so they do not depend on how many years are run).
type taskEffects struct {
	first int          // the first simulated year (a base year, 0 or earlier)
	years []yearEffect // years[y-first]
}

// at returns year y's effects.
func (fx *taskEffects) at(y int) *yearEffect { return &fx.years[y-fx.first] }

// maxRefRatio bounds how far the count tables' rates may stand above a
// year's own (see blockRefs).
const maxRefRatio = 1.5

// reset draws practice k.Practice's effects in replication k.Rep for years
// first..last with the replication's parameters rp.
//
// Drift: one standard normal per stream and year (purpose PurposeDrift,
// keyed by practice and year), correlated by the drift's Cholesky factor;
// the first year is drawn from the stationary distribution. Shocks: per
// year one normal per stream for the practice's area (keyed by the area as
// practice -2-area) and one for the nation (practice -1), so every practice
// of an area draws the same area shocks. Every normal is drawn whether or
// not its SD is zero, so changing one SD leaves the others' draws alone
// (common random numbers).
func (fx *taskEffects) reset(p *prepared, k Key, rp *repParams, first, last int) {
	n := last - first + 1
	fx.first = first
	fx.years = grow(fx.years, n)
	var d Draws
	var x, z [NStreams]float64
	rho := rp.persistence
	innov := math.Sqrt(1 - rho*rho)
	for t := first; t <= last; t++ {
		y := &fx.years[t-first]
		tf := float64(t)
		for s := range NStreams {
			y.drift[s], y.shock[s] = 1, 1
			y.trend[s] = math.Pow(1+rp.demand[s], tf)
			y.cost[s] = rp.cost[s] * math.Pow(1+rp.price[s], tf)
		}
		if p.drift {
			d.Reseed(Key{Seed: k.Seed, Rep: k.Rep, Practice: k.Practice, Year: t}, PurposeDrift)
			correlated(&d, &p.driftL, &z)
			for s := range NStreams {
				sd := rp.driftSD[s]
				if t == first {
					x[s] = sd * z[s]
				} else {
					x[s] = rho*x[s] + innov*sd*z[s]
				}
				if sd > 0 {
					y.drift[s] = math.Exp(x[s] - sd*sd/2)
				}
			}
		}
		if p.shocks {
			for l := range NLevels {
				if !p.levelOn[l] {
					continue
				}
				u := p.unit[k.Practice][l]
				if Level(l) == LevelPlace {
					d.Reseed(Key{Seed: k.Seed, Rep: k.Rep, Practice: -2 - u, Year: t}, PurposeShocks)
				} else {
					d.Reseed(Key{Seed: k.Seed, Rep: k.Rep, Practice: -2 - (u*int(NLevels) + int(l)), Year: t}, PurposeLevelShocks)
				}
				correlated(&d, &p.shockL, &z)
				for s := range NStreams {
					if sd := rp.levelSD[l][s]; sd > 0 {
						y.shock[s] *= math.Exp(sd*z[s] - sd*sd/2)
					}
				}
			}
			d.Reseed(Key{Seed: k.Seed, Rep: k.Rep, Practice: -1, Year: t}, PurposeShocks)
			correlated(&d, &p.shockL, &z)
			for s := range NStreams {
				y.national[s] = 1
				if sd := rp.nationalSD[s]; sd > 0 {
					y.national[s] = math.Exp(sd*z[s] - sd*sd/2)
					y.shock[s] *= y.national[s]
				}
			}
		} else {
			for s := range NStreams {
				y.national[s] = 1
			}
		}
		for s := range NStreams {
			y.rate[s] = y.drift[s] * y.shock[s] * y.trend[s]
		}
	}
	fx.blockRefs()
}

// correlated sets z to NStreams standard normals from d, correlated by the
// Cholesky factor l.
func correlated(d *Draws, l *[NStreams][NStreams]float64, z *[NStreams]float64) {
	var e [NStreams]float64
	for s := range NStreams {
		e[s] = d.Norm()
	}
	for i := range NStreams {
		v := 0.0
		for j := 0; j <= i; j++ {
			v += l[i][j] * e[j]
		}
		z[i] = v
	}
}

// blockRefs sets each year's reference rates. Building a practice's count
// tables costs far more than a year of its small list, so tables are not
// rebuilt for every year's rate. They are built at a reference rate at
// least the year's, and the year's counts are then thinned binomially to
// its own rate: if N ~ Poisson(λ·ref) given the patients' latent gammas,
// keeping each event with probability rate/ref gives Poisson(λ·rate), the
// count at the year's own rate, exactly (thinning a Poisson process). A
// run of years whose rates lie within a factor maxRefRatio of each other
// shares a reference, their largest rate, so tables are rebuilt only when
// the rate moves further than that (a trend, a large shock), and at most
// a third of the events drawn are thinned away. (At 1.25, tables were
// rebuilt so often in the default scenario that the kernel took a fifth
// longer; at 1.5 it runs as fast as without effects.)
func (fx *taskEffects) blockRefs() {
	for s := range NStreams {
		start := 0
		lo, hi := fx.years[0].rate[s], fx.years[0].rate[s]
		for t := 1; t <= len(fx.years); t++ {
			if t < len(fx.years) {
				r := fx.years[t].rate[s]
				nlo, nhi := min(lo, r), max(hi, r)
				if nhi <= maxRefRatio*nlo {
					lo, hi = nlo, nhi
					continue
				}
			}
			for u := start; u < t; u++ {
				fx.years[u].ref[s] = hi
			}
			if t < len(fx.years) {
				start = t
				lo, hi = fx.years[t].rate[s], fx.years[t].rate[s]
			}
		}
	}
}

// checkRisk checks the effects, priors and formula (Model.check calls it).
func (m *Model) checkRisk() []error {
	errs := m.Effects.check()
	errs = append(errs, m.Uncertainty.check(m)...)
	if f := m.Budget.Formula; f != nil {
		if m.Budget.Weights != nil {
			errs = append(errs, errors.New("budget: supplied capitation weights and an estimated formula are two formulas: accepted one of them"))
		}
		if len(f.Proxy) != len(m.Practices) {
			errs = append(errs, fmt.Errorf("budget: the estimated formula has need proxies for %d practices, the model %d", len(f.Proxy), len(m.Practices)))
		}
		for c, v := range f.Weights {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				errs = append(errs, fmt.Errorf("budget: the estimated formula's weight for cell %d is %v", c, v))
			}
		}
		for _, v := range append([]float64{f.NeedCoef}, f.Proxy...) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				errs = append(errs, fmt.Errorf("budget: the estimated formula has a non-finite need coefficient or proxy (%v)", v))
				break
			}
		}
	}
	for i := range m.Practices {
		for s, v := range m.Practices[i].NeedDev {
			if !(v >= -10 && v <= 10) {
				errs = append(errs, fmt.Errorf("practice %s: stream %s's own need %v: accepted -10 to 10 (log scale)", m.Practices[i].ID, StreamNames[s], v))
			}
		}
	}
	if l, ok := m.Budget.Setter.(lagged); ok && !(l.HistoryLag() >= 1 && l.HistoryLag() <= maxLag) {
		errs = append(errs, fmt.Errorf("budget: history lag %d: accepted 1 to %d years", l.HistoryLag(), maxLag))
	}
	return errs
}

// prepareEffects derives what the effects, priors, lag and formula need.
func (p *prepared) prepareEffects() error {
	m := p.m
	e := &m.Effects
	for s := range NStreams {
		p.drift = p.drift || e.Drift.SD[s] > 0
		p.shocks = p.shocks || e.Shocks.NationalSD[s] > 0
		for l := range NLevels {
			p.levelOn[l] = p.levelOn[l] || e.Shocks.LevelSD[l][s] > 0
			p.shocks = p.shocks || p.levelOn[l]
		}
	}
	for _, pr := range m.Uncertainty.Priors {
		p.drift = p.drift || pr.Param.Kind == ParamDriftSD && m.Effects.Drift.SD != [NStreams]float64{}
	}
	var err error
	if p.driftL, err = e.Drift.Corr.cholesky(); err != nil {
		return fmt.Errorf("drift correlation: %w", err)
	}
	if p.shockL, err = e.Shocks.Corr.cholesky(); err != nil {
		return fmt.Errorf("shock correlation: %w", err)
	}
	// Each level's units are numbered in order of first appearance; a
	// practice with no code at a level shares one unit with every other
	// such practice.
	var units [NLevels]map[string]int
	p.unit = make([][NLevels]int, len(m.Practices))
	for l := range NLevels {
		units[l] = map[string]int{}
		for i := range m.Practices {
			c := m.Practices[i].Geo[l]
			u, ok := units[l][c]
			if !ok {
				u = len(units[l])
				units[l][c] = u
			}
			p.unit[i][l] = u
		}
	}
	p.lag = 1
	if l, ok := m.Budget.Setter.(lagged); ok {
		p.lag = l.HistoryLag()
	}
	if p.unc, err = prepareUncertainty(m); err != nil {
		return err
	}
	p.formula = m.Budget.Formula
	return nil
}

// firstYear is the first simulated year: the earliest base year the
// budget-setting lag needs (0 with a lag of one year).
func (p *prepared) firstYear() int { return 1 - p.lag }

// effectHeadroom is how far the effects may raise stream s's rates in a run
// of the given years: 5 SD of drift, shocks and a rate prior together (their
// log-SDs in quadrature, each SD at 3 SD of any prior on its scale), and the
// demand trend at 3 SD of its prior compounded over the years. Beyond it
// (a rarer draw) a run stops with a count table's error rather than
// overflow.
func (p *prepared) effectHeadroom(s, years int) float64 {
	m := p.m
	at := func(k ParamKind, st Stream, point float64) (float64, *Prior) {
		for i, pr := range m.Uncertainty.Priors {
			if pr.Param.Kind == k && (!k.perStream() || pr.Param.Stream == st) {
				return pr.value(point, 3), &m.Uncertainty.Priors[i]
			}
		}
		return point, nil
	}
	st := Stream(s)
	ds, _ := at(ParamDriftSD, st, 1)
	as, _ := at(ParamAreaSD, st, 1)
	ns, _ := at(ParamNationalSD, st, 1)
	e := &m.Effects
	a2 := 0.0
	for l := range NLevels {
		a := e.Shocks.LevelSD[l][s] * as
		a2 += a * a
	}
	d, n := e.Drift.SD[s]*ds, e.Shocks.NationalSD[s]*ns
	r := 0.0
	if _, pr := at(ParamRate, st, 1); pr != nil {
		r = math.Sqrt(math.Log1p(pr.SD * pr.SD)) // the lognormal's log-SD
	}
	h := math.Exp(5 * math.Sqrt(d*d+a2+n*n+r*r))
	if g, _ := at(ParamDemand, st, e.Trend[s].Demand); g > 0 {
		h *= math.Pow(1+g, float64(years))
	}
	return h
}
