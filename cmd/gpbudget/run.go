package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
)

func runCommand() *cli.Command {
	o := &runOptions{}
	return &cli.Command{
		Name:  "run",
		Usage: "run a scenario's Monte Carlo simulation and write Parquet results",
		Description: "With no flags, runs the built-in default scenario (50 practices, about 300,000\n" +
			"patients) and writes ./results. Results are identical for the same scenario and\n" +
			"seed whatever the number of workers.\n\n" +
			"Sharded runs: N processes (a Slurm job array, a Kubernetes Indexed Job, or by hand\n" +
			"with --shard I/N) each run a share of the replications into the same --out folder,\n" +
			"with their own part files and manifest; 'gpbudget merge DIR' then checks them and\n" +
			"marks the run complete. The rows equal a single process's, row for row. A shard\n" +
			"resumes on its own: --resume DIR with the same shard.",
		Flags: append(append([]cli.Flag{
			scenarioFlag(&o.scenario, "default", "scenario `FILE|NAME` (see 'gpbudget scenarios')")},
			o.sizes.flags("replications `N` (default: the scenario's)", "budget years `N` after the base year (default: the scenario's)", "random `SEED` (default: the scenario's)")...),
			workersFlag(&o.workers, allCores, "worker goroutines `N`"),
			outFlag(&o.out, "results", "output `DIR`"),
			areaFlag(&o.area),
			populationFlag(&o.population, "NHS Digital list-size `FILE.csv` (five-year-band or single-year layout) whose practices replace the scenario's"),
			&cli.StringFlag{Name: "practices", Destination: &o.practices, Usage: "with --population: only these practice or commissioner `CODE,...`"},
			&cli.StringFlag{Name: "weighted-populations", Destination: &o.weighted, Usage: "with --population: NHS England need-weighted population `FILE.csv` giving each practice's need (matched by code; practices it lacks keep need 1)"},
			quietFlag(&o.quiet, "print nothing but errors"),
			cohortFlag(&o.cohort, false, "simulate practices from age-sex-frailty group counts rather than patient by patient (much faster; not with a per-patient stop-loss; see docs/model.md)"),
			&cli.BoolFlag{Name: "resume-if-interrupted", Destination: &o.resumeIfInterrupted, Usage: "if --out already holds this same run (or shard) interrupted, resume it; if complete, do nothing (for pods and jobs that restart with the same command)"},
			&cli.StringFlag{Name: "resume", Destination: &o.resume, Usage: "finish the interrupted run in `DIR` (same scenario, seed and size)"},
			&cli.BoolFlag{Name: "recompute", Destination: &o.recompute, Usage: "with --resume: recompute the part files of a complete run that no longer match its manifest (damaged, truncated or replaced)"},
			&cli.BoolFlag{Name: "force", Destination: &o.force, Usage: "replace what --out holds (another run, its summaries): removes only files gpbudget wrote, listed in their manifests, and keeps any other file"},
			&cli.DurationFlag{Name: "checkpoint", Value: time.Minute, Destination: &o.checkpoint, Usage: "end a result file at least this often, so an interruption loses at most about this much `TIME` (0: by size only)"},
			&cli.StringFlag{Name: "shard", Destination: &o.shard, Usage: "run only shard `I/N` (0 <= I < N) of the replications, for 'gpbudget merge'; " +
				"default: from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX when set; 'off' ignores those"},
			&cli.IntFlag{Name: "shards", Destination: &o.shards, Usage: "shard count `N` where the scheduler gives only an index (Kubernetes JOB_COMPLETION_INDEX)",
				DefaultText: "$" + rundir.ShardsEnv},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return badInput("run: unexpected argument %q (use --scenario)", c.Args().First())
			}
			o.set = givenOf(c)
			return runRun(c.Context, o, streamsOf(c))
		},
	}
}

// runOptions are run's flags.
type runOptions struct {
	sizes
	scenario, out, area             string
	population, practices, weighted string
	workers                         int
	quiet, cohort, force            bool
	resume                          string
	resumeIfInterrupted, recompute  bool
	checkpoint                      time.Duration
	shard                           string
	shards                          int
	set                             given
}

