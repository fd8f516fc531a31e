package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/report"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/sim"
)

// A job is a run or a comparison, kept in its own folder under the data
// folder:
//
//	runs/ID/job.json        what was asked (this type's exported fields)
//	runs/ID/scenario.yaml   the scenario file as validated (it carries
//	                        replications, years and seed)
//	runs/ID/run/            the run folder (manifest, parts, summary/,
//	                        report.html): gpbudget run --scenario
//	                        scenario.yaml --out run [--cohort] remakes it
//	runs/ID/charts.json     the report's charts, for the page
//	runs/ID/result.json     how it ended, with the headline; written last
//
// A comparison's folder holds job.json, a.yaml and b.yaml, cmp/ (the
// comparison's compare.parquet, compare.csv and report.html), charts.json
// and result.json; its two runs are runs in their own right.
//
// A job without result.json did not end while the server ran (it was
// stopped): it reads as failed, and its run folder's manifest says
// completed: false.
type job struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"` // run or comparison
	Created    time.Time       `json:"created"`
	Request    json.RawMessage `json:"request,omitempty"`
	Scenario   string          `json:"scenario"`
	Reps       int             `json:"reps"`
	Years      int             `json:"years"`
	Seed       string          `json:"seed"`
	Cohort     bool            `json:"cohort"`
	Practices  int             `json:"practices"`
	Patients   int             `json:"patients"`
	Runs       []string        `json:"runs,omitempty"`       // a comparison's runs: a, then b
	Comparison string          `json:"comparison,omitempty"` // the comparison a run belongs to
	Side       string          `json:"side,omitempty"`       // and which side it is

	dir    string
	mu     sync.Mutex
	res    result
	stage  stage
	since  time.Time // when the stage began
	prog   *sim.Progress
	parts  []*job // a comparison's runs
	cancel context.CancelCauseFunc
	done   chan struct{}
	files  sync.Mutex // makes downloads one at a time
}

