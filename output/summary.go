package output

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/parquet-go/parquet-go"

	"github.com/gpbudget/gpbudget/sim"
)

// Band is a list-size band: practices with Lo <= list size < Hi.
type Band struct {
	Name   string
	Lo, Hi int
}

// SummaryBands are the list-size bands of the summary tables. The cut points
// (3,000, 6,000 and 10,000 patients) roughly split English practices of the
// late 2000s into small, middling, large and very large: 20.1% of practices
// had under 3,000 patients in 2006-07, the 2007 median was 5,590 and the 90th
// percentile 11,784 (shared/reference §1). The names match the bands
// of the compare tables. They are a reading aid, not a model parameter.
var SummaryBands = []Band{
	{"<3000", 0, 3000},
	{"3000-5999", 3000, 6000},
	{"6000-9999", 6000, 10000},
	{"10000+", 10000, math.MaxInt32},
}

// BandOf names the band of a list size.
func BandOf(list float64) string {
	for _, b := range SummaryBands {
		if list >= float64(b.Lo) && list < float64(b.Hi) {
			return b.Name
		}
	}
	return SummaryBands[len(SummaryBands)-1].Name
}

// SummaryDir is the folder under a run folder that takes the summary tables.
const SummaryDir = "summary"

// ReportName is the report's file name in a run folder.
const ReportName = "report.html"

// Obs is one practice-year as the summaries need it: a column subset of Row,
// so reading skips the other columns.
type Obs struct {
	Replication      int32   `parquet:"replication"`
	Year             int32   `parquet:"year"`
	PracticeID       string  `parquet:"practice_id"`
	ListSize         int32   `parquet:"list_size"`
	Budget           float64 `parquet:"budget"`
	SpendTotal       float64 `parquet:"spend_total"`
	Variance         float64 `parquet:"variance"`
	SavingsRetained  float64 `parquet:"savings_retained"`
	DeficitCarried   float64 `parquet:"deficit_carried"`
	StopLossPaid     float64 `parquet:"stop_loss_paid"`
	CommissionerPaid float64 `parquet:"commissioner_paid"`
	HolderPaid       float64 `parquet:"holder_paid"`
	Regime           string  `parquet:"regime"`
}

// Results is a completed run read back: its manifest and its rows.
type Results struct {
	Dir      string
	Manifest *Manifest
	Obs      []Obs
}

