package analysis

import (
	"context"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/sim"
)

// The ledger's party and reason dictionaries are a row group's, mapped to
// classes and reasons once for its batches: a run of two parts whose
// dictionaries have the same length but other entries (a holder and
// budget allocation in one, the pool and stop-loss in the other) gives
// the positions and flows summed by hand, each replication's through its
// own part's dictionaries.
func TestLedgerAcrossPartsDictionaries(t *testing.T) {
	dir := t.TempDir()
	m := &sim.Model{Name: "hand", Practices: []sim.Practice{{ID: "A"}}}
	w, err := runfolder.NewWriter(dir, runfolder.SinglePrefix, 0, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.CheckpointEvery = time.Nanosecond // a part a replication
	row := func(r int) []sim.PracticeYear {
		return []sim.PracticeYear{{Replication: r, Year: 1, Practice: 0, ListSize: 1000, Budget: 100, SpendTotal: 90, Variance: 10}}
	}
	for _, rep := range []*sim.Replication{
		{Rep: 0, Rows: row(0), Ledger: []sim.Entry{
			{Year: 1, Practice: 0, From: sim.Commissioner, To: sim.HolderParty(0), Reason: sim.ReasonBudgetAllocation, Amount: 100},
			{Year: 1, Practice: 0, From: sim.HolderParty(0), To: sim.Providers, Reason: sim.ReasonProviderPayment, Amount: 90},
		}},
		{Rep: 1, Rows: row(1), Ledger: []sim.Entry{
			{Year: 1, Practice: 0, From: sim.Commissioner, To: sim.Pool, Reason: sim.ReasonPoolContribution, Amount: 7},
			{Year: 1, Practice: 0, From: sim.Pool, To: sim.Providers, Reason: sim.ReasonStopLoss, Amount: 4},
		}},
	} {
		if err := w.Write(rep); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	man := &runfolder.Manifest{ScenarioName: "hand", Replications: 2, Years: 1, Practices: 1, Completed: true}
	man.SetChunks(w.Chunks)
	if err := man.Write(dir); err != nil {
		t.Fatal(err)
	}
	if files, _ := man.TableFiles(runfolder.Ledger); len(files) != 2 {
		t.Fatalf("ledger in %d parts, want 2", len(files))
	}
	sum, err := Summarize(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Year 1, means over the two replications: the commissioner paid 100
	// and 7; the holder got 100 and paid 90 in the first; the pool got 7
	// and paid 4 in the second; providers got 90 and 4.
	var y1 *PositionStats
	for i := range sum.Ledger {
		if sum.Ledger[i].Year == "1" {
			y1 = &sum.Ledger[i]
		}
	}
	if y1 == nil {
		t.Fatalf("no year 1 in the ledger table: %+v", sum.Ledger)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"commissioner", y1.CommissionerNet, -53.5}, {"holders", y1.HoldersNetMean, 5},
		{"pool", y1.PoolNetMean, 1.5}, {"providers", y1.ProvidersNetMean, 47},
	} {
		if c.got != c.want {
			t.Errorf("net position of %s %v, want %v", c.what, c.got, c.want)
		}
	}
	want := map[[3]string]float64{
		{"commissioner", "holders", "budget_allocation"}: 50, {"holders", "providers", "provider_payment"}: 45,
		{"commissioner", "pool", "pool_contribution"}: 3.5, {"pool", "providers", "stop_loss"}: 2,
	}
	got := map[[3]string]float64{}
	for _, f := range sum.Flows {
		if f.Year == "1" {
			got[[3]string{f.Party, f.Counterparty, f.Reason}] = f.AmountMean
		}
	}
	if len(got) != len(want) {
		t.Errorf("flows %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("flow %v: %v, want %v", k, got[k], v)
		}
	}
}
