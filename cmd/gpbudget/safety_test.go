package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// sums maps every file under dir to its checksum.
func sums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[rel], _ = runfolder.FileSHA256(p)
		}
		return err
	})
	return out
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// noPanic fails if output holds a Go panic or stack dump.
func noPanic(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{"panic:", "goroutine ", "fatal error:"} {
		if strings.Contains(out, s) {
			t.Errorf("%s: a crash, not an error:\n%s", what, out)
		}
	}
}

// Issue 13, "run empties --out first, silently": a run into a folder that
// holds another run, or a user's files, exits 2 and changes nothing; --force
// replaces only gpbudget's files; an empty --out is refused; synth no longer
// writes its --out before checking --years.
func TestOutputFolderCLI(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "small.yaml"), []byte(smallScenario), 0o644)
	run := []string{"run", "--scenario", "small.yaml", "--years", "1", "--quiet"}
	if code, out := gpbudget(t, dir, append(run, "--reps", "3", "--seed", "5", "--out", "res")...); code != 0 {
		t.Fatalf("first run: %d %s", code, out)
	}
	if code, out := gpbudget(t, dir, "summarize", "res"); code != 0 {
		t.Fatalf("summarize: %d %s", code, out)
	}
	os.WriteFile(filepath.Join(dir, "res", "summary", "my-notes.txt"), []byte("mine"), 0o644)
	before := sums(t, filepath.Join(dir, "res"))
	code, out := gpbudget(t, dir, append(run, "--reps", "2", "--seed", "6", "--out", "res")...)
	if code != 2 || !strings.Contains(out, "it holds a run of scenario \"small\", seed 5") || !strings.Contains(out, "--force") {
		t.Fatalf("run into a folder holding another run: exit %d: %s", code, out)
	}
	if !sameFiles(before, sums(t, filepath.Join(dir, "res"))) {
		t.Fatal("a refused run changed the earlier run's folder")
	}
	// A run with bad input never touches the folder, even with --force.
	if code, _ := gpbudget(t, dir, "run", "--scenario", "missing.yaml", "--force", "--out", "res"); code != 2 || !sameFiles(before, sums(t, filepath.Join(dir, "res"))) {
		t.Fatalf("a run with a missing scenario and --force: exit %d, folder changed %v", code, !sameFiles(before, sums(t, filepath.Join(dir, "res"))))
	}
	code, out = gpbudget(t, dir, append(run, "--reps", "2", "--seed", "6", "--out", "res", "--force")...)
	if code != 0 {
		t.Fatalf("--force: exit %d: %s", code, out)
	}
	after := sums(t, filepath.Join(dir, "res"))
	if after["summary/my-notes.txt"] == "" || after["summary/by_band.csv"] != "" {
		t.Errorf("--force: the user's file kept %v, the old summary removed %v", after["summary/my-notes.txt"] != "", after["summary/by_band.csv"] == "")
	}

	// An empty --out (an unset shell variable) is not the current folder.
	for _, args := range [][]string{
		append(append([]string{}, run...), "--reps", "1", "--out", ""),
		{"run", "--resume", ""},
		{"synth", "--out", ""},
		{"forecast", "--out", ""},
		{"fit", "--out", ""},
		{"compare", "default", "default", "--out", ""},
		{"history", "--payments", "x.csv", "--out", ""},
		{"risk-curve", "--out", ""},
	} {
		empty := t.TempDir()
		if code, out := gpbudgetArgv(t, empty, args...); code != 2 || !strings.Contains(out, "is empty") {
			t.Errorf("%q: exit %d: %s", args, code, out)
		}
		if entries, _ := os.ReadDir(empty); len(entries) > 0 {
			t.Errorf("%q wrote into the current folder: %v", args, entries)
		}
	}

	// synth checks --years before it writes anything.
	os.WriteFile(filepath.Join(dir, "pop.csv"), []byte("keep"), 0o644)
	if code, out := gpbudget(t, dir, "synth", "--out", "pop.csv", "--history", "h.csv", "--years", "0"); code != 2 {
		t.Fatalf("synth --years 0: exit %d: %s", code, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "pop.csv")); string(b) != "keep" {
		t.Error("synth overwrote --out before refusing --years")
	}
}

