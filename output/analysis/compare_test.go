package analysis

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// compare runs models paired (rundir.Paired) into Metrics sinks and compares them.
func compare(t *testing.T, names []string, models []*sim.Model, seed uint64, reps, years int) []CompareRow {
	t.Helper()
	ms := make([]*Metrics, len(models))
	sinks := make([]sim.Sink, len(models))
	for k := range ms {
		ms[k] = &Metrics{}
		sinks[k] = ms[k]
	}
	p := &rundir.Paired{Names: names, Models: models, Seed: seed, Reps: reps, Years: years, Workers: 2}
	if err := p.Run(context.Background(), sinks); err != nil {
		t.Fatal(err)
	}
	rows, err := Compare(names, ms, seed)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func smallModel(t *testing.T, name string, edit func(*scenarios.Scenario), seed uint64) *sim.Model {
	t.Helper()
	s, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	s.Population.Synthetic.Practices = 12
	pop := uint64(99) // fixed population whatever the run seed
	s.Population.Seed = &pop
	if edit != nil {
		edit(s)
	}
	m, err := s.Model(seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCompareIdenticalIsZero: a scenario compared with itself differs by
// exactly zero in every metric, with zero paired standard error, and the
// results are written as Parquet and CSV.
func TestCompareIdenticalIsZero(t *testing.T) {
	const seed = 5
	rows := compare(t, []string{"a", "a#2"},
		[]*sim.Model{smallModel(t, "pbc-indicative-2009", nil, seed), smallModel(t, "pbc-indicative-2009", nil, seed)}, seed, 8, 2)
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	metrics := map[string]bool{}
	for _, r := range rows {
		metrics[r.Metric] = true
		if r.Replications == 0 {
			continue // an empty list-size band
		}
		if r.Difference != 0 || r.SEPaired != 0 {
			t.Errorf("%s %s: difference %v, paired SE %v; want exactly 0", r.Metric, r.Band, r.Difference, r.SEPaired)
		}
	}
	for _, m := range []string{"commissioner_cost", "savings_retained", "deficit_carried", "p_overspend_5", "p_underspend_10", "reserve_p95", "reserve_p99"} {
		if !metrics[m] {
			t.Errorf("metric %s missing", m)
		}
	}
	dir := t.TempDir()
	if err := WriteComparison(dir, rows, map[string]string{"gpbudget.seed": "5"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadComparison(dir)
	if err != nil {
		t.Fatal(err)
	}
	if meta["gpbudget.seed"] != "5" {
		t.Errorf("metadata read back %v", meta)
	}
	if len(got) != len(rows) || got[0] != rows[0] {
		t.Errorf("Parquet read back %d rows (first %+v), wrote %d (first %+v)", len(got), got[0], len(rows), rows[0])
	}
	csv, err := os.ReadFile(filepath.Join(dir, runfolder.CompareCSV))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(csv), "\n"); n != len(rows)+1 {
		t.Errorf("CSV has %d lines, want %d", n, len(rows)+1)
	}
}

// TestComparePairedBeatsIndependent: two scenarios that differ in one rule
// (indicative vs hard budgets, the same area). Common random numbers make
// the standard error of the difference in the commissioner's total cost
// smaller than independent runs give. Independent runs are made for real:
// the hard-budget scenario again with another seed (same practices), and
// the SE of the difference of independent means is sqrt(var_a/n + var_b/n).
// The test logs the ratio and requires paired < independent for cost and
// for savings retained (fixed seeds; with 30 replications the SE estimates
// themselves have about 13% relative error, far less than the gap).
func TestComparePairedBeatsIndependent(t *testing.T) {
	const seed, reps = 7, 30
	hard := func(s *scenarios.Scenario) { s.Rule.Type = "hard" }
	a := smallModel(t, "default", nil, seed)
	b := smallModel(t, "default", hard, seed)
	rows := compare(t, []string{"indicative", "hard"}, []*sim.Model{a, b}, seed, reps, 2)
	// Independent: B run with another seed.
	var sa, sb Metrics
	if err := sim.Run(context.Background(), a, sim.Options{Seed: seed, LastRep: reps, Years: 2, Workers: 2}, &sa); err != nil {
		t.Fatal(err)
	}
	b2 := smallModel(t, "default", hard, seed+1000)
	if err := sim.Run(context.Background(), b2, sim.Options{Seed: seed + 1000, LastRep: reps, Years: 2, Workers: 2}, &sb); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		metric string
		f      func(*repMetrics) float64
	}{
		{"commissioner_cost", func(m *repMetrics) float64 { return m.commissioner }},
		{"savings_retained", func(m *repMetrics) float64 { return m.retained }},
	} {
		var paired CompareRow
		for _, r := range rows {
			if r.Metric == c.metric {
				paired = r
			}
		}
		x, y := make([]float64, reps), make([]float64, reps)
		for r := range reps {
			x[r], y[r] = c.f(&sa.reps[r]), c.f(&sb.reps[r])
		}
		indep := math.Sqrt((momentsOf(x).Var() + momentsOf(y).Var()) / reps)
		t.Logf("%s: difference %.4g, paired SE %.4g, independent-run SE %.4g (formula from the paired runs %.4g), ratio %.3f",
			c.metric, paired.Difference, paired.SEPaired, indep, paired.SEIndependent, paired.SEPaired/indep)
		if !(paired.SEPaired < indep) || !(paired.SEPaired < paired.SEIndependent) {
			t.Errorf("%s: paired SE %v is not below independent SE %v (%v)", c.metric, paired.SEPaired, indep, paired.SEIndependent)
		}
	}
}

// TestQuantileAndPairedMean checks the helpers on hand-computed values.
func TestQuantileAndPairedMean(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	if q := Quantile(x, 0.5); q != 3 {
		t.Errorf("median %v", q)
	}
	if q := Quantile(x, 0.95); math.Abs(q-4.8) > 1e-12 {
		t.Errorf("95th percentile %v, want 4.8 (type 7)", q)
	}
	a := []float64{1, 2, 3, 4}
	b := []float64{2, 3, 4, 6}
	r := PairedMean(a, b)
	// d = 1,1,1,2: mean 1.25, var 0.25, se 0.25; var a = 5/3, var b = 35/12.
	if r.Difference != 1.25 || math.Abs(r.SEPaired-0.25) > 1e-12 || math.Abs(r.SEIndependent-math.Sqrt((5.0/3+35.0/12)/4)) > 1e-12 {
		t.Errorf("paired mean %+v", r)
	}
}

// TestLedgerPositions: hand-built ledgers (the engine's entries, finer than
// the files' rows) give the commissioner's outlay and each class's net
// position in the comparison, with the ledger's balance.
func TestLedgerPositions(t *testing.T) {
	rep := func(r int, outlay float64) *sim.Replication {
		return &sim.Replication{Rep: r,
			Rows: []sim.PracticeYear{{Replication: r, Year: 1, Practice: 0, ListSize: 1000, Budget: 100, SpendTotal: 90, Variance: 10}},
			Ledger: []sim.Entry{
				{Year: 1, Practice: 0, From: sim.Commissioner, To: sim.HolderParty(0), Reason: sim.ReasonBudgetAllocation, Amount: 100},
				{Year: 1, Practice: 0, From: sim.HolderParty(0), To: sim.Providers, Reason: sim.ReasonProviderPayment, Amount: 90},
				{Year: 1, Practice: 0, From: sim.HolderParty(0), To: sim.Pool, Reason: sim.ReasonPoolContribution, Amount: 2},
				{Year: 1, Practice: 0, From: sim.HolderParty(0), To: sim.Commissioner, Reason: sim.ReasonUnderspendReturned, Amount: 100 - outlay},
			}}
	}
	var a, b Metrics
	for r, o := range []float64{95, 97, 93} {
		a.Write(rep(r, o))
		b.Write(rep(r, o+1))
	}
	rows, err := Compare([]string{"a", "b"}, []*Metrics{&a, &b}, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]CompareRow{}
	for _, r := range rows {
		got[r.Metric] = r
	}
	near(t, "outlay a", got["commissioner_outlay"].BaselineValue, 95)
	near(t, "outlay difference", got["commissioner_outlay"].Difference, 1)
	near(t, "providers", got["providers_net"].BaselineValue, 90)
	near(t, "pool", got["pool_net"].BaselineValue, 2)
	// The holder got 100 and paid 90 + 2 + (100 - outlay): outlay - 92.
	near(t, "holders", got["holders_net"].BaselineValue, 95-92)
	if got["commissioner_outlay"].SEPaired != 0 {
		t.Errorf("a constant difference has paired SE %v", got["commissioner_outlay"].SEPaired)
	}
}

// TestCompareContractDesigns: two contract designs on the same patients
// and chance events (Medicare's sliding corridor and none, one-sided, the same
// neighbourhoods): spend is identical, so the commissioner's cost differs by
// exactly the difference in shared savings paid; the design with no
// corridor pays more; the incentive (a floor) offsets part of it; and the
// paired SE of shared savings is far below the independent one.
func TestCompareContractDesigns(t *testing.T) {
	const seed, reps = 3, 12
	noCorridor := func(s *scenarios.Scenario) { s.Contract.Savings.MinRate, s.Contract.Savings.MinRateTable = 0, "" }
	models := []*sim.Model{
		smallModel(t, "neighbourhood-shared-savings-2026", nil, seed),
		smallModel(t, "neighbourhood-shared-savings-2026", noCorridor, seed),
	}
	rows := compare(t, []string{"msr-table", "msr-0"}, models, seed, reps, 2)
	get := func(metric string) CompareRow {
		for _, r := range rows {
			if r.Metric == metric && r.Band == AllBands {
				return r
			}
		}
		t.Fatalf("no metric %s", metric)
		return CompareRow{}
	}
	shared, inc, cost := get("shared_savings_paid"), get("incentives_paid"), get("commissioner_cost")
	if !(shared.Difference > 0) || shared.SEPaired >= shared.SEIndependent || inc.Difference > 0 {
		t.Errorf("shared savings: %+v; incentives: %+v", shared, inc)
	}
	if d := cost.Difference - (shared.Difference + inc.Difference); math.Abs(d) > 1e-6*cost.BaselineValue {
		t.Errorf("cost differs by %v, shared savings by %v and incentives by %v", cost.Difference, shared.Difference, inc.Difference)
	}
	for _, r := range rows {
		if r.Metric == "shared_losses_received" || r.Metric == "spend_truncated" {
			t.Errorf("a one-sided contract without truncation compares %s", r.Metric)
		}
	}
}
