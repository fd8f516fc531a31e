package rundir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// RefusedError is Merge's refusal: the folder does not hold one complete
// sharded run. Problems lists every reason found, each naming the shard or
// file at fault and what to do.
type RefusedError struct {
	Dir      string
	Problems []string
}

func (e *RefusedError) Error() string {
	if len(e.Problems) == 1 {
		return fmt.Sprintf("cannot merge %s: %s", e.Dir, e.Problems[0])
	}
	return fmt.Sprintf("cannot merge %s:\n  - %s", e.Dir, strings.Join(e.Problems, "\n  - "))
}

// Merge checks that dir holds every shard of one run, each complete, and
// writes dir/manifest.json saying the merged run is complete, listing every
// shard's part files. The part files stay where the shards wrote them.
//
// It refuses (with a *RefusedError) a missing or incomplete shard, shards of
// different scenarios, seeds, replication or year counts, populations or
// program versions, a shard whose files are missing or whose rows do not
// add up, and part files that belong to no shard of the run.
//
// A folder that holds a complete single-process run (no shard manifests) is
// already whole: Merge returns its manifest and writes nothing.
func Merge(dir string) (*runfolder.Manifest, error) {
	refuse := func(p ...string) error { return &RefusedError{Dir: dir, Problems: p} }
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, refuse(fmt.Sprintf("no such folder (%v)", err))
	}
	names, err := runfolder.ShardManifests(dir)
	if err != nil {
		return nil, err
	}
	counts := map[int][]string{}
	for _, name := range names {
		sh, _ := runfolder.ShardOf(name)
		counts[sh.Count] = append(counts[sh.Count], name)
	}
	if len(counts) == 0 {
		if m, err := runfolder.ReadManifest(dir); err == nil && m.Completed && m.Shard == nil && m.Merged == nil {
			return m, nil
		}
		return nil, refuse(fmt.Sprintf("no shard manifests in %s: run the shards first (gpbudget run --shard I/N --out %s)",
			filepath.Join(dir, runfolder.ManifestsDir), dir))
	}
	if len(counts) > 1 {
		var ns []int
		for n := range counts {
			ns = append(ns, n)
		}
		sort.Ints(ns)
		var parts []string
		for _, n := range ns {
			parts = append(parts, fmt.Sprintf("%d shards (%s...)", n, counts[n][0]))
		}
		return nil, refuse(fmt.Sprintf("%s holds manifests of runs split into %s: remove the stale ones, or run into a fresh folder",
			filepath.Join(dir, runfolder.ManifestsDir), strings.Join(parts, " and ")))
	}
	var n int
	for k := range counts {
		n = k
	}

	var problems []string
	mans := make([]*runfolder.Manifest, n)
	var ref *runfolder.Manifest
	refShard := runfolder.Shard{}
	for i := range n {
		sh := runfolder.Shard{Index: i, Count: n}
		m, p := VerifyShard(dir, sh)
		problems = append(problems, p...)
		mans[i] = m
		if m != nil && ref == nil {
			ref, refShard = m, sh
		}
	}
	for i, m := range mans {
		if m != nil && m != ref {
			problems = append(problems, mismatches(runfolder.Shard{Index: i, Count: n}, m, refShard, ref)...)
		}
	}

	// Part files no shard manifest lists would be read with the run's (any
	// reader globs practice_years/*.parquet), so they must go.
	listed := map[string]bool{}
	for _, m := range mans {
		if m != nil {
			for _, f := range m.Files {
				listed[filepath.Clean(f)] = true
			}
		}
	}
	for _, table := range runfolder.Tables {
		parts, _ := runfolder.PartFiles(dir, table, "")
		for _, p := range parts {
			rel := filepath.Join(table, filepath.Base(p))
			if listed[rel] {
				continue
			}
			if sh, ok := runfolder.ShardOf(filepath.Base(p)); ok && sh.Count == n && (mans[sh.Index] == nil || !mans[sh.Index].Completed) {
				continue // reported above as the shard's own problem
			}
			problems = append(problems, fmt.Sprintf("%s belongs to no shard of this run (left by another run?): remove it, or run into a fresh folder", rel))
		}
	}
	if len(problems) > 0 {
		return nil, refuse(problems...)
	}

	merged := *ref
	merged.Shard, merged.Error = nil, ""
	merged.Merged = nil
	merged.Completed = true
	var chunks []runfolder.Chunk
	for i, m := range mans {
		chunks = append(chunks, m.Chunks...)
		merged.Merged = append(merged.Merged, runfolder.Shard{Index: i, Count: n}.ManifestPath())
		if m.Started.Before(merged.Started) {
			merged.Started = m.Started
		}
		if m.Ended.After(merged.Ended) {
			merged.Ended = m.Ended
		}
	}
	merged.SetChunks(chunks)
	if merged.Ended.IsZero() {
		merged.Ended = time.Now().UTC()
	}
	if err := merged.Write(dir); err != nil {
		return nil, err
	}
	return &merged, nil
}

