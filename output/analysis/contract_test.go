package analysis

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/scenarios"
)

// TestSummarizeContract: a two-sided contract run (mnp-two-sided-2026 on a
// small area, neighbourhoods of 30,000 so several holders share risk):
// the contract table, read from the practice-years' columns, agrees with
// the ledger's flows, read from the ledger files (two independent routes
// to the same money); shared losses appear only from year 2 (the glide
// path); the table is written, and printed output calls the commissioner
// the ICB. A run that is not a contract has no contract table.
func TestSummarizeContract(t *testing.T) {
	s, err := scenarios.Load("mnp-two-sided-2026")
	if err != nil {
		t.Fatal(err)
	}
	s.Population.Synthetic.Practices = 16
	s.Rule.Consortium.TargetPopulation = 30000
	m, err := s.Model(4)
	if err != nil {
		t.Fatal(err)
	}
	sp := &rundir.Spec{Scenario: s, Model: m, Seed: 4, Reps: 20, Years: 3, Workers: 2, Dir: t.TempDir(), Version: "test", Command: "gpbudget run (test)"}
	if _, err := rundir.Execute(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(context.Background(), sp.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Contract) != 4 || sum.Contract[3].Year != AllBands || sum.CommissionerLabel != "ICB" {
		t.Fatalf("contract table %+v, label %q", sum.Contract, sum.CommissionerLabel)
	}
	flow := func(reason string) float64 {
		v := 0.0
		for _, f := range sum.Flows {
			if f.Year == AllBands && f.Reason == reason {
				v += f.AmountMean
			}
		}
		return v
	}
	all := sum.Contract[3]
	for _, c := range []struct {
		what      string
		table, fl float64
	}{{"shared savings", all.SharedSavings, flow("shared_savings")}, {"shared losses", all.SharedLoss, flow("shared_loss")}} {
		if math.Abs(c.table-c.fl) > 1e-6*math.Max(1, c.fl) {
			t.Errorf("%s: %v from the rows, %v from the ledger", c.what, c.table, c.fl)
		}
	}
	// The commissioner's area overspend splits into measured spend over
	// the benchmarks and the spend truncation leaves out (none here).
	for _, c := range sum.Contract {
		for _, k := range sum.Commissioner {
			if k.Year == c.Year && math.Abs(c.MeasuredOver+c.Truncated-k.OverspendMean) > 1e-6*k.SpendMean {
				t.Errorf("year %s: measured over %v + truncated %v, area overspend %v", c.Year, c.MeasuredOver, c.Truncated, k.OverspendMean)
			}
		}
		near(t, "net paid by contracts", c.ContractNet, c.SharedSavings-c.SharedLoss)
		if c.ProbMeasuredOver < 0 || c.ProbMeasuredOver > 1 {
			t.Errorf("P(measured over) %v", c.ProbMeasuredOver)
		}
	}
	if sum.Contract[0].SharedLoss != 0 || !(all.SharedLoss > 0) || !(all.SharedSavings > 0) {
		t.Errorf("year 1 (one-sided) shared losses %v; over the run %v (want some), shared savings %v", sum.Contract[0].SharedLoss, all.SharedLoss, all.SharedSavings)
	}
	files, err := sum.Write(sp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(files, " "), "contract.csv") {
		t.Errorf("written: %v", files)
	}
	var b strings.Builder
	if err := sum.Print(&b, 5); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "Contract payments") || !strings.Contains(out, "ICB outlay") || !strings.Contains(out, "ICB (area totals") || !strings.Contains(out, "measured over benchmark") {
		t.Errorf("printed:\n%s", out)
	}
	plain, err := Summarize(context.Background(), testRun(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Contract) != 0 || plain.Label() != "Commissioner" {
		t.Errorf("indicative run: contract table %v, label %q", plain.Contract, plain.Label())
	}
	if _, err := os.Stat(filepath.Join(sp.Dir, "summary", "contract.parquet")); err != nil {
		t.Error(err)
	}
}
