package rundir

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// FolderError is a refusal to run into a folder: it holds another run, or
// files that are not gpbudget's. Nothing in the folder was changed.
type FolderError struct {
	Dir      string
	Problems []string
	Hint     string
}

func (e *FolderError) Error() string {
	msg := fmt.Sprintf("output folder %s: %s", e.Dir, strings.Join(e.Problems, ";\n  "))
	if e.Hint != "" {
		msg += "\n" + e.Hint
	}
	return msg
}

// Cleared is what Prepare did to a folder that already held files.
type Cleared struct {
	Removed []string // an earlier run's files (relative to the folder)
	Kept    []string // files that are not gpbudget's, left where they were
}

// Prepare makes sure the spec's folder can take its results without losing
// anything. A folder that does not exist, or is empty, is used as it is. A
// run may replace its own earlier attempt: the same run (scenario, seed,
// size, mode and program version: the same rows) into the same place, and a
// shard may share the folder with the other shards of its run. Anything
// else (another run, another run's shards, files that are not gpbudget's)
// is refused with a *FolderError, changing nothing, unless sp.Force is set.
// Even then Prepare removes only what gpbudget wrote: the files earlier
// runs' manifests list, the manifests, temporary files, and sp.Derived;
// other files stay, and a Parquet file that is not an earlier run's in a
// table folder (readers that glob it would mix it in) is refused.
//
// A shard never removes another shard's files of its own count, even with
// Force: those shards may be running into the folder now, and each replaces
// its own.
func (sp *Spec) Prepare() (*Cleared, error) {
	if sp.Dir == "" {
		return nil, &FolderError{Dir: `""`, Problems: []string{"no output folder given (an empty --out, as an unset shell variable gives)"}, Hint: "Name the folder, e.g. --out results."}
	}
	if sp.Shard != nil {
		if err := sp.Shard.Valid(); err != nil {
			return nil, err
		}
	}
	c, err := runfolder.Inspect(sp.Dir)
	if err != nil {
		return nil, &FolderError{Dir: sp.Dir, Problems: []string{err.Error()}}
	}
	plan := sp.plan(c)
	if len(plan.refuse) > 0 && !sp.Force {
		return nil, &FolderError{Dir: sp.Dir, Problems: plan.refuse, Hint: plan.hint}
	}
	if len(plan.mixed) > 0 {
		return nil, &FolderError{Dir: sp.Dir, Problems: plan.mixed,
			Hint: "--force removes only files gpbudget wrote and its manifests list; move these out of the folder first."}
	}
	if err := runfolder.Remove(sp.Dir, plan.remove); err != nil {
		return nil, err
	}
	// Summary tables of an earlier run; their folder too if nothing else is in it.
	os.Remove(filepath.Join(sp.Dir, runfolder.SummaryDir))
	if err := makeDirs(sp.Dir, runfolder.ProbePath(sp.Dir, sp.Shard)); err != nil {
		return nil, &FolderError{Dir: sp.Dir, Problems: []string{err.Error()}}
	}
	return &Cleared{Removed: plan.remove, Kept: plan.kept}, nil
}

// folderPlan is what Prepare would do to a folder: files to remove,
// reasons to refuse without Force, files to keep (not gpbudget's), and
// files that refuse the folder even with Force.
type folderPlan struct {
	remove, refuse, kept, mixed []string
	hint                        string
}