// VerifyShard checks one shard of the run in dir: its manifest is there and
// describes the shard, says it completed, covers the shard's replications
// with the rows they make, and every file it lists exists. No problems means
// the shard is done: a resume can keep it, and only shards with problems need
// to run again. m is the shard's manifest when it could be read (even with
// problems), else nil.
func VerifyShard(dir string, sh runfolder.Shard) (m *runfolder.Manifest, problems []string) {
	path := filepath.Join(dir, sh.ManifestPath())
	m, err := runfolder.ReadManifestFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, []string{fmt.Sprintf("shard %s is missing (no %s): run it with --shard %s", sh, sh.ManifestPath(), sh)}
	}
	if err != nil {
		return nil, []string{fmt.Sprintf("shard %s: %v", sh, err)}
	}
	if m.Shard == nil || m.Shard.Shard != sh {
		return nil, []string{fmt.Sprintf("%s does not describe shard %s (it says %v): rerun shard %s", sh.ManifestPath(), sh, describeShard(m), sh)}
	}
	// Keep the scenario as written, so that a merged manifest shows it in
	// the same order as a single process's.
	var raw struct {
		Scenario json.RawMessage `json:"scenario"`
	}
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &raw) == nil && len(raw.Scenario) > 0 {
		m.Scenario = raw.Scenario
	}
	if !m.Completed {
		why := "it did not finish (still running, or killed)"
		if m.Error != "" {
			why = "it failed: " + m.Error
		}
		return m, []string{fmt.Sprintf("shard %s is incomplete, %s; rerun it: %s", sh, why, rerun(m, sh))}
	}
	first, last := sh.Range(m.Replications)
	if m.Shard.FirstRep != first || m.Shard.LastRep != last {
		problems = append(problems, fmt.Sprintf("shard %s ran replications [%d, %d) but its share of %d is [%d, %d); rerun it: %s",
			sh, m.Shard.FirstRep, m.Shard.LastRep, m.Replications, first, last, rerun(m, sh)))
	}
	if want := int64(m.Shard.LastRep-m.Shard.FirstRep) * int64(m.Years) * int64(m.Practices); m.Rows != want {
		problems = append(problems, fmt.Sprintf("shard %s wrote %d rows but its replications make %d; rerun it: %s", sh, m.Rows, want, rerun(m, sh)))
	}
	// Every file is checked against its size and checksum: a damaged or
	// swapped file would otherwise be merged into a run that says complete.
	var ce *runfolder.CorruptError
	if err := m.VerifyFiles(context.Background(), dir, m.Files); errors.As(err, &ce) {
		for _, p := range ce.Problems {
			problems = append(problems, fmt.Sprintf("shard %s's file %s; recompute it with: gpbudget run --resume %s --shard %s --recompute (or rerun it: %s)",
				sh, p, runfolder.ShellQuote(dir), sh, rerun(m, sh)))
		}
	} else if err != nil {
		problems = append(problems, fmt.Sprintf("shard %s: %v", sh, err))
	}
	// The chunks (parts with their replication ranges) tile the shard's share.
	next := m.Shard.FirstRep
	for _, c := range m.Chunks {
		if c.LedgerFile == "" {
			problems = append(problems, fmt.Sprintf("shard %s's part %s has no ledger file (written by an earlier version?); rerun it: %s", sh, c.File, rerun(m, sh)))
		}
		if c.FirstRep != next || c.LastRep < c.FirstRep {
			break
		}
		next = c.LastRep + 1
	}
	if next != m.Shard.LastRep {
		problems = append(problems, fmt.Sprintf("shard %s's files cover replications %d to %d, not its share %d to %d; rerun it: %s",
			sh, m.Shard.FirstRep, next-1, m.Shard.FirstRep, m.Shard.LastRep-1, rerun(m, sh)))
	}
	return m, problems
}