// runRun runs a scenario into --out, or finishes an interrupted run.
func runRun(ctx context.Context, o *runOptions, w streams) error {
	if o.checkpoint < 0 {
		return badInput("--checkpoint %v is out of range: accepted 0 (files end by size only) or a positive duration such as 30s or 5m", o.checkpoint)
	}
	if o.set["resume"] {
		return resume(ctx, o, w)
	}
	if o.recompute {
		return badInput("--recompute goes with --resume DIR: it recomputes a complete run's damaged files")
	}
	dir := o.out
	if dir == "" {
		return badInput("--out is empty (an unset shell variable?): name the output folder, e.g. --out results")
	}
	s, err := o.loadScenario(w)
	if err != nil {
		return err
	}
	reps, years, seed, err := o.resolve(s, o.set, 1)
	if err != nil {
		return err
	}
	if err := inRange("workers", o.workers, 1, maxWorkers); err != nil {
		return err
	}
	shard, source, err := o.resolveShard()
	if err != nil {
		return inputError{err}
	}
	if shard != nil && reps < shard.Count {
		return badInput("%d replications cannot make %d shards: each shard needs at least one replication", reps, shard.Count)
	}
	// The manifest records the run as resolved.
	s.Replications, s.Years, s.Seed = reps, years, seed
	m, err := s.Model(seed)
	if err != nil {
		return inputError{err}
	}
	if err := s.CheckRun(m, reps, years); err != nil {
		return inputError{err}
	}
	if o.resumeIfInterrupted {
		if r, err := rundir.OpenExisting(dir, version, shard); err != nil {
			return inputError{err}
		} else if r != nil {
			if err := r.SameRun(s, o.cohort); err != nil {
				return inputError{fmt.Errorf("%s: %w; use another --out, or remove the folder to start again", dir, err)}
			}
			return resumeRun(ctx, o, w, dir, shard, r)
		}
	}
	spec := &rundir.Spec{
		Scenario: s, Model: m, Seed: seed, Reps: reps, Years: years, Workers: o.workers,
		Dir: dir, Version: version, Command: runfolder.CommandLine(os.Args),
		CheckpointEvery: o.checkpoint, Shard: shard, Cohort: o.cohort,
		// Tables and a report of an earlier run here would look like this run's.
		Force: o.force, Derived: analysis.DerivedFiles(),
	}
	if spec.Cohort && m.StopLoss.Active() {
		return badInput("--cohort cannot apply scenario %s's per-patient stop-loss or truncation (cohort mode has no individual patients): run it without --cohort", s.Name)
	}
	// Nothing in the folder is touched until the run's inputs are valid.
	if err := spec.Check(); err != nil {
		return inputError{err}
	}
	cleared, err := spec.Prepare()
	if err != nil {
		return inputError{err}
	}
	if len(cleared.Removed) > 0 && !o.quiet {
		fmt.Fprintf(w.err, "replacing what %s held: removed %s gpbudget had written there\n", dir, files(len(cleared.Removed)))
	}
	if len(cleared.Kept) > 0 && !o.quiet {
		fmt.Fprintf(w.err, "kept %s in %s that gpbudget did not write: %s\n", files(len(cleared.Kept)), dir, strings.Join(cleared.Kept[:min(5, len(cleared.Kept))], ", "))
	}
	start := time.Now()
	var prog sim.Progress
	spec.Progress = &prog
	finish := showProgress(w.err, progressModeFor(o.quiet, w.err), &prog, plainProgressEvery)
	man, err := rundir.Start(ctx, spec)
	finish(err == nil)
	if err != nil {
		return runStopped(ctx, err, dir, shard, man, &prog)
	}
	if o.quiet {
		return nil
	}
	patients := 0
	for i := range m.Practices {
		patients += m.Practices[i].ListSize()
	}
	fmt.Fprintf(w.out, "%s: %d replications x %d years x %d practices (%d patients), seed %d\n",
		s.Name, reps, years, len(m.Practices), patients, seed)
	if shard != nil {
		fmt.Fprintf(w.out, "shard %s (%s): replications %d to %d\n", shard, source, man.Shard.FirstRep, man.Shard.LastRep-1)
		fmt.Fprintf(w.out, "wrote %d rows to %s/%s/ and the ledger to %s/%s/ in %.1fs; manifest %s/%s (merge the shards with 'gpbudget merge %s')\n",
			man.Rows, dir, runfolder.PracticeYears, dir, runfolder.Ledger, time.Since(start).Seconds(), dir, shard.ManifestPath(), dir)
		return nil
	}
	fmt.Fprintf(w.out, "wrote %d rows to %s/%s/ and the ledger to %s/%s/ in %.1fs; manifest %s/%s\n",
		man.Rows, dir, runfolder.PracticeYears, dir, runfolder.Ledger, time.Since(start).Seconds(), dir, runfolder.ManifestName)
	return headline(ctx, w, dir)
}

