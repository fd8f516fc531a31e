// Package run executes scenarios into run folders: a whole run, a shard of
// one (as a Slurm array task or Kubernetes Indexed Job finds it from its
// environment), a resume of an interrupted run or shard, the merge of a
// sharded run, and the paired runs of a comparison. It drives the engine
// (sim.Run) into the runfolder package's sink; it computes no statistics.
package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/gpbudget/gpbudget/runfolder"
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
	// Also, when set, receives each replication after the folder's writer
	// has taken it (a comparison's per-replication metrics, reduced as the
	// run goes rather than read back from the files).
	Also sim.Sink
}

// Prepare makes sure the spec's folder can take its results (see PrepareDir
// and PrepareShardDir).
func (sp *Spec) Prepare() error {
	if sp.Shard != nil {
		return PrepareShardDir(sp.Dir, *sp.Shard)
	}
	return PrepareDir(sp.Dir)
}

// PrepareDir makes sure dir can take a single process's results: it creates
// it, checks it is writable, and removes the results of an earlier run there
// (part files and manifest, a sharded run's included) so they cannot be mixed
// with this one's. A shard uses PrepareShardDir instead.
func PrepareDir(dir string) error {
	if err := makeDirs(dir, filepath.Join(dir, ".gpbudget-write-test")); err != nil {
		return err
	}
	if err := runfolder.RemoveParts(dir, "", nil); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, runfolder.ManifestName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing earlier manifest: %w", err)
	}
	shards, err := runfolder.ShardManifests(dir)
	if err != nil {
		return err
	}
	for _, f := range shards {
		if err := os.Remove(filepath.Join(dir, runfolder.ManifestsDir, f)); err != nil {
			return fmt.Errorf("removing earlier shard manifest %s: %w", f, err)
		}
	}
	return nil
}

// PrepareShardDir makes sure dir can take shard s's results: it creates the
// folders, checks they are writable, and removes only this shard's earlier
// files (its parts, its temporaries and its manifest), never another
// shard's, since shards run at once into one folder. It also removes a merged
// manifest: once a shard reruns, the merged run is no longer complete until
// merged again.
func PrepareShardDir(dir string, s runfolder.Shard) error {
	if err := s.Valid(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, runfolder.ManifestsDir), 0o755); err != nil {
		return fmt.Errorf("output folder %s cannot be created: %w", dir, err)
	}
	// A probe per shard, so that shards starting together do not race.
	if err := makeDirs(dir, filepath.Join(dir, runfolder.ManifestsDir, "."+s.Name()+".write-test")); err != nil {
		return err
	}
	if err := runfolder.RemoveParts(dir, s.PartPrefix()+"-", nil); err != nil {
		return err
	}
	for _, f := range []string{filepath.Join(dir, s.ManifestPath()), filepath.Join(dir, runfolder.ManifestName)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing earlier manifest %s: %w", f, err)
		}
	}
	return nil
}

// makeDirs creates dir's table folders and checks dir is writable by
// writing and removing probe.
func makeDirs(dir, probe string) error {
	for _, t := range runfolder.Tables {
		if err := os.MkdirAll(filepath.Join(dir, t), 0o755); err != nil {
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
func Execute(ctx context.Context, sp *Spec) (*runfolder.Manifest, error) {
	var shard *runfolder.ShardRun
	if sp.Shard != nil {
		first, last := sp.Shard.Range(sp.Reps)
		if first == last {
			return nil, fmt.Errorf("shard %s has no replications: %d replications make at most %d shards", sp.Shard, sp.Reps, sp.Reps)
		}
		shard = &runfolder.ShardRun{Shard: *sp.Shard, FirstRep: first, LastRep: last}
	}
	if err := sp.Prepare(); err != nil {
		return nil, err
	}
	man := &runfolder.Manifest{
		Scenario: sp.Scenario, ScenarioName: sp.Scenario.Name, Seed: sp.Seed,
		Replications: sp.Reps, Years: sp.Years, Practices: len(sp.Model.Practices),
		Workers: sp.Workers, Command: sp.Command, Started: time.Now().UTC(),
		Shard: shard, Cohort: sp.Cohort,
	}
	man.RecordRisk(sp.Model)
	man.SetChunks([]runfolder.Chunk{})
	man.Versions(sp.Version)
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
