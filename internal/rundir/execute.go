// Package rundir executes scenarios into run folders: a whole run, a shard of
// one (as a Slurm array task or Kubernetes Indexed Job finds it from its
// environment), a resume of an interrupted run or shard, the merge of a
// sharded run, and the paired runs of a comparison. It drives the engine
// (sim.Run) into the runfolder package's sink; it computes no statistics.
package rundir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// Spec is one run to a folder.
type Spec struct {
	Scenario *scenarios.Scenario
	Model    *sim.Model
	Seed     uint64
	Reps     int
	Years    int
	Workers  int
	Dir      string
	Version  string
	Command  string
	Progress *sim.Progress
	// CheckpointEvery ends parts at replication boundaries this often
	// (zero: only by size), bounding the work an interruption loses.
	CheckpointEvery time.Duration
	// Shard, when set, runs only the shard's share of the Reps replications,
	// into the shard's own files and manifest (see runfolder.Shard).
	Shard *runfolder.Shard
	// Cohort simulates practices from group counts (sim.Options.Cohort);
	// its results differ from patient level, so the manifest records it.
	Cohort bool
	// Force lets the run replace what its folder holds (another run, its
	// summaries), removing only files gpbudget wrote; see Prepare.
	Force bool
	// Derived are files (relative to the folder) that later commands derive
	// from a run (summary tables, a report): stale once the run is
	// replaced, so Prepare removes them with it.
	Derived []string
	// Also, when set, receives each replication after the folder's writer
	// has taken it (a comparison's per-replication metrics, reduced as the
	// run goes rather than read back from the files).
	Also sim.Sink
}

// makeDirs creates dir's table folders (and probe's) and checks dir is
// writable by writing and removing probe.
func makeDirs(dir, probe string) error {
	dirs := []string{filepath.Dir(probe)}
	for _, t := range runfolder.Tables {
		dirs = append(dirs, filepath.Join(dir, t))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("output folder %s cannot be created: %w", dir, err)
		}
	}
	if err := os.WriteFile(probe, []byte("x"), 0o644); err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	os.Remove(probe)
	return nil
}

// Meta is the key-value metadata every Parquet file carries, so a file alone
// says how to reproduce it. It leaves out the command line and worker count,
// which do not change results, so files are byte-identical across them.
func Meta(sp *Spec) (map[string]string, error) {
	y, err := sp.Scenario.YAML()
	if err != nil {
		return nil, err
	}
	meta := map[string]string{
		"gpbudget.scenario":      string(y),
		"gpbudget.scenario_name": sp.Scenario.Name,
		"gpbudget.seed":          strconv.FormatUint(sp.Seed, 10),
		"gpbudget.replications":  strconv.Itoa(sp.Reps),
		"gpbudget.years":         strconv.Itoa(sp.Years),
		"gpbudget.version":       sp.Version,
		"gpbudget.go_version":    runtime.Version(),
		"gpbudget.gonum_version": runfolder.DepVersion("gonum.org/v1/gonum"),
	}
	if sp.Shard != nil {
		first, last := sp.Shard.Range(sp.Reps)
		meta["gpbudget.shard"] = sp.Shard.String()
		meta["gpbudget.shard_replications"] = fmt.Sprintf("%d-%d", first, last-1)
	}
	return meta, nil
}

// Execute runs a spec into its folder: parts under practice_years/ and
// ledger/, and a manifest written first as incomplete, updated as each part
// lands, and finally replaced by one that says the run completed.
//
// With sp.Shard set it runs the shard's replications only, into parts named
// shard-IIII-of-NNNN-part-NNNNN.parquet and the manifest
// manifests/shard-IIII-of-NNNN.json; Merge joins the shards.
//
// It first checks the spec (Check) and then its folder (Prepare), so a run
// that cannot start changes nothing on disk.
func Execute(ctx context.Context, sp *Spec) (*runfolder.Manifest, error) {
	if err := sp.Check(); err != nil {
		return nil, err
	}
	if _, err := sp.Prepare(); err != nil {
		return nil, err
	}
	return Start(ctx, sp)
}

// Check checks what can refuse the run before its folder is touched: the
// shard, the metadata every file carries, and the model (the engine's own
// checks, as sim.Run makes them).
func (sp *Spec) Check() error {
	if sp.Shard != nil {
		if err := sp.Shard.Valid(); err != nil {
			return err
		}
		if first, last := sp.Shard.Range(sp.Reps); first == last {
			return fmt.Errorf("shard %s has no replications: %d replications make at most %d shards", sp.Shard, sp.Reps, sp.Reps)
		}
	}
	if _, err := Meta(sp); err != nil {
		return err
	}
	if err := sp.Model.Validate(); err != nil {
		return fmt.Errorf("model %q: %w", sp.Model.Name, err)
	}
	return nil
}

// Start runs a checked spec into the folder Prepare made ready: Execute
// without its checks, for a caller that reports them itself.
func Start(ctx context.Context, sp *Spec) (*runfolder.Manifest, error) {
	man := sp.manifest()
	man.Started = time.Now().UTC()
	if err := man.Write(sp.Dir); err != nil {
		return nil, err
	}
	return execute(ctx, sp, man)
}

// execute runs the replications after those in man.Chunks and appends parts;
// for a shard, only up to the end of the shard's share.
func execute(ctx context.Context, sp *Spec, man *runfolder.Manifest) (*runfolder.Manifest, error) {
	meta, err := Meta(sp)
	if err != nil {
		return nil, err
	}
	prefix, first, last := runfolder.SinglePrefix, 0, sp.Reps
	if man.Shard != nil {
		prefix, first, last = man.Shard.PartPrefix(), man.Shard.FirstRep, man.Shard.LastRep
	}
	w, err := runfolder.NewWriter(sp.Dir, prefix, len(man.Chunks), sp.Model, meta)
	if err != nil {
		return nil, err
	}
	w.Chunks = man.Chunks
	if n := len(man.Chunks); n > 0 {
		first = man.Chunks[n-1].LastRep + 1
	}
	w.CheckpointEvery = sp.CheckpointEvery
	// Each finished part is recorded at once, so a manifest always lists
	// exactly the complete files.
	w.OnChunk = func(runfolder.Chunk) error {
		man.SetChunks(w.Chunks)
		return man.Write(sp.Dir)
	}
	var sink sim.Sink = w
	if sp.Also != nil {
		sink = tee{w, sp.Also}
	}
	var runErr error
	if first < last {
		runErr = sim.Run(ctx, sp.Model, sim.Options{
			Seed: sp.Seed, FirstRep: first, LastRep: last, Years: sp.Years,
			Workers: sp.Workers, Progress: sp.Progress, Cohort: sp.Cohort,
		}, sink)
	}
	if runErr == nil {
		runErr = w.Close()
	} else {
		w.Abort()
	}
	man.SetChunks(w.Chunks)
	man.Ended = time.Now().UTC()
	if runErr != nil {
		man.Error = runErr.Error()
		if err := man.Write(sp.Dir); err != nil {
			return man, errors.Join(runErr, err)
		}
		return man, runErr
	}
	man.Completed, man.Error = true, ""
	if err := man.Write(sp.Dir); err != nil {
		return man, err
	}
	return man, nil
}

// tee hands each replication to two sinks in turn.
type tee [2]sim.Sink

func (t tee) Write(r *sim.Replication) error {
	if err := t[0].Write(r); err != nil {
		return err
	}
	return t[1].Write(r)
}
