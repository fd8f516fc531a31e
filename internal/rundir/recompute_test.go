package rundir

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/sim"
)

// A complete run whose files were damaged after it finished: Damaged finds
// exactly the damaged parts, and Recompute runs their replications again
// into byte-identical files (the same scenario and seed give the same rows),
// for a single-process run and for a merged run of shards.
func TestRecomputeDamagedParts(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		dir := t.TempDir()
		if sharded {
			for i := range 2 {
				sp := spec(t, dir, 7, 6, &runfolder.Shard{Index: i, Count: 2})
				sp.CheckpointEvery = time.Nanosecond
				runSpec(t, sp)
			}
			if _, err := Merge(dir); err != nil {
				t.Fatal(err)
			}
		} else {
			sp := spec(t, dir, 7, 6, nil)
			sp.CheckpointEvery = time.Nanosecond
			runSpec(t, sp)
		}
		want := snapshot(t, dir)
		r, err := OpenResume(dir, "test")
		if err != nil {
			t.Fatal(err)
		}
		if d, err := r.Damaged(context.Background(), dir); err != nil || len(d) != 0 {
			t.Fatalf("undamaged run: %v %v", d, err)
		}
		files := r.Manifest.Files
		os.Truncate(filepath.Join(dir, files[2]), 10) // practice-years of part 1
		os.Remove(filepath.Join(dir, files[9]))       // ledger of part 4
		d, err := r.Damaged(context.Background(), dir)
		if err != nil || len(d) != 2 || d[1] == nil || d[4] == nil {
			t.Fatalf("sharded %v: damaged %v, %v (want parts 1 and 4)", sharded, d, err)
		}
		sp := spec(t, dir, 0, 0, nil) // seed and size come from the manifest
		sp.Scenario, sp.Model = r.Scenario, mustModel(t, r)
		got, identical, err := Recompute(context.Background(), sp, r, d)
		if err != nil || len(got) != 4 || identical != 2 {
			t.Fatalf("sharded %v: recomputed %v, %d identical, %v", sharded, got, identical, err)
		}
		if after := snapshot(t, dir); !reflect.DeepEqual(after, want) {
			t.Fatalf("sharded %v: the recomputed folder differs from the run as written", sharded)
		}
	}
}

func mustModel(t *testing.T, r *Resumable) *sim.Model {
	t.Helper()
	m, err := r.Scenario.Model(r.Manifest.Seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