// result is how a job ended (result.json) or where it is.
type result struct {
	Status   string    `json:"status"` // queued, running, done, failed, cancelled
	Error    string    `json:"error,omitempty"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	Summary  *Headline `json:"summary,omitempty"`
	// Curve is a risk curve's rows, each by its column names.
	Curve       []map[string]any `json:"curve,omitempty"`
	Differences []diffLine       `json:"differences,omitempty"`
	// AfterPool are a comparison's paired differences B - A of the chances
	// after any pool or consortium paid, by band.
	AfterPool []afterDiff `json:"after_pool_differences,omitempty"`
	// Timings are the milliseconds each stage took: waiting for a slot,
	// simulating (with writing the run folder), summarising, drawing.
	Timings map[string]float64 `json:"timings_ms,omitempty"`
}

// Job statuses.
const (
	queued    = "queued"
	running   = "running"
	done      = "done"
	failed    = "failed"
	cancelled = "cancelled"
)

// stage is how far a run has gone, for its progress.
type stage int

const (
	stageWaiting stage = iota
	stageSimulating
	stageSummarising
	stageDrawing
	stageDone
)

var stageNames = [...]string{"waiting", "simulating", "summarising", "drawing", "done"}

// errCancelled is the cause of a run cancelled by its client.
var errCancelled = errors.New("cancelled")

func (j *job) final() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.res.Status == done || j.res.Status == failed || j.res.Status == cancelled
}

// fraction is how far a run is, 0 to 1: simulation is most of a run's
// time, the summary and charts the rest.
func (j *job) fraction() float64 {
	j.mu.Lock()
	st, p, status := j.stage, j.prog, j.res.Status
	parts := j.parts
	j.mu.Unlock()
	if status == done {
		return 1
	}
	if len(parts) > 0 {
		f := 0.0
		for _, r := range parts {
			f += r.fraction()
		}
		return math.Min(0.99, f/float64(len(parts)))
	}
	switch st {
	case stageSimulating:
		if p != nil {
			if t := p.Total.Load(); t > 0 {
				return 0.9 * float64(p.Done.Load()) / float64(t)
			}
		}
		return 0
	case stageSummarising:
		return 0.92
	case stageDrawing:
		return 0.97
	case stageDone:
		return 1
	}
	return 0
}

func (j *job) setStage(st stage) {
	j.mu.Lock()
	j.timeStage(time.Now())
	j.stage = st
	if st == stageSimulating && j.res.Status == queued {
		j.res.Status, j.res.Started = running, time.Now().UTC()
	}
	j.mu.Unlock()
}

// timeStage records how long the stage now ending took (j.mu held).
func (j *job) timeStage(now time.Time) {
	if j.since.IsZero() {
		j.since = j.Created
	}
	if j.res.Timings == nil {
		j.res.Timings = map[string]float64{}
	}
	j.res.Timings[stageNames[j.stage]] += float64(now.Sub(j.since).Microseconds()) / 1e3
	j.since = now
}

// status is a job as GET /api/runs/{id} answers it.
type status struct {
	*job
	result
	Progress float64           `json:"progress"`
	Stage    string            `json:"stage"`
	Links    map[string]string `json:"links"`
}

func (j *job) view() status {
	f := j.fraction()
	j.mu.Lock()
	defer j.mu.Unlock()
	v := status{job: j, result: j.res, Progress: f, Stage: stageNames[j.stage]}
	base := "/api/runs/" + j.ID
	switch j.Kind {
	case "comparison":
		base = "/api/comparisons/" + j.ID
	case "risk-curve":
		base = "/api/risk-curves/" + j.ID
	}
	v.Links = map[string]string{"self": base, "events": base + "/events"}
	if j.res.Status == done && j.Kind == "risk-curve" {
		v.Links["csv"] = base + "/risk_curve.csv"
	} else if j.res.Status == done {
		v.Links["report"] = base + "/report"
		v.Links["charts"] = base + "/charts"
		v.Links["results"] = base + "/results.parquet"
		if j.Kind == "run" {
			v.Links["scenario"] = base + "/scenario.yaml"
			v.Links["ledger"] = base + "/ledger.parquet"
		}
	}
	return v
}

// finish records how a job ended, in memory and in result.json.
func (s *Server) finish(j *job, st, msg string) {
	j.mu.Lock()
	j.res.Status, j.res.Error, j.res.Finished = st, msg, time.Now().UTC()
	j.timeStage(j.res.Finished)
	if st == done {
		j.stage = stageDone
	}
	res := j.res
	j.mu.Unlock()
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := runfolder.WriteFileAtomic(filepath.Join(j.dir, "result.json"), append(b, '\n')); err != nil {
		fmt.Fprintf(s.cfg.Log, "%s %s: %v\n", j.Kind, j.ID, err)
	}
	fmt.Fprintf(s.cfg.Log, "%s %s %s (%s)%s\n", j.Kind, j.ID, st, j.Scenario, map[bool]string{true: ": " + msg, false: ""}[msg != ""])
}

// newJob makes a job's folder and job.json.
func (s *Server) newJob(kind, dir string, req any, b *built) (*job, error) {
	var raw json.RawMessage
	switch r := req.(type) {
	case *RunRequest:
		c := *r
		c.Side = r.Side.record()
		req = &c
	case *CompareRequest:
		c := *r
		c.A, c.B = r.A.record(), r.B.record()
		req = &c
	}
	if req != nil {
		var err error
		if raw, err = json.Marshal(req); err != nil {
			return nil, err
		}
	}
	j := &job{ID: newID(), Kind: kind, Created: time.Now().UTC(), Request: raw, done: make(chan struct{}), prog: &sim.Progress{}}
	if b != nil {
		j.Scenario, j.Reps, j.Years, j.Seed, j.Cohort = b.scen.Name, b.reps, b.years, strconv.FormatUint(b.seed, 10), b.cohort
		j.Practices, j.Patients = len(b.model.Practices), b.patients
	}
	j.res.Status = queued
	j.dir = filepath.Join(s.cfg.Data, dir, j.ID)
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	if b != nil {
		if err := runfolder.WriteFileAtomic(filepath.Join(j.dir, scenarioFile), b.file); err != nil {
			return nil, err
		}
	}
	return j, nil
}

func (j *job) save() error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return runfolder.WriteFileAtomic(filepath.Join(j.dir, "job.json"), append(b, '\n'))
}

// errBusy is a full queue.
type errBusy struct{ waiting int }

func (e errBusy) Error() string {
	return fmt.Sprintf("the server has %d runs waiting, as many as it takes (a limit set when it was started): try again when one has finished", e.waiting)
}

// enqueue starts a job's goroutine: it waits for a slot (at most MaxRuns
// jobs run at once), then works. A job cancelled, or a server closed,
// while it waits or works ends as cancelled; an error as failed; a panic
// as failed with the message a bug report needs, and the server goes on.
func (s *Server) enqueue(j *job, work func(ctx context.Context) error) error {
	s.mu.Lock()
	// Those waiting beyond the free slots are the queue.
	if s.waiting >= s.cfg.MaxQueue+s.cfg.MaxRuns-len(s.slots) {
		n := s.waiting
		s.mu.Unlock()
		return errBusy{n}
	}
	s.waiting++
	s.mu.Unlock()
	ctx, cancel := context.WithCancelCause(s.ctx)
	j.cancel = cancel
	for _, p := range j.parts {
		p.cancel = cancel
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel(nil)
		defer close(j.done)
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			s.mu.Lock()
			s.waiting--
			s.mu.Unlock()
			s.ended(j, ctx, ctx.Err())
			return
		}
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
		for n := s.active.Add(1); ; {
			if p := s.peak.Load(); n <= p || s.peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer func() {
			s.active.Add(-1)
			<-s.slots
		}()
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("internal error: %v; this is a bug in gpbudget %s, please report it with the run's settings (job.json)\n%s", r, s.cfg.Version, debug.Stack())
				}
			}()
			return work(ctx)
		}()
		s.ended(j, ctx, err)
	}()
	return nil
}

// ended records how a job (and a comparison's runs not yet ended) ended.
func (s *Server) ended(j *job, ctx context.Context, err error) {
	st, msg := done, ""
	switch {
	case err == nil:
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), errCancelled):
		st, msg = cancelled, "cancelled before it finished"
	case ctx.Err() != nil:
		st, msg = cancelled, "the server stopped before it finished"
	default:
		st, msg = failed, err.Error()
	}
	for _, p := range j.parts {
		if !p.final() {
			s.finish(p, st, folderSays(p, st, msg))
		}
	}
	s.finish(j, st, folderSays(j, st, msg))
}

// folderSays adds to a cancelled run's message what its run folder's
// manifest says: a run cancelled while it was summarised or drawn has a
// complete folder, without the summary.
func folderSays(j *job, st, msg string) string {
	if st != cancelled || j.Kind != "run" {
		return msg
	}
	man, err := runfolder.ReadManifest(filepath.Join(j.dir, "run"))
	switch {
	case err == nil && man.Completed:
		return msg + ": its simulation had finished, and its run folder's manifest says completed: true (the summary and report were not made)"
	case err == nil:
		return msg + ": its run folder's manifest says completed: false"
	}
	return msg + ": it had not started writing its run folder"
}

// remove forgets a job that has ended and removes its folder; a
// comparison's runs go with it.
func (s *Server) remove(j *job, dir string) error {
	s.mu.Lock()
	delete(s.jobs(dir), j.ID)
	for _, id := range j.Runs {
		delete(s.runs, id)
	}
	s.mu.Unlock()
	var errs []error
	for _, p := range append([]*job{j}, j.parts...) {
		// Final, but its goroutine may still be writing result.json.
		select {
		case <-j.done:
		case <-time.After(10 * time.Second):
		}
		p.files.Lock() // a download being made finishes first
		if err := os.RemoveAll(p.dir); err != nil {
			errs = append(errs, fmt.Errorf("removing %s %s: %w", p.Kind, p.ID, err))
		}
		p.files.Unlock()
	}
	if len(errs) == 0 {
		fmt.Fprintf(s.cfg.Log, "%s %s deleted\n", j.Kind, j.ID)
	}
	return errors.Join(errs...)
}

// execRun runs a built side into the job's run folder, then summarises
// it, writes the summary tables and the report, and keeps the charts and
// the headline for the page. also, when set, takes each replication too.
func (s *Server) execRun(ctx context.Context, j *job, b *built, also sim.Sink) error {
	j.setStage(stageSimulating)
	dir := filepath.Join(j.dir, "run")
	cmd := "gpbudget run --scenario " + scenarioFile + " --out run"
	if b.cohort {
		cmd += " --cohort"
	}
	man, err := rundir.Execute(ctx, &rundir.Spec{
		Scenario: b.scen, Model: b.model, Seed: b.seed, Reps: b.reps, Years: b.years, Workers: s.cfg.Workers,
		Dir: dir, Version: s.cfg.Version, Command: cmd, Progress: j.prog, Cohort: b.cohort, Also: also,
	})
	if err != nil {
		return err
	}
	j.setStage(stageSummarising)
	sum, err := analysis.Summarize(ctx, dir, analysis.Options{})
	if err != nil {
		return err
	}
	if _, err := sum.Write(dir); err != nil {
		return err
	}
	j.setStage(stageDrawing)
	// The page names the folder as the job's folder holds it, not where
	// this server keeps it.
	page, err := report.RunPage("run", man, sum)
	if err != nil {
		return err
	}
	if _, err := report.Write(dir, page); err != nil {
		return err
	}
	if err := writeCharts(filepath.Join(j.dir, "charts.json"), page); err != nil {
		return err
	}
	h := headline(man, sum, b)
	if h.Holders, err = readHolderRisk(ctx, dir); err != nil {
		return err
	}
	j.mu.Lock()
	j.res.Summary = h
	j.mu.Unlock()
	return nil
}

// runName says what a side changed from its scenario, for lists and
// charts: "default, Budget rule: hard, Savings retained: 0.5".
func (s *Server) runName(b *built, sd Side) string {
	parts := []string{b.scen.Name}
	keys := slices.Sorted(maps.Keys(sd.Set))
	for _, k := range keys {
		label := k
		for _, l := range s.levers {
			if l.Path == k {
				label = l.Label
			}
		}
		v := sd.Set[k]
		switch x := v.(type) {
		case nil:
			v = "none"
		case bool:
			v = map[bool]string{true: "on", false: "off"}[x]
		case []any:
			var names []string
			for _, n := range x {
				names = append(names, fmt.Sprint(n))
			}
			v = strings.Join(names, " ")
		}
		parts = append(parts, fmt.Sprintf("%s: %v", label, v))
	}
	if sd.Population != "" {
		if up, e := s.upload(sd.Population, "population", "population"); e == nil {
			parts = append(parts, "practices of "+up.Name)
		}
	}
	if strings.TrimSpace(sd.Area) != "" {
		if a, e := areaOf(sd); e == nil {
			parts = append(parts, areaWords(a))
		}
	}
	name := strings.Join(parts, ", ")
	if len(name) > 160 {
		name = name[:157] + "..."
	}
	return name
}

// startRun queues a run of b.
func (s *Server) startRun(req *RunRequest, b *built) (*job, error) {
	j, err := s.newJob("run", runsDir, req, b)
	if err != nil {
		return nil, err
	}
	j.Scenario = s.runName(b, req.Side)
	if err := j.save(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.runs[j.ID] = j
	s.mu.Unlock()
	if err := s.enqueue(j, func(ctx context.Context) error { return s.execRun(ctx, j, b, nil) }); err != nil {
		s.drop(j, runsDir)
		return nil, err
	}
	fmt.Fprintf(s.cfg.Log, "run %s queued: %s, %d x %d years, seed %d\n", j.ID, j.Scenario, j.Reps, j.Years, b.seed)
	return j, nil
}

// drop forgets a job that never started (a full queue) and removes its folder.
func (s *Server) drop(j *job, dir string) {
	s.mu.Lock()
	delete(s.jobs(dir), j.ID)
	s.mu.Unlock()
	os.RemoveAll(j.dir)
}

// startComparison queues two runs with one seed (common random numbers)
// and their paired differences.
func (s *Server) startComparison(req *CompareRequest, a, b *built) (*job, error) {
	c, err := s.newJob("comparison", comparisonsDir, req, a)
	if err != nil {
		return nil, err
	}
	names := compareNames(s.runName(a, req.A), s.runName(b, req.B))
	c.Scenario = names[0] + " vs " + names[1]
	var runs [2]*job
	for i, bt := range []*built{a, b} {
		side := []string{"a", "b"}[i]
		// Its request is the comparison's, kept there once.
		r, err := s.newJob("run", runsDir, nil, bt)
		if err == nil {
			r.Comparison, r.Side, r.Scenario = c.ID, side, names[i]
			err = r.save()
		}
		if err == nil {
			err = runfolder.WriteFileAtomic(filepath.Join(c.dir, side+".yaml"), bt.file)
		}
		if err != nil {
			return nil, err
		}
		runs[i] = r
		c.Runs = append(c.Runs, r.ID)
		c.parts = append(c.parts, r)
	}
	if err := c.save(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.comparisons[c.ID] = c
	for _, r := range runs {
		s.runs[r.ID] = r
	}
	s.mu.Unlock()
	err = s.enqueue(c, func(ctx context.Context) error {
		c.setStage(stageSimulating)
		metrics := []*analysis.Metrics{{}, {}}
		for i, r := range runs {
			if err := s.execRun(ctx, r, []*built{a, b}[i], metrics[i]); err != nil {
				return fmt.Errorf("setting %s (%s): %w", r.Side, names[i], err)
			}
			s.finish(r, done, "")
		}
		if err := s.compareRuns(c, names, metrics, a, b); err != nil {
			return err
		}
		d, err := afterPoolDiffs(ctx, filepath.Join(runs[0].dir, "run"), filepath.Join(runs[1].dir, "run"))
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.res.AfterPool = d
		c.mu.Unlock()
		return nil
	})
	if err != nil {
		for _, r := range runs {
			s.drop(r, runsDir)
		}
		s.drop(c, comparisonsDir)
		return nil, err
	}
	fmt.Fprintf(s.cfg.Log, "comparison %s queued: %s, %d x %d years, seed %d\n", c.ID, c.Scenario, c.Reps, c.Years, a.seed)
	return c, nil
}

// compareNames labels the two settings by what each changed, A's and
// B's; the same twice is told apart by A and B.
func compareNames(a, b string) []string {
	if a == b {
		return []string{"A: " + a, "B: " + b}
	}
	return []string{a, b}
}

// compareRuns writes a comparison's paired differences, its report and charts.
func (s *Server) compareRuns(c *job, names []string, metrics []*analysis.Metrics, a, b *built) error {
	c.setStage(stageSummarising)
	rows, err := analysis.Compare(names, metrics, a.seed)
	if err != nil {
		return err
	}
	dir := filepath.Join(c.dir, "cmp")
	cmd := fmt.Sprintf("gpbudget compare a.yaml b.yaml --reps %d --years %d --seed %d", a.reps, a.years, a.seed)
	if a.cohort {
		cmd += " --cohort"
	}
	meta := map[string]string{"gpbudget.command": cmd + " --out cmp", "gpbudget.seed": strconv.FormatUint(a.seed, 10), "gpbudget.version": s.cfg.Version}
	for k, bt := range []*built{a, b} {
		y, err := bt.scen.YAML()
		if err != nil {
			return err
		}
		meta["gpbudget.scenario."+strconv.Itoa(k)] = string(y)
		meta["gpbudget.scenario_name."+strconv.Itoa(k)] = names[k]
	}
	if err := analysis.WriteComparison(dir, rows, meta); err != nil {
		return err
	}
	c.setStage(stageDrawing)
	page, err := report.ComparisonPage(dir)
	if err != nil {
		return err
	}
	for i := range page.Facts {
		if page.Facts[i].Name == "Results" {
			page.Facts[i].Value = "cmp/" + runfolder.CompareParquet
		}
	}
	if _, err := report.Write(dir, page); err != nil {
		return err
	}
	if err := writeCharts(filepath.Join(c.dir, "charts.json"), page); err != nil {
		return err
	}
	d := diffLines(rows)
	c.mu.Lock()
	c.res.Differences = d
	c.mu.Unlock()
	return nil
}

// load reads the jobs and uploads kept in the data folder.
func (s *Server) load() error {
	if err := s.loadUploads(); err != nil {
		return err
	}
	for _, d := range []string{runsDir, comparisonsDir, curvesDir} {
		root := filepath.Join(s.cfg.Data, d)
		ents, err := os.ReadDir(root)
		if err != nil {
			return fmt.Errorf("reading %s: %w", root, err)
		}
		for _, e := range ents {
			if !e.IsDir() || !idRE.MatchString(e.Name()) {
				continue
			}
			jdir := filepath.Join(root, e.Name())
			removeTemporaries(jdir, 3)
			j, err := loadJob(jdir)
			if err == nil && j.ID != e.Name() {
				err = fmt.Errorf("it names itself %q", j.ID)
			}
			if err != nil {
				// Listed as failed, so that it can be seen and deleted.
				fmt.Fprintf(s.cfg.Log, "%s: %v\n", jdir, err)
				j = damagedJob(jdir, e.Name(), jobKind[d], err)
			}
			s.jobs(d)[j.ID] = j
		}
	}
	for _, c := range s.comparisons {
		for _, id := range c.Runs {
			if r := s.runs[id]; r != nil {
				c.parts = append(c.parts, r)
			}
		}
	}
	return nil
}

// damagedJob stands for a job whose job.json cannot be read.
func damagedJob(dir, id, kind string, err error) *job {
	j := &job{ID: id, Kind: kind, dir: dir, done: make(chan struct{})}
	close(j.done)
	if st, e := os.Stat(dir); e == nil {
		j.Created = st.ModTime().UTC()
	}
	j.res = result{Status: failed, Error: fmt.Sprintf("its record (job.json) cannot be read (%v): its settings are lost; DELETE removes it", err)}
	return j
}

// removeTemporaries removes the temporary files (".NAME.tmp") that a
// server killed while writing left in dir and its folders, depth levels
// down; nothing is being written when a server starts.
func removeTemporaries(dir string, depth int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir() && depth > 0:
			removeTemporaries(p, depth-1)
		case e.Type().IsRegular() && strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".tmp"):
			os.Remove(p)
		}
	}
}

func loadJob(dir string) (*job, error) {
	b, err := os.ReadFile(filepath.Join(dir, "job.json"))
	if err != nil {
		return nil, err
	}
	j := &job{dir: dir, done: make(chan struct{})}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, err
	}
	close(j.done)
	if r, changed := shrinkRequest(j.Request); changed {
		// Kept by an earlier version with its scenario's text: kept now as
		// a new job is, the text named by its checksum.
		j.Request = r
		if err := j.save(); err != nil {
			return nil, err
		}
	}
	if rb, err := os.ReadFile(filepath.Join(dir, "result.json")); err == nil && json.Unmarshal(rb, &j.res) == nil && j.res.Status != "" {
		if j.res.Status == done {
			j.stage = stageDone
		}
		return j, nil
	}
	j.res = result{Status: failed, Error: folderSays(j, cancelled, "the server stopped before it finished")}
	return j, nil
}

// shrinkRequest replaces the scenario texts in a kept request (a run's
// scenario, a comparison's a.scenario and b.scenario) by their size and
// checksum, as Side.record does.
func shrinkRequest(raw json.RawMessage) (json.RawMessage, bool) {
	if len(raw) == 0 {
		return raw, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return raw, false
	}
	side := func(m map[string]json.RawMessage) bool {
		var text string
		if json.Unmarshal(m["scenario"], &text) != nil || !(Side{Scenario: text}).isText() {
			return false
		}
		r := Side{Scenario: text}.record()
		delete(m, "scenario")
		m["scenario_bytes"], _ = json.Marshal(r.TextBytes)
		m["scenario_sha256"], _ = json.Marshal(r.TextSHA256)
		return true
	}
	changed := side(top)
	for _, k := range []string{"a", "b"} {
		var m map[string]json.RawMessage
		if json.Unmarshal(top[k], &m) == nil && m != nil && side(m) {
			top[k], _ = json.Marshal(m)
			changed = true
		}
	}
	if !changed {
		return raw, false
	}
	out, err := json.Marshal(top)
	if err != nil {
		return raw, false
	}
	return out, true
}

// jobKind is the kind of job each folder holds.
var jobKind = map[string]string{runsDir: "run", comparisonsDir: "comparison", curvesDir: "risk-curve"}

// jobs is the jobs of one folder (s.mu held).
func (s *Server) jobs(dir string) map[string]*job {
	switch dir {
	case runsDir:
		return s.runs
	case comparisonsDir:
		return s.comparisons
	}
	return s.curves
}

// find looks a job up by the id in a request path.
func (s *Server) find(dir, id string) (*job, *apiError) {
	if !idRE.MatchString(id) {
		return nil, &apiError{status: 404, Field: "id", Error: fmt.Sprintf("%q is not a run id", id)}
	}
	s.mu.Lock()
	j := s.jobs(dir)[id]
	s.mu.Unlock()
	if j == nil {
		return nil, &apiError{status: 404, Field: "id", Error: fmt.Sprintf("no %s %s on this server", jobKind[dir], id)}
	}
	return j, nil
}

// jobList is the runs and comparisons, newest first.
func (s *Server) jobList() []status {
	s.mu.Lock()
	var js []*job
	for _, j := range s.runs {
		if j.Comparison == "" {
			js = append(js, j)
		}
	}
	for _, j := range s.comparisons {
		js = append(js, j)
	}
	for _, j := range s.curves {
		js = append(js, j)
	}
	s.mu.Unlock()
	slices.SortFunc(js, func(a, b *job) int { return b.Created.Compare(a.Created) })
	out := make([]status, 0, len(js))
	for _, j := range js {
		v := j.view()
		v.Summary, v.Differences, v.AfterPool = nil, nil, nil
		out = append(out, v)
	}
	return out
}

// Headline is a run's answer: by list-size band, the chance a practice
// over- or underspends by more than 5% and 10% of budget in a year; and
// the commissioner's reserve (the 95th and 99th percentile of the most it
// paid beyond budgets in any year) and outlay (its net payments over the
// run, from the ledger), over the run and by year.
type Headline struct {
	Scenario     string     `json:"scenario"`
	Replications int        `json:"replications"`
	Years        int        `json:"years"`
	Seed         string     `json:"seed"`
	Practices    int        `json:"practices"`
	Patients     int        `json:"patients"`
	Cohort       bool       `json:"cohort"`
	Bands        []bandLine `json:"bands"`
	Commissioner commLine   `json:"commissioner"`
	ByYear       []commLine `json:"by_year"`
	QuantileNote string     `json:"quantile_note"`
	// Holders: the chances after any pool or consortium paid, and the
	// Monte Carlo uncertainty of the chances and reserves.
	Holders *holderRisk `json:"holders,omitempty"`
}

type bandLine struct {
	Band          string `json:"band"`
	Practices     int    `json:"practices"`
	PracticeYears int    `json:"practice_years"`
	ListSizeMean  jf     `json:"list_size_mean"`
	POver5        jf     `json:"p_over_5"`
	POver10       jf     `json:"p_over_10"`
	PUnder5       jf     `json:"p_under_5"`
	PUnder10      jf     `json:"p_under_10"`
	SpendPerHead  jf     `json:"spend_per_head"`
}

type commLine struct {
	Year              string `json:"year"`
	Reserve95         jf     `json:"reserve_95"`
	Reserve99         jf     `json:"reserve_99"`
	OutlayMean        jf     `json:"outlay_mean"`
	OutlaySE          jf     `json:"outlay_se"`
	BudgetMean        jf     `json:"budget_mean"`
	SpendMean         jf     `json:"spend_mean"`
	SavingsRetained   jf     `json:"savings_retained_mean"`
	DeficitCarried    jf     `json:"deficit_carried_mean"`
	StopLossPaid      jf     `json:"stop_loss_paid_mean"`
	HolderPaid        jf     `json:"holder_paid_mean"`
	OverspendMean     jf     `json:"area_overspend_mean"`
	ProbAreaOverspend jf     `json:"prob_area_overspend"`
}

func headline(man *runfolder.Manifest, sum *analysis.Summary, b *built) *Headline {
	h := &Headline{Scenario: sum.Scenario, Replications: sum.Replications, Years: sum.Years, Seed: strconv.FormatUint(sum.Seed, 10),
		Practices: man.Practices, Patients: b.patients, Cohort: man.Cohort, QuantileNote: sum.QuantileNote}
	for _, bs := range sum.Bands {
		h.Bands = append(h.Bands, bandLine{Band: bs.Band, Practices: bs.Practices, PracticeYears: bs.PracticeYrs, ListSizeMean: jf(bs.ListSizeMean),
			POver5: jf(bs.ProbOver5), POver10: jf(bs.ProbOver10), PUnder5: jf(bs.ProbUnder5), PUnder10: jf(bs.ProbUnder10), SpendPerHead: jf(bs.SpendPerHeadMean)})
	}
	outlay := map[string]analysis.PositionStats{}
	for _, l := range sum.Ledger {
		outlay[l.Year] = l
	}
	for _, c := range sum.Commissioner {
		l := commLine{Year: c.Year, Reserve95: jf(c.Reserve95), Reserve99: jf(c.Reserve99), BudgetMean: jf(c.BudgetMean), SpendMean: jf(c.SpendMean),
			SavingsRetained: jf(c.SavingsRetained), DeficitCarried: jf(c.DeficitCarried), StopLossPaid: jf(c.StopLossPaid), HolderPaid: jf(c.HolderPaid),
			OverspendMean: jf(c.OverspendMean), ProbAreaOverspend: jf(c.ProbAreaOverspend)}
		if p, ok := outlay[c.Year]; ok {
			l.OutlayMean, l.OutlaySE = jf(p.OutlayMean), jf(p.OutlaySE)
		}
		if c.Year == analysis.AllBands {
			h.Commissioner = l
		} else {
			h.ByYear = append(h.ByYear, l)
		}
	}
	return h
}

// diffLine is one paired difference of a comparison: b minus a.
type diffLine struct {
	Metric        string `json:"metric"`
	Label         string `json:"label"`
	Unit          string `json:"unit"`
	Band          string `json:"band"`
	A             jf     `json:"a"`
	B             jf     `json:"b"`
	Difference    jf     `json:"difference"`
	SEPaired      jf     `json:"se_paired"`
	SEIndependent jf     `json:"se_independent"`
	Replications  int    `json:"replications"`
}

func diffLines(rows []analysis.CompareRow) []diffLine {
	out := make([]diffLine, 0, len(rows))
	for _, r := range rows {
		m := analysis.MetricOf(r.Metric)
		out = append(out, diffLine{Metric: r.Metric, Label: m.Label, Unit: m.Unit, Band: r.Band, A: jf(r.BaselineValue), B: jf(r.ScenarioValue),
			Difference: jf(r.Difference), SEPaired: jf(r.SEPaired), SEIndependent: jf(r.SEIndependent), Replications: int(r.Replications)})
	}
	return out
}

// chart is a report figure for the page: its SVG and the numbers drawn.
type chart struct {
	ID      string        `json:"id"`
	Title   string        `json:"title"`
	Reading string        `json:"reading"`
	SVG     string        `json:"svg"`
	Series  []chartSeries `json:"series"`
}

type chartSeries struct {
	Name   string   `json:"name"`
	Labels []string `json:"labels,omitempty"`
	X      []jf     `json:"x"`
	Y      []jf     `json:"y"`
}

func writeCharts(path string, page *report.Page) error {
	var cs []chart
	for _, f := range page.Figures() {
		c := chart{ID: f.ID, Title: f.Title, Reading: f.Reading, SVG: string(f.SVG)}
		for _, s := range f.Series {
			c.Series = append(c.Series, chartSeries{Name: s.Name, Labels: s.Labels, X: finite(s.X), Y: finite(s.Y)})
		}
		cs = append(cs, c)
	}
	b, err := json.Marshal(cs)
	if err != nil {
		return fmt.Errorf("charts: %w", err)
	}
	return runfolder.WriteFileAtomic(path, b)
}

// finite copies values for JSON, which has no NaN or infinity: those
// become null (a band with no practice-years, a standard error of one
// replication).
func finite(v []float64) []jf {
	out := make([]jf, len(v))
	for i, x := range v {
		out[i] = jf(x)
	}
	return out
}

// jf is a number that JSON writes as null when it is not finite.
type jf float64

func (f jf) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

func (f *jf) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jf(math.NaN())
		return nil
	}
	x, err := strconv.ParseFloat(string(b), 64)
	*f = jf(x)
	return err
}
