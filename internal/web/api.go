package web

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// runRequest reads and builds a run's request (POST /api/runs and
// /api/validate); on an error it has answered it.
func (s *Server) runRequest(w http.ResponseWriter, r *http.Request) (*RunRequest, *built, bool) {
	body, e := s.readBody(w, r, "scenario")
	var req *RunRequest
	if e == nil {
		req, e = decodeRunRequest(body)
	}
	var b *built
	if e == nil {
		b, e = s.build(req.Side, req.Params)
	}
	if e != nil {
		writeErr(w, e)
		return nil, nil, false
	}
	return req, b, true
}

func (s *Server) postRun(w http.ResponseWriter, r *http.Request) {
	req, b, ok := s.runRequest(w, r)
	if !ok {
		return
	}
	j, err := s.startRun(req, b)
	if err != nil {
		jobError(w, err)
		return
	}
	w.Header().Set("Location", "/api/runs/"+j.ID)
	writeJSON(w, http.StatusAccepted, j.view())
}

func jobError(w http.ResponseWriter, err error) {
	var busy errBusy
	if errors.As(err, &busy) {
		w.Header().Set("Retry-After", "10")
		writeErr(w, &apiError{status: http.StatusServiceUnavailable, Error: err.Error()})
		return
	}
	writeErr(w, &apiError{status: 500, Error: err.Error()})
}

func (s *Server) postComparison(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r, "scenario")
	if e != nil {
		writeErr(w, e)
		return
	}
	req, e := decodeCompareRequest(body)
	if e != nil {
		writeErr(w, e)
		return
	}
	a, e := s.build(req.A, req.Params)
	if e != nil {
		writeErr(w, e.onSide("a"))
		return
	}
	b, e := s.build(req.B, req.Params)
	if e != nil {
		writeErr(w, e.onSide("b"))
		return
	}
	if a.reps < 2 {
		writeErr(w, badField("reps", "%d is out of range: a comparison needs at least 2 replications for its standard errors", a.reps))
		return
	}
	if b.reps != a.reps || b.years != a.years || b.seed != a.seed {
		// Each side's own defaults differ: the comparison runs both alike.
		writeErr(w, badField("reps", "settings a and b would run %d x %d years (seed %d) and %d x %d years (seed %d): a paired comparison runs both with the same replications, years and seed, so set reps, years and seed",
			a.reps, a.years, a.seed, b.reps, b.years, b.seed))
		return
	}
	c, err := s.startComparison(req, a, b)
	if err != nil {
		jobError(w, err)
		return
	}
	w.Header().Set("Location", "/api/comparisons/"+c.ID)
	writeJSON(w, http.StatusAccepted, c.view())
}

func (s *Server) listRuns(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, s.jobList())
}

// jobHandler answers a request about one job, found by the id in its path.
func (s *Server) jobHandler(dir string, h func(http.ResponseWriter, *http.Request, *job)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		j, e := s.find(dir, r.PathValue("id"))
		if e != nil {
			writeErr(w, e)
			return
		}
		h(w, r, j)
	}
}

func (s *Server) getJob(dir string) http.HandlerFunc {
	return s.jobHandler(dir, func(w http.ResponseWriter, _ *http.Request, j *job) { writeJSON(w, 200, j.view()) })
}

