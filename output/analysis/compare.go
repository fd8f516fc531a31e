package analysis

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/parquet-go/parquet-go"
)

// repMetrics is one replication's summary of one scenario.
type repMetrics struct {
	commissioner, retained, deficit float64
	// contract: shared savings paid, shared losses received, incentives
	// paid, spend truncated (contracts' settlement, summed over the run).
	contract [nContract]float64
	// reserve is the replication's ReserveNeed.
	reserve float64
	// over[t][b], under[t][b]: share of practice-years in band b (the last,
	// len(Bands), pools every band) whose spend exceeds (falls short of)
	// budget by more than Thresholds[t]. NaN for an empty band.
	over, under [][]float64
	// pos are the net positions summed from the replication's ledger;
	// entries is how many entries it held.
	pos     Positions
	entries int
}

// Metrics is a sim.Sink that summarises each replication of one scenario as
// the engine delivers it, for Compare: a few numbers per replication, so
// memory stays flat in the number of rows. A practice-year falls in the
// band of its own list size.
type Metrics struct {
	reps   []repMetrics
	excess []float64
}

// Write implements sim.Sink.
func (s *Metrics) Write(rep *sim.Replication) error {
	rows := rep.Rows
	nb := len(Bands) + 1
	m := repMetrics{over: make([][]float64, len(Thresholds)), under: make([][]float64, len(Thresholds))}
	for t := range Thresholds {
		m.over[t], m.under[t] = make([]float64, nb), make([]float64, nb)
	}
	n := make([]float64, nb)
	lastYear := 0
	for i := range rows {
		lastYear = max(lastYear, rows[i].Year)
	}
	s.excess = s.excess[:0]
	for i := range rows {
		r := &rows[i]
		if r.Regime == sim.RegimeClosed {
			continue // a practice that has closed or merged: nothing is paid, no band
		}
		m.commissioner += r.CommissionerPaid
		m.retained += r.SavingsRetained
		for k, v := range [nContract]float64{r.SharedSavings, r.SharedLoss, r.IncentivePaid, r.Truncated} {
			m.contract[k] += v
		}
		if r.Year == lastYear {
			m.deficit += r.DeficitCarried
		}
		for len(s.excess) < r.Year {
			s.excess = append(s.excess, 0)
		}
		s.excess[r.Year-1] += r.CommissionerPaid - r.Budget
		frac := 0.0
		if r.Budget > 0 {
			frac = -r.Variance / r.Budget
		}
		for _, b := range []int{BandOf(float64(r.ListSize)), nb - 1} {
			n[b]++
			for t, th := range Thresholds {
				if frac > th {
					m.over[t][b]++
				}
				if frac < -th {
					m.under[t][b]++
				}
			}
		}
	}
	m.reserve = ReserveNeed(s.excess)
	for t := range Thresholds {
		for b := range nb {
			if n[b] > 0 {
				m.over[t][b] /= n[b]
				m.under[t][b] /= n[b]
			} else {
				m.over[t][b], m.under[t][b] = math.NaN(), math.NaN()
			}
		}
	}
	for _, e := range rep.Ledger {
		m.pos.Move(ClassOf(e.From), ClassOf(e.To), e.Amount)
	}
	m.entries = len(rep.Ledger)
	s.reps = append(s.reps, m)
	return nil
}

// contractMetrics name what a contract's settlement moves, per replication
// summed over the run: shared savings the commissioner paid, shared losses
// it received, incentives it paid, and spend left out of the measured spend
// by per-patient truncation.
var contractMetrics = [nContract]string{"shared_savings_paid", "shared_losses_received", "incentives_paid", "spend_truncated"}

const nContract = 4

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