// loadScenario loads --scenario with the population --area or --population
// (with --practices and --weighted-populations) give it.
func (o *runOptions) loadScenario(w streams) (*scenarios.Scenario, error) {
	s, err := scenarios.Load(o.scenario)
	if err != nil {
		return nil, inputError{err}
	}
	if err := useArea(w, s, areaOptions{area: o.area, population: o.population, practices: o.practices, weighted: o.weighted, set: o.set}); err != nil {
		return nil, err
	}
	if pf := o.population; pf != "" && !o.set["area"] {
		ps, err := scenarios.ReadPopulationFile(pf, strings.Split(o.practices, ","), s.Limits)
		if err != nil {
			return nil, inputError{err}
		}
		s.UsePractices(ps)
		if err := useWeighted(w, s, pf, o.weighted); err != nil {
			return nil, err
		}
	} else if o.population == "" && (o.set["practices"] || o.set["weighted-populations"]) {
		return nil, badInput("--practices and --weighted-populations need --population FILE.csv")
	}
	return s, nil
}

// runStopped is the error of a run that stopped: interrupted, or failed,
// with what the folder holds and how to finish it.
func runStopped(ctx context.Context, err error, dir string, shard *runfolder.Shard, man *runfolder.Manifest, prog *sim.Progress) error {
	what, how := dir, "gpbudget run --resume "+dir
	if shard != nil {
		what, how = fmt.Sprintf("shard %s of %s", shard, dir), fmt.Sprintf("gpbudget run --resume %s --shard %s", dir, shard)
	}
	if ctx.Err() != nil {
		kept := "no finished part files"
		if man != nil && len(man.Chunks) > 0 {
			kept = fmt.Sprintf("%d finished part files (%d rows)", len(man.Chunks), man.Rows)
		}
		return fmt.Errorf("interrupted after %d of %d practice simulations: %s holds %s and its manifest says completed: false, "+
			"so summarize and report refuse it; finish it with: %s: %w",
			prog.Done.Load(), prog.Total.Load(), what, kept, how, err)
	}
	return fmt.Errorf("%w\n%s is incomplete (manifest says completed: false); after fixing the cause, finish it with: %s", err, what, how)
}

// files is "1 file" or "N files".
func files(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}

// headline prints the run's answer in a few lines (from its files, as
// 'summarize' computes it) and where the full tables and report come from.
func headline(ctx context.Context, ws streams, dir string) error {
	streamingGC()
	sum, err := analysis.Summarize(ctx, dir, analysis.Options{Headline: true})
	if err != nil {
		return err
	}
	w := ws.out
	fmt.Fprintln(w)
	if err := sum.PrintHeadline(w); err != nil {
		return err
	}
	q := runfolder.ShellQuote(dir)
	fmt.Fprintf(w, "Full tables (by band, practice and year; commissioner; ledger): gpbudget summarize %s\n", q)
	fmt.Fprintf(w, "Charts and tables in one page: gpbudget report %s (writes %s/%s)\n", q, dir, runfolder.ReportName)
	return nil
}

// resume finishes an interrupted run from its manifest.
func resume(ctx context.Context, o *runOptions, w streams) error {
	for _, f := range []string{"scenario", "reps", "years", "seed", "out", "cohort", "force"} {
		if o.set[f] {
			return badInput("--resume takes the scenario, size, seed and folder from the run's manifest: drop --%s", f)
		}
	}
	dir := o.resume
	if dir == "" {
		return badInput("--resume is empty (an unset shell variable?): name the run folder to finish")
	}
	// A shard (from --shard, Slurm or Kubernetes, as for a run) resumes
	// from its own manifest, touching no other shard's files.
	shard, _, err := o.resolveShard()
	if err != nil {
		return inputError{err}
	}
	var r *rundir.Resumable
	if shard != nil {
		r, err = rundir.OpenShardResume(dir, version, *shard)
	} else {
		r, err = rundir.OpenResume(dir, version)
	}
	if err != nil {
		return inputError{err}
	}
	return resumeRun(ctx, o, w, dir, shard, r)
}