// cancelJob cancels a queued or running job (a run of a comparison
// cancels the comparison) and answers once it has stopped; a job that has
// ended is deleted, with its folder (a comparison with its two runs).
func (s *Server) cancelJob(dir string) http.HandlerFunc {
	return s.jobHandler(dir, func(w http.ResponseWriter, r *http.Request, j *job) {
		owner := j
		if j.Comparison != "" {
			if c, e := s.find(comparisonsDir, j.Comparison); e == nil {
				owner = c
			}
		}
		if owner.final() {
			if owner != j {
				writeJSON(w, http.StatusConflict, &apiError{Error: fmt.Sprintf("run %s is setting %s of comparison %s: DELETE /api/comparisons/%s removes the comparison with both its runs", j.ID, j.Side, owner.ID, owner.ID)})
				return
			}
			if err := s.remove(j, dir); err != nil {
				writeErr(w, &apiError{status: 500, Error: err.Error()})
				return
			}
			writeJSON(w, 200, map[string]any{"id": j.ID, "deleted": true})
			return
		}
		if owner.cancel != nil {
			owner.cancel(errCancelled)
		}
		select {
		case <-owner.done:
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
		writeJSON(w, 200, j.view())
	})
}

// events streams a job's progress as server-sent events: "progress"
// events with {status, stage, progress} as they change (at most ten a
// second), then one "end" event with the whole status, and the stream
// closes. A client that goes away stops only its stream: the run goes on
// into its folder, whose manifest says whether it completed.
func (s *Server) events(dir string) http.HandlerFunc {
	return s.jobHandler(dir, func(w http.ResponseWriter, r *http.Request, j *job) {
		fl, ok := w.(http.Flusher)
		if !ok {
			writeErr(w, &apiError{status: 500, Error: "streaming is not supported here"})
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(200)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		last, sent := "", time.Time{}
		for {
			if j.final() {
				writeEvent(w, "end", j.view())
				fl.Flush()
				return
			}
			v := j.view()
			msg := fmt.Sprintf(`{"id":%q,"status":%q,"stage":%q,"progress":%.4f}`, j.ID, v.Status, v.Stage, v.Progress)
			if msg != last || time.Since(sent) > 15*time.Second {
				fmt.Fprintf(w, "event: progress\ndata: %s\n\n", msg)
				fl.Flush()
				last, sent = msg, time.Now()
			}
			select {
			case <-r.Context().Done():
				return
			case <-j.done:
			case <-tick.C:
			}
		}
	})
}

func writeEvent(w http.ResponseWriter, name string, v status) {
	fmt.Fprintf(w, "event: %s\ndata: ", name)
	enc := jsonEncoder(w)
	enc.Encode(v) // ends with a newline
	fmt.Fprint(w, "\n")
}

// doneHandler answers a request for a finished job's files.
func (s *Server) doneHandler(dir string, h func(http.ResponseWriter, *http.Request, *job)) http.HandlerFunc {
	return s.jobHandler(dir, func(w http.ResponseWriter, r *http.Request, j *job) {
		if v := j.view(); v.Status != done {
			msg := fmt.Sprintf("%s %s is %s: its files come when it is done", j.Kind, j.ID, v.Status)
			if v.Status == failed || v.Status == cancelled {
				msg = fmt.Sprintf("%s %s %s: it has no results (%s)", j.Kind, j.ID, v.Status, v.Error)
			}
			writeErr(w, &apiError{status: http.StatusConflict, Error: msg})
			return
		}
		h(w, r, j)
	})
}

// serveFile answers a file of a finished job; download names it for saving.
func serveFile(w http.ResponseWriter, r *http.Request, path, ctype, download string) {
	f, err := os.Open(path)
	if err != nil {
		writeErr(w, &apiError{status: 500, Error: fmt.Sprintf("reading %s: %v", filepath.Base(path), err)})
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeErr(w, &apiError{status: 500, Error: err.Error()})
		return
	}
	w.Header().Set("Content-Type", ctype)
	if download != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", download))
	}
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// chartsFile answers a finished job's charts.
func (s *Server) chartsFile(dir string) http.HandlerFunc {
	return s.doneHandler(dir, func(w http.ResponseWriter, r *http.Request, j *job) {
		serveFile(w, r, filepath.Join(j.dir, "charts.json"), "application/json", "")
	})
}

// reportFile answers the report page; ?download=1 as a file to save.
func (s *Server) reportFile(dir string) http.HandlerFunc {
	return s.doneHandler(dir, func(w http.ResponseWriter, r *http.Request, j *job) {
		sub := "run"
		if dir == comparisonsDir {
			sub = "cmp"
		}
		// The report is self-contained: no script, nothing from elsewhere.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		name := ""
		if r.URL.Query().Get("download") != "" {
			name = "report-" + j.ID + ".html"
		}
		serveFile(w, r, filepath.Join(j.dir, sub, runfolder.ReportName), "text/html; charset=utf-8", name)
	})
}

// scenarioYAML answers a run's scenario file as validated.
func (s *Server) scenarioYAML() http.HandlerFunc {
	return s.jobHandler(runsDir, func(w http.ResponseWriter, r *http.Request, j *job) {
		serveFile(w, r, filepath.Join(j.dir, scenarioFile), "application/yaml; charset=utf-8", scenarioFile)
	})
}

// parquetFile answers one of a run's tables as one Parquet file, made from
// its parts the first time it is asked for. Its parts are checked against
// the manifest's checksums first, every time (runfolder keeps a file that
// matched unchanged from being hashed again), and the file made from them
// against the checksum kept when it was made: damaged results are never
// served.
func (s *Server) parquetFile(table string) http.HandlerFunc {
	name := map[string]string{runfolder.PracticeYears: "results", runfolder.Ledger: "ledger"}[table]
	return s.doneHandler(runsDir, func(w http.ResponseWriter, r *http.Request, j *job) {
		path := filepath.Join(j.dir, name+".parquet")
		j.files.Lock()
		err := checkedMerge(r.Context(), filepath.Join(j.dir, "run"), table, path)
		j.files.Unlock()
		if err != nil {
			st := 500
			if errors.Is(err, runfolder.ErrCorrupt) {
				st = http.StatusConflict
			}
			writeErr(w, &apiError{status: st, Error: err.Error()})
			return
		}
		serveFile(w, r, path, "application/vnd.apache.parquet", fmt.Sprintf("%s-%s.parquet", name, j.ID))
	})
}

// comparisonParquet answers a comparison's paired differences.
func (s *Server) comparisonParquet() http.HandlerFunc {
	return s.doneHandler(comparisonsDir, func(w http.ResponseWriter, r *http.Request, j *job) {
		serveFile(w, r, filepath.Join(j.dir, "cmp", runfolder.CompareParquet), "application/vnd.apache.parquet", "compare-"+j.ID+".parquet")
	})
}