func describeShard(m *runfolder.Manifest) string {
	if m.Shard == nil {
		return "no shard"
	}
	return "shard " + m.Shard.String()
}

// rerun is the command that ran a shard, to rerun it; the shard is named in
// case the scheduler gave it.
func rerun(m *runfolder.Manifest, sh runfolder.Shard) string {
	if m.Command == "" {
		return "gpbudget run ... --shard " + sh.String()
	}
	if strings.Contains(m.Command, "--shard") {
		return m.Command
	}
	return m.Command + " --shard " + sh.String()
}

// mismatches lists how shard sh's manifest m differs from shard rs's ref in
// what makes the rows one run's.
func mismatches(sh runfolder.Shard, m *runfolder.Manifest, rs runfolder.Shard, ref *runfolder.Manifest) []string {
	var out []string
	const fix = "the shards are not one run; rerun shard %s like the others, or run into a fresh folder"
	for _, d := range runDiffs(m, ref) {
		if d.what == "" {
			out = append(out, fmt.Sprintf("shard %s's scenario %q has other parameters than shard %s's: "+fix, sh, m.ScenarioName, rs, sh))
			continue
		}
		out = append(out, fmt.Sprintf("shard %s has %s %v but shard %s has %v: "+fix, sh, d.what, d.got, rs, d.want, sh))
	}
	return out
}

// runDiff is one way two manifests describe different runs: what differs
// ("" for the scenario's parameters) and the two values.
type runDiff struct {
	what      string
	got, want any
}

// runDiffs lists how m's run differs from ref's in what makes its rows:
// two runs with none give identical rows.
func runDiffs(m, ref *runfolder.Manifest) []runDiff {
	var out []runDiff
	diff := func(what string, got, want any) { out = append(out, runDiff{what, got, want}) }
	if m.ScenarioName != ref.ScenarioName {
		diff("scenario", strconv.Quote(m.ScenarioName), strconv.Quote(ref.ScenarioName))
	} else if !sameScenario(m.Scenario, ref.Scenario) {
		diff("", nil, nil)
	}
	if m.Seed != ref.Seed {
		diff("seed", m.Seed, ref.Seed)
	}
	if m.Replications != ref.Replications {
		diff("replication count", m.Replications, ref.Replications)
	}
	if m.Years != ref.Years {
		diff("year count", m.Years, ref.Years)
	}
	if m.Practices != ref.Practices {
		diff("practice count", m.Practices, ref.Practices)
	}
	if m.Program != ref.Program || m.Version != ref.Version {
		diff("program version", m.Program+" "+m.Version, ref.Program+" "+ref.Version)
	}
	if m.Cohort != ref.Cohort {
		diff("simulation mode (cohort)", fmt.Sprint(m.Cohort), fmt.Sprint(ref.Cohort))
	}
	if m.GonumVersion != ref.GonumVersion {
		diff("gonum version", m.GonumVersion, ref.GonumVersion)
	}
	return out
}

// sameScenario compares two resolved scenarios as JSON, leaving out the
// seed, replication and year counts, which are compared (and named) on
// their own.
func sameScenario(a, b any) bool {
	norm := func(v any) ([]byte, error) {
		j, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil {
			return j, nil
		}
		delete(m, "seed")
		delete(m, "replications")
		delete(m, "years")
		return json.Marshal(m)
	}
	ja, err1 := norm(a)
	jb, err2 := norm(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}
