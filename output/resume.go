package output

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gpbudget/gpbudget/scenarios"
)

// Resumable is an interrupted run read back from its folder: the scenario as
// the manifest recorded it, and the manifest.
type Resumable struct {
	Scenario *scenarios.Scenario
	Manifest *Manifest
}

// OpenResume reads DIR's manifest for resuming. It refuses a run made by
// another program version (its results could differ) and a manifest that
// lacks what a resume needs.
func OpenResume(dir, version string) (*Resumable, error) {
	man, err := ReadManifest(dir)
	if err != nil {
		if shards, _ := filepath.Glob(filepath.Join(dir, ManifestsDir, "shard-*.json")); len(shards) > 0 {
			return nil, fmt.Errorf("%s holds a sharded run: resume each shard with --resume %s --shard I/N (or as its Slurm array task or Kubernetes pod), then gpbudget merge %s", dir, dir, dir)
		}
		return nil, fmt.Errorf("%s cannot be resumed: %w", dir, err)
	}
	return openResume(dir, version, man, filepath.Join(dir, ManifestName))
}

// OpenShardResume reads shard sh's manifest in DIR for resuming the shard
// alone, as OpenResume does for a whole run.
func OpenShardResume(dir, version string, sh Shard) (*Resumable, error) {
	path := filepath.Join(dir, sh.ManifestPath())
	man, err := readManifestFile(path)
	if err != nil {
		return nil, fmt.Errorf("shard %s of %s cannot be resumed (run it afresh with --shard %s): %w", sh, dir, sh, err)
	}
	if man.Shard == nil || man.Shard.Shard != sh {
		return nil, fmt.Errorf("%s does not describe shard %s: run the shard afresh with --shard %s", path, sh, sh)
	}
	return openResume(dir, version, man, path)
}

func openResume(dir, version string, man *Manifest, path string) (*Resumable, error) {
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

// Resume finishes an interrupted run: it keeps the files the manifest lists
// whose checksums still match (in replication order, up to the first that
// does not), removes every other part or temporary file, and runs the
// remaining replications. Because every replication's rows depend only on
// the scenario, seed and replication, the result equals an uninterrupted run.
// sp.Scenario and sp.Model must be built from r.Scenario.
func Resume(ctx context.Context, sp *Spec, r *Resumable) (*Manifest, error) {
	man := r.Manifest
	keep := []Chunk{}
	next, prefix := 0, ""
	if man.Shard != nil {
		// A shard keeps and removes only its own files: other shards may be
		// running into the same folder.
		next, prefix = man.Shard.FirstRep, man.Shard.partPrefix()+"-"
		sp.Shard = &man.Shard.Shard
	}
	for _, c := range man.Chunks {
		if c.FirstRep != next || c.LastRep < c.FirstRep || !checksumOK(filepath.Join(sp.Dir, c.File), c.SHA256) {
			break
		}
		keep = append(keep, c)
		next = c.LastRep + 1
	}
	kept := map[string]bool{}
	rows := int64(0)
	for _, c := range keep {
		kept[filepath.Base(c.File)] = true
		rows += c.Rows
	}
	others, _ := filepath.Glob(filepath.Join(sp.Dir, "practice_years", prefix+"*.parquet"))
	tmps, _ := filepath.Glob(filepath.Join(sp.Dir, "practice_years", "."+prefix+"*.tmp"))
	for _, f := range append(others, tmps...) {
		if !kept[filepath.Base(f)] {
			if err := os.Remove(f); err != nil {
				return nil, fmt.Errorf("removing incomplete result %s: %w", f, err)
			}
		}
	}
	man.Chunks, man.Rows, man.Completed, man.Error = keep, rows, false, ""
	man.Files = []string{}
	for _, c := range keep {
		man.Files = append(man.Files, c.File)
	}
	man.Workers, man.Command = sp.Workers, sp.Command
	man.Resumed = append(man.Resumed, time.Now().UTC())
	if err := man.Write(sp.Dir); err != nil {
		return nil, err
	}
	sp.Seed, sp.Reps, sp.Years, sp.Cohort = man.Seed, man.Replications, man.Years, man.Cohort
	return execute(ctx, sp, man)
}

func checksumOK(path, want string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == want
}

// ErrIncomplete is returned (wrapped) for a run folder whose manifest does
// not say the run completed.
var ErrIncomplete = errors.New("run is incomplete")

// RequireComplete checks that DIR holds a completed run; otherwise it says
// what is missing and how to finish it.
func RequireComplete(dir string) (*Manifest, error) {
	man, err := ReadManifest(dir)
	if err != nil {
		if shards, _ := filepath.Glob(filepath.Join(dir, ManifestsDir, "shard-*.json")); len(shards) > 0 {
			return nil, fmt.Errorf("%w: %s holds shards of a run that are not merged: check and merge them with: gpbudget merge %s", ErrIncomplete, dir, dir)
		}
		return nil, fmt.Errorf("%s holds no finished run: %w", dir, err)
	}
	if !man.Completed {
		done := 0
		if n := len(man.Chunks); n > 0 {
			done = man.Chunks[n-1].LastRep + 1
		}
		why := "it was interrupted or is still running"
		if man.Error != "" {
			why = "it stopped: " + man.Error
		}
		return man, fmt.Errorf("%w: %s/%s says completed: false (%s); %d of %d replications are complete; finish it with: gpbudget run --resume %s",
			ErrIncomplete, dir, ManifestName, why, done, man.Replications, dir)
	}
	return man, nil
}
