package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/runfolder"
)

// The shard comes from --shard, a Slurm array's variables or a Kubernetes
// completion index; merge joins them into one complete run.
func TestShardsFromFlagSlurmAndKubernetesMerge(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "small.yaml"), []byte(smallScenario), 0o644)
	args := []string{"run", "--scenario", "small.yaml", "--reps", "5", "--years", "2", "--seed", "3", "--out", "res"}

	code, out := gpbudget(t, dir, append(args, "--shard", "0/3")...)
	if code != 0 || !strings.Contains(out, "shard 0/3 (--shard): replications 0 to 0") {
		t.Fatalf("--shard 0/3: exit %d: %s", code, out)
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "2") // an array submitted as --array=1-3
	t.Setenv("SLURM_ARRAY_TASK_MIN", "1")
	t.Setenv("SLURM_ARRAY_TASK_MAX", "3")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "3")
	code, out = gpbudget(t, dir, args...)
	if code != 0 || !strings.Contains(out, "shard 1/3 (Slurm array task 2): replications 1 to 2") {
		t.Fatalf("Slurm task: exit %d: %s", code, out)
	}
	for _, k := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_COUNT"} {
		os.Unsetenv(k)
	}
	code, out = gpbudget(t, dir, "merge", "res")
	if code != 2 || !strings.Contains(out, "shard 2/3 is missing") {
		t.Fatalf("merge with a shard missing: exit %d: %s", code, out)
	}
	t.Setenv("JOB_COMPLETION_INDEX", "2")
	t.Setenv(rundir.ShardsEnv, "3")
	code, out = gpbudget(t, dir, args...)
	if code != 0 || !strings.Contains(out, "shard 2/3 (Kubernetes completion index 2): replications 3 to 4") {
		t.Fatalf("Kubernetes index: exit %d: %s", code, out)
	}
	code, out = gpbudget(t, dir, "merge", "res")
	if code != 0 || !strings.Contains(out, "merged 3 shards") {
		t.Fatalf("merge: exit %d: %s", code, out)
	}
	man, err := runfolder.ReadManifest(filepath.Join(dir, "res"))
	if err != nil || !man.Completed || man.Rows != 5*2*4 || len(man.Merged) != 3 {
		t.Fatalf("merged manifest: %+v, %v", man, err)
	}
	// --shard off runs the whole run even inside an indexed job.
	code, out = gpbudget(t, dir, append(args[:len(args)-1], "whole", "--shard", "off")...)
	if code != 0 || strings.Contains(out, "shard") {
		t.Fatalf("--shard off: exit %d: %s", code, out)
	}
}

func TestShardBadInputExitsTwo(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "small.yaml"), []byte(smallScenario), 0o644)
	run := []string{"run", "--scenario", "small.yaml", "--reps", "2", "--years", "1"}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{append(run, "--shard", "4/4", "--out", "r1"), nil, "shard index 4 is out of range"},
		{append(run, "--shard", "1-4", "--out", "r2"), nil, "want I/N"},
		{append(run, "--shard", "0/4", "--out", "r3"), nil, "2 replications cannot make 4 shards"},
		{append(run, "--shard", "0/4", "--shards", "3", "--out", "r4"), nil, "disagree"},
		{append(run, "--out", "r5"), map[string]string{"JOB_COMPLETION_INDEX": "1"}, "GPBUDGET_SHARDS"},
		{append(run, "--shards", "2", "--out", "r6"), nil, "no shard index"},
		{[]string{"merge"}, nil, "name one run folder"},
		{[]string{"merge", "nowhere"}, nil, "no such folder"},
	} {
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		code, out := gpbudget(t, dir, c.args...)
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, output %q (want 2 and %q)", c.args, code, out, c.want)
		}
		for k := range c.env {
			os.Unsetenv(k)
		}
	}
	for _, d := range []string{"r1", "r2", "r3", "r4", "r5", "r6"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			t.Errorf("%s was created by a run with bad input", d)
		}
	}
}

// A shard resumes alone (--resume with the shard); a sharded folder cannot
// be resumed as one run.
func TestShardResumeCLI(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "small.yaml"), []byte(smallScenario), 0o644)
	for _, sh := range []string{"0/2", "1/2"} {
		if code, out := gpbudget(t, dir, "run", "--scenario", "small.yaml", "--reps", "4", "--years", "1", "--out", "res", "--shard", sh); code != 0 {
			t.Fatalf("shard %s: %d %s", sh, code, out)
		}
	}
	if code, out := gpbudget(t, dir, "run", "--resume", "res", "--shard", "1/2"); code != 0 || !strings.Contains(out, "shard 1/2 of res is already complete") {
		t.Errorf("resume of a complete shard: %d %s", code, out)
	}
	if code, out := gpbudget(t, dir, "run", "--resume", "res", "--shard", "off"); code != 2 || !strings.Contains(out, "--shard I/N") {
		t.Errorf("resume of a sharded folder as one run: %d %s", code, out)
	}
	if code, out := gpbudget(t, dir, "run", "--resume", "res", "--shard", "1/3"); code != 2 || !strings.Contains(out, "shard 1/3") {
		t.Errorf("resume of a shard that never ran: %d %s", code, out)
	}
}
