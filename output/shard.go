package output

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Shard is one of Count processes that together make a run: shard Index runs
// replications [Index*R/Count, (Index+1)*R/Count) of R. Every replication's
// random streams are keyed by the replication number alone, so the shards'
// rows together equal, row for row, a single process's.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// MaxShards bounds the shard count so names stay four digits wide and sort.
const MaxShards = 9999

// ShardsEnv names the environment variable that gives the shard count where
// the scheduler gives only an index (a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX): set it to the Job's spec.completions.
const ShardsEnv = "GPBUDGET_SHARDS"

// ManifestsDir is the folder, inside a run folder, of the shards' manifests.
const ManifestsDir = "manifests"

// ParseShard reads "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want I/N, e.g. 0/4 for the first of four shards", s)
	}
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N with whole numbers, e.g. 0/4", s)
	}
	sh := Shard{Index: idx, Count: cnt}
	return sh, sh.Valid()
}

// Valid says whether 0 <= Index < Count <= MaxShards.
func (s Shard) Valid() error {
	if s.Count < 1 || s.Count > MaxShards {
		return fmt.Errorf("shard count %d is out of range: accepted 1 to %d", s.Count, MaxShards)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard index %d is out of range: accepted 0 to %d for %d shards", s.Index, s.Count-1, s.Count)
	}
	return nil
}

// String is "I/N", as the --shard flag takes it.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Name is the shard's file-name stem, "shard-IIII-of-NNNN"; zero-padded so
// that names sort in shard order.
func (s Shard) Name() string { return fmt.Sprintf("shard-%04d-of-%04d", s.Index, s.Count) }

// Range is the shard's replications [first, last) of reps. Shards differ in
// size by at most one replication.
func (s Shard) Range(reps int) (first, last int) {
	return s.Index * reps / s.Count, (s.Index + 1) * reps / s.Count
}

// ManifestPath is the shard's manifest, relative to the run folder.
func (s Shard) ManifestPath() string {
	return filepath.Join(ManifestsDir, s.Name()+".json")
}

// partPrefix is the prefix of the shard's part files in practice_years/.
func (s Shard) partPrefix() string { return s.Name() + "-part" }

var shardName = regexp.MustCompile(`^shard-(\d{4})-of-(\d{4})`)

// shardOf reads the shard from a file name that starts "shard-IIII-of-NNNN".
func shardOf(name string) (Shard, bool) {
	m := shardName.FindStringSubmatch(name)
	if m == nil {
		return Shard{}, false
	}
	i, _ := strconv.Atoi(m[1])
	n, _ := strconv.Atoi(m[2])
	sh := Shard{Index: i, Count: n}
	return sh, sh.Valid() == nil
}

// ShardFromEnv finds the shard a scheduler gave this process, from getenv
// (os.Getenv in the program):
//
//   - Slurm job arrays: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, less
//     SLURM_ARRAY_TASK_MIN when the array does not start at 0 (--array=1-4).
//     The array must be contiguous (no step, no gaps), so that the tasks are
//     exactly the shards 0..N-1.
//   - Kubernetes Indexed Jobs: JOB_COMPLETION_INDEX, with the count from
//     count (the --shards flag) or, when that is 0, GPBUDGET_SHARDS.
//
// It returns ok false when neither is set. source says where the shard came
// from, for messages.
func ShardFromEnv(getenv func(string) string, count int) (sh Shard, source string, ok bool, err error) {
	if count == 0 {
		if v := getenv(ShardsEnv); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return Shard{}, "", false, fmt.Errorf("%s=%q: want a whole number, the shard count", ShardsEnv, v)
			}
			count = n
		}
	}
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		sh, err := slurmShard(getenv, id)
		if err == nil && count != 0 && count != sh.Count {
			err = fmt.Errorf("the Slurm array has %d tasks but the shard count is set to %d (--shards or %s): leave it unset or make them agree", sh.Count, count, ShardsEnv)
		}
		return sh, "Slurm array task " + id, err == nil, err
	}
	if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
		i, err := strconv.Atoi(strings.TrimSpace(idx))
		if err != nil {
			return Shard{}, "", false, fmt.Errorf("JOB_COMPLETION_INDEX=%q: want a whole number", idx)
		}
		if count == 0 {
			return Shard{}, "", false, fmt.Errorf("JOB_COMPLETION_INDEX is %d (a Kubernetes Indexed Job) but the shard count is not set: set %s (or --shards) to the Job's spec.completions", i, ShardsEnv)
		}
		sh := Shard{Index: i, Count: count}
		if err := sh.Valid(); err != nil {
			return Shard{}, "", false, fmt.Errorf("JOB_COMPLETION_INDEX %d with %d shards: %w", i, count, err)
		}
		return sh, "Kubernetes completion index " + idx, true, nil
	}
	if count != 0 {
		return Shard{}, "", false, fmt.Errorf("a shard count of %d is set (--shards or %s) but no shard index: use --shard I/N, or run as a Slurm array task or a Kubernetes Indexed Job", count, ShardsEnv)
	}
	return Shard{}, "", false, nil
}