// Compare returns the paired differences of each scenario's metrics
// against the first's (the baseline): the commissioner's cost (from the
// rows), savings retained, deficits carried at the end, contracts' payments
// (shared savings paid, shared losses received, incentives paid, spend
// truncated, where any scenario has them), the chance of over-
// and underspending by more than each threshold by band, the reserve need at
// each level, and, when the ledgers hold entries, the commissioner's outlay
// and each party class's net position summed from the ledger. seed fixes
// the bootstrap of the reserve's standard errors.
func Compare(names []string, ms []*Metrics, seed uint64) ([]CompareRow, error) {
	if len(ms) < 2 || len(names) != len(ms) {
		return nil, fmt.Errorf("compare needs two or more scenarios, each named")
	}
	base := ms[0].reps
	ledger := false
	var contract [nContract]bool // a contract metric is compared where any scenario has it
	for _, m := range ms {
		if len(m.reps) != len(base) {
			return nil, fmt.Errorf("scenarios ran %d and %d replications: a paired comparison needs the same", len(base), len(m.reps))
		}
		for _, r := range m.reps {
			ledger = ledger || r.entries > 0
			for k, v := range r.contract {
				contract[k] = contract[k] || v != 0
			}
		}
	}
	var out []CompareRow
	for k := 1; k < len(ms); k++ {
		cur := ms[k].reps
		row := func(metric, band string, d Diff) {
			out = append(out, CompareRow{Metric: metric, Band: band, Baseline: names[0], Scenario: names[k],
				BaselineValue: d.BaselineValue, ScenarioValue: d.ScenarioValue, Difference: d.Difference,
				SEPaired: d.SEPaired, SEIndependent: d.SEIndependent, Replications: int32(d.N)})
		}
		values := func(f func(*repMetrics) float64) ([]float64, []float64) {
			a, b := make([]float64, len(base)), make([]float64, len(cur))
			for r := range base {
				a[r], b[r] = f(&base[r]), f(&cur[r])
			}
			return a, b
		}
		mean := func(metric, band string, f func(*repMetrics) float64) { row(metric, band, PairedMean(values(f))) }
		mean("commissioner_cost", AllBands, func(m *repMetrics) float64 { return m.commissioner })
		mean("savings_retained", AllBands, func(m *repMetrics) float64 { return m.retained })
		mean("deficit_carried", AllBands, func(m *repMetrics) float64 { return m.deficit })
		for k, name := range contractMetrics {
			if contract[k] {
				mean(name, AllBands, func(m *repMetrics) float64 { return m.contract[k] })
			}
		}
		if ledger {
			mean("commissioner_outlay", AllBands, func(m *repMetrics) float64 { return m.pos.Outlay() })
			for c := Providers; c < nClasses; c++ {
				mean(ClassNames[c]+"_net", AllBands, func(m *repMetrics) float64 { return m.pos.Net[c] })
			}
		}
		for t, th := range Thresholds {
			for j := range len(Bands) + 1 {
				// "all" (index len(Bands)) first, then each band.
				b, name := len(Bands), AllBands
				if j > 0 {
					b, name = j-1, Bands[j-1].Name
				}
				mean("p_overspend_"+thresholdName(th), name, func(m *repMetrics) float64 { return m.over[t][b] })
				mean("p_underspend_"+thresholdName(th), name, func(m *repMetrics) float64 { return m.under[t][b] })
			}
		}
		for _, q := range ReserveLevels {
			a, b := values(func(m *repMetrics) float64 { return m.reserve })
			row(fmt.Sprintf("reserve_p%d", int(math.Round(q*100))), AllBands, PairedQuantile(a, b, q, seed))
		}
	}
	return out, nil
}

// WriteComparison writes rows to DIR/compare.parquet (with meta as
// key-value metadata) and DIR/compare.csv, each atomically.
func WriteComparison(dir string, rows []CompareRow, meta map[string]string) error {
	return writeRows(dir, runfolder.CompareParquet, runfolder.CompareCSV, rows, meta)
}

// IsComparison says whether dir holds a comparison's results.
func IsComparison(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, runfolder.CompareParquet))
	return err == nil
}

// ReadComparison reads DIR/compare.parquet: its rows and key-value metadata.
func ReadComparison(dir string) ([]CompareRow, map[string]string, error) {
	return readTable[CompareRow](dir, runfolder.CompareParquet, "a comparison", "gpbudget compare ...")
}

// readTable reads DIR/name, a Parquet table written by a command (cmd,
// which "--out DIR" rewrites): its rows and key-value metadata. A damaged
// file is a CorruptError naming it and saying to run cmd again, never a
// panic in the decoder.
func readTable[T any](dir, name, what, cmd string) ([]T, map[string]string, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", what, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", what, err)
	}
	meta := map[string]string{}
	var rows []T
	err = runfolder.Guard(func() error {
		pf, err := runfolder.OpenParquet(f, st.Size())
		if err != nil {
			return err
		}
		for _, kv := range pf.Metadata().KeyValueMetadata {
			meta[kv.Key] = kv.Value
		}
		rows, err = parquet.Read[T](f, st.Size())
		return err
	})
	if err != nil {
		return nil, nil, &runfolder.CorruptError{Dir: dir, Problems: []string{fmt.Sprintf("%s cannot be read as %s: %v", name, what, err)},
			Fix: fmt.Sprintf("Make it again (%s --out %s).", cmd, runfolder.ShellQuote(dir))}
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("%s: no rows", path)
	}
	return rows, meta, nil
}

// PrintComparison writes a human-readable table of rows.
func PrintComparison(w io.Writer, rows []CompareRow) {
	fmt.Fprintf(w, "%-20s %-10s %-32s %16s %16s %16s %14s %14s\n", "metric", "band", "scenario - baseline", "baseline", "scenario", "difference", "se paired", "se indep.")
	for _, r := range rows {
		fmt.Fprintf(w, "%-20s %-10s %-32s %16.6g %16.6g %16.6g %14.4g %14.4g\n", r.Metric, r.Band, r.Scenario+" - "+r.Baseline, r.BaselineValue, r.ScenarioValue, r.Difference, r.SEPaired, r.SEIndependent)
	}
}
