// Package analysis turns results into answers: one statistics module
// (moments, type-7 quantiles, value at risk and expected shortfall, paired
// differences), one table of list-size bands and over/underspend
// thresholds, the streaming summary of a run folder, the ledger's net
// positions, and the paired comparison of scenarios. It reads run folders
// through the runfolder package and never runs the engine.
package analysis

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"

	"github.com/gpbudget/gpbudget/internal/stats"
)

// Mean is the arithmetic mean (NaN for no values).
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return stat.Mean(x, nil)
}

// SD is the sample standard deviation, sqrt(sum (x-mean)^2 / (n-1)); zero for
// one value and NaN for none.
func SD(x []float64) float64 {
	switch len(x) {
	case 0:
		return math.NaN()
	case 1:
		return 0
	}
	return stat.StdDev(x, nil)
}

// Quantile is the p-quantile of sorted values, type 7 (Hyndman and Fan
// 1996, R's default): the project's one definition, stats.Quantile.
func Quantile(sorted []float64, p float64) float64 { return stats.Quantile(sorted, p) }

// tailCount is the number of worst outcomes in the tail at level a of n:
// k = ceil((1-a)n), at least 1. The small epsilon keeps (1-0.95)*20 =
// 1.0000000000000009 at 1.
func tailCount(n int, a float64) int {
	k := int(math.Ceil((1-a)*float64(n) - 1e-9))
	return max(1, min(k, n))
}

// Tail is the empirical value at risk and expected shortfall of losses at
// level a (e.g. 0.95): with k = ceil((1-a)n) the number of worst outcomes in
// the tail, VaR is the smallest of the k largest losses and ES their mean
// (Acerbi and Tasche 2002, "On the coherence of expected shortfall", for the
// empirical estimator). losses need not be sorted; it is not changed.
func Tail(losses []float64, a float64) (VaR, ES float64) {
	n := len(losses)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	s := slices.Clone(losses)
	slices.Sort(s)
	tail := s[n-tailCount(n, a):]
	return tail[0], Mean(tail)
}

// Moments accumulates the count, mean and variance of a stream of values as
// sums of deviations from a shift K, the first value: S1 = sum (x-K) and
// S2 = sum (x-K)^2, so mean = K + S1/n and the variance (S2 - S1²/n)/(n-1).
// Shifting by a value near the mean keeps the sums free of cancellation
// (Chan, Golub and LeVeque 1983, "Algorithms for computing the sample
// variance"), and adding a value takes no division, so a mean and SD need
// no second pass and no stored values.
type Moments struct {
	N float64
	shifted
}

// shifted is a Moments' sums without its count: the shift k (the first
// value) and the sums of the values' differences from it, and of their
// squares. Several Moments of the same values' rows may share one count
// (a practice's accumulator in the summary).
type shifted struct{ k, s1, s2 float64 }

// add takes one value's difference d from the shift.
func (m *shifted) add(d float64) {
	m.s1 += d
	m.s2 += d * d
}

// moments is m with count n.
func (m shifted) moments(n float64) Moments { return Moments{N: n, shifted: m} }

// Add takes one value.
func (m *Moments) Add(x float64) {
	if m.N == 0 {
		m.k = x
	}
	m.N++
	m.add(x - m.k)
}

// Merge adds the values o has seen, re-shifting o's sums to m's shift.
func (m *Moments) Merge(o Moments) {
	if o.N == 0 {
		return
	}
	if m.N == 0 {
		*m = o
		return
	}
	d := o.k - m.k
	m.s2 += o.s2 + 2*d*o.s1 + o.N*d*d
	m.s1 += o.s1 + o.N*d
	m.N += o.N
}

// Mean is the mean (NaN for no values).
func (m Moments) Mean() float64 {
	if m.N == 0 {
		return math.NaN()
	}
	return m.k + m.s1/m.N
}