// plan sorts the folder's entries by whose they are (see Prepare).
func (sp *Spec) plan(c *runfolder.Contents) folderPlan {
	var p folderPlan
	if !c.Exists {
		return p
	}
	want := sp.manifest()
	same := func(m *runfolder.Manifest) bool { return m != nil && len(runDiffs(m, want)) == 0 }
	var others []string // earlier runs found, described
	var foreign []string

	// The folder's own manifest: a single-process run's, or a merged
	// sharded run's (which a shard of the same run makes stale).
	runOurs := false
	switch m := c.Run; {
	case c.RunErr != nil:
		others = append(others, fmt.Sprintf("a %s that cannot be read (%v)", runfolder.ManifestName, c.RunErr))
	case m == nil:
	case sp.Shard == nil && m.Shard == nil && m.Merged == nil && same(m):
		runOurs = true
	case sp.Shard != nil && m.Merged != nil && same(m):
		runOurs = true
	default:
		others = append(others, describe(m))
		if !m.Completed && m.Shard == nil && m.Merged == nil {
			p.hint = "To finish that run instead: gpbudget run --resume " + runfolder.ShellQuote(sp.Dir) + "\n"
		}
	}
	// Shards' manifests: this shard's own earlier attempt, the other
	// shards of its run (left alone), anything else.
	shardOurs := map[runfolder.Shard]bool{}
	var runs []string                    // other runs' descriptions, in order found
	shardsOf := map[string][]string{}    // description -> its shards
	firstStart := map[string]time.Time{} // description -> its first shard's start
	manOf := map[string]*runfolder.Manifest{}
	for _, sh := range sortedShards(c) {
		m := c.Shards[sh]
		sibling := sp.Shard != nil && sh.Count == sp.Shard.Count
		switch {
		case sibling && same(m):
			shardOurs[sh] = true
		case m == nil:
			others = append(others, fmt.Sprintf("shard %s's manifest, which cannot be read (%v)", sh, c.ShardErrs[sh]))
		default:
			// Shards of one run are grouped by what the run is, not when
			// each shard started: separate jobs start at different times.
			d := describeAt(m, time.Time{})
			if shardsOf[d] == nil {
				runs = append(runs, d)
				firstStart[d], manOf[d] = m.Started, m
			}
			if m.Started.Before(firstStart[d]) {
				firstStart[d] = m.Started
			}
			shardsOf[d] = append(shardsOf[d], sh.String())
		}
	}
	for _, d := range runs {
		sh := shardsOf[d]
		desc := describeAt(manOf[d], firstStart[d])
		if len(sh) == 1 {
			others = append(others, fmt.Sprintf("shard %s of %s", sh[0], desc))
			continue
		}
		others = append(others, fmt.Sprintf("shards %s and %s of %s", strings.Join(sh[:len(sh)-1], ", "), sh[len(sh)-1], desc))
	}
	listed := map[string]bool{}
	if c.Run != nil {
		for _, f := range c.Run.Files {
			listed[filepath.Clean(f)] = true
		}
	}
	for _, m := range c.Shards {
		for _, f := range m.Files {
			listed[filepath.Clean(f)] = true
		}
	}
	derived := map[string]bool{}
	for _, d := range sp.Derived {
		derived[filepath.Clean(d)] = true
	}
	unlisted := func(rel string) {
		p.mixed = append(p.mixed, fmt.Sprintf("%s is a result file that no manifest lists, so it would be read with this run's", rel))
		foreign = append(foreign, rel)
	}
	for _, rel := range c.Entries {
		if c.IsEmptyDir(rel) {
			continue
		}
		clean := filepath.Clean(rel)
		whose, sh := runfolder.OwnerOf(clean)
		tmp := runfolder.IsTemporary(clean)
		switch whose {
		case runfolder.Probe:
			p.remove = append(p.remove, rel)
		case runfolder.RunManifest: // refused above unless ours
			p.remove = append(p.remove, rel)
		case runfolder.SinglePart:
			switch {
			case tmp, listed[clean], runOurs && sp.Shard == nil:
				p.remove = append(p.remove, rel)
			default:
				unlisted(rel)
			}
		case runfolder.ShardFile:
			own := sp.Shard != nil && sh == *sp.Shard
			switch {
			case sp.Shard != nil && sh.Count == sp.Shard.Count && !own:
				// Another shard of this count: running now, or to be
				// replaced by its own rerun (another run's is refused above).
			case own && (shardOurs[sh] || c.Shards[sh] == nil && c.ShardErrs[sh] == nil):
				p.remove = append(p.remove, rel) // this shard's own earlier attempt
			case tmp, listed[clean], clean == sh.ManifestPath():
				p.remove = append(p.remove, rel)
			default:
				unlisted(rel)
			}
		default:
			base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(clean), "."), ".tmp")
			if derived[clean] || tmp && derived[filepath.Join(filepath.Dir(clean), base)] {
				p.remove = append(p.remove, rel)
				if c.Run == nil && c.RunErr == nil && len(c.Shards)+len(c.ShardErrs) == 0 {
					foreign = append(foreign, rel) // a summary of no run here
				}
				continue
			}
			foreign = append(foreign, rel)
			p.kept = append(p.kept, rel)
			if t := filepath.Dir(clean); (t == runfolder.PracticeYears || t == runfolder.Ledger) && strings.HasSuffix(clean, ".parquet") {
				p.mixed = append(p.mixed, fmt.Sprintf("%s is not gpbudget's, and would be read with this run's files", rel))
			}
		}
	}
	for _, o := range others {
		p.refuse = append(p.refuse, "it holds "+o)
	}
	if len(foreign) > 0 {
		const most = 5
		list := strings.Join(foreign[:min(most, len(foreign))], ", ")
		if len(foreign) > most {
			list += fmt.Sprintf(" and %d more", len(foreign)-most)
		}
		p.refuse = append(p.refuse, "it holds files that are not this run's: "+list)
	}
	if len(p.refuse) > 0 {
		p.hint += "Use a new or empty --out folder, or add --force to replace what is there: it removes only files gpbudget wrote (those its manifests list, and summaries of them) and keeps any other file."
	}
	return p
}

