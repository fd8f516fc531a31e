package rundir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
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

// Damaged lists the problems of each chunk of r whose files in dir do not
// match the manifest (missing, truncated, damaged or replaced), by chunk
// index; none for a run whose files are all as recorded.
func (r *Resumable) Damaged(ctx context.Context, dir string) (map[int][]string, error) {
	out := map[int][]string{}
	var ce *runfolder.CorruptError
	err := r.Manifest.VerifyFiles(ctx, dir, r.Manifest.Files)
	if err == nil {
		return out, nil
	}
	if !errors.As(err, &ce) {
		return nil, err
	}
	// Which chunks: the few damaged ones are checked again on their own
	// (a file that matched is not hashed twice).
	for i, c := range r.Manifest.Chunks {
		if p := runfolder.VerifyChunk(dir, c); len(p) > 0 {
			out[i] = p
		}
	}
	return out, nil
}

// Recompute runs again the replications of each damaged chunk of a
// complete run (or shard) r into the same part files, so they hold what the
// run wrote: every replication's rows depend only on the scenario, seed and
// replication. The new files' checksums normally equal the recorded ones;
// where they do not (the manifest was edited, or this binary was built
// with another Go or library version, whose files carry its version), the
// manifest records the new ones. A merged run's shard manifests are
// updated with it. It returns the files recomputed and how many of them
// came out identical to the record.
func Recompute(ctx context.Context, sp *Spec, r *Resumable, damaged map[int][]string) (files []string, identical int, err error) {
	man := r.Manifest
	if !man.Completed {
		return nil, 0, fmt.Errorf("%s is not complete: finish it with --resume (it recomputes what is damaged as it goes)", sp.Dir)
	}
	sp.Seed, sp.Reps, sp.Years, sp.Cohort = man.Seed, man.Replications, man.Years, man.Cohort
	idx := make([]int, 0, len(damaged))
	for i := range damaged {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	for _, i := range idx {
		c := man.Chunks[i]
		prefix, n, ok := runfolder.ParsePart(c.File)
		if !ok || c.LastRep < c.FirstRep || c.LedgerFile == "" || runfolder.PartPath(runfolder.Ledger, prefix, n) != filepath.Clean(c.LedgerFile) {
			return files, identical, fmt.Errorf("%s: the manifest's part %s cannot be recomputed (written by an earlier version?): run the scenario again into a new folder", sp.Dir, c.File)
		}
		// A shard's part carries the shard's metadata.
		sp.Shard = nil
		if man.Shard != nil {
			sp.Shard = &man.Shard.Shard
		}
		if sh, ok := runfolder.ShardOf(filepath.Base(c.File)); ok {
			sp.Shard = &sh
		}
		got, err := recomputeChunk(ctx, sp, prefix, n, c)
		if err != nil {
			return files, identical, err
		}
		files = append(files, c.File, c.LedgerFile)
		if got.SHA256 == c.SHA256 && got.LedgerSHA256 == c.LedgerSHA256 {
			identical++
			continue
		}
		man.Chunks[i] = got
		// The other manifest that records the part: a merged run's shard
		// manifest, or a shard's merged run.
		other := filepath.Join(sp.Dir, runfolder.ManifestName)
		if man.Merged != nil {
			other = filepath.Join(sp.Dir, sp.Shard.ManifestPath())
		}
		if err := replaceChunk(other, got, man.Merged != nil); err != nil {
			return files, identical, err
		}
	}
	if identical < len(idx) {
		man.SetChunks(man.Chunks)
		if err := man.Write(sp.Dir); err != nil {
			return files, identical, err
		}
	}
	return files, identical, nil
}

// recomputeChunk runs chunk c's replications into part n of prefix.
func recomputeChunk(ctx context.Context, sp *Spec, prefix string, n int, c runfolder.Chunk) (runfolder.Chunk, error) {
	meta, err := Meta(sp)
	if err != nil {
		return runfolder.Chunk{}, err
	}
	w, err := runfolder.NewWriter(sp.Dir, prefix, n, sp.Model, meta)
	if err != nil {
		return runfolder.Chunk{}, err
	}
	err = sim.Run(ctx, sp.Model, sim.Options{Seed: sp.Seed, FirstRep: c.FirstRep, LastRep: c.LastRep + 1, Years: sp.Years,
		Workers: sp.Workers, Progress: sp.Progress, Cohort: sp.Cohort}, w)
	if err != nil {
		w.Abort()
		return runfolder.Chunk{}, fmt.Errorf("recomputing %s: %w", c.File, err)
	}
	if err := w.Close(); err != nil {
		return runfolder.Chunk{}, err
	}
	if len(w.Chunks) != 1 || w.Chunks[0].File != filepath.Clean(c.File) || w.Chunks[0].Rows != c.Rows {
		return runfolder.Chunk{}, fmt.Errorf("recomputing %s gave %d parts (%v), not the one recorded with %d rows: run the scenario again into a new folder", c.File, len(w.Chunks), w.Chunks, c.Rows)
	}
	return w.Chunks[0], nil
}

// replaceChunk records chunk c (recomputed) in the manifest at path, if
// it lists c's file: a shard's manifest (must, when it is the shard of a
// merged run's part), or a shard's merged run.
func replaceChunk(path string, c runfolder.Chunk, must bool) error {
	m, err := runfolder.ReadManifestFile(path)
	if errors.Is(err, os.ErrNotExist) && !must {
		return nil
	}
	if err != nil {
		return err
	}
	for i := range m.Chunks {
		if filepath.Clean(m.Chunks[i].File) == filepath.Clean(c.File) {
			m.Chunks[i] = c
			m.SetChunks(m.Chunks)
			return runfolder.WriteManifestFile(path, m)
		}
	}
	if must {
		return fmt.Errorf("%s does not list %s, which the merged manifest gives as its shard's", path, c.File)
	}
	return nil
}
