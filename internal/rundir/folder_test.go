package rundir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// derived are the names cmd passes as Spec.Derived (analysis.DerivedFiles).
var derived = []string{"summary/by_band.csv", "summary/by_band.parquet", "report.html"}

// refused checks that running sp is refused with a *FolderError saying
// want, and that the folder is exactly as it was.
func refused(t *testing.T, sp *Spec, want string) {
	t.Helper()
	before := snapshot(t, sp.Dir)
	_, err := Execute(context.Background(), sp)
	var fe *FolderError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) {
		t.Fatalf("run into %s: %v (want a refusal saying %q)", sp.Dir, err, want)
	}
	if after := snapshot(t, sp.Dir); !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused run changed its folder:\nbefore %v\nafter  %v", before, after)
	}
}

func write(t *testing.T, dir, rel, text string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755)
	if err := os.WriteFile(filepath.Join(dir, rel), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 13: run emptied --out first, silently, deleting an earlier run and
// whatever a user kept in summary/, before the scenario had even run. Now
// another run, or a file that is not gpbudget's, refuses the folder and
// changes nothing; --force replaces only what gpbudget wrote.
func TestFolderHoldingAnotherRun(t *testing.T) {
	dir := t.TempDir()
	old := runSpec(t, spec(t, dir, 5, 3, nil))
	write(t, dir, "summary/by_band.csv", "band\n")               // summarize's
	write(t, dir, "report.html", "<html>")                       // report's
	write(t, dir, "summary/mine.xlsx", "my notes")               // the user's own
	write(t, dir, "notes.txt", "keep me")                        // the user's own
	write(t, dir, "practice_years/.part-00009.parquet.tmp", "x") // a killed write

	next := spec(t, dir, 6, 2, nil) // another seed
	next.Derived = derived
	refused(t, next, `it holds a run of scenario "shard-test", seed 5, 3 replications x 2 years (complete`)
	if !strings.Contains(mustErr(t, next), "--force") {
		t.Error("the refusal does not mention --force")
	}

	next.Force = true
	if _, err := Execute(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(old.Files, "summary/by_band.csv", "report.html", "practice_years/.part-00009.parquet.tmp") {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) && !strings.HasPrefix(f, "practice_years/part-0000") && !strings.HasPrefix(f, "ledger/part-0000") {
			t.Errorf("%s of the earlier run survived --force", f)
		}
	}
	for _, f := range []string{"summary/mine.xlsx", "notes.txt"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || len(b) == 0 {
			t.Errorf("--force removed the user's %s: %v", f, err)
		}
	}
	man, err := runfolder.ReadManifest(dir)
	if err != nil || !man.Completed || man.Seed != 6 || man.Rows != 2*2*4 {
		t.Fatalf("the new run: %+v %v", man, err)
	}
}

func mustErr(t *testing.T, sp *Spec) string {
	t.Helper()
	_, err := sp.Prepare()
	if err == nil {
		t.Fatal("no error")
	}
	return err.Error()
}

// What else refuses a folder, and what a run may replace without --force.
func TestFolderRules(t *testing.T) {
	t.Run("empty name", func(t *testing.T) {
		sp := spec(t, "", 5, 2, nil)
		if _, err := sp.Prepare(); err == nil || !strings.Contains(err.Error(), "no output folder given") {
			t.Fatalf("an empty --out: %v", err)
		}
	})
	t.Run("new and empty folders", func(t *testing.T) {
		runSpec(t, spec(t, filepath.Join(t.TempDir(), "new", "deeper"), 5, 2, nil))
		runSpec(t, spec(t, t.TempDir(), 5, 2, nil))
		// A run killed before its manifest leaves only empty folders.
		dir := t.TempDir()
		for _, d := range []string{"practice_years", "ledger", "manifests"} {
			os.MkdirAll(filepath.Join(dir, d), 0o755)
		}
		runSpec(t, spec(t, dir, 5, 2, nil))
	})
	t.Run("unrelated files", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "thesis/chapter1.tex", "x")
		write(t, dir, "data.csv", "x")
		refused(t, spec(t, dir, 5, 2, nil), "it holds files that are not this run's: data.csv, thesis/")
		sp := spec(t, dir, 5, 2, nil)
		sp.Force = true
		cleared, err := sp.Prepare()
		if err != nil || !reflect.DeepEqual(cleared.Kept, []string{"data.csv", "thesis/"}) {
			t.Fatalf("--force over a user's files: kept %v, %v", cleared, err)
		}
	})
	t.Run("the same run again", func(t *testing.T) {
		dir := t.TempDir()
		first := runSpec(t, spec(t, dir, 5, 3, nil))
		again := runSpec(t, spec(t, dir, 5, 3, nil)) // the same rows: replaced without --force
		if !reflect.DeepEqual(first.Chunks, again.Chunks) {
			t.Fatalf("the same run twice gave other files: %v %v", first.Chunks, again.Chunks)
		}
	})
	t.Run("an interrupted run", func(t *testing.T) {
		dir := t.TempDir()
		sp := spec(t, dir, 5, 200, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		Execute(ctx, sp)
		refused(t, spec(t, dir, 6, 2, nil), "incomplete")
		if msg := mustErr(t, spec(t, dir, 6, 2, nil)); !strings.Contains(msg, "gpbudget run --resume "+dir) {
			t.Errorf("the refusal does not say how to finish the run there: %s", msg)
		}
	})
	t.Run("a part no manifest lists", func(t *testing.T) {
		dir := t.TempDir()
		runSpec(t, spec(t, dir, 5, 2, nil))
		write(t, dir, "practice_years/mine.parquet", "PAR1")
		sp := spec(t, dir, 6, 2, nil)
		sp.Force = true // even so: readers that glob would mix it in
		refused(t, sp, "practice_years/mine.parquet is not gpbudget's, and would be read with this run's files")
	})
	t.Run("an unreadable manifest", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "manifest.json", "{not json")
		refused(t, spec(t, dir, 5, 2, nil), "manifest.json that cannot be read")
	})
}