// sortedShards lists the shards whose manifests c found, readable or not.
func sortedShards(c *runfolder.Contents) []runfolder.Shard {
	var out []runfolder.Shard
	for sh := range c.Shards {
		out = append(out, sh)
	}
	for sh := range c.ShardErrs {
		out = append(out, sh)
	}
	slices.SortFunc(out, func(a, b runfolder.Shard) int {
		if a.Count != b.Count {
			return a.Count - b.Count
		}
		return a.Index - b.Index
	})
	return out
}

// describe says which run m is, for a refusal.
func describe(m *runfolder.Manifest) string { return describeAt(m, m.Started) }

// describeAt says which run m is, as if it started at started; with the
// zero time it says so without a start (the key shards of one run share).
func describeAt(m *runfolder.Manifest, started time.Time) string {
	state := "complete"
	if !m.Completed {
		state = fmt.Sprintf("incomplete: %d of %d replications", m.DoneReps(), m.Replications)
		if m.Shard != nil {
			state = "incomplete"
		}
	}
	what := "a run"
	if m.Merged != nil {
		what = fmt.Sprintf("a run merged from %d shards", len(m.Merged))
	}
	if !started.IsZero() {
		state += ", started " + started.Format("2006-01-02 15:04 MST")
	}
	return fmt.Sprintf("%s of scenario %q, seed %d, %d replications x %d years (%s)",
		what, m.ScenarioName, m.Seed, m.Replications, m.Years, state)
}

// manifest is the manifest a run of sp starts with.
func (sp *Spec) manifest() *runfolder.Manifest {
	var shard *runfolder.ShardRun
	if sp.Shard != nil {
		first, last := sp.Shard.Range(sp.Reps)
		shard = &runfolder.ShardRun{Shard: *sp.Shard, FirstRep: first, LastRep: last}
	}
	man := &runfolder.Manifest{
		Scenario: sp.Scenario, ScenarioName: sp.Scenario.Name, Seed: sp.Seed,
		Replications: sp.Reps, Years: sp.Years, Practices: len(sp.Model.Practices),
		Workers: sp.Workers, Command: sp.Command, Shard: shard, Cohort: sp.Cohort,
	}
	man.RecordRisk(sp.Model)
	man.SetChunks([]runfolder.Chunk{})
	man.Versions(sp.Version)
	return man
}
