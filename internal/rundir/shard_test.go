package rundir

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/parquet-go/parquet-go"
)

const testScenario = `name: shard-test
population:
  synthetic:
    practices: 4
`

// spec is a small run (4 practices) of reps replications into dir.
func spec(t *testing.T, dir string, seed uint64, reps int, sh *runfolder.Shard) *Spec {
	t.Helper()
	s, err := scenarios.Parse([]byte(testScenario), "shard-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.Replications, s.Years, s.Seed = reps, 2, seed
	m, err := s.Model(seed)
	if err != nil {
		t.Fatal(err)
	}
	return &Spec{Scenario: s, Model: m, Seed: seed, Reps: reps, Years: 2, Workers: 2,
		Dir: dir, Version: "test", Command: "test", Shard: sh}
}

func runSpec(t *testing.T, sp *Spec) *runfolder.Manifest {
	t.Helper()
	man, err := Execute(context.Background(), sp)
	if err != nil {
		t.Fatal(err)
	}
	return man
}

// runShards runs shards [0, n) of reps replications into dir, in the order given.
func runShards(t *testing.T, dir string, seed uint64, reps, n int, order ...int) {
	t.Helper()
	for _, i := range order {
		sh := runfolder.Shard{Index: i, Count: n}
		sp := spec(t, dir, seed, reps, &sh)
		sp.Workers = 1 + i%3 // results must not depend on workers either
		runSpec(t, sp)
	}
}

// forceShards runs shards as runShards does, with Force: into a folder
// that holds another run's shards, as a mistaken rerun would.
func forceShards(t *testing.T, dir string, seed uint64, reps, n int, order ...int) {
	t.Helper()
	for _, i := range order {
		sp := spec(t, dir, seed, reps, &runfolder.Shard{Index: i, Count: n})
		sp.Force = true
		runSpec(t, sp)
	}
}

// readRows reads every file a manifest lists, sorted by replication, year
// and practice.
func readRows(t *testing.T, dir string, man *runfolder.Manifest) []runfolder.Row {
	t.Helper()
	var rows []runfolder.Row
	files, err := man.TableFiles(runfolder.PracticeYears)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		r, err := parquet.ReadFile[runfolder.Row](filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	slices.SortFunc(rows, func(a, b runfolder.Row) int {
		return cmp.Or(cmp.Compare(a.Replication, b.Replication), cmp.Compare(a.Year, b.Year), cmp.Compare(a.PracticeID, b.PracticeID))
	})
	return rows
}

func TestShardRangesCoverEveryReplicationOnce(t *testing.T) {
	for _, reps := range []int{1, 4, 7, 12, 1000, 1001} {
		for n := 1; n <= min(reps, 16); n++ {
			next := 0
			for i := range n {
				first, last := runfolder.Shard{Index: i, Count: n}.Range(reps)
				if first != next || last-first < reps/n || last-first > reps/n+1 {
					t.Fatalf("%d reps, shard %d/%d: [%d, %d), want start %d and %d or %d reps", reps, i, n, first, last, next, reps/n, reps/n+1)
				}
				next = last
			}
			if next != reps {
				t.Fatalf("%d reps in %d shards end at %d", reps, n, next)
			}
		}
	}
}

// Four shards, run separately in any order with any worker counts and merged,
// give exactly the rows of one process: same replications, same numbers.
func TestShardsEqualOneProcess(t *testing.T) {
	root := t.TempDir()
	one := filepath.Join(root, "one")
	single := runSpec(t, spec(t, one, 11, 7, nil))

	sharded := filepath.Join(root, "sharded")
	runShards(t, sharded, 11, 7, 4, 2, 0, 3, 1)
	merged, err := Merge(sharded)
	if err != nil {
		t.Fatal(err)
	}
	if !merged.Completed || merged.Shard != nil || len(merged.Merged) != 4 {
		t.Fatalf("merged manifest: completed %v, shard %v, merged from %v", merged.Completed, merged.Shard, merged.Merged)
	}
	onDisk, err := runfolder.ReadManifest(sharded)
	if err != nil || !onDisk.Completed || onDisk.Rows != single.Rows || len(onDisk.Files) != 8 || len(onDisk.Chunks) != 4 {
		t.Fatalf("manifest.json after merge: %+v, %v", onDisk, err)
	}
	a, b := readRows(t, one, single), readRows(t, sharded, onDisk)
	if len(a) != 7*2*4 || len(a) != len(b) {
		t.Fatalf("%d rows from one process, %d from shards, want %d", len(a), len(b), 7*2*4)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d differs:\none process %+v\nshards      %+v", i, a[i], b[i])
		}
	}
	// The merged manifest describes the same run as the single one.
	if onDisk.Seed != single.Seed || onDisk.Replications != 7 || !sameScenario(onDisk.Scenario, single.Scenario) {
		t.Fatalf("merged manifest says seed %d, %d replications; want %d, 7, same scenario", onDisk.Seed, onDisk.Replications, single.Seed)
	}
}

func TestShardClearsOnlyItsOwnFiles(t *testing.T) {
	dir := t.TempDir()
	runShards(t, dir, 5, 4, 2, 0, 1)
	if _, err := Merge(dir); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "practice_years", "shard-0000-of-0002-part-00000.parquet")
	before, err := os.Stat(other)
	if err != nil {
		t.Fatal(err)
	}
	// A stale temporary of shard 1 from a killed attempt.
	stale := filepath.Join(dir, "practice_years", ".shard-0001-of-0002-part-00007.parquet.tmp")
	os.WriteFile(stale, []byte("x"), 0o644)

	if _, err := spec(t, dir, 5, 4, &runfolder.Shard{Index: 1, Count: 2}).Prepare(); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(other); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("rerunning shard 1/2 touched shard 0/2's file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, runfolder.Shard{Index: 0, Count: 2}.ManifestPath())); err != nil {
		t.Fatalf("rerunning shard 1/2 removed shard 0/2's manifest: %v", err)
	}
	for _, gone := range []string{
		filepath.Join(dir, "practice_years", "shard-0001-of-0002-part-00000.parquet"),
		filepath.Join(dir, runfolder.Shard{Index: 1, Count: 2}.ManifestPath()),
		stale,
		filepath.Join(dir, runfolder.ManifestName), // the merged run is no longer complete
	} {
		if _, err := os.Stat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s should be gone after preparing shard 1/2 again: %v", gone, err)
		}
	}
	// Now shard 1 is missing, and merge says so.
	if _, err := Merge(dir); err == nil || !strings.Contains(err.Error(), "shard 1/2 is missing") {
		t.Fatalf("merge with shard 1/2 cleared: %v", err)
	}
	// A single-process run into the folder is refused; with Force it
	// replaces the shards' files.
	whole := spec(t, dir, 5, 4, nil)
	var fe *FolderError
	if _, err := whole.Prepare(); !errors.As(err, &fe) || !strings.Contains(err.Error(), "shard 0/2 of a run") {
		t.Fatalf("a whole run into a folder of shards: %v", err)
	}
	whole.Force = true
	if _, err := whole.Prepare(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "practice_years", "*"))
	mans, _ := filepath.Glob(filepath.Join(dir, runfolder.ManifestsDir, "*.json"))
	if len(left)+len(mans) != 0 {
		t.Fatalf("a whole run's forced Prepare left %v %v", left, mans)
	}
}

