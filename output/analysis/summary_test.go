package analysis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

func TestMomentsAndQuantiles(t *testing.T) {
	x := []float64{2, 4, 4, 4, 5, 5, 7, 9}
	near(t, "mean", Mean(x), 5)
	// Sum of squared deviations 32 over n-1 = 7.
	near(t, "sd", SD(x), math.Sqrt(32.0/7))
	m := momentsOf(x)
	near(t, "streamed mean", m.Mean(), 5)
	near(t, "streamed sd", m.SD(), math.Sqrt(32.0/7))
	near(t, "cv", m.CV(), math.Sqrt(32.0/7)/5)
	// Merged halves give the moments of the whole.
	h := momentsOf(x[:3])
	h.Merge(momentsOf(x[3:]))
	near(t, "merged mean", h.Mean(), 5)
	near(t, "merged sd", h.SD(), math.Sqrt(32.0/7))
	near(t, "sd of one", SD([]float64{3}), 0)
	if !math.IsNaN(momentsOf([]float64{-1, 1}).CV()) {
		t.Error("CV of a zero mean should be NaN")
	}
	s := []float64{1, 2, 3, 4}
	near(t, "median", Quantile(s, .5), 2.5) // h = 1.5
	near(t, "p25", Quantile(s, .25), 1.75)  // h = 0.75
	near(t, "p95", Quantile(s, .95), 3.85)  // h = 2.85
	near(t, "p100", Quantile(s, 1), 4)
	near(t, "p0", Quantile(s, 0), 1)
}

func TestTail(t *testing.T) {
	var l []float64
	for i := 100; i >= 1; i-- { // unsorted on purpose
		l = append(l, float64(i))
	}
	v, es := Tail(l, .95) // the 5 worst: 96..100
	near(t, "VaR95", v, 96)
	near(t, "ES95", es, 98)
	v, es = Tail(l, .99)
	near(t, "VaR99", v, 100)
	near(t, "ES99", es, 100)
	v, es = Tail(l[:20], .90) // 100..81: the 2 worst are 100 and 99
	near(t, "VaR90 of 20", v, 99)
	near(t, "ES90 of 20", es, 99.5)
	if l[0] != 100 {
		t.Error("Tail changed its input")
	}
}

// handResults: practice A (1,000 patients, budget £100) over 2 replications
// x 2 years spends 100, 110, 94, 120; practice B (12,000 patients, budget
// £1,000) spends exactly its budget. A keeps half its £6 underspend.
func handResults() []Obs {
	var res []Obs
	a := []struct {
		rep, year int32
		spend     float64
	}{{0, 1, 100}, {0, 2, 110}, {1, 1, 94}, {1, 2, 120}}
	for _, o := range a {
		v := 100 - o.spend
		sav, def := 0.0, 0.0
		if v > 0 {
			sav = v / 2
		} else {
			def = -v
		}
		res = append(res,
			Obs{Replication: o.rep, Year: o.year, Practice: 0, ListSize: 1000, Budget: 100, SpendTotal: o.spend,
				Variance: v, SavingsRetained: sav, DeficitCarried: def, CommissionerPaid: o.spend + sav},
			Obs{Replication: o.rep, Year: o.year, Practice: 1, ListSize: 12000, Budget: 1000, SpendTotal: 1000,
				CommissionerPaid: 1000})
	}
	return res
}

// summarizeHand feeds obs of practices A and B through a Summarizer's two
// passes, as Summarize does from files, with quantiles q.
func summarizeHand(obs []Obs, q *Quantiles) (*Summary, error) {
	s := NewSummarizer(q, false)
	s.Practice("A")
	s.Practice("B")
	for i := range obs {
		s.AddList(obs[i].Practice, obs[i].ListSize)
	}
	s.SetBands(2)
	for i := range obs {
		if err := s.Add(&obs[i]); err != nil {
			return nil, err
		}
	}
	return s.Summary()
}

