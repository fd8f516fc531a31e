package riskcurve

import (
	"math"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/sim"
)

// quantileRelError is the relative error of the savings rates' quantile
// sketches (analysis.Dist): 0.1% of an MSR of 9% is 0.009 percentage
// points, below the Monte Carlo SE at the default size; memory stays fixed
// whatever the number of replications.
const quantileRelError = 0.001

// batches is how many batches of replications the standard errors of the
// CV and the quantiles come from (batch means: SE = SD of the batch
// estimates / sqrt(batches)); each batch needs two replications for a
// variance.
func batches(reps int) int { return min(20, reps/2) }

// Proportions measured per replication, whose SE is the SD of the
// replications' values / sqrt(replications): holders in one replication
// share its common draws (parameter uncertainty, behaviour), so the
// replication, not the holder-year, is the independent unit.
const (
	pReward = iota
	pPenalty
	pOver5
	pUnder5
	pMeanRate
	nProps
)

// accumulator is the sink of the no-change run of one size: per
// replication it sums each holder-year's benchmark and measured spend
// (benchmark - variance: what the rule compares with the benchmark) from
// the rows, and whether the holder was rewarded (savings kept or shared)
// or penalised (shared losses, or a deficit it must repay) from the ledger.
type accumulator struct {
	holder       []int // practice -> holder index
	holders, yrs int
	reps, nb     int
	b, s         []float64 // per holder-year (year-major) of the current replication
	reward, pen  []bool
	props        [nProps]analysis.Moments
	cell         []analysis.Moments   // per holder-year over replications: measured spend
	cellBatch    [][]analysis.Moments // per batch, per holder-year
	rates        []*analysis.Dist     // per batch: savings rates
	spread       []spread             // per batch: x's spread, own and shared
}

// spread accumulates x = (benchmark - spend) / benchmark over
// holder-years: all of them (x), the spread between holders within each
// replication-year (own: the unbiased within-variance of the year's
// holders), and the replication-year's mean across replications (mean).
type spread struct {
	x, own, mean analysis.Moments
}

// add adds one replication-year's holders' x.
func (s *spread) add(xs []float64) {
	var y analysis.Moments
	for _, x := range xs {
		s.x.Add(x)
		y.Add(x)
	}
	if y.N >= 2 {
		s.own.Add(y.Var())
	}
	s.mean.Add(y.Mean())
}

// merge adds o's holder-years.
func (s *spread) merge(o spread) {
	s.x.Merge(o.x)
	s.own.Merge(o.own)
	s.mean.Merge(o.mean)
}

// sds are the total, own and shared SDs. With h holders a year, the
// replication-year mean's variance is shared² + own²/h, so shared² is
// what is left of it once own²/h is taken out (0 if chance leaves less).
func (s *spread) sds(h int) (total, own, shared float64) {
	total = s.x.SD()
	own2 := s.own.Mean()
	if s.own.N == 0 {
		own2 = math.NaN()
	}
	own = math.Sqrt(own2)
	v := s.mean.Var()
	if h >= 2 {
		v -= own2 / float64(h)
	}
	return total, own, math.Sqrt(max(v, 0))
}

func newAccumulator(m *sim.Model, holders, years, reps int) (*accumulator, error) {
	a := &accumulator{holders: holders, yrs: years, reps: reps, nb: batches(reps)}
	q, err := analysis.Sketched(quantileRelError)
	if err != nil {
		return nil, err
	}
	groups := map[string]int{}
	for g, name := range m.Groups() {
		groups[name] = g
	}
	for i := range m.Practices {
		a.holder = append(a.holder, groups[m.Practices[i].Group])
	}
	n := holders * years
	a.b, a.s = make([]float64, n), make([]float64, n)
	a.reward, a.pen = make([]bool, n), make([]bool, n)
	a.cell = make([]analysis.Moments, n)
	a.cellBatch = make([][]analysis.Moments, a.nb)
	a.rates = make([]*analysis.Dist, max(a.nb, 1))
	a.spread = make([]spread, max(a.nb, 1))
	for k := range a.cellBatch {
		a.cellBatch[k] = make([]analysis.Moments, n)
	}
	for k := range a.rates {
		a.rates[k] = q.New()
	}
	return a, nil
}

// batch is the batch of replication r (contiguous, near-equal batches).
func (a *accumulator) batch(r int) int {
	if a.nb == 0 {
		return 0
	}
	return r * a.nb / a.reps
}

// flags marks each holder-year rewarded (savings kept or shared) and
// penalised (shared losses, a deficit financed) from a replication's ledger.
func flags(holder []int, holders int, led []sim.Entry, reward, pen []bool) {
	clear(reward)
	clear(pen)
	for _, e := range led {
		if e.Amount <= 0 {
			continue
		}
		k := int(e.Year-1)*holders + holder[e.Practice]
		switch e.Reason {
		case sim.ReasonSavingsKept, sim.ReasonSharedSavings:
			reward[k] = true
		case sim.ReasonSharedLoss, sim.ReasonDeficitFinanced:
			if pen != nil {
				pen[k] = true
			}
		}
	}
}