// Issue 13: a whole run into a folder of shards deleted the unmerged shards.
// Shards share their folder with the other shards of their run, and a shard
// may replace its own earlier attempt (a rerun), but not another run's.
func TestFolderRulesForShards(t *testing.T) {
	dir := t.TempDir()
	runShards(t, dir, 5, 6, 3, 0, 2)
	refused(t, spec(t, dir, 5, 6, nil), "it holds shards 0/3 and 2/3 of a run")
	// Shards are separate jobs that start when they start: one that started
	// an hour after the other is still the same run's (the refusal named
	// them as two runs when their minutes differed).
	editManifest(t, dir, runfolder.Shard{Index: 2, Count: 3}, func(m map[string]any) {
		m["started"] = "2026-01-02T15:04:00Z"
	})
	editManifest(t, dir, runfolder.Shard{Index: 0, Count: 3}, func(m map[string]any) {
		m["started"] = "2026-01-02T14:04:00Z"
	})
	refused(t, spec(t, dir, 5, 6, nil), "it holds shards 0/3 and 2/3 of a run of scenario \"shard-test\", seed 5, 6 replications x 2 years (complete, started 2026-01-02 14:04 UTC)")

	// The missing shard joins them; a shard reruns over its own attempt.
	runShards(t, dir, 5, 6, 3, 1, 1)
	if _, err := Merge(dir); err != nil {
		t.Fatal(err)
	}
	// Rerunning a shard makes the merged run stale: its manifest goes.
	runShards(t, dir, 5, 6, 3, 0)
	if _, err := os.Stat(filepath.Join(dir, runfolder.ManifestName)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a merged manifest survived a shard's rerun")
	}

	// A shard of another run (another seed) is refused; with --force it
	// replaces only its own shard's files, never another shard's.
	other := spec(t, dir, 9, 6, &runfolder.Shard{Index: 1, Count: 3})
	refused(t, other, "shards 0/3, 1/3 and 2/3 of a run of scenario \"shard-test\", seed 5")
	before := snapshot(t, dir)
	other.Force = true
	runSpec(t, other)
	after := snapshot(t, dir)
	for f, sum := range before {
		if !strings.Contains(f, "shard-0001-") && after[f] != sum {
			t.Errorf("a forced shard 1/3 changed %s", f)
		}
	}
	if _, err := Merge(dir); err == nil || !strings.Contains(err.Error(), "has seed 9 but") {
		t.Errorf("merge of shards of two runs: %v", err)
	}

	// A shard into a folder holding a single-process run is refused.
	single := t.TempDir()
	runSpec(t, spec(t, single, 5, 6, nil))
	refused(t, spec(t, single, 5, 6, &runfolder.Shard{Index: 0, Count: 2}), "it holds a run of scenario")
}