func TestSummarizeByHand(t *testing.T) {
	sum, err := summarizeHand(handResults(), Exact())
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Practices) != 2 || len(sum.Bands) != 3 {
		t.Fatalf("%d practices, %d bands (want 2 and <3000, 10000+, all)", len(sum.Practices), len(sum.Bands))
	}
	a := sum.Practices[0]
	if a.PracticeID != "A" || a.Band != "<3000" || sum.Practices[1].Band != "10000+" {
		t.Fatalf("practices %+v", sum.Practices)
	}
	// Spend per head 0.1, 0.11, 0.094, 0.12: mean 0.106, squared deviations sum 392e-6.
	near(t, "spend per head mean", a.SpendPerHeadMean, 0.106)
	near(t, "spend per head sd", a.SpendPerHeadSD, math.Sqrt(392e-6/3))
	near(t, "spend per head cv", a.SpendPerHeadCV, math.Sqrt(392e-6/3)/0.106)
	// Variance 0, -10, 6, -20: mean -6, squared deviations 36+16+144+196 = 392.
	near(t, "variance mean", a.VarianceMean, -6)
	near(t, "variance sd", a.VarianceSD, math.Sqrt(392.0/3))
	near(t, "variance cv", a.VarianceCV, math.Sqrt(392.0/3)/6)
	near(t, "P(over>5%)", a.ProbOver5, 0.5)    // -10% and -20%
	near(t, "P(over>10%)", a.ProbOver10, 0.25) // -20% only: -10% is not beyond 10%
	near(t, "P(under>5%)", a.ProbUnder5, 0.25) // +6%
	near(t, "P(under>10%)", a.ProbUnder10, 0)
	// Losses 0, 10, -6, 20: with 4 values the 5% and 1% tails hold the worst one.
	near(t, "VaR95", a.VaR95, 20)
	near(t, "ES95", a.ES95, 20)
	near(t, "VaR99 %", a.VaR99Pct, 20)
	// Variance % sorted -20, -10, 0, 6: median -5, p25 at h=0.75: -12.5.
	near(t, "variance pct p50", a.VariancePctP50, -5)
	near(t, "variance pct p25", a.VariancePctP25, -12.5)
	near(t, "savings kept", a.SavingsRetainedMean, 0.75)
	near(t, "deficit carried", a.DeficitCarriedMean, 30.0/4)
	all := sum.Bands[2]
	if all.Band != "all" || all.PracticeYrs != 8 || all.Practices != 2 {
		t.Fatalf("all band %+v", all)
	}
	near(t, "all P(over>5%)", all.ProbOver5, 2.0/8)

	// Area: year 1 overspends 0 and -6, year 2 overspends 10 and 20.
	if len(sum.Commissioner) != 3 {
		t.Fatalf("%d commissioner rows (want years 1, 2 and all)", len(sum.Commissioner))
	}
	y1, y2, whole := sum.Commissioner[0], sum.Commissioner[1], sum.Commissioner[2]
	near(t, "year 1 overspend", y1.OverspendMean, -3)
	near(t, "year 1 P(area over)", y1.ProbAreaOverspend, 0)
	// Commissioner excess in year 1: 0 and -3 (it paid 97 + 1000 for budgets of 1100): no reserve.
	near(t, "year 1 reserve", y1.Reserve95, 0)
	near(t, "year 2 overspend", y2.OverspendMean, 15)
	near(t, "year 2 se", y2.OverspendSE, math.Sqrt(50)/math.Sqrt(2))
	near(t, "year 2 P95", y2.OverspendP95, 19.5) // 10 + 0.95 x 10
	near(t, "year 2 reserve 95", y2.Reserve95, 19.5)
	near(t, "year 2 reserve 99", y2.Reserve99, 19.9)
	near(t, "all years overspend", whole.OverspendMean, 12) // 10 and 14
	near(t, "all years budget", whole.BudgetMean, 2200)

	// By-year spend per head of band <3000 in year 2: 0.11 and 0.12.
	for _, y := range sum.ByYear {
		if y.Band == "<3000" && y.Year == 2 {
			// Exact quantiles are of the values held as float32.
			if math.Abs(y.P50-0.115) > 1e-7 || math.Abs(y.P05-0.1105) > 1e-7 {
				t.Errorf("year 2 median %v, p05 %v; want 0.115 and 0.1105", y.P50, y.P05)
			}
		}
	}
}

func TestSummarizeRejectsZeroBudget(t *testing.T) {
	res := handResults()
	res[0].Budget = 0
	if _, err := summarizeHand(res, Exact()); err == nil || !strings.Contains(err.Error(), "practice A") {
		t.Fatalf("want an error naming practice A, got %v", err)
	}
}