// resumeRun finishes the run or shard r in dir.
func resumeRun(ctx context.Context, o *runOptions, w streams, dir string, shard *runfolder.Shard, r *rundir.Resumable) error {
	what := dir
	if shard != nil {
		what = fmt.Sprintf("shard %s of %s", shard, dir)
	}
	how := "gpbudget run --resume " + runfolder.ShellQuote(dir)
	if shard != nil {
		how += " --shard " + shard.String()
	}
	var damaged map[int][]string
	if r.Manifest.Completed {
		// A complete run is checked, not trusted: its files may have been
		// damaged or replaced since.
		var err error
		if damaged, err = r.Damaged(ctx, dir); err != nil {
			return err
		}
		if len(damaged) == 0 {
			if !o.quiet {
				fmt.Fprintf(w.out, "%s is already complete and its %d files match their checksums; nothing to do\n", what, len(r.Manifest.Files))
			}
			return nil
		}
		if !o.recompute {
			ce := &runfolder.CorruptError{Dir: dir, Fix: fmt.Sprintf("%s is complete, but these files no longer match its manifest. "+
				"Recompute them (the same scenario and seed give the same rows) with: %s --recompute", what, how)}
			for _, i := range slices.Sorted(maps.Keys(damaged)) {
				ce.Problems = append(ce.Problems, damaged[i]...)
			}
			return inputError{ce}
		}
	}
	m, err := r.Scenario.Model(r.Manifest.Seed)
	if err != nil {
		return inputError{err}
	}
	if damaged != nil {
		start := time.Now()
		files, identical, err := rundir.Recompute(ctx, &rundir.Spec{
			Scenario: r.Scenario, Model: m, Workers: o.workers, Dir: dir, Version: version,
		}, r, damaged)
		if err != nil {
			return fmt.Errorf("%w\n%s: recomputing its damaged files stopped; run the same command again to finish: %s --recompute", err, what, how)
		}
		if !o.quiet {
			note := "identical to the files the run first wrote"
			if identical < len(damaged) {
				note = fmt.Sprintf("%d of %d parts identical to the files first written; the manifest now records the others' checksums", identical, len(damaged))
			}
			fmt.Fprintf(w.out, "recomputed %d files of %s (%s) in %.1fs: %s\n", len(files), what, strings.Join(files, ", "), time.Since(start).Seconds(), note)
		}
		return nil
	}
	start := time.Now()
	man, err := rundir.Resume(ctx, &rundir.Spec{
		Scenario: r.Scenario, Model: m, Workers: o.workers, Dir: dir, Version: version,
		Command: runfolder.CommandLine(os.Args), CheckpointEvery: o.checkpoint,
	}, r)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted again: %s is incomplete; resume it with: %s: %w", what, how, err)
		}
		return err
	}
	if !o.quiet {
		fmt.Fprintf(w.out, "resumed %s: %d rows in %d parts, complete (%.1fs)\n", what, man.Rows, len(man.Chunks), time.Since(start).Seconds())
		if shard == nil {
			return headline(ctx, w, dir)
		}
	}
	return nil
}

// resolveShard finds which shard this process runs: --shard I/N, else what
// Slurm or Kubernetes set (see rundir.ShardFromEnv); nil for a whole run.
func (o *runOptions) resolveShard() (*runfolder.Shard, string, error) {
	if o.set["shards"] {
		if err := inRange("shards", o.shards, 1, runfolder.MaxShards); err != nil {
			return nil, "", err
		}
	}
	if o.set["shard"] {
		if o.shard == "off" {
			return nil, "", nil
		}
		sh, err := runfolder.ParseShard(o.shard)
		if err != nil {
			return nil, "", fmt.Errorf("--shard: %w", err)
		}
		if o.set["shards"] && o.shards != sh.Count {
			return nil, "", fmt.Errorf("--shard %s and --shards %d disagree on the shard count", o.shard, o.shards)
		}
		return &sh, "--shard", nil
	}
	sh, source, ok, err := rundir.ShardFromEnv(os.Getenv, o.shards)
	if err != nil || !ok {
		return nil, "", err
	}
	return &sh, source, nil
}
