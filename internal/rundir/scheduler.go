package rundir

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// ShardsEnv names the environment variable that gives the shard count where
// the scheduler gives only an index (a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX): set it to the Job's spec.completions.
const ShardsEnv = "GPBUDGET_SHARDS"

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
func ShardFromEnv(getenv func(string) string, count int) (sh runfolder.Shard, source string, ok bool, err error) {
	if count == 0 {
		if v := getenv(ShardsEnv); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return runfolder.Shard{}, "", false, fmt.Errorf("%s=%q: want a whole number, the shard count", ShardsEnv, v)
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
			return runfolder.Shard{}, "", false, fmt.Errorf("JOB_COMPLETION_INDEX=%q: want a whole number", idx)
		}
		if count == 0 {
			return runfolder.Shard{}, "", false, fmt.Errorf("JOB_COMPLETION_INDEX is %d (a Kubernetes Indexed Job) but the shard count is not set: set %s (or --shards) to the Job's spec.completions", i, ShardsEnv)
		}
		sh := runfolder.Shard{Index: i, Count: count}
		if err := sh.Valid(); err != nil {
			return runfolder.Shard{}, "", false, fmt.Errorf("JOB_COMPLETION_INDEX %d with %d shards: %w", i, count, err)
		}
		return sh, "Kubernetes completion index " + idx, true, nil
	}
	if count != 0 {
		return runfolder.Shard{}, "", false, fmt.Errorf("a shard count of %d is set (--shards or %s) but no shard index: use --shard I/N, or run as a Slurm array task or a Kubernetes Indexed Job", count, ShardsEnv)
	}
	return runfolder.Shard{}, "", false, nil
}

func slurmShard(getenv func(string) string, id string) (runfolder.Shard, error) {
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
		return runfolder.Shard{}, err
	}
	count, ok, err := num("SLURM_ARRAY_TASK_COUNT")
	if err != nil {
		return runfolder.Shard{}, err
	}
	if !ok {
		return runfolder.Shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID is %s but SLURM_ARRAY_TASK_COUNT is not set (Slurm before 18.08?): pass --shard I/N", id)
	}
	lo, _, err := num("SLURM_ARRAY_TASK_MIN")
	if err != nil {
		return runfolder.Shard{}, err
	}
	hi, hasHi, err := num("SLURM_ARRAY_TASK_MAX")
	if err != nil {
		return runfolder.Shard{}, err
	}
	step, hasStep, err := num("SLURM_ARRAY_TASK_STEP")
	if err != nil {
		return runfolder.Shard{}, err
	}
	if (hasHi && hi-lo+1 != count) || (hasStep && step != 1) {
		return runfolder.Shard{}, fmt.Errorf("the Slurm array (tasks %d to %d, %d of them) is not contiguous: submit --array=0-%d, one task per shard", lo, hi, count, count-1)
	}
	sh := runfolder.Shard{Index: task - lo, Count: count}
	if err := sh.Valid(); err != nil {
		return runfolder.Shard{}, fmt.Errorf("Slurm array task %d (min %d, count %d): %w", task, lo, count, err)
	}
	return sh, nil
}