// testRun runs a small model (8 practices, 8 replications, 3 years) into a
// temporary folder.
func testRun(t *testing.T) string {
	t.Helper()
	s := scenarios.Default()
	s.Population.Synthetic.Practices = 8
	m, err := s.Model(11)
	if err != nil {
		t.Fatal(err)
	}
	sp := &rundir.Spec{Scenario: s, Model: m, Seed: 11, Reps: 8, Years: 3, Workers: 2, Dir: t.TempDir(), Version: "test", Command: "gpbudget run (test)"}
	if _, err := rundir.Execute(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	return sp.Dir
}

func TestSummarizeRunAndWriteTables(t *testing.T) {
	dir := testRun(t)
	sum, err := Summarize(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 8*3*8 || len(sum.Practices) != 8 {
		t.Fatalf("summarised %d rows of %d practices, want %d of 8", sum.Rows, len(sum.Practices), 8*3*8)
	}
	// The streamed summary agrees with one computed from a full read of the files.
	obs, names := readObs(t, dir)
	ids := map[string]int{}
	for i, n := range names {
		ids[n] = i
	}
	var a []float64
	for _, o := range obs {
		if o.Practice == ids[sum.Practices[3].PracticeID] {
			a = append(a, 100*o.Variance/o.Budget)
		}
	}
	slices.Sort(a)
	near(t, "practice 3 variance pct mean", sum.Practices[3].VariancePctMean, Mean(a))
	// Exact quantiles are of float32 values: within float32 rounding.
	if got, want := sum.Practices[3].VariancePctP25, Quantile(a, .25); math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
		t.Errorf("practice 3 p25 %v, want %v", got, want)
	}
	// Sketched quantiles are within the stated relative error of the exact ones.
	sk, err := Summarize(context.Background(), dir, Options{ExactBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sk.Quantiles.RelError != SketchRelError || !strings.Contains(sk.QuantileNote, "DDSketch") || sum.Quantiles.RelError != 0 {
		t.Fatalf("quantile methods %v / %v: %s", sum.Quantiles.RelError, sk.Quantiles.RelError, sk.QuantileNote)
	}
	for i, b := range sum.Bands {
		e, s := b.Stats, sk.Bands[i].Stats
		for _, v := range [][2]float64{{e.VariancePctP05, s.VariancePctP05}, {e.VariancePctP95, s.VariancePctP95}, {e.VaR95, s.VaR95}, {e.VaR99, s.VaR99}} {
			// DDSketch's rank rule takes the lower order statistic where type
			// 7 interpolates: compare with a margin of one neighbouring value.
			if math.Abs(v[0]-v[1]) > 2*SketchRelError*math.Abs(v[0])+0.02*math.Abs(e.VarianceSD) {
				t.Errorf("band %s: sketched %v vs exact %v", b.Band, v[1], v[0])
			}
		}
		if e.ProbOver5 != s.ProbOver5 || e.VarianceMean != s.VarianceMean {
			t.Errorf("band %s: counts and moments differ between methods", b.Band)
		}
	}
	written, err := sum.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 2*len(SummaryTables) {
		t.Fatalf("wrote %v", written)
	}
	back, err := parquet.ReadFile[PracticeStats](filepath.Join(dir, runfolder.SummaryDir, "by_practice.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 8 || back[3].ProbOver5 != sum.Practices[3].ProbOver5 || back[3].PracticeID != sum.Practices[3].PracticeID {
		t.Fatalf("by_practice.parquet: %+v", back)
	}
	csvb, err := os.ReadFile(filepath.Join(dir, runfolder.SummaryDir, "by_band.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csvb)), "\n")
	if !strings.HasPrefix(lines[0], "band,practices,practice_years,list_size_mean,") || len(lines) != len(sum.Bands)+1 {
		t.Fatalf("by_band.csv:\n%s", csvb)
	}
	var text strings.Builder
	if err := sum.Print(&text, 3); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"the 3 of 8 most likely", "reserve 95%", "commissioner outlay", "Percentiles: quantiles, VaR and ES are exact"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("printed summary lacks %q:\n%s", want, text.String())
		}
	}
}

func TestReadResultsRefusesIncompleteRun(t *testing.T) {
	dir := testRun(t)
	man, err := runfolder.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	man.Completed, man.Error = false, "context canceled"
	if err := man.Write(dir); err != nil {
		t.Fatal(err)
	}
	_, err = Summarize(context.Background(), dir, Options{})
	if !errors.Is(err, runfolder.ErrIncomplete) || !strings.Contains(err.Error(), "completed: false") {
		t.Fatalf("want ErrIncomplete saying completed: false, got %v", err)
	}
}

func TestCSVFlattensAndBlanksNaN(t *testing.T) {
	b, err := CSV([]BandStats{{Band: "x", Stats: Stats{Practices: 2, VarianceCV: math.NaN()}}}, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	h, v := strings.Split(lines[0], ","), strings.Split(lines[1], ",")
	if h[0] != "band" || h[1] != "practices" || v[0] != "x" || v[1] != "2" || len(h) != len(v) {
		t.Fatalf("csv:\n%s", b)
	}
	for i, name := range h {
		if name == "variance_cv" && v[i] != "" {
			t.Errorf("NaN written as %q", v[i])
		}
	}
}

// Options: fixed decimals for the columns named, the shortest form for the
// others; the Parquet codec and metadata as asked (read back).
func TestTableOptions(t *testing.T) {
	type row struct {
		Name  string  `parquet:"name"`
		Money float64 `parquet:"money"`
		Log   float64 `parquet:"log"`
		Other float64 `parquet:"other"`
	}
	rows := []row{{"a", 1234.5678, -0.12345678, 0.1}}
	b, err := CSV(rows, TableOptions{Decimals: map[string]int{"money": 2, "log": 6}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "name,money,log,other\na,1234.57,-0.123457,0.1\n"; string(b) != want {
		t.Errorf("csv %q, want %q", b, want)
	}
	pq, err := Parquet(rows, TableOptions{Compression: &zstd.Codec{}, Meta: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(pq), int64(len(pq)))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Lookup("k"); v != "v" {
		t.Errorf("metadata k = %q", v)
	}
	if c := f.Metadata().RowGroups[0].Columns[0].MetaData.Codec; c != format.Zstd {
		t.Errorf("codec %v, want zstd", c)
	}
}

// A run split over many parts is read whole, in replication order, and
// the same as in one part.
func TestSummarizeOverManyFiles(t *testing.T) {
	s := scenarios.Default()
	s.Population.Synthetic.Practices = 3
	m, err := s.Model(4)
	if err != nil {
		t.Fatal(err)
	}
	sums := make([]*Summary, 2)
	for i, every := range []time.Duration{0, time.Nanosecond} { // one part; a part per replication
		sp := &rundir.Spec{Scenario: s, Model: m, Seed: 4, Reps: 5, Years: 2, Workers: 2, Dir: t.TempDir(), Version: "test", CheckpointEvery: every}
		if _, err := rundir.Execute(context.Background(), sp); err != nil {
			t.Fatal(err)
		}
		if sums[i], err = Summarize(context.Background(), sp.Dir, Options{Readers: 3}); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(sp.Dir, "practice_years", "*.parquet"))
		if want := []int{1, 5}[i]; len(files) != want {
			t.Fatalf("%d part files, want %d", len(files), want)
		}
	}
	if sums[0].Rows != 5*2*3 || !reflect.DeepEqual(sums[0].Bands, sums[1].Bands) || !reflect.DeepEqual(sums[0].Commissioner, sums[1].Commissioner) {
		t.Fatalf("summaries differ between one part and five:\n%+v\n%+v", sums[0].Bands, sums[1].Bands)
	}
}

// readObs reads every practice-year of the run in dir, in file order, with
// practices numbered as first seen; names are their IDs by number.
func readObs(t *testing.T, dir string) (obs []Obs, names []string) {
	t.Helper()
	ids := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(dir, "practice_years", "*.parquet"))
	for _, f := range files {
		rows, err := parquet.ReadFile[runfolder.Row](f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if _, ok := ids[r.PracticeID]; !ok {
				ids[r.PracticeID] = len(ids)
				names = append(names, r.PracticeID)
			}
			obs = append(obs, Obs{Replication: r.Replication, Year: r.Year, Practice: ids[r.PracticeID], ListSize: r.ListSize,
				Budget: r.Budget, SpendTotal: r.SpendTotal, Variance: r.Variance, SavingsRetained: r.SavingsRetained,
				DeficitCarried: r.DeficitCarried, StopLossPaid: r.StopLossPaid, CommissionerPaid: r.CommissionerPaid, HolderPaid: r.HolderPaid})
		}
	}
	return obs, names
}

// One pass (list sizes taken with the rows, spend per head filed by band
// once the bands are known) gives the tables of two passes bit for bit:
// every sum is added in the same order. So does one pass whose room for
// each practice's values is too small (per 5 of its 24 rows), where each
// practice's values move to its own distributions.
func TestOnePassAsTwo(t *testing.T) {
	dir := testRun(t)
	obs, names := readObs(t, dir)
	tables := func(per int) string {
		one := per > 0
		s := NewSummarizer(Exact(), false)
		for _, n := range names {
			s.Practice(n)
		}
		if one {
			if err := s.OnePass(per); err != nil {
				t.Fatal(err)
			}
		} else {
			for i := range obs {
				s.AddList(obs[i].Practice, obs[i].ListSize)
			}
			s.SetBands(8)
		}
		for i := range obs {
			if err := s.Add(&obs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if one {
			s.SetBands(8)
		}
		sum, err := s.Summary()
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%v\n%v\n%v\n%v", sum.Practices, sum.Bands, sum.ByYear, sum.Commissioner)
	}
	two := tables(0)
	for _, per := range []int{3 * 8, 5} {
		if one := tables(per); one != two {
			t.Errorf("one pass, room for %d values:\n%s\ntwo passes:\n%s", per, one, two)
		}
	}
	q, err := Sketched(SketchRelError)
	if err != nil {
		t.Fatal(err)
	}
	if err := NewSummarizer(q, false).OnePass(1); err == nil {
		t.Error("one pass with sketches accepted")
	}
}

// A summary over the exact-memory budget spills each practice's values to
// disk and reads them back a partition at a time: its by-practice table is
// byte for byte the in-memory exact one, the pooled rows say they are
// sketched, and the spill's files are gone afterwards.
func TestSpilledPracticesAreExact(t *testing.T) {
	dir := testRun(t)
	exact, err := Summarize(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	spilled, err := Summarize(context.Background(), dir, Options{ExactBytes: 1, SpillDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Fatalf("spill left %v behind (%v)", left, err)
	}
	if exact.Quantiles.RelError != 0 || !spilled.Quantiles.PracticesExact || spilled.Quantiles.RelError != SketchRelError ||
		!strings.Contains(spilled.QuantileNote, "each practice's quantiles, VaR and ES are exact") {
		t.Fatalf("quantile methods %+v / %+v: %s", exact.Quantiles, spilled.Quantiles, spilled.QuantileNote)
	}
	var a, b bytes.Buffer
	if err := parquet.Write(&a, exact.Practices); err != nil {
		t.Fatal(err)
	}
	if err := parquet.Write(&b, spilled.Practices); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || fmt.Sprint(exact.Practices) != fmt.Sprint(spilled.Practices) {
		t.Errorf("spilled by-practice table differs from the exact one:\n%v\n%v", spilled.Practices, exact.Practices)
	}
	for _, r := range spilled.Bands {
		if r.QuantileRelError != SketchRelError {
			t.Errorf("band %s: quantile_rel_error %v, want the sketches' %v", r.Band, r.QuantileRelError, SketchRelError)
		}
	}
	// Many partitions: each holds a few practices, out of order.
	if n := spillParts(1<<20, 1); n != maxSpillParts || n%Shards != 0 || spillParts(10, 1<<30) != Shards {
		t.Errorf("spillParts: %d", n)
	}
}

// A headline summary (Options.Headline, what run prints) keeps no values:
// its bands and practices have the full summary's counts, means and
// probabilities, bit for bit, and no quantiles.
func TestHeadlineSummary(t *testing.T) {
	dir := testRun(t)
	full, err := Summarize(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	head, err := Summarize(context.Background(), dir, Options{Headline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(head.Practices) != len(full.Practices) || len(head.Bands) != len(full.Bands) || len(head.Practices) == 0 {
		t.Fatalf("headline: %d practices and %d bands, full: %d and %d", len(head.Practices), len(head.Bands), len(full.Practices), len(full.Bands))
	}
	for i, h := range append(head.Practices[:1:1], head.Practices[len(head.Practices)-1]) {
		f := full.Practices[max(i*(len(full.Practices)-1), 0)]
		if h.PracticeID != f.PracticeID || h.PracticeYrs != f.PracticeYrs || h.SpendPerHeadMean != f.SpendPerHeadMean || h.VariancePctSD != f.VariancePctSD || h.ProbOver5 != f.ProbOver5 {
			t.Errorf("practice %s: headline %+v, full %+v", h.PracticeID, h.Stats, f.Stats)
		}
		if !math.IsNaN(h.VariancePctP50) || !math.IsNaN(h.VaR95) {
			t.Errorf("practice %s: headline quantiles %v %v, want none (NaN)", h.PracticeID, h.VariancePctP50, h.VaR95)
		}
	}
	for i, h := range head.Bands {
		if f := full.Bands[i]; h.Band != f.Band || h.SpendPerHeadMean != f.SpendPerHeadMean || h.ProbUnder10 != f.ProbUnder10 || !math.IsNaN(h.ES95) {
			t.Errorf("band %s: headline %+v, full %+v", h.Band, h.Stats, f.Stats)
		}
	}
}