// Var is the sample variance (n-1); zero for one value, NaN for none.
func (m Moments) Var() float64 {
	switch m.N {
	case 0:
		return math.NaN()
	case 1:
		return 0
	}
	return math.Max(0, (m.s2-m.s1*m.s1/m.N)/(m.N-1))
}

// SD is the sample standard deviation.
func (m Moments) SD() float64 { return math.Sqrt(m.Var()) }

// CV is the coefficient of variation SD/|mean| (NaN when the mean is zero).
func (m Moments) CV() float64 {
	mean := m.Mean()
	if mean == 0 {
		return math.NaN()
	}
	return m.SD() / math.Abs(mean)
}

// SE is the standard error of the mean, SD/sqrt(n).
func (m Moments) SE() float64 { return m.SD() / math.Sqrt(m.N) }

// momentsOf accumulates x, leaving out NaN.
func momentsOf(x []float64) Moments {
	var m Moments
	for _, v := range x {
		if !math.IsNaN(v) {
			m.Add(v)
		}
	}
	return m
}

// Diff is a paired difference, scenario minus baseline, with Monte Carlo
// standard errors of the difference as measured (paired, common random
// numbers) and as two independent runs of the same size would give.
type Diff struct {
	BaselineValue, ScenarioValue, Difference float64
	SEPaired, SEIndependent                  float64
	N                                        int
}

// PairedMean is the difference of means of b and a (paired by index) with
// its paired standard error sd(b_r - a_r)/sqrt(n), and the standard error
// two independent runs would give, sqrt((var a + var b)/n). Pairs where
// either value is undefined (NaN, e.g. an empty list-size band) are left out.
func PairedMean(a, b []float64) Diff {
	var ma, mb, md Moments
	for r := range a {
		if math.IsNaN(a[r]) || math.IsNaN(b[r]) {
			continue
		}
		ma.Add(a[r])
		mb.Add(b[r])
		md.Add(b[r] - a[r])
	}
	d := Diff{BaselineValue: ma.Mean(), ScenarioValue: mb.Mean(), Difference: md.Mean(), N: int(md.N)}
	if md.N > 0 {
		d.SEPaired = math.Sqrt(md.Var() / md.N)
		d.SEIndependent = math.Sqrt((ma.Var() + mb.Var()) / md.N)
	} else {
		d.SEPaired, d.SEIndependent = math.NaN(), math.NaN()
	}
	return d
}

// BootstrapReps is the number of bootstrap resamples for quantile standard errors.
const BootstrapReps = 400

// PairedQuantile is the difference of the q-quantiles (type 7) of b and a
// with bootstrap standard errors (Efron and Tibshirani 1993): paired
// resamples draw replications for both together; independent resamples draw
// them separately. The resampling generator is fixed by seed, so results
// reproduce.
func PairedQuantile(a, b []float64, q float64, seed uint64) Diff {
	n := len(a)
	quant := func(x []float64) float64 {
		s := slices.Clone(x)
		slices.Sort(s)
		return Quantile(s, q)
	}
	qa, qb := quant(a), quant(b)
	d := Diff{BaselineValue: qa, ScenarioValue: qb, Difference: qb - qa, N: n}
	g := rand.New(rand.NewPCG(seed, 0x5eed))
	ra, rb := make([]float64, n), make([]float64, n)
	paired, indep := make([]float64, BootstrapReps), make([]float64, BootstrapReps)
	for k := range BootstrapReps {
		for j := range n {
			r := g.IntN(n)
			ra[j], rb[j] = a[r], b[r]
		}
		paired[k] = quant(rb) - quant(ra)
		for j := range n {
			ra[j], rb[j] = a[g.IntN(n)], b[g.IntN(n)]
		}
		indep[k] = quant(rb) - quant(ra)
	}
	d.SEPaired, d.SEIndependent = momentsOf(paired).SD(), momentsOf(indep).SD()
	return d
}