// editManifest rewrites one shard's manifest through f, as a damaged or
// foreign shard would leave it.
func editManifest(t *testing.T, dir string, sh runfolder.Shard, f func(m map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, sh.ManifestPath())
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ = json.Marshal(m)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMergeRefuses(t *testing.T) {
	// One complete 3-shard run, copied for each case and then damaged.
	base := t.TempDir()
	runShards(t, base, 3, 6, 3, 0, 1, 2)
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   []string
	}{
		{"missing shard", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, runfolder.Shard{Index: 2, Count: 3}.ManifestPath()))
		}, []string{"shard 2/3 is missing", "--shard 2/3"}},
		{"incomplete shard", func(t *testing.T, dir string) {
			editManifest(t, dir, runfolder.Shard{Index: 1, Count: 3}, func(m map[string]any) { m["completed"] = false })
		}, []string{"shard 1/3 is incomplete", "rerun it"}},
		{"failed shard", func(t *testing.T, dir string) {
			editManifest(t, dir, runfolder.Shard{Index: 1, Count: 3}, func(m map[string]any) { m["completed"], m["error"] = false, "disk full" })
		}, []string{"shard 1/3 is incomplete, it failed: disk full"}},
		{"other seed", func(t *testing.T, dir string) {
			forceShards(t, dir, 4, 6, 3, 1)
		}, []string{"shard 1/3 has seed 4 but shard 0/3 has 3"}},
		{"other replication count", func(t *testing.T, dir string) {
			forceShards(t, dir, 3, 9, 3, 2)
		}, []string{"shard 2/3 has replication count 9 but shard 0/3 has 6"}},
		{"other scenario", func(t *testing.T, dir string) {
			editManifest(t, dir, runfolder.Shard{Index: 2, Count: 3}, func(m map[string]any) { m["scenario_name"] = "hard-budgets" })
		}, []string{`shard 2/3 has scenario "hard-budgets" but shard 0/3 has "shard-test"`}},
		{"other scenario parameters", func(t *testing.T, dir string) {
			editManifest(t, dir, runfolder.Shard{Index: 2, Count: 3}, func(m map[string]any) {
				m["scenario"].(map[string]any)["description"] = "changed"
			})
		}, []string{`shard 2/3's scenario "shard-test" has other parameters than shard 0/3's`}},
		{"other program version", func(t *testing.T, dir string) {
			editManifest(t, dir, runfolder.Shard{Index: 0, Count: 3}, func(m map[string]any) { m["version"] = "0.0.9" })
		}, []string{"shard 1/3 has program version gpbudget test but shard 0/3 has gpbudget 0.0.9", "shard 2/3 has program version"}},
		{"missing part file", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "practice_years", "shard-0001-of-0003-part-00000.parquet"))
		}, []string{"shard 1/3's file practice_years/shard-0001-of-0003-part-00000.parquet is missing"}},
		// Issue 13: merge marked a run with a truncated shard file complete.
		{"truncated shard file", func(t *testing.T, dir string) {
			os.Truncate(filepath.Join(dir, "practice_years", "shard-0002-of-0003-part-00000.parquet"), 500)
		}, []string{"shard 2/3's file practice_years/shard-0002-of-0003-part-00000.parquet is truncated: 500 bytes",
			"gpbudget run --resume " + "DIR" + " --shard 2/3 --recompute"}},
		{"swapped shard file", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "ledger", "shard-0000-of-0003-part-00000.parquet"))
			os.WriteFile(filepath.Join(dir, "ledger", "shard-0001-of-0003-part-00000.parquet"), b, 0o644)
		}, []string{"shard 1/3's file ledger/shard-0001-of-0003-part-00000.parquet"}},
		{"rows short", func(t *testing.T, dir string) {
			editManifest(t, dir, runfolder.Shard{Index: 0, Count: 3}, func(m map[string]any) { m["rows"] = 3 })
		}, []string{"shard 0/3 wrote 3 rows but its replications make 16"}},
		{"foreign part file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "practice_years", "part-00000.parquet"), []byte("x"), 0o644)
		}, []string{"practice_years/part-00000.parquet belongs to no shard of this run"}},
		{"mixed shard counts", func(t *testing.T, dir string) {
			// A shard of a 2-shard run copied in (a run refuses to start there).
			other := t.TempDir()
			runShards(t, other, 3, 6, 2, 0)
			if err := os.CopyFS(dir, os.DirFS(other)); err != nil {
				t.Fatal(err)
			}
		}, []string{"runs split into 2 shards", "and 3 shards"}},
		{"manifest of another shard", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, runfolder.Shard{Index: 0, Count: 3}.ManifestPath()))
			os.WriteFile(filepath.Join(dir, runfolder.Shard{Index: 1, Count: 3}.ManifestPath()), b, 0o644)
		}, []string{"manifests/shard-0001-of-0003.json does not describe shard 1/3 (it says shard 0/3)"}},
		{"corrupt manifest", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, runfolder.Shard{Index: 2, Count: 3}.ManifestPath()), []byte(`{"completed": tru`), 0o644)
		}, []string{"shard 2/3: ", "shard-0002-of-0003.json"}},
		{"no shards", func(t *testing.T, dir string) {
			os.RemoveAll(filepath.Join(dir, runfolder.ManifestsDir))
		}, []string{"no shard manifests", "--shard I/N"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
				t.Fatal(err)
			}
			c.damage(t, dir)
			_, err := Merge(dir)
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("merge accepted a damaged run (err %v)", err)
			}
			for _, w := range c.want {
				if w = strings.ReplaceAll(w, "DIR", dir); !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, runfolder.ManifestName)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused merge left %s", runfolder.ManifestName)
			}
		})
	}
	// Undamaged, it merges.
	if _, err := Merge(base); err != nil {
		t.Fatal(err)
	}
}

