package riskcurve

import (
	"math"

	"github.com/gpbudget/gpbudget/sim"
)

// welford is a running mean and sum of squared deviations (Welford, 1962).
type welford struct{ n, m, m2 float64 }

func (w *welford) add(x float64) {
	w.n++
	d := x - w.m
	w.m += d / w.n
	w.m2 += d * (x - w.m)
}

func (w *welford) mean() float64 {
	if w.n == 0 {
		return math.NaN()
	}
	return w.m
}

// se is the standard error of the mean.
func (w *welford) se() float64 {
	if w.n < 2 {
		return math.NaN()
	}
	return math.Sqrt(w.m2 / (w.n - 1) / w.n)
}

// Savings rates x = (benchmark - spend) / benchmark are binned in steps of
// binWidth over [-binRange, binRange] (values beyond fall in the end bins):
// a quantile is exact to within binWidth while memory stays fixed, whatever
// the number of replications.
const (
	binWidth = 1e-4
	binRange = 1.0
	nBins    = int(2*binRange/binWidth) + 1
)

type histogram []uint32

func (h histogram) add(x float64) {
	i := int(math.Floor((x + binRange) / binWidth))
	h[min(max(i, 0), nBins-1)]++
}

// quantile is the q-quantile, interpolated linearly within its bin.
func (h histogram) quantile(q float64) float64 {
	n := 0.0
	for _, c := range h {
		n += float64(c)
	}
	if n == 0 {
		return math.NaN()
	}
	want, cum := q*n, 0.0
	for i, c := range h {
		if c > 0 && cum+float64(c) >= want {
			return -binRange + (float64(i)+(want-cum)/float64(c))*binWidth
		}
		cum += float64(c)
	}
	return binRange
}

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
	props        [nProps]welford
	cell         []welford   // per holder-year over replications: measured spend
	cellBatch    [][]welford // per batch, per holder-year
	hist         []histogram // per batch: savings rates
}

func newAccumulator(m *sim.Model, holders, years, reps int) *accumulator {
	a := &accumulator{holders: holders, yrs: years, reps: reps, nb: batches(reps)}
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
	a.cell = make([]welford, n)
	a.cellBatch = make([][]welford, a.nb)
	a.hist = make([]histogram, max(a.nb, 1))
	for k := range a.cellBatch {
		a.cellBatch[k] = make([]welford, n)
	}
	for k := range a.hist {
		a.hist[k] = make(histogram, nBins)
	}
	return a
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
		a.cell[k].add(a.s[k])
		if a.nb > 0 {
			a.cellBatch[bt][k].add(a.s[k])
		}
		a.hist[bt].add(x)
	}
	for p := range c {
		a.props[p].add(c[p] / float64(len(a.b)))
	}
	return nil
}

// cv is the chance CV of cells' values: the pooled within-cell SD (over
// replications) over the mean.
func cv(cells []welford) float64 {
	m2, df, sum, n := 0.0, 0.0, 0.0, 0.0
	for _, c := range cells {
		if c.n < 2 {
			continue
		}
		m2 += c.m2
		df += c.n - 1
		sum += c.m * c.n
		n += c.n
	}
	if df == 0 {
		return math.NaN()
	}
	return math.Sqrt(m2/df) / (sum / n)
}

// row computes the figures from what was accumulated.
func (a *accumulator) row() Row {
	r := Row{}
	r.FalseReward, r.FalseRewardSE = a.props[pReward].mean(), a.props[pReward].se()
	r.FalsePenalty, r.FalsePenaltySE = a.props[pPenalty].mean(), a.props[pPenalty].se()
	r.POver5, r.POver5SE = a.props[pOver5].mean(), a.props[pOver5].se()
	r.PUnder5, r.PUnder5SE = a.props[pUnder5].mean(), a.props[pUnder5].se()
	r.MeanSavingsRate, r.MeanSavingsRateSE = a.props[pMeanRate].mean(), a.props[pMeanRate].se()
	r.CV = cv(a.cell)
	all := make(histogram, nBins)
	for _, h := range a.hist {
		for i, c := range h {
			all[i] += c
		}
	}
	r.MSRFor5pct = all.quantile(0.95)
	r.Reserve95 = -all.quantile(0.05)
	var cvs, msr, res welford
	for k := range a.nb {
		cvs.add(cv(a.cellBatch[k]))
		msr.add(a.hist[k].quantile(0.95))
		res.add(-a.hist[k].quantile(0.05))
	}
	// The SD of batch estimates / sqrt(batches) is the batch-means SE.
	r.CVSE, r.MSRFor5pctSE, r.Reserve95SE = cvs.se(), msr.se(), res.se()
	return r
}

// powerSink is the sink of the true-cut run: the share of holder-years
// rewarded, per replication.
type powerSink struct {
	a      *accumulator
	reward []bool
	power  welford
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
	p.power.add(float64(n) / float64(len(p.reward)))
	return nil
}