// Write implements sim.Sink.
func (a *accumulator) Write(rep *sim.Replication) error {
	clear(a.b)
	clear(a.s)
	np := len(a.holder)
	for j := range rep.Rows {
		x := &rep.Rows[j]
		k := (x.Year-1)*a.holders + a.holder[j%np]
		a.b[k] += x.Budget
		a.s[k] += x.Budget - x.Variance
	}
	flags(a.holder, a.holders, rep.Ledger, a.reward, a.pen)
	bt := a.batch(rep.Rep)
	var c [nProps]float64
	for k := range a.b {
		x := (a.b[k] - a.s[k]) / a.b[k]
		if a.reward[k] {
			c[pReward]++
		}
		if a.pen[k] {
			c[pPenalty]++
		}
		if x < -0.05 {
			c[pOver5]++
		}
		if x > 0.05 {
			c[pUnder5]++
		}
		c[pMeanRate] += x
		a.cell[k].Add(a.s[k])
		if a.nb > 0 {
			a.cellBatch[bt][k].Add(a.s[k])
		}
		a.rates[bt].Add(x)
	}
	for p := range c {
		a.props[p].Add(c[p] / float64(len(a.b)))
	}
	xs := make([]float64, a.holders)
	for y := range a.yrs {
		for h := range a.holders {
			k := y*a.holders + h
			xs[h] = (a.b[k] - a.s[k]) / a.b[k]
		}
		a.spread[bt].add(xs)
	}
	return nil
}

// cv is the chance CV of cells' values: the pooled within-cell SD (over
// replications) over the mean.
func cv(cells []analysis.Moments) float64 {
	m2, df, sum, n := 0.0, 0.0, 0.0, 0.0
	for _, c := range cells {
		if c.N < 2 {
			continue
		}
		m2 += c.Var() * (c.N - 1)
		df += c.N - 1
		sum += c.Mean() * c.N
		n += c.N
	}
	if df == 0 {
		return math.NaN()
	}
	return math.Sqrt(m2/df) / (sum / n)
}

// row computes the figures from what was accumulated.
func (a *accumulator) row() analysis.RiskCurveRow {
	r := analysis.RiskCurveRow{}
	est := func(m analysis.Moments) (float64, float64) {
		if m.N < 2 {
			return m.Mean(), math.NaN()
		}
		return m.Mean(), m.SE()
	}
	r.FalseReward, r.FalseRewardSE = est(a.props[pReward])
	r.FalsePenalty, r.FalsePenaltySE = est(a.props[pPenalty])
	r.POver5, r.POver5SE = est(a.props[pOver5])
	r.PUnder5, r.PUnder5SE = est(a.props[pUnder5])
	r.MeanSavingsRate, r.MeanSavingsRateSE = est(a.props[pMeanRate])
	r.CVSpendLevel = cv(a.cell)
	var cvs, msr, res, sdT, sdO, sdS analysis.Moments
	var sp spread
	for k := range a.nb {
		cvs.Add(cv(a.cellBatch[k]))
		msr.Add(a.rates[k].Quantile(0.95))
		res.Add(-a.rates[k].Quantile(0.05))
		t, o, sh := a.spread[k].sds(a.holders)
		sdT.Add(t)
		sdO.Add(o)
		sdS.Add(sh)
	}
	for _, s := range a.spread {
		sp.merge(s)
	}
	r.SDVsBenchmark, r.SDOwn, r.SDShared = sp.sds(a.holders)
	all := a.rates[0]
	for _, d := range a.rates[1:] {
		all.Merge(d)
	}
	r.MSRFor5pct = all.Quantile(0.95)
	r.Reserve95 = -all.Quantile(0.05)
	// The SD of batch estimates / sqrt(batches) is the batch-means SE.
	_, r.CVSpendLevelSE = est(cvs)
	_, r.SDVsBenchmarkSE = est(sdT)
	_, r.SDOwnSE = est(sdO)
	_, r.SDSharedSE = est(sdS)
	_, r.MSRFor5pctSE = est(msr)
	_, r.Reserve95SE = est(res)
	return r
}

// powerSink is the sink of the true-cut run: the share of holder-years
// rewarded, per replication.
type powerSink struct {
	a      *accumulator
	reward []bool
	power  analysis.Moments
}

// Write implements sim.Sink.
func (p *powerSink) Write(rep *sim.Replication) error {
	if p.reward == nil {
		p.reward = make([]bool, len(p.a.b))
	}
	flags(p.a.holder, p.a.holders, rep.Ledger, p.reward, nil)
	n := 0
	for _, r := range p.reward {
		if r {
			n++
		}
	}
	p.power.Add(float64(n) / float64(len(p.reward)))
	return nil
}