func TestMergeOfSingleProcessRunIsNoOp(t *testing.T) {
	dir := t.TempDir()
	runSpec(t, spec(t, dir, 1, 2, nil))
	man, err := Merge(dir)
	if err != nil || !man.Completed || len(man.Merged) != 0 {
		t.Fatalf("merge of a complete single run: %+v, %v", man, err)
	}
}

func TestShardTooSmall(t *testing.T) {
	_, err := Execute(context.Background(), spec(t, t.TempDir(), 1, 2, &runfolder.Shard{Index: 0, Count: 3}))
	if err == nil || !strings.Contains(err.Error(), "no replications") {
		t.Fatalf("shard 0/3 of 2 replications: %v", err)
	}
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string]runfolder.Shard{"0/4": {Index: 0, Count: 4}, "3/4": {Index: 3, Count: 4}, " 0/1 ": {Index: 0, Count: 1}} {
		if got, err := runfolder.ParseShard(in); err != nil || got != want {
			t.Errorf("results.ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"4/4", "-1/4", "1", "a/4", "1/0", "0/10000", ""} {
		if sh, err := runfolder.ParseShard(in); err == nil {
			t.Errorf("results.ParseShard(%q) = %v, want an error", in, sh)
		}
	}
	if n := (runfolder.Shard{Index: 3, Count: 4}).Name(); n != "shard-0003-of-0004" {
		t.Errorf("name %q", n)
	}
	if sh, ok := runfolder.ShardOf("shard-0003-of-0004-part-00000.parquet"); !ok || sh != (runfolder.Shard{Index: 3, Count: 4}) {
		t.Errorf("shardOf: %v %v", sh, ok)
	}
}

func TestShardFromEnv(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		count int
		want  runfolder.Shard
		ok    bool
		err   string
	}{
		{"nothing set", nil, 0, runfolder.Shard{}, false, ""},
		{"slurm 0-3", map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_STEP": "1"}, 0, runfolder.Shard{Index: 2, Count: 4}, true, ""},
		{"slurm 1-4", map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4"}, 0, runfolder.Shard{Index: 0, Count: 4}, true, ""},
		{"slurm without min", map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, 0, runfolder.Shard{Index: 3, Count: 4}, true, ""},
		{"slurm with step", map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6", "SLURM_ARRAY_TASK_STEP": "2"}, 0, runfolder.Shard{}, false, "not contiguous"},
		{"slurm with gaps", map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "5"}, 0, runfolder.Shard{}, false, "not contiguous"},
		{"slurm no count", map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, 0, runfolder.Shard{}, false, "SLURM_ARRAY_TASK_COUNT is not set"},
		{"slurm count disagrees", map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4"}, 8, runfolder.Shard{}, false, "make them agree"},
		{"slurm count agrees", map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", ShardsEnv: "4"}, 0, runfolder.Shard{Index: 1, Count: 4}, true, ""},
		{"k8s with flag", map[string]string{"JOB_COMPLETION_INDEX": "5"}, 8, runfolder.Shard{Index: 5, Count: 8}, true, ""},
		{"k8s with env", map[string]string{"JOB_COMPLETION_INDEX": "0", ShardsEnv: "4"}, 0, runfolder.Shard{Index: 0, Count: 4}, true, ""},
		{"k8s flag beats env", map[string]string{"JOB_COMPLETION_INDEX": "6", ShardsEnv: "4"}, 8, runfolder.Shard{Index: 6, Count: 8}, true, ""},
		{"k8s no count", map[string]string{"JOB_COMPLETION_INDEX": "0"}, 0, runfolder.Shard{}, false, "GPBUDGET_SHARDS"},
		{"k8s index too big", map[string]string{"JOB_COMPLETION_INDEX": "4", ShardsEnv: "4"}, 0, runfolder.Shard{}, false, "out of range"},
		{"k8s bad count", map[string]string{"JOB_COMPLETION_INDEX": "0", ShardsEnv: "four"}, 0, runfolder.Shard{}, false, "whole number"},
		{"count without index", map[string]string{ShardsEnv: "4"}, 0, runfolder.Shard{}, false, "no shard index"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sh, _, ok, err := ShardFromEnv(func(k string) string { return c.env[k] }, c.count)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, %v; want an error saying %q", sh, err, c.err)
				}
				return
			}
			if err != nil || ok != c.ok || sh != c.want {
				t.Fatalf("got %v ok=%v err=%v; want %v ok=%v", sh, ok, err, c.want, c.ok)
			}
		})
	}
}

// A shard stopped part way (here: cancelled) leaves a manifest that says so,
// and merge will not take the run for complete.
func TestInterruptedShardIsNeverMerged(t *testing.T) {
	dir := t.TempDir()
	runShards(t, dir, 8, 4, 2, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Execute(ctx, spec(t, dir, 8, 4, &runfolder.Shard{Index: 1, Count: 2})); err == nil {
		t.Fatal("a cancelled shard reported success")
	}
	m, problems := VerifyShard(dir, runfolder.Shard{Index: 1, Count: 2})
	if m == nil || m.Completed || len(problems) != 1 {
		t.Fatalf("cancelled shard: manifest %+v, problems %v", m, problems)
	}
	_, err := Merge(dir)
	if err == nil || !strings.Contains(err.Error(), "shard 1/2 is incomplete, it failed: context canceled") {
		t.Fatalf("merge of a run with a cancelled shard: %v", err)
	}
	if _, problems := VerifyShard(dir, runfolder.Shard{Index: 0, Count: 2}); len(problems) != 0 {
		t.Fatalf("the complete shard 0/2: %v", problems)
	}
}

// A shard interrupted part way resumes on its own: it keeps its complete
// files, redoes the rest, touches no other shard's files, and the merged run
// equals one process's.
func TestShardResumesAloneToTheSameRows(t *testing.T) {
	root := t.TempDir()
	one := filepath.Join(root, "one")
	single := runSpec(t, spec(t, one, 13, 8, nil))
	dir := filepath.Join(root, "sharded")
	runShards(t, dir, 13, 8, 2, 0)
	sp := spec(t, dir, 13, 8, &runfolder.Shard{Index: 1, Count: 2})
	sp.CheckpointEvery = time.Nanosecond // a file per replication
	runSpec(t, sp)

	// What a kill after shard 1's first file leaves: a manifest listing that
	// file alone, later files and a temporary no manifest vouches for.
	sh := runfolder.Shard{Index: 1, Count: 2}
	m, err := runfolder.ReadManifestFile(filepath.Join(dir, sh.ManifestPath()))
	if err != nil || len(m.Chunks) < 2 {
		t.Fatalf("shard 1/2 should have several files: %v, %v", m, err)
	}
	m.Chunks, m.Files, m.Completed = m.Chunks[:1], m.Files[:1], false
	m.Rows = m.Chunks[0].Rows
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "practice_years", ".shard-0001-of-0002-part-00009.parquet.tmp"), []byte("x"), 0o644)
	other := filepath.Join(dir, "practice_years", "shard-0000-of-0002-part-00000.parquet")
	before, _ := os.Stat(other)
	if _, err := Merge(dir); err == nil {
		t.Fatal("merge took an interrupted shard")
	}
	if _, err := OpenResume(dir, "test"); err == nil || !strings.Contains(err.Error(), "--shard I/N") {
		t.Fatalf("resuming a sharded folder as one run: %v", err)
	}
	if _, err := runfolder.RequireComplete(dir); !errors.Is(err, runfolder.ErrIncomplete) || !strings.Contains(err.Error(), "gpbudget merge") {
		t.Fatalf("an unmerged sharded folder: %v", err)
	}

	r, err := OpenShardResume(dir, "test", sh)
	if err != nil {
		t.Fatal(err)
	}
	model, err := r.Scenario.Model(r.Manifest.Seed)
	if err != nil {
		t.Fatal(err)
	}
	man, err := Resume(context.Background(), &Spec{Scenario: r.Scenario, Model: model, Workers: 2, Dir: dir, Version: "test", Command: "test"}, r)
	if err != nil || !man.Completed || man.Shard == nil || man.Shard.Shard != sh {
		t.Fatalf("resumed shard: %+v, %v", man, err)
	}
	if after, err := os.Stat(other); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("resuming shard 1/2 touched shard 0/2's file: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "practice_years", ".*")); len(left) > 0 {
		t.Errorf("temporaries left after resume: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, runfolder.ManifestName)); err == nil {
		t.Fatal("a shard's resume wrote the run's manifest.json")
	}
	merged, err := Merge(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, b := readRows(t, one, single), readRows(t, dir, merged)
	if len(a) != 8*2*4 || len(a) != len(b) {
		t.Fatalf("%d rows from one process, %d after resume and merge", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d differs after resume:\none process %+v\nshards      %+v", i, a[i], b[i])
		}
	}
	if 2*len(merged.Chunks) != len(merged.Files) {
		t.Errorf("merged manifest: %d chunks for %d files", len(merged.Chunks), len(merged.Files))
	}
}
