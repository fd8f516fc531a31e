package runfolder

import (
	"context"
	"fmt"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// Scan hands the callback every row once, in file order, however the row
// groups split into batches: here a row group of RowGroupRows rows (many
// more batches than a job holds, so each is handed back and filled again)
// and a short one, read by one, two and three readers.
func TestScanDeliversEveryRowInOrder(t *testing.T) {
	const practices, years = 500, 2
	reps := RowGroupRows/(practices*years) + 3
	dir := t.TempDir()
	m := &sim.Model{Name: "order"}
	for p := range practices {
		m.Practices = append(m.Practices, sim.Practice{ID: fmt.Sprintf("P%03d", p)})
	}
	w, err := NewWriter(dir, SinglePrefix, 0, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range reps {
		rep := &sim.Replication{Rep: r}
		for y := 1; y <= years; y++ {
			for p := range practices {
				// Each row's list size is its place in the file.
				rep.Rows = append(rep.Rows, sim.PracticeYear{Replication: r, Year: y, Practice: p, ListSize: n, Budget: 1})
				n++
			}
		}
		if err := w.Write(rep); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	man := &Manifest{ScenarioName: "order", Replications: reps, Years: years, Practices: practices, Completed: true}
	man.SetChunks(w.Chunks)
	if err := man.Write(dir); err != nil {
		t.Fatal(err)
	}
	files, err := man.TableFiles(PracticeYears)
	if err != nil {
		t.Fatal(err)
	}
	if groups, err := rowGroups(dir + "/" + files[0]); err != nil || len(files) != 1 || groups != 2 {
		t.Fatalf("%d files, %d row groups (%v): want one file of two", len(files), groups, err)
	}
	for _, readers := range []int{1, 2, 3} {
		next, batches := 0, 0
		cols := []Column{{"practice_id", String}, {"list_size", Int}}
		rows, err := Scan(context.Background(), dir, files, cols, readers, func(b *Batch) error {
			batches++
			idx, dict := b.String(0)
			for i, l := range b.Int(1)[:b.N] {
				if int(l) != next || dict[idx[i]] != fmt.Sprintf("P%03d", next%practices) {
					return fmt.Errorf("row %d is %d of %s", next, l, dict[idx[i]])
				}
				next++
			}
			return nil
		})
		if err != nil || rows != int64(n) || next != n {
			t.Fatalf("%d readers: %d rows (%d in order) of %d: %v", readers, rows, next, n, err)
		}
		if want := (RowGroupRows+BatchRows-1)/BatchRows + (n-RowGroupRows+BatchRows-1)/BatchRows; batches != want {
			t.Errorf("%d readers: %d batches, want %d", readers, batches, want)
		}
	}
}
