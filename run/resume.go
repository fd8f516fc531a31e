package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gpbudget/gpbudget/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
)

// Resumable is an interrupted run read back from its folder: the scenario as
// the manifest recorded it, and the manifest.
type Resumable struct {
	Scenario *scenarios.Scenario
	Manifest *runfolder.Manifest
}

// OpenResume reads DIR's manifest for resuming. It refuses a run made by
// another program version (its results could differ) and a manifest that
// lacks what a resume needs.
func OpenResume(dir, version string) (*Resumable, error) {
	man, err := runfolder.ReadManifest(dir)
	if err != nil {
		if shards, _ := runfolder.ShardManifests(dir); len(shards) > 0 {
			return nil, fmt.Errorf("%s holds a sharded run: resume each shard with --resume %s --shard I/N (or as its Slurm array task or Kubernetes pod), then gpbudget merge %s", dir, dir, dir)
		}
		return nil, fmt.Errorf("%s cannot be resumed: %w", dir, err)
	}
	return openResume(dir, version, man, filepath.Join(dir, runfolder.ManifestName))
}

// OpenShardResume reads shard sh's manifest in DIR for resuming the shard
// alone, as OpenResume does for a whole run.
func OpenShardResume(dir, version string, sh runfolder.Shard) (*Resumable, error) {
	path := filepath.Join(dir, sh.ManifestPath())
	man, err := runfolder.ReadManifestFile(path)
	if err != nil {
		return nil, fmt.Errorf("shard %s of %s cannot be resumed (run it afresh with --shard %s): %w", sh, dir, sh, err)
	}
	if man.Shard == nil || man.Shard.Shard != sh {
		return nil, fmt.Errorf("%s does not describe shard %s: run the shard afresh with --shard %s", path, sh, sh)
	}
	return openResume(dir, version, man, path)
}

// OpenExisting opens the run (or shard) already in dir for resuming; nil
// when dir holds none.
func OpenExisting(dir, version string, shard *runfolder.Shard) (*Resumable, error) {
	path := filepath.Join(dir, runfolder.ManifestName)
	if shard != nil {
		path = filepath.Join(dir, shard.ManifestPath())
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if shard != nil {
		return OpenShardResume(dir, version, *shard)
	}
	return OpenResume(dir, version)
}

func openResume(dir, version string, man *runfolder.Manifest, path string) (*Resumable, error) {
	if man.Version != version {
		return nil, fmt.Errorf("%s was written by gpbudget %s and this is %s: resume it with %s, or start again", dir, man.Version, version, man.Version)
	}
	if man.Scenario == nil || man.Replications < 1 || man.Years < 1 {
		return nil, fmt.Errorf("%s: manifest has no scenario or run size to resume", dir)
	}
	// The resolved scenario was written as JSON, which is YAML, so the
	// ordinary loader validates it again.
	b, err := json.Marshal(man.Scenario)
	if err != nil {
		return nil, fmt.Errorf("%s: manifest scenario: %w", dir, err)
	}
	s, err := scenarios.Parse(b, path)
	if err != nil {
		return nil, err
	}
	if s.Seed != man.Seed || s.Replications != man.Replications || s.Years != man.Years {
		return nil, fmt.Errorf("%s: manifest's scenario (seed %d, %d replications, %d years) disagrees with its run (seed %d, %d, %d)",
			dir, s.Seed, s.Replications, s.Years, man.Seed, man.Replications, man.Years)
	}
	return &Resumable{Scenario: s, Manifest: man}, nil
}

// SameRun checks that r is the run the caller asks for: the same resolved
// scenario (seed, size and every parameter) and mode. A restarted job uses it
// to decide whether its folder holds its own interrupted run.
func (r *Resumable) SameRun(s *scenarios.Scenario, cohort bool) error {
	a, err := r.Scenario.YAML()
	if err != nil {
		return err
	}
	b, err := s.YAML()
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("it holds a different run (scenario %q, seed %d, %d replications, %d years)",
			r.Scenario.Name, r.Manifest.Seed, r.Manifest.Replications, r.Manifest.Years)
	}
	if r.Manifest.Cohort != cohort {
		return fmt.Errorf("it holds a run with cohort mode %v", r.Manifest.Cohort)
	}
	return nil
}

// Resume finishes an interrupted run: it keeps the parts the manifest lists
// whose files all still match their checksums (in replication order, up to
// the first that does not), removes every other part or temporary file, and
// runs the remaining replications. Because every replication's results
// depend only on the scenario, seed and replication, the result equals an
// uninterrupted run. sp.Scenario and sp.Model must be built from r.Scenario.
func Resume(ctx context.Context, sp *Spec, r *Resumable) (*runfolder.Manifest, error) {
	man := r.Manifest
	keep := []runfolder.Chunk{}
	next, prefix := 0, ""
	if man.Shard != nil {
		// A shard keeps and removes only its own files: other shards may be
		// running into the same folder.
		next, prefix = man.Shard.FirstRep, man.Shard.PartPrefix()+"-"
		sp.Shard = &man.Shard.Shard
	}
	for _, c := range man.Chunks {
		if c.FirstRep != next || c.LastRep < c.FirstRep || c.LedgerFile == "" || c.Verify(sp.Dir) != nil {
			break
		}
		keep = append(keep, c)
		next = c.LastRep + 1
	}
	kept := map[string]bool{}
	for _, c := range keep {
		for _, f := range c.Files() {
			kept[f.Path] = true
		}
	}
	if err := runfolder.RemoveParts(sp.Dir, prefix, kept); err != nil {
		return nil, err
	}
	man.SetChunks(keep)
	man.Completed, man.Error = false, ""
	man.Workers, man.Command = sp.Workers, sp.Command
	man.Resumed = append(man.Resumed, time.Now().UTC())
	if err := man.Write(sp.Dir); err != nil {
		return nil, err
	}
	sp.Seed, sp.Reps, sp.Years, sp.Cohort = man.Seed, man.Replications, man.Years, man.Cohort
	return execute(ctx, sp, man)
}
