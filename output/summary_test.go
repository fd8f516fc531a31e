package output

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/parquet-go/parquet-go"
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
	near(t, "cv", CV(x), math.Sqrt(32.0/7)/5)
	near(t, "sd of one", SD([]float64{3}), 0)
	if !math.IsNaN(CV([]float64{-1, 1})) {
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
func handResults() *Results {
	res := &Results{Dir: "hand"}
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
		res.Obs = append(res.Obs,
			Obs{Replication: o.rep, Year: o.year, PracticeID: "A", ListSize: 1000, Budget: 100, SpendTotal: o.spend,
				Variance: v, SavingsRetained: sav, DeficitCarried: def, CommissionerPaid: o.spend + sav},
			Obs{Replication: o.rep, Year: o.year, PracticeID: "B", ListSize: 12000, Budget: 1000, SpendTotal: 1000,
				CommissionerPaid: 1000})
	}
	return res
}

func TestSummarizeByHand(t *testing.T) {
	sum, err := Summarize(handResults())
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
			near(t, "year 2 median", y.P50, 0.115)
			near(t, "year 2 p05", y.P05, 0.1105)
		}
	}
}

func TestSummarizeRejectsZeroBudget(t *testing.T) {
	res := handResults()
	res.Obs[0].Budget = 0
	if _, err := Summarize(res); err == nil || !strings.Contains(err.Error(), "practice A") {
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
	sp := &Spec{Scenario: s, Model: m, Seed: 11, Reps: 8, Years: 3, Workers: 2, Dir: t.TempDir(), Version: "test", Command: "gpbudget run (test)"}
	if _, err := Execute(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	return sp.Dir
}

func TestReadResultsAndWriteTables(t *testing.T) {
	dir := testRun(t)
	res, err := ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Obs) != 8*3*8 {
		t.Fatalf("read %d rows, want %d", len(res.Obs), 8*3*8)
	}
	// The projected read agrees with a full read of the first file.
	files, _ := filepath.Glob(filepath.Join(dir, "practice_years", "*.parquet"))
	full, err := parquet.ReadFile[Row](files[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range full {
		o, r := res.Obs[i], full[i]
		if o.PracticeID != r.PracticeID || o.Variance != r.Variance || o.SpendTotal != r.SpendTotal || o.ListSize != r.ListSize {
			t.Fatalf("row %d: %+v vs %+v", i, o, r)
		}
	}
	sum, err := Summarize(res)
	if err != nil {
		t.Fatal(err)
	}
	written, err := sum.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 2*len(SummaryTables) {
		t.Fatalf("wrote %v", written)
	}
	back, err := parquet.ReadFile[PracticeStats](filepath.Join(dir, SummaryDir, "by_practice.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 8 || back[3].ProbOver5 != sum.Practices[3].ProbOver5 || back[3].PracticeID != sum.Practices[3].PracticeID {
		t.Fatalf("by_practice.parquet: %+v", back)
	}
	csvb, err := os.ReadFile(filepath.Join(dir, SummaryDir, "by_band.csv"))
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
	if !strings.Contains(text.String(), "the 3 of 8 most likely") || !strings.Contains(text.String(), "reserve 95%") {
		t.Errorf("printed summary:\n%s", text.String())
	}
}

func TestReadResultsRefusesIncompleteRun(t *testing.T) {
	dir := testRun(t)
	man, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	man.Completed, man.Error = false, "context canceled"
	if err := man.Write(dir); err != nil {
		t.Fatal(err)
	}
	_, err = ReadResults(dir)
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "completed: false") {
		t.Fatalf("want ErrIncomplete saying completed: false, got %v", err)
	}
}

func TestCSVFlattensAndBlanksNaN(t *testing.T) {
	b, err := CSV([]BandStats{{Band: "x", Stats: Stats{Practices: 2, VarianceCV: math.NaN()}}})
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

// A run split over many part files is read whole, in replication order.
func TestReadResultsOverManyFiles(t *testing.T) {
	sp := smallSpec(t, 5)
	sp.CheckpointEvery = time.Nanosecond // a file per replication
	if _, err := Execute(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(sp.Dir, "practice_years", "*.parquet"))
	if len(files) != 5 {
		t.Fatalf("%d part files, want 5", len(files))
	}
	res, err := ReadResults(sp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Obs) != 5*2*3 {
		t.Fatalf("read %d rows, want %d", len(res.Obs), 5*2*3)
	}
	for i := 1; i < len(res.Obs); i++ {
		if res.Obs[i].Replication < res.Obs[i-1].Replication {
			t.Fatalf("rows out of replication order at %d", i)
		}
	}
}
