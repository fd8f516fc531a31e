package output

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
	// CheckpointEvery ends part files at replication boundaries this often
	// (zero: only by size), bounding the work an interruption loses.
	CheckpointEvery time.Duration
	// Shard, when set, runs only the shard's share of the Reps replications,
	// into the shard's own files and manifest (see Shard).
	Shard *Shard
	// Cohort simulates practices from group counts (sim.Options.Cohort);
	// its results differ from patient level, so the manifest records it.
	Cohort bool
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
	if err := os.MkdirAll(filepath.Join(dir, "practice_years"), 0o755); err != nil {
		return fmt.Errorf("output folder %s cannot be created: %w", dir, err)
	}
	probe := filepath.Join(dir, ".gpbudget-write-test")
	if err := os.WriteFile(probe, []byte("x"), 0o644); err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	os.Remove(probe)
	old, _ := filepath.Glob(filepath.Join(dir, "practice_years", "*.parquet"))
	tmp, _ := filepath.Glob(filepath.Join(dir, "practice_years", ".*.tmp"))
	for _, f := range append(old, tmp...) {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("removing earlier result %s: %w", f, err)
		}
	}
	if err := os.Remove(filepath.Join(dir, ManifestName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing earlier manifest: %w", err)
	}
	shards, _ := filepath.Glob(filepath.Join(dir, ManifestsDir, "shard-*.json"))
	for _, f := range shards {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("removing earlier shard manifest %s: %w", f, err)
		}
	}
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
		"gpbudget.go_version":    goVersion(),
		"gpbudget.gonum_version": DepVersion("gonum.org/v1/gonum"),
	}
	if sp.Shard != nil {
		first, last := sp.Shard.Range(sp.Reps)
		meta["gpbudget.shard"] = sp.Shard.String()
		meta["gpbudget.shard_replications"] = fmt.Sprintf("%d-%d", first, last-1)
	}
	return meta, nil
}

// Execute runs a spec into its folder: part files under practice_years/, and
// a manifest written first as incomplete, updated as each file lands, and
// finally replaced by one that says the run completed.
//
// With sp.Shard set it runs the shard's replications only, into part files
// named shard-IIII-of-NNNN-part-NNNNN.parquet and the manifest
// manifests/shard-IIII-of-NNNN.json; 'gpbudget merge' (Merge) joins the
// shards.
func Execute(ctx context.Context, sp *Spec) (*Manifest, error) {
	var shard *ShardRun
	if sp.Shard != nil {
		first, last := sp.Shard.Range(sp.Reps)
		if first == last {
			return nil, fmt.Errorf("shard %s has no replications: %d replications make at most %d shards", sp.Shard, sp.Reps, sp.Reps)
		}
		shard = &ShardRun{Shard: *sp.Shard, FirstRep: first, LastRep: last}
	}
	if err := sp.Prepare(); err != nil {
		return nil, err
	}
	man := &Manifest{
		Scenario: sp.Scenario, ScenarioName: sp.Scenario.Name, Seed: sp.Seed,
		Replications: sp.Reps, Years: sp.Years, Practices: len(sp.Model.Practices),
		Workers: sp.Workers, Command: sp.Command, Started: time.Now().UTC(), Files: []string{}, Chunks: []Chunk{},
		Shard: shard, Cohort: sp.Cohort,
	}
	man.Versions(sp.Version)
	if err := man.Write(sp.Dir); err != nil {
		return nil, err
	}
	return execute(ctx, sp, man)
}

// execute runs the replications after those in man.Chunks and appends files;
// for a shard, only up to the end of the shard's share.
func execute(ctx context.Context, sp *Spec, man *Manifest) (*Manifest, error) {
	meta, err := Meta(sp)
	if err != nil {
		return nil, err
	}
	prefix, first, last := "part", 0, sp.Reps
	if man.Shard != nil {
		prefix, first, last = man.Shard.partPrefix(), man.Shard.FirstRep, man.Shard.LastRep
	}
	w, err := NewPracticeYears(sp.Dir, prefix, sp.Model, meta)
	if err != nil {
		return nil, err
	}
	w.Chunks, w.Rows = man.Chunks, man.Rows
	w.StartAt(len(man.Chunks))
	if n := len(man.Chunks); n > 0 {
		first = man.Chunks[n-1].LastRep + 1
	}
	w.CheckpointEvery = sp.CheckpointEvery
	// Each finished file is recorded at once, so a manifest always lists
	// exactly the complete files.
	w.OnChunk = func(Chunk) error {
		man.Files, man.Chunks, man.Rows = w.Files(), w.Chunks, w.Rows
		return man.Write(sp.Dir)
	}
	var runErr error
	if first < last {
		runErr = sim.Run(ctx, sp.Model, sim.Options{
			Seed: sp.Seed, FirstRep: first, LastRep: last, Years: sp.Years,
			Workers: sp.Workers, Progress: sp.Progress, Cohort: sp.Cohort,
		}, w)
	}
	if runErr == nil {
		runErr = w.Close()
	} else {
		w.Abort()
	}
	man.Files, man.Chunks, man.Rows = w.Files(), w.Chunks, w.Rows
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

func goVersion() string { return strings.TrimSpace(runtimeVersion()) }
