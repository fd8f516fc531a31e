package output

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/gpbudget/gpbudget/sim"
	"github.com/parquet-go/parquet-go"
)

// ListBands are the list-size bands of the over/underspend probabilities:
// [lower, upper) patients, with 20.1% of practices under 3,000 in 2006-07 and
// a 2007 median of 5,590 (shared/reference §1).
var ListBands = []struct {
	Name   string
	Lo, Hi int
}{
	{"all", 0, math.MaxInt},
	{"<3000", 0, 3000},
	{"3000-5999", 3000, 6000},
	{"6000-9999", 6000, 10000},
	{"10000+", 10000, math.MaxInt},
}

// spendThresholds are the over/underspend margins reported, as fractions of budget.
var spendThresholds = []float64{0.05, 0.10}

// repMetrics is one replication's summary of one scenario.
type repMetrics struct {
	commissioner, retained, deficit float64
	// reserve is the most the commissioner paid in any year beyond the
	// budgets it set (0 if never): the reserve it needed that replication.
	reserve float64
	// over[t][b], under[t][b]: share of practice-years in band b whose
	// spend exceeds (falls short of) budget by more than threshold t.
	over, under [2][]float64
}

// metricsSink summarises each replication as the runner delivers it.
type metricsSink struct{ reps []repMetrics }

func (s *metricsSink) Write(rep *sim.Replication) error {
	rows := rep.Rows
	var m repMetrics
	nb := len(ListBands)
	n := make([]float64, nb)
	for t := range spendThresholds {
		m.over[t] = make([]float64, nb)
		m.under[t] = make([]float64, nb)
	}
	lastYear := 0
	for i := range rows {
		lastYear = max(lastYear, rows[i].Year)
	}
	paid := map[int]float64{}
	for i := range rows {
		r := &rows[i]
		if r.Regime == sim.RegimeClosed {
			continue // nothing is paid for a practice that has left
		}
		m.commissioner += r.CommissionerPaid
		m.retained += r.SavingsRetained
		if r.Year == lastYear {
			m.deficit += r.DeficitCarried
		}
		paid[r.Year] += r.CommissionerPaid - r.Budget
		frac := 0.0
		if r.Budget > 0 {
			frac = -r.Variance / r.Budget
		}
		for b, band := range ListBands {
			if r.ListSize < band.Lo || r.ListSize >= band.Hi {
				continue
			}
			n[b]++
			for t, th := range spendThresholds {
				if frac > th {
					m.over[t][b]++
				}
				if frac < -th {
					m.under[t][b]++
				}
			}
		}
	}
	for _, v := range paid {
		m.reserve = math.Max(m.reserve, v)
	}
	for t := range spendThresholds {
		for b := range nb {
			if n[b] > 0 {
				m.over[t][b] /= n[b]
				m.under[t][b] /= n[b]
			} else {
				m.over[t][b], m.under[t][b] = math.NaN(), math.NaN()
			}
		}
	}
	s.reps = append(s.reps, m)
	return nil
}

// CompareRow is one paired difference: scenario minus baseline for one
// metric (and list-size band), with Monte Carlo standard errors of the
// difference as measured (paired, common random numbers) and as two
// independent runs of the same size would give.
type CompareRow struct {
	Metric        string  `parquet:"metric,dict"`
	Band          string  `parquet:"band,dict"`
	Baseline      string  `parquet:"baseline,dict"`
	Scenario      string  `parquet:"scenario,dict"`
	BaselineValue float64 `parquet:"baseline_value"`
	ScenarioValue float64 `parquet:"scenario_value"`
	Difference    float64 `parquet:"difference"`
	SEPaired      float64 `parquet:"se_paired"`
	SEIndependent float64 `parquet:"se_independent"`
	Replications  int32   `parquet:"replications"`
}

// CompareSpec is a paired comparison: models run with one seed, so they
// share patients and chance events wherever their populations agree.
type CompareSpec struct {
	Names   []string // labels, one per model; the first is the baseline
	Models  []*sim.Model
	Seed    uint64
	Reps    int
	Years   int
	Workers int
	Meta    map[string]string // key-value metadata for the Parquet file
	// Progress, if set, counts the tasks of every model's run.
	Progress *sim.Progress
}

