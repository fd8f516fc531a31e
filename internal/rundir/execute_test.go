package rundir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/parquet-go/parquet-go"
)

func smallSpec(t *testing.T, reps int) *Spec {
	t.Helper()
	s := scenarios.Default()
	s.Population.Synthetic.Practices = 3
	m, err := s.Model(4)
	if err != nil {
		t.Fatal(err)
	}
	return &Spec{Scenario: s, Model: m, Seed: 4, Reps: reps, Years: 2, Workers: 2, Dir: t.TempDir(), Version: "test"}
}

// Every file the manifest lists is complete, has the checksum recorded, and
// holds exactly the replications recorded; together they hold every row.
func TestChunksAreCompleteAndChecksummed(t *testing.T) {
	sp := smallSpec(t, 6)
	sp.CheckpointEvery = time.Nanosecond // a file per replication
	man, err := Execute(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if !man.Completed || len(man.Chunks) != 6 || man.Rows != 6*2*3 {
		t.Fatalf("manifest: completed %v, %d chunks, %d rows", man.Completed, len(man.Chunks), man.Rows)
	}
	for i, c := range man.Chunks {
		b, err := os.ReadFile(filepath.Join(sp.Dir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != c.SHA256 {
			t.Errorf("%s: checksum differs from the manifest", c.File)
		}
		rows, err := parquet.ReadFile[runfolder.Row](filepath.Join(sp.Dir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(rows)) != c.Rows || c.FirstRep != i || c.LastRep != i {
			t.Errorf("%s: %d rows, replications %d-%d", c.File, len(rows), c.FirstRep, c.LastRep)
		}
		for _, r := range rows {
			if int(r.Replication) != i {
				t.Errorf("%s holds replication %d", c.File, r.Replication)
			}
		}
	}
	left, _ := filepath.Glob(filepath.Join(sp.Dir, "practice_years", ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A run the engine refuses (its own validation) fails before it touches
// its folder: an earlier run there stays as it was, and nothing is written.
func TestRefusedRunChangesNothing(t *testing.T) {
	sp := smallSpec(t, 4)
	if _, err := Execute(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, sp.Dir)
	bad := smallSpec(t, 4)
	bad.Dir, bad.Force = sp.Dir, true // even with Force
	bad.Model.Streams[0].Cost[0].Mean = -1
	if _, err := Execute(context.Background(), bad); err == nil {
		t.Fatal("run with a negative cost succeeded")
	}
	if after := snapshot(t, sp.Dir); !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused run changed its folder:\nbefore %v\nafter  %v", before, after)
	}
	empty := smallSpec(t, 4)
	empty.Model.Streams[0].Cost[0].Mean = -1
	if _, err := Execute(context.Background(), empty); err == nil {
		t.Fatal("run with a negative cost succeeded")
	}
	if entries, _ := os.ReadDir(empty.Dir); len(entries) > 0 {
		t.Errorf("a refused run wrote into its empty folder: %v", entries)
	}
}

// snapshot maps every file under dir to its SHA-256.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		sum, err := runfolder.FileSHA256(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = sum
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A cancelled run (Ctrl-C) stops, and its manifest says it did not complete.
func TestCancelledRunIsNotComplete(t *testing.T) {
	sp := smallSpec(t, 200)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Execute(ctx, sp); err == nil {
		t.Fatal("cancelled run reported success")
	}
	got, err := runfolder.ReadManifest(sp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Completed {
		t.Error("cancelled run's manifest says completed")
	}
}

// Also receives every replication, in order, with the rows the folder's
// files hold.
func TestAlsoSeesEveryReplication(t *testing.T) {
	sp := smallSpec(t, 4)
	var seen []int
	rows := 0
	sp.Also = sinkFunc(func(r *sim.Replication) error {
		seen = append(seen, r.Rep)
		rows += len(r.Rows)
		return nil
	})
	man, err := Execute(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 4 || seen[0] != 0 || seen[3] != 3 || int64(rows) != man.Rows {
		t.Errorf("Also saw replications %v and %d rows; the folder holds %d", seen, rows, man.Rows)
	}
}

type sinkFunc func(*sim.Replication) error

func (f sinkFunc) Write(r *sim.Replication) error { return f(r) }
