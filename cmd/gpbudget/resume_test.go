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

	"github.com/gpbudget/gpbudget/output"
	"github.com/parquet-go/parquet-go"
)

// readRows reads every row of a run folder, sorted by replication, year, practice.
func readRows(t *testing.T, dir string) []output.Row {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "practice_years", "*.parquet"))
	var all []output.Row
	for _, f := range files {
		rows, err := parquet.ReadFile[output.Row](f)
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
	args := []string{"run", "--scenario", "s.yaml", "--reps", "40", "--years", "2", "--seed", "21", "--quiet", "--checkpoint", "1ns"}
	if code, out := gpbudget(t, dir, append(args, "--out", "full")...); code != 0 {
		t.Fatalf("uninterrupted run: %d %s", code, out)
	}
	want := readRows(t, filepath.Join(dir, "full"))
	if len(want) != 40*2*4 {
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