// Compare runs every model with the same seed and returns the paired
// differences of each against the first.
func Compare(ctx context.Context, sp *CompareSpec) ([]CompareRow, error) {
	if len(sp.Models) < 2 || len(sp.Names) != len(sp.Models) {
		return nil, fmt.Errorf("compare needs two or more scenarios, each named")
	}
	if sp.Reps < 2 {
		return nil, fmt.Errorf("compare needs at least 2 replications for standard errors, got %d", sp.Reps)
	}
	res := make([][]repMetrics, len(sp.Models))
	if sp.Progress != nil {
		// Count every model's tasks from the start, so the rate and time
		// left cover the whole comparison.
		for _, m := range sp.Models {
			sp.Progress.Total.Add(int64(sp.Reps * len(m.Practices)))
		}
	}
	for k, m := range sp.Models {
		var s metricsSink
		if sp.Progress != nil {
			// Run adds its own tasks to Total: take them out of the count made above first.
			sp.Progress.Total.Add(-int64(sp.Reps * len(m.Practices)))
		}
		err := sim.Run(ctx, m, sim.Options{Seed: sp.Seed, FirstRep: 0, LastRep: sp.Reps, Years: sp.Years, Workers: sp.Workers, Progress: sp.Progress}, &s)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sp.Names[k], err)
		}
		res[k] = s.reps
	}
	var out []CompareRow
	base := res[0]
	for k := 1; k < len(res); k++ {
		cur := res[k]
		add := func(metric, band string, f func(*repMetrics) float64) {
			a, b := make([]float64, len(base)), make([]float64, len(cur))
			for r := range base {
				a[r], b[r] = f(&base[r]), f(&cur[r])
			}
			row := pairedMean(a, b)
			row.Metric, row.Band, row.Baseline, row.Scenario = metric, band, sp.Names[0], sp.Names[k]
			out = append(out, row)
		}
		add("commissioner_cost", "all", func(m *repMetrics) float64 { return m.commissioner })
		add("savings_retained", "all", func(m *repMetrics) float64 { return m.retained })
		add("deficit_carried", "all", func(m *repMetrics) float64 { return m.deficit })
		for t, th := range spendThresholds {
			for b, band := range ListBands {
				add(fmt.Sprintf("p_overspend_%d", int(math.Round(th*100))), band.Name, func(m *repMetrics) float64 { return m.over[t][b] })
				add(fmt.Sprintf("p_underspend_%d", int(math.Round(th*100))), band.Name, func(m *repMetrics) float64 { return m.under[t][b] })
			}
		}
		for _, q := range []float64{0.95, 0.99} {
			a, b := make([]float64, len(base)), make([]float64, len(cur))
			for r := range base {
				a[r], b[r] = base[r].reserve, cur[r].reserve
			}
			row := pairedQuantile(a, b, q, sp.Seed)
			row.Metric = fmt.Sprintf("reserve_p%d", int(math.Round(q*100)))
			row.Band, row.Baseline, row.Scenario = "all", sp.Names[0], sp.Names[k]
			out = append(out, row)
		}
	}
	return out, nil
}