// ReadResults reads a completed run folder: DIR/manifest.json and every
// DIR/practice_years/*.parquet. A run whose manifest does not say completed
// is refused (with what is missing and how to resume it), since its results
// would be a biased part of the whole.
func ReadResults(dir string) (*Results, error) {
	man, err := RequireComplete(dir)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "practice_years", "*.parquet"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no results in practice_years/*.parquet", dir)
	}
	sort.Strings(files)
	res := &Results{Dir: dir, Manifest: man}
	for _, f := range files {
		if res.Obs, err = readObs(f, res.Obs); err != nil {
			return nil, err
		}
	}
	if man.Rows > 0 && int64(len(res.Obs)) != man.Rows {
		return nil, fmt.Errorf("%s: practice_years/ holds %d rows but %s says %d: the folder was changed after the run",
			dir, len(res.Obs), ManifestName, man.Rows)
	}
	return res, nil
}

// readBatch is the number of rows read at a time.
const readBatch = 8192

func readObs(path string, into []Obs) ([]Obs, error) {
	f, err := os.Open(path)
	if err != nil {
		return into, fmt.Errorf("reading results: %w", err)
	}
	defer f.Close()
	r := parquet.NewGenericReader[Obs](f)
	defer r.Close()
	n := r.NumRows()
	start := len(into)
	into = slices.Grow(into, int(n))[:start+int(n)]
	got := 0
	for got < int(n) {
		// Reading in modest batches keeps the reader's conversion buffers
		// small (one read of every row at once allocated ~1.7 kB per row).
		k, err := r.Read(into[start+got : start+min(int(n), got+readBatch)])
		got += k
		if err != nil {
			if errors.Is(err, io.EOF) && got == int(n) {
				break
			}
			return into, fmt.Errorf("reading %s: %w", path, err)
		}
	}
	return into, nil
}

// Stats are the summary statistics of a group of practice-years (a band or a
// practice, pooled over replications and years). Variance is budget minus
// spend, so a negative variance is an overspend. Money is in pounds.
type Stats struct {
	Practices    int     `parquet:"practices"`
	PracticeYrs  int     `parquet:"practice_years"`
	ListSizeMean float64 `parquet:"list_size_mean"`

	SpendPerHeadMean float64 `parquet:"spend_per_head_mean"`
	SpendPerHeadSD   float64 `parquet:"spend_per_head_sd"`
	SpendPerHeadCV   float64 `parquet:"spend_per_head_cv"`

	VarianceMean float64 `parquet:"variance_mean"`
	VarianceSD   float64 `parquet:"variance_sd"`
	VarianceCV   float64 `parquet:"variance_cv"`

	// The variance as a percentage of budget: its mean, SD and quantiles.
	VariancePctMean float64 `parquet:"variance_pct_mean"`
	VariancePctSD   float64 `parquet:"variance_pct_sd"`
	VariancePctP05  float64 `parquet:"variance_pct_p05"`
	VariancePctP25  float64 `parquet:"variance_pct_p25"`
	VariancePctP50  float64 `parquet:"variance_pct_p50"`
	VariancePctP75  float64 `parquet:"variance_pct_p75"`
	VariancePctP95  float64 `parquet:"variance_pct_p95"`

	// Share of practice-years with spend above (over) or below (under)
	// budget by more than 5% or 10% of budget.
	ProbOver5   float64 `parquet:"prob_over_5pct"`
	ProbOver10  float64 `parquet:"prob_over_10pct"`
	ProbUnder5  float64 `parquet:"prob_under_5pct"`
	ProbUnder10 float64 `parquet:"prob_under_10pct"`

	// Value at risk and expected shortfall of the overspend (spend minus
	// budget), in pounds and as a percentage of budget (see Tail).
	VaR95    float64 `parquet:"var95_overspend"`
	ES95     float64 `parquet:"es95_overspend"`
	VaR99    float64 `parquet:"var99_overspend"`
	ES99     float64 `parquet:"es99_overspend"`
	VaR95Pct float64 `parquet:"var95_overspend_pct"`
	ES95Pct  float64 `parquet:"es95_overspend_pct"`
	VaR99Pct float64 `parquet:"var99_overspend_pct"`
	ES99Pct  float64 `parquet:"es99_overspend_pct"`

	// Mean per practice-year of savings the holder kept and of deficit it
	// carried into the next year.
	SavingsRetainedMean float64 `parquet:"savings_retained_mean"`
	DeficitCarriedMean  float64 `parquet:"deficit_carried_mean"`
}

// BandStats is one row of the by-band table.
type BandStats struct {
	Band  string `parquet:"band"`
	Stats `parquet:""`
}

// PracticeStats is one row of the by-practice table; Band is the band of the
// practice's mean list size.
type PracticeStats struct {
	PracticeID string `parquet:"practice_id"`
	Band       string `parquet:"band"`
	Stats      `parquet:""`
}

// YearStats is one row of the spend-per-head-over-time table: quantiles of
// practice spend per head in one year across practices of a band (or "all")
// and replications. The fan charts are drawn from it.
type YearStats struct {
	Band        string  `parquet:"band"`
	Year        int32   `parquet:"year"`
	PracticeYrs int     `parquet:"practice_years"`
	Mean        float64 `parquet:"spend_per_head_mean"`
	P05         float64 `parquet:"spend_per_head_p05"`
	P25         float64 `parquet:"spend_per_head_p25"`
	P50         float64 `parquet:"spend_per_head_p50"`
	P75         float64 `parquet:"spend_per_head_p75"`
	P95         float64 `parquet:"spend_per_head_p95"`
}

// CommissionerStats is one row of the commissioner table: the area's totals
// in one year ("all": summed over the years) across replications.
//
// The area overspend is total spend minus total budget. The commissioner's
// excess is what it paid (care, stop-loss and retained savings) beyond the
// budgets it set; the reserve it needs is the 95th or 99th percentile of that
// excess across replications, or zero if the percentile is negative.
type CommissionerStats struct {
	Year              string  `parquet:"year"`
	Replications      int     `parquet:"replications"`
	BudgetMean        float64 `parquet:"budget_mean"`
	SpendMean         float64 `parquet:"spend_mean"`
	CommissionerPaid  float64 `parquet:"commissioner_paid_mean"`
	HolderPaid        float64 `parquet:"holder_paid_mean"`
	SavingsRetained   float64 `parquet:"savings_retained_mean"`
	DeficitCarried    float64 `parquet:"deficit_carried_mean"`
	StopLossPaid      float64 `parquet:"stop_loss_paid_mean"`
	OverspendMean     float64 `parquet:"area_overspend_mean"`
	OverspendSE       float64 `parquet:"area_overspend_se"`
	OverspendP95      float64 `parquet:"area_overspend_p95"`
	OverspendP99      float64 `parquet:"area_overspend_p99"`
	ProbAreaOverspend float64 `parquet:"prob_area_overspend"`
	ExcessMean        float64 `parquet:"commissioner_excess_mean"`
	Reserve95         float64 `parquet:"reserve_95"`
	Reserve99         float64 `parquet:"reserve_99"`
}

// Summary holds the tables of a run.
type Summary struct {
	Scenario     string
	Seed         uint64
	Replications int
	Years        int
	Bands        []BandStats
	Practices    []PracticeStats
	ByYear       []YearStats
	Commissioner []CommissionerStats
}

// Mean is the arithmetic mean (NaN for no values).
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
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
	m, s := Mean(x), 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

// CV is the coefficient of variation SD/|mean| (NaN when the mean is zero).
func CV(x []float64) float64 {
	m := Mean(x)
	if m == 0 {
		return math.NaN()
	}
	return SD(x) / math.Abs(m)
}

// Quantile is the p-quantile of sorted values by linear interpolation between
// order statistics (Hyndman and Fan type 7, as in R's default and NumPy's
// "linear"): h = (n-1)p, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]).
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
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
	// The small epsilon keeps (1-0.95)*20 = 1.0000000000000009 at 1.
	k := int(math.Ceil((1-a)*float64(n) - 1e-9))
	k = max(1, min(k, n))
	tail := s[n-k:]
	return tail[0], Mean(tail)
}

// statsOf summarises the practice-years obs (all of one group).
func statsOf(obs []*Obs) Stats {
	n := len(obs)
	sph := make([]float64, 0, n)
	vr := make([]float64, 0, n)
	pct := make([]float64, 0, n)
	loss := make([]float64, 0, n)
	losspct := make([]float64, 0, n)
	var list, sav, def float64
	var o5, o10, u5, u10 int
	ids := map[string]bool{}
	for _, o := range obs {
		ids[o.PracticeID] = true
		list += float64(o.ListSize)
		sph = append(sph, o.SpendTotal/float64(o.ListSize))
		vr = append(vr, o.Variance)
		p := 100 * o.Variance / o.Budget
		pct = append(pct, p)
		loss = append(loss, -o.Variance)
		losspct = append(losspct, -p)
		switch {
		case p < -10:
			o10++
			o5++
		case p < -5:
			o5++
		case p > 10:
			u10++
			u5++
		case p > 5:
			u5++
		}
		sav += o.SavingsRetained
		def += o.DeficitCarried
	}
	fn := float64(n)
	s := Stats{
		Practices: len(ids), PracticeYrs: n, ListSizeMean: list / fn,
		SpendPerHeadMean: Mean(sph), SpendPerHeadSD: SD(sph), SpendPerHeadCV: CV(sph),
		VarianceMean: Mean(vr), VarianceSD: SD(vr), VarianceCV: CV(vr),
		VariancePctMean: Mean(pct), VariancePctSD: SD(pct),
		ProbOver5: float64(o5) / fn, ProbOver10: float64(o10) / fn,
		ProbUnder5: float64(u5) / fn, ProbUnder10: float64(u10) / fn,
		SavingsRetainedMean: sav / fn, DeficitCarriedMean: def / fn,
	}
	slices.Sort(pct)
	s.VariancePctP05, s.VariancePctP25, s.VariancePctP50 = Quantile(pct, .05), Quantile(pct, .25), Quantile(pct, .5)
	s.VariancePctP75, s.VariancePctP95 = Quantile(pct, .75), Quantile(pct, .95)
	s.VaR95, s.ES95 = Tail(loss, .95)
	s.VaR99, s.ES99 = Tail(loss, .99)
	s.VaR95Pct, s.ES95Pct = Tail(losspct, .95)
	s.VaR99Pct, s.ES99Pct = Tail(losspct, .99)
	return s
}

// Summarize computes the summary tables of a run. A practice belongs to the
// band of its mean list size over the run, so it stays in one band.
func Summarize(res *Results) (*Summary, error) {
	if len(res.Obs) == 0 {
		return nil, fmt.Errorf("%s: no practice-years to summarise", res.Dir)
	}
	sum := &Summary{}
	if m := res.Manifest; m != nil {
		sum.Scenario, sum.Seed, sum.Replications, sum.Years = m.ScenarioName, m.Seed, m.Replications, m.Years
	}
	if slices.ContainsFunc(res.Obs, func(o Obs) bool { return o.Regime == sim.RegimeClosed }) {
		// Practices that closed or merged (list dynamics) have no
		// practice-years from then on to summarise.
		open := *res
		open.Obs = slices.DeleteFunc(slices.Clone(res.Obs), func(o Obs) bool { return o.Regime == sim.RegimeClosed })
		res = &open
	}
	byPractice := map[string][]*Obs{}
	for i := range res.Obs {
		o := &res.Obs[i]
		if o.ListSize <= 0 || o.Budget <= 0 {
			return nil, fmt.Errorf("%s: practice %s year %d replication %d has list size %d and budget %g: both must be positive",
				res.Dir, o.PracticeID, o.Year, o.Replication, o.ListSize, o.Budget)
		}
		byPractice[o.PracticeID] = append(byPractice[o.PracticeID], o)
	}
	ids := make([]string, 0, len(byPractice))
	for id := range byPractice {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	band := map[string]string{}
	byBand := map[string][]*Obs{}
	for _, id := range ids {
		obs := byPractice[id]
		st := statsOf(obs)
		b := BandOf(st.ListSizeMean)
		band[id] = b
		byBand[b] = append(byBand[b], obs...)
		sum.Practices = append(sum.Practices, PracticeStats{PracticeID: id, Band: b, Stats: st})
	}
	for _, b := range SummaryBands {
		if obs := byBand[b.Name]; len(obs) > 0 {
			sum.Bands = append(sum.Bands, BandStats{Band: b.Name, Stats: statsOf(obs)})
		}
	}
	all := make([]*Obs, len(res.Obs))
	for i := range res.Obs {
		all[i] = &res.Obs[i]
	}
	sum.Bands = append(sum.Bands, BandStats{Band: "all", Stats: statsOf(all)})

	// Spend per head by band and year.
	type key struct {
		band string
		year int32
	}
	sph := map[key][]float64{}
	var years []int32
	for _, o := range all {
		v := o.SpendTotal / float64(o.ListSize)
		sph[key{band[o.PracticeID], o.Year}] = append(sph[key{band[o.PracticeID], o.Year}], v)
		sph[key{"all", o.Year}] = append(sph[key{"all", o.Year}], v)
		if !slices.Contains(years, o.Year) {
			years = append(years, o.Year)
		}
	}
	slices.Sort(years)
	for _, b := range append(bandNames(), "all") {
		for _, y := range years {
			v := sph[key{b, y}]
			if len(v) == 0 {
				continue
			}
			slices.Sort(v)
			sum.ByYear = append(sum.ByYear, YearStats{
				Band: b, Year: y, PracticeYrs: len(v), Mean: Mean(v),
				P05: Quantile(v, .05), P25: Quantile(v, .25), P50: Quantile(v, .5),
				P75: Quantile(v, .75), P95: Quantile(v, .95),
			})
		}
	}
	if sum.Years == 0 {
		sum.Years = len(years)
	}

	// Area totals per replication and year.
	type tot struct{ budget, spend, comm, holder, sav, def, stop float64 }
	reps := map[int32]map[int32]*tot{}
	for _, o := range all {
		if reps[o.Replication] == nil {
			reps[o.Replication] = map[int32]*tot{}
		}
		t := reps[o.Replication][o.Year]
		if t == nil {
			t = &tot{}
			reps[o.Replication][o.Year] = t
		}
		t.budget += o.Budget
		t.spend += o.SpendTotal
		t.comm += o.CommissionerPaid
		t.holder += o.HolderPaid
		t.sav += o.SavingsRetained
		t.def += o.DeficitCarried
		t.stop += o.StopLossPaid
	}
	if sum.Replications == 0 {
		sum.Replications = len(reps)
	}
	repIDs := make([]int32, 0, len(reps))
	for r := range reps {
		repIDs = append(repIDs, r)
	}
	slices.Sort(repIDs)
	commRow := func(label string, ts []tot) CommissionerStats {
		var f [7][]float64
		over := make([]float64, len(ts))
		excess := make([]float64, len(ts))
		pos := 0
		for i, t := range ts {
			for j, v := range []float64{t.budget, t.spend, t.comm, t.holder, t.sav, t.def, t.stop} {
				f[j] = append(f[j], v)
			}
			over[i] = t.spend - t.budget
			excess[i] = t.comm - t.budget
			if over[i] > 0 {
				pos++
			}
		}
		c := CommissionerStats{
			Year: label, Replications: len(ts),
			BudgetMean: Mean(f[0]), SpendMean: Mean(f[1]), CommissionerPaid: Mean(f[2]),
			HolderPaid: Mean(f[3]), SavingsRetained: Mean(f[4]), DeficitCarried: Mean(f[5]), StopLossPaid: Mean(f[6]),
			OverspendMean: Mean(over), OverspendSE: SD(over) / math.Sqrt(float64(len(over))),
			ProbAreaOverspend: float64(pos) / float64(len(ts)), ExcessMean: Mean(excess),
		}
		slices.Sort(over)
		slices.Sort(excess)
		c.OverspendP95, c.OverspendP99 = Quantile(over, .95), Quantile(over, .99)
		c.Reserve95, c.Reserve99 = math.Max(0, Quantile(excess, .95)), math.Max(0, Quantile(excess, .99))
		return c
	}
	whole := make([]tot, len(repIDs))
	for _, y := range years {
		ts := make([]tot, 0, len(repIDs))
		for i, r := range repIDs {
			t := reps[r][y]
			if t == nil {
				return nil, fmt.Errorf("%s: replication %d has no rows for year %d", res.Dir, r, y)
			}
			ts = append(ts, *t)
			w := &whole[i]
			w.budget += t.budget
			w.spend += t.spend
			w.comm += t.comm
			w.holder += t.holder
			w.sav += t.sav
			w.def += t.def
			w.stop += t.stop
		}
		sum.Commissioner = append(sum.Commissioner, commRow(fmt.Sprint(y), ts))
	}
	sum.Commissioner = append(sum.Commissioner, commRow("all", whole))
	return sum, nil
}

func bandNames() []string {
	n := make([]string, len(SummaryBands))
	for i, b := range SummaryBands {
		n[i] = b.Name
	}
	return n
}

// RemoveDerived removes the summary tables and report of an earlier run in
// dir, so that they cannot be taken for this run's.
func RemoveDerived(dir string) error {
	if err := os.RemoveAll(filepath.Join(dir, SummaryDir)); err != nil {
		return fmt.Errorf("removing earlier summary: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, ReportName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing earlier report: %w", err)
	}
	return nil
}

// SummaryTables names the tables Write writes, each as NAME.csv and NAME.parquet.
var SummaryTables = []string{"by_band", "by_practice", "by_year", "commissioner"}

// Write writes the tables into DIR/summary/ as CSV and Parquet, each file
// atomically. It returns the files written, relative to dir.
func (s *Summary) Write(dir string) ([]string, error) {
	sdir := filepath.Join(dir, SummaryDir)
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return nil, fmt.Errorf("summary folder: %w", err)
	}
	var files []string
	add := func(name string, csvb, pq []byte, err error) error {
		if err != nil {
			return fmt.Errorf("summary table %s: %w", name, err)
		}
		for ext, b := range map[string][]byte{".csv": csvb, ".parquet": pq} {
			if err := WriteFileAtomic(filepath.Join(sdir, name+ext), b); err != nil {
				return err
			}
		}
		files = append(files, filepath.Join(SummaryDir, name+".csv"), filepath.Join(SummaryDir, name+".parquet"))
		return nil
	}
	if err := add(table(s.Bands, "by_band")); err != nil {
		return files, err
	}
	if err := add(table(s.Practices, "by_practice")); err != nil {
		return files, err
	}
	if err := add(table(s.ByYear, "by_year")); err != nil {
		return files, err
	}
	if err := add(table(s.Commissioner, "commissioner")); err != nil {
		return files, err
	}
	return files, nil
}

func table[T any](rows []T, name string) (string, []byte, []byte, error) {
	c, err := CSV(rows)
	if err != nil {
		return name, nil, nil, err
	}
	p, err := parquetBytes(rows)
	return name, c, p, err
}

// Print writes the main tables as aligned text. With more than maxPractices
// practices, only the maxPractices most likely to overspend are listed.
func (s *Summary) Print(w io.Writer, maxPractices int) error {
	fmt.Fprintf(w, "%s: seed %d, %d replications x %d years\n", s.Scenario, s.Seed, s.Replications, s.Years)
	fmt.Fprintln(w, "Variance is budget minus spend (negative: overspend); P(over>5%) is the share of practice-years spending more than 105% of budget.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "By list-size band (practice-years pooled over replications and years):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "band\tpractices\tlist mean\tspend/head £\tSD\tCV\tvariance mean £\tvariance SD £\tP(over>5%)\tP(over>10%)\tP(under>5%)\tP(under>10%)\tVaR95 £\tES95 £\tVaR99 £\tES99 £\tsavings kept £\tdeficit carried £\t")
	for _, b := range s.Bands {
		st := b.Stats
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.2f\t%.3f\t%.0f\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n",
			b.Band, st.Practices, st.ListSizeMean, st.SpendPerHeadMean, st.SpendPerHeadSD, st.SpendPerHeadCV,
			st.VarianceMean, st.VarianceSD, st.ProbOver5, st.ProbOver10, st.ProbUnder5, st.ProbUnder10,
			st.VaR95, st.ES95, st.VaR99, st.ES99, st.SavingsRetainedMean, st.DeficitCarriedMean)
	}
	tw.Flush()
	fmt.Fprintln(w)
	ps := slices.Clone(s.Practices)
	title := "By practice:"
	if maxPractices > 0 && len(ps) > maxPractices {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].ProbOver5 > ps[j].ProbOver5 })
		ps = ps[:maxPractices]
		title = fmt.Sprintf("By practice, the %d of %d most likely to overspend by more than 5%% (all in %s/by_practice.csv):", maxPractices, len(s.Practices), SummaryDir)
	}
	fmt.Fprintln(w, title)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "practice\tband\tlist mean\tspend/head £\tCV\tvariance mean £\tvariance SD £\tP(over>5%)\tP(over>10%)\tP(under>5%)\tVaR95 £\tES95 £\tsavings kept £\tdeficit carried £\t")
	for _, p := range ps {
		st := p.Stats
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.3f\t%.0f\t%.0f\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\t%.0f\t%.0f\t\n",
			p.PracticeID, p.Band, st.ListSizeMean, st.SpendPerHeadMean, st.SpendPerHeadCV, st.VarianceMean, st.VarianceSD,
			st.ProbOver5, st.ProbOver10, st.ProbUnder5, st.VaR95, st.ES95, st.SavingsRetainedMean, st.DeficitCarriedMean)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commissioner (area totals across replications; reserve = 95th/99th percentile of what it paid beyond the budgets):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "year\tbudget £\tspend £\tcommissioner paid £\tholder paid £\tsavings kept £\tdeficit carried £\toverspend mean £\toverspend P95 £\tP(area over)\treserve 95% £\treserve 99% £\t")
	for _, c := range s.Commissioner {
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.3f\t%.0f\t%.0f\t\n",
			c.Year, c.BudgetMean, c.SpendMean, c.CommissionerPaid, c.HolderPaid, c.SavingsRetained, c.DeficitCarried,
			c.OverspendMean, c.OverspendP95, c.ProbAreaOverspend, c.Reserve95, c.Reserve99)
	}
	return tw.Flush()
}

// CSV renders rows of a struct type as CSV with the Parquet column names as
// header (embedded structs flattened); NaN is written as an empty cell.
func CSV[T any](rows []T) ([]byte, error) {
	var b strings.Builder
	w := csv.NewWriter(&b)
	var names []string
	var idx [][]int
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			path := append(slices.Clone(prefix), i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, path)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
			if name == "" || name == "-" {
				continue
			}
			names, idx = append(names, name), append(idx, path)
		}
	}
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("CSV of %s: not a struct", t)
	}
	walk(t, nil)
	if err := w.Write(names); err != nil {
		return nil, err
	}
	rec := make([]string, len(names))
	for i := range rows {
		v := reflect.ValueOf(&rows[i]).Elem()
		for j, path := range idx {
			f := v.FieldByIndex(path)
			switch f.Kind() {
			case reflect.Float64, reflect.Float32:
				x := f.Float()
				if math.IsNaN(x) || math.IsInf(x, 0) {
					rec[j] = ""
				} else {
					rec[j] = strconv.FormatFloat(x, 'g', -1, 64)
				}
			default:
				rec[j] = fmt.Sprint(f.Interface())
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return []byte(b.String()), w.Error()
}

func parquetBytes[T any](rows []T) ([]byte, error) {
	var buf bytesBuffer
	w := parquet.NewGenericWriter[T](&buf)
	if _, err := w.Write(rows); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.b, nil
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
