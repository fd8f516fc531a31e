package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/parquet-go/parquet-go"
)

// readRows reads every row of a run folder, sorted by replication, year, practice.
func readRows(t *testing.T, dir string) []runfolder.Row {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "practice_years", "*.parquet"))
	var all []runfolder.Row
	for _, f := range files {
		rows, err := parquet.ReadFile[runfolder.Row](f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all = append(all, rows...)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Replication != b.Replication {
			return a.Replication < b.Replication
		}
		if a.Year != b.Year {
			return a.Year < b.Year
		}
		return a.PracticeID < b.PracticeID
	})
	return all
}

func completed(t *testing.T, dir string) (bool, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return false, false
	}
	var m struct {
		Completed bool `json:"completed"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest is not whole JSON after a kill: %v", err)
	}
	return m.Completed, true
}

// TestKilledRunsResumeToTheSameRows kills a run with SIGKILL at several
// random points; a killed run's manifest never says complete unless every
// row is there, and resuming gives exactly the rows of an uninterrupted run.
func TestKilledRunsResumeToTheSameRows(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte("name: small\npopulation:\n  synthetic:\n    practices: 4\n"), 0o644)
	args := []string{"run", "--scenario", "s.yaml", "--reps", "150", "--years", "2", "--seed", "21", "--quiet", "--checkpoint", "1ns"}
	if code, out := gpbudget(t, dir, append(args, "--out", "full")...); code != 0 {
		t.Fatalf("uninterrupted run: %d %s", code, out)
	}
	want := readRows(t, filepath.Join(dir, "full"))
	if len(want) != 150*2*4 {
		t.Fatalf("uninterrupted run has %d rows", len(want))
	}
	rng := rand.New(rand.NewPCG(1, 2)) // fixed kill points, so failures reproduce
	for i := range 4 {
		out := "cut" + string(rune('a'+i))
		delay := time.Duration(20+rng.IntN(400)) * time.Millisecond
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GPBUDGET_TEST_MAIN=1", "GPBUDGET_TEST_ARGS="+strings.Join(append(args, "--out", out), " "))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		done, ok := completed(t, filepath.Join(dir, out))
		t.Logf("killed after %v: manifest present %v, completed %v", delay, ok, done)
		if !ok {
			continue // killed before it wrote anything: nothing to resume
		}
		if done && !reflect.DeepEqual(readRows(t, filepath.Join(dir, out)), want) {
			t.Fatalf("killed run %s says complete but its rows differ", out)
		}
		if code, o := gpbudget(t, dir, "run", "--resume", out, "--quiet"); code != 0 {
			t.Fatalf("resume %s: %d %s", out, code, o)
		}
		if done, _ := completed(t, filepath.Join(dir, out)); !done {
			t.Fatalf("resumed run %s not complete", out)
		}
		if got := readRows(t, filepath.Join(dir, out)); !reflect.DeepEqual(got, want) {
			t.Fatalf("resumed run %s: %d rows differ from the uninterrupted run's %d", out, len(got), len(want))
		}
		left, _ := filepath.Glob(filepath.Join(dir, out, "practice_years", ".*"))
		if len(left) > 0 {
			t.Errorf("temporary files left after resume: %v", left)
		}
	}
}

// A resume refuses a folder with no run and flags that would change the run.
func TestResumeRefusesWhatItCannotFinish(t *testing.T) {
	dir := t.TempDir()
	if code, out := gpbudget(t, dir, "run", "--resume", "nothing-here"); code != 2 || !strings.Contains(out, "nothing-here") {
		t.Errorf("resume of no run: %d %s", code, out)
	}
	if code, out := gpbudget(t, dir, "run", "--resume", "x", "--seed", "3"); code != 2 || !strings.Contains(out, "--seed") {
		t.Errorf("resume with --seed: %d %s", code, out)
	}
}

// TestResumeIfInterrupted: the same command with --resume-if-interrupted (as
// a restarted Kubernetes pod runs it) finishes a killed run or shard with the
// uninterrupted rows, does nothing to a complete one, and refuses a folder
// that holds a different run.
func TestResumeIfInterrupted(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte("name: small\npopulation:\n  synthetic:\n    practices: 4\n"), 0o644)
	base := []string{"run", "--scenario", "s.yaml", "--reps", "120", "--years", "2", "--seed", "5", "--quiet", "--checkpoint", "1ns", "--resume-if-interrupted"}
	if code, out := gpbudget(t, dir, append(base, "--out", "full")...); code != 0 {
		t.Fatalf("first run: %d %s", code, out)
	}
	want := readRows(t, filepath.Join(dir, "full"))
	for _, shard := range []string{"", "1/3"} {
		args := append([]string{}, base...)
		out := "cut"
		if shard != "" {
			args, out = append(args, "--shard", shard), "cutshard"
		}
		args = append(args, "--out", out)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GPBUDGET_TEST_MAIN=1", "GPBUDGET_TEST_ARGS="+strings.Join(args, " "))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		man := filepath.Join(dir, out, "manifest.json")
		if shard != "" {
			man = filepath.Join(dir, out, "manifests", "shard-0001-of-0003.json")
		}
		b, _ := os.ReadFile(man)
		t.Logf("shard %q killed mid-run (manifest says completed: false): %v", shard, strings.Contains(string(b), `"completed": false`))
		if code, o := gpbudget(t, dir, args...); code != 0 {
			t.Fatalf("restart %v: %d %s", args, code, o)
		}
		got := readRows(t, filepath.Join(dir, out))
		if shard == "" && !reflect.DeepEqual(got, want) {
			t.Fatalf("restarted run: %d rows differ from the uninterrupted %d", len(got), len(want))
		}
		if shard != "" {
			var part []runfolder.Row
			for _, r := range want {
				if r.Replication >= 40 && r.Replication < 80 {
					part = append(part, r)
				}
			}
			if !reflect.DeepEqual(got, part) {
				t.Fatalf("restarted shard: %d rows differ from the uninterrupted run's %d for its replications", len(got), len(part))
			}
		}
	}
	if code, o := gpbudget(t, dir, append(base, "--out", "full")...); code != 0 || !reflect.DeepEqual(readRows(t, filepath.Join(dir, "full")), want) {
		t.Errorf("rerun of a complete run: %d %s", code, o)
	}
	args := append([]string{}, base...)
	args[8] = "6" // another seed
	if code, o := gpbudget(t, dir, append(args, "--out", "full")...); code != 2 || !strings.Contains(o, "different run") {
		t.Errorf("different run in the folder: %d %s", code, o)
	}
}