func slurmShard(getenv func(string) string, id string) (Shard, error) {
	num := func(name string) (int, bool, error) {
		v := getenv(name)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, true, fmt.Errorf("%s=%q: want a whole number", name, v)
		}
		return n, true, nil
	}
	task, _, err := num("SLURM_ARRAY_TASK_ID")
	if err != nil {
		return Shard{}, err
	}
	count, ok, err := num("SLURM_ARRAY_TASK_COUNT")
	if err != nil {
		return Shard{}, err
	}
	if !ok {
		return Shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID is %s but SLURM_ARRAY_TASK_COUNT is not set (Slurm before 18.08?): pass --shard I/N", id)
	}
	lo, _, err := num("SLURM_ARRAY_TASK_MIN")
	if err != nil {
		return Shard{}, err
	}
	hi, hasHi, err := num("SLURM_ARRAY_TASK_MAX")
	if err != nil {
		return Shard{}, err
	}
	step, hasStep, err := num("SLURM_ARRAY_TASK_STEP")
	if err != nil {
		return Shard{}, err
	}
	if (hasHi && hi-lo+1 != count) || (hasStep && step != 1) {
		return Shard{}, fmt.Errorf("the Slurm array (tasks %d to %d, %d of them) is not contiguous: submit --array=0-%d, one task per shard", lo, hi, count, count-1)
	}
	sh := Shard{Index: task - lo, Count: count}
	if err := sh.Valid(); err != nil {
		return Shard{}, fmt.Errorf("Slurm array task %d (min %d, count %d): %w", task, lo, count, err)
	}
	return sh, nil
}

// PrepareShardDir makes sure dir can take shard s's results: it creates the
// folders, checks they are writable, and removes only this shard's earlier
// files (its part files, its temporaries and its manifest), never another
// shard's, since shards run at once into one folder. It also removes a merged
// manifest: once a shard reruns, the merged run is no longer complete until
// merged again.
func PrepareShardDir(dir string, s Shard) error {
	if err := s.Valid(); err != nil {
		return err
	}
	for _, d := range []string{filepath.Join(dir, "practice_years"), filepath.Join(dir, ManifestsDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("output folder %s cannot be created: %w", d, err)
		}
	}
	// A probe per shard, so that shards starting together do not race.
	probe := filepath.Join(dir, ManifestsDir, "."+s.Name()+".write-test")
	if err := os.WriteFile(probe, []byte("x"), 0o644); err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	os.Remove(probe)
	old, _ := filepath.Glob(filepath.Join(dir, "practice_years", s.partPrefix()+"-*.parquet"))
	tmp, _ := filepath.Glob(filepath.Join(dir, "practice_years", "."+s.partPrefix()+"-*.tmp"))
	for _, f := range append(old, tmp...) {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("removing earlier result %s: %w", f, err)
		}
	}
	for _, f := range []string{filepath.Join(dir, s.ManifestPath()), filepath.Join(dir, ManifestName)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing earlier manifest %s: %w", f, err)
		}
	}
	return nil
}