// Issue 13, "checksums are written but never checked": a truncated part
// made summarize and report panic, merge marked a run with a truncated shard
// file complete, and a part swapped in from another seed gave a silently
// wrong summary. Each is now exit 2 naming the file; resume of the damaged
// run says so and --recompute repairs it.
func TestDamagedResultsCLI(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "small.yaml"), []byte(smallScenario), 0o644)
	run := []string{"run", "--scenario", "small.yaml", "--reps", "6", "--years", "2", "--checkpoint", "1ns", "--quiet"}
	for _, c := range []struct{ out, seed string }{{"a", "5"}, {"b", "77"}} {
		if code, out := gpbudget(t, dir, append(run, "--seed", c.seed, "--out", c.out)...); code != 0 {
			t.Fatalf("run: %d %s", code, out)
		}
	}
	intact := sums(t, filepath.Join(dir, "a"))
	part := filepath.Join(dir, "a", "practice_years", "part-00003.parquet")

	// Truncated.
	os.Truncate(part, 1000)
	for _, cmd := range []string{"summarize", "report"} {
		code, out := gpbudget(t, dir, cmd, "a")
		noPanic(t, cmd, out)
		if code != 2 || !strings.Contains(out, "part-00003.parquet is truncated") || !strings.Contains(out, "--recompute") {
			t.Errorf("%s of a run with a truncated part: exit %d: %s", cmd, code, out)
		}
	}
	if code, out := gpbudget(t, dir, "fit", "--history", "a", "--out", "f.yaml"); code != 2 || !strings.Contains(out, "part-00003.parquet") {
		t.Errorf("fit --history on a damaged run folder: exit %d: %s", code, out)
	}
	// resume of the complete run says its files do not match, and how to
	// recompute them; --recompute gives back the very files.
	code, out := gpbudget(t, dir, "run", "--resume", "a")
	if code != 2 || !strings.Contains(out, "a is complete, but these files no longer match its manifest") || !strings.Contains(out, "gpbudget run --resume a --recompute") {
		t.Fatalf("resume of a damaged complete run: exit %d: %s", code, out)
	}
	if code, out := gpbudget(t, dir, "run", "--resume", "a", "--recompute"); code != 0 || !strings.Contains(out, "identical to the files the run first wrote") {
		t.Fatalf("--recompute: exit %d: %s", code, out)
	}
	if !sameFiles(intact, sums(t, filepath.Join(dir, "a"))) {
		t.Fatal("the recomputed run differs from the run as first written")
	}
	if code, out := gpbudget(t, dir, "run", "--resume", "a"); code != 0 || !strings.Contains(out, "match their checksums") {
		t.Errorf("resume of the repaired run: exit %d: %s", code, out)
	}

	// Swapped in from another seed, same name and row count.
	b, _ := os.ReadFile(filepath.Join(dir, "b", "practice_years", "part-00003.parquet"))
	os.WriteFile(part, b, 0o644)
	code, out = gpbudget(t, dir, "summarize", "a")
	noPanic(t, "summarize", out)
	if code != 2 || !strings.Contains(out, "practice_years/part-00003.parquet") {
		t.Errorf("summarize of a run with a swapped part: exit %d: %s", code, out)
	}

	// A merge with a truncated shard file is refused.
	for _, sh := range []string{"0/2", "1/2"} {
		if code, out := gpbudget(t, dir, append(run, "--seed", "5", "--out", "m", "--shard", sh)...); code != 0 {
			t.Fatalf("shard %s: %d %s", sh, code, out)
		}
	}
	os.Truncate(filepath.Join(dir, "m", "ledger", "shard-0001-of-0002-part-00001.parquet"), 500)
	code, out = gpbudget(t, dir, "merge", "m")
	noPanic(t, "merge", out)
	if code != 2 || !strings.Contains(out, "shard 1/2's file ledger/shard-0001-of-0002-part-00001.parquet is truncated") {
		t.Errorf("merge with a truncated shard file: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "m", "manifest.json")); err == nil {
		t.Error("a refused merge wrote the run's manifest")
	}

	// A damaged comparison or risk curve is refused by report, naming the file.
	for _, f := range []string{"compare.parquet", "risk_curve.parquet"} {
		d := filepath.Join(dir, strings.TrimSuffix(f, ".parquet"))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, f), []byte("PAR1 not really PAR1"), 0o644)
		code, out = gpbudget(t, dir, "report", d)
		noPanic(t, "report", out)
		if code != 2 || !strings.Contains(out, f+" cannot be read") {
			t.Errorf("report of a damaged %s: exit %d: %s", f, code, out)
		}
	}
}

// Issue 13: forecast from one year of history gave a 95% interval of ±£6
// on £3.15 m. One year is refused (exit 2); two years give widened
// intervals and say so.
func TestShortHistoryCLI(t *testing.T) {
	dir := t.TempDir()
	for _, y := range []string{"1", "2"} {
		if code, out := gpbudget(t, dir, "synth", "--practices", "8", "--out", "pop"+y+".csv", "--history", "h"+y+".csv", "--years", y); code != 0 {
			t.Fatalf("synth: %d %s", code, out)
		}
	}
	code, out := gpbudget(t, dir, "forecast", "--history", "h1.csv", "--out", "fc1")
	if code != 2 || !strings.Contains(out, "one year") {
		t.Errorf("forecast from one year: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "fc1")); err == nil {
		t.Error("a refused forecast wrote its folder")
	}
	code, out = gpbudget(t, dir, "forecast", "--history", "h2.csv", "--out", "fc2")
	if code != 0 || !strings.Contains(out, "intervals widened: two years of history") {
		t.Errorf("forecast from two years: exit %d: %s", code, out)
	}
}
