package runfolder

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/sim"
	"github.com/parquet-go/parquet-go"
)

// handModel has two practices, the second in consortium "G".
func handModel() *sim.Model {
	return &sim.Model{Name: "hand", Practices: []sim.Practice{{ID: "A"}, {ID: "B", Group: "G"}}}
}

// handRep is replication r: 2 years x 2 practices, and a ledger whose
// entries are attributed to practices (finer than the files' rows), given
// out of order.
func handRep(r int) *sim.Replication {
	rep := &sim.Replication{Rep: r}
	for y := 1; y <= 2; y++ {
		for p := range 2 {
			rep.Rows = append(rep.Rows, sim.PracticeYear{Replication: r, Year: y, Practice: p, ListSize: 1000, Budget: 100, DeficitRepaid: float64(y)})
		}
	}
	g := sim.HolderParty(2) // consortium G: after the 2 practices
	rep.Ledger = []sim.Entry{
		{Year: 2, Practice: 0, From: sim.Commissioner, To: sim.Providers, Reason: sim.ReasonProviderPayment, Amount: 5},
		{Year: 1, Practice: 1, From: g, To: sim.Providers, Reason: sim.ReasonProviderPayment, Amount: 30},
		{Year: 1, Practice: 0, From: sim.Commissioner, To: sim.HolderParty(0), Reason: sim.ReasonBudgetAllocation, Amount: 100},
		{Year: 1, Practice: 1, From: sim.Commissioner, To: g, Reason: sim.ReasonBudgetAllocation, Amount: 60},
		{Year: 1, Practice: 0, From: sim.HolderParty(0), To: sim.Providers, Reason: sim.ReasonProviderPayment, Amount: 90},
		{Year: 1, Practice: 1, From: g, To: sim.Providers, Reason: sim.ReasonProviderPayment, Amount: 25.5},
		{Year: 2, Practice: 1, From: sim.Commissioner, To: sim.Providers, Reason: sim.ReasonProviderPayment, Amount: float64(r)},
		// Pooling within the consortium moves no money: not written.
		{Year: 1, Practice: 1, From: g, To: g, Reason: sim.ReasonConsortiumPooling, Amount: -7},
	}
	return rep
}

// The ledger files hold one row per (replication, year, party,
// counterparty, reason), amounts summed, in that order with parties in
// Model.PartyNames order; parts end at the same replication for both tables,
// and the manifest's chunks record both files with their checksums.
func TestWriterLedger(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir, SinglePrefix, 0, handModel(), map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	w.CheckpointEvery = time.Nanosecond // a part per replication
	for r := range 2 {
		if err := w.Write(handRep(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(w.Chunks) != 2 {
		t.Fatalf("%d parts, want 2", len(w.Chunks))
	}
	c := w.Chunks[1]
	if c.FirstRep != 1 || c.LastRep != 1 || c.File != "practice_years/part-00001.parquet" || c.LedgerFile != "ledger/part-00001.parquet" || c.LedgerRows != 5 {
		t.Fatalf("chunk %+v", c)
	}
	if err := c.Verify(dir); err != nil {
		t.Fatal(err)
	}
	got, err := parquet.ReadFile[LedgerRow](filepath.Join(dir, c.LedgerFile))
	if err != nil {
		t.Fatal(err)
	}
	want := []LedgerRow{
		{"hand", 1, 1, "commissioner", "A", "budget_allocation", 100},
		{"hand", 1, 1, "commissioner", "G", "budget_allocation", 60},
		{"hand", 1, 1, "A", "providers", "provider_payment", 90},
		{"hand", 1, 1, "G", "providers", "provider_payment", 55.5},
		{"hand", 1, 2, "commissioner", "providers", "provider_payment", 6},
	}
	if len(got) != len(want) {
		t.Fatalf("ledger rows %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ledger row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	rows, err := parquet.ReadFile[Row](filepath.Join(dir, c.File))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[3].DeficitRepaid != 2 || rows[3].PracticeID != "B" {
		t.Errorf("practice-year rows %+v", rows)
	}
	// A bad party is an error naming the replication, not a silent row.
	bad := handRep(2)
	bad.Ledger[0].To = sim.HolderParty(7)
	if err := w.Write(bad); err == nil {
		t.Error("an entry paying an unknown party was written")
	}
	w.Abort()
}

// The same replications give byte-identical files however they are split
// into calls (the engine's worker count never reaches the sink).
func TestWriterFilesAreDeterministic(t *testing.T) {
	write := func() (string, []Chunk) {
		dir := t.TempDir()
		w, err := NewWriter(dir, "shard-0001-of-0002-part", 0, handModel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for r := range 3 {
			if err := w.Write(handRep(r)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return dir, w.Chunks
	}
	d1, c1 := write()
	d2, c2 := write()
	if len(c1) != 1 || c1[0] != c2[0] || c1[0].LedgerFile != "ledger/shard-0001-of-0002-part-00000.parquet" {
		t.Fatalf("chunks %+v vs %+v", c1, c2)
	}
	for _, f := range c1[0].Files() {
		a, _ := os.ReadFile(filepath.Join(d1, f.Path))
		b, _ := os.ReadFile(filepath.Join(d2, f.Path))
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s differs between two writes", f.Path)
		}
	}
}