// meanVar returns the mean and the sample variance (n-1) of x, skipping NaN.
func meanVar(x []float64) (mean, v float64, n int) {
	for _, y := range x {
		if !math.IsNaN(y) {
			mean += y
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean /= float64(n)
	for _, y := range x {
		if !math.IsNaN(y) {
			v += (y - mean) * (y - mean)
		}
	}
	if n > 1 {
		v /= float64(n - 1)
	}
	return mean, v, n
}

// pairedMean: the difference of means with its paired standard error
// sd(b_r - a_r)/sqrt(n), and the standard error two independent runs would
// give, sqrt((var a + var b)/n). Replications where either value is
// undefined (an empty list-size band) are left out.
func pairedMean(a, b []float64) CompareRow {
	var d, aa, bb []float64
	for r := range a {
		if math.IsNaN(a[r]) || math.IsNaN(b[r]) {
			continue
		}
		d = append(d, b[r]-a[r])
		aa, bb = append(aa, a[r]), append(bb, b[r])
	}
	ma, va, n := meanVar(aa)
	mb, vb, _ := meanVar(bb)
	md, vd, _ := meanVar(d)
	row := CompareRow{BaselineValue: ma, ScenarioValue: mb, Difference: md, Replications: int32(n)}
	if n > 0 {
		row.SEPaired = math.Sqrt(vd / float64(n))
		row.SEIndependent = math.Sqrt((va + vb) / float64(n))
	} else {
		row.SEPaired, row.SEIndependent = math.NaN(), math.NaN()
	}
	return row
}

// quantile is the q-quantile of x by linear interpolation between order
// statistics (Hyndman & Fan 1996, type 7, as R's default).
func quantile(x []float64, q float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	if len(s) == 0 {
		return math.NaN()
	}
	h := q * float64(len(s)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (h-lo)*(s[i+1]-s[i])
}

// bootstrapReps is the number of bootstrap resamples for quantile standard errors.
const bootstrapReps = 400

// pairedQuantile: the difference of q-quantiles with bootstrap standard
// errors (Efron & Tibshirani 1993): paired resamples draw replications for
// both scenarios together; independent resamples draw them separately.
// The resampling generator is fixed by the seed, so results reproduce.
func pairedQuantile(a, b []float64, q float64, seed uint64) CompareRow {
	n := len(a)
	qa, qb := quantile(a, q), quantile(b, q)
	row := CompareRow{BaselineValue: qa, ScenarioValue: qb, Difference: qb - qa, Replications: int32(n)}
	g := rand.New(rand.NewPCG(seed, 0x5eed))
	ra, rb := make([]float64, n), make([]float64, n)
	paired, indep := make([]float64, bootstrapReps), make([]float64, bootstrapReps)
	for k := range bootstrapReps {
		for j := range n {
			r := g.IntN(n)
			ra[j], rb[j] = a[r], b[r]
		}
		paired[k] = quantile(rb, q) - quantile(ra, q)
		for j := range n {
			ra[j], rb[j] = a[g.IntN(n)], b[g.IntN(n)]
		}
		indep[k] = quantile(rb, q) - quantile(ra, q)
	}
	_, vp, _ := meanVar(paired)
	_, vi, _ := meanVar(indep)
	row.SEPaired, row.SEIndependent = math.Sqrt(vp), math.Sqrt(vi)
	return row
}

// CompareFiles are the names of a comparison's outputs in its folder.
const (
	CompareParquet = "compare.parquet"
	CompareCSV     = "compare.csv"
)

// WriteComparison writes rows to DIR/compare.parquet and DIR/compare.csv,
// each under a temporary name renamed into place when complete.
func WriteComparison(dir string, rows []CompareRow, meta map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder %s cannot be created: %w", dir, err)
	}
	var pq bytes.Buffer
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var opts []parquet.WriterOption
	for _, k := range keys {
		opts = append(opts, parquet.KeyValueMetadata(k, meta[k]))
	}
	w := parquet.NewGenericWriter[CompareRow](&pq, opts...)
	if _, err := w.Write(rows); err != nil {
		return fmt.Errorf("writing %s: %w", CompareParquet, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", CompareParquet, err)
	}
	var cb bytes.Buffer
	if err := WriteComparisonCSV(&cb, rows); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, CompareCSV), cb.Bytes()); err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, CompareParquet), pq.Bytes())
}

// WriteComparisonCSV writes rows as CSV with a header.
func WriteComparisonCSV(w io.Writer, rows []CompareRow) error {
	c := csv.NewWriter(w)
	_ = c.Write([]string{"metric", "band", "baseline", "scenario", "baseline_value", "scenario_value", "difference", "se_paired", "se_independent", "replications"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, r := range rows {
		_ = c.Write([]string{r.Metric, r.Band, r.Baseline, r.Scenario, f(r.BaselineValue), f(r.ScenarioValue), f(r.Difference), f(r.SEPaired), f(r.SEIndependent), strconv.Itoa(int(r.Replications))})
	}
	c.Flush()
	if err := c.Error(); err != nil {
		return fmt.Errorf("writing CSV: %w", err)
	}
	return nil
}

// PrintComparison writes a human-readable table of rows.
func PrintComparison(w io.Writer, rows []CompareRow) {
	fmt.Fprintf(w, "%-20s %-10s %-32s %16s %16s %16s %14s %14s\n", "metric", "band", "scenario - baseline", "baseline", "scenario", "difference", "se paired", "se indep.")
	for _, r := range rows {
		fmt.Fprintf(w, "%-20s %-10s %-32s %16.6g %16.6g %16.6g %14.4g %14.4g\n", r.Metric, r.Band, r.Scenario+" - "+r.Baseline, r.BaselineValue, r.ScenarioValue, r.Difference, r.SEPaired, r.SEIndependent)
	}
}
