package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/parquet-go/parquet-go"
)

// testServer starts a server over a temporary data folder (or data, when
// given) with cfg's limits.
func testServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Data == "" {
		cfg.Data = t.TempDir()
	}
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = DefaultMaxQueue // -1: none
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

// call sends a request with a JSON body (nil: none) and decodes the answer.
func call(t *testing.T, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if len(b) > 0 && json.Unmarshal(b, &out) != nil {
		out = map[string]any{"raw": string(b)}
	}
	return res.StatusCode, out
}

// waitEnd follows a job's event stream to its end event and returns it.
func waitEnd(t *testing.T, ts *httptest.Server, kind, id string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/%s/%s/events", ts.URL, kind, id), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events: content type %q", ct)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok && event == "end" {
			var out map[string]any
			if err := json.Unmarshal([]byte(d), &out); err != nil {
				t.Fatalf("end event: %v", err)
			}
			return out
		}
	}
	t.Fatalf("the event stream of %s ended without an end event: %v", id, sc.Err())
	return nil
}

// small is a quick run of the default area: 4 replications of 1 year in
// cohort mode.
func small(extra map[string]any) map[string]any {
	r := map[string]any{"scenario": "default", "reps": 4, "years": 1, "seed": 7, "cohort": true}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

func TestValidationNamesTheField(t *testing.T) {
	_, ts := testServer(t, Config{})
	// The most replications quoted is the one this server enforces for the
	// area, as the page's hint quotes it.
	_, ok := call(t, "POST", ts.URL+"/api/validate", small(nil))
	most := int(ok["max_reps"].(float64))
	for _, c := range []struct {
		name  string
		body  any
		field string
		msg   string
	}{
		{"negative reps", small(map[string]any{"reps": -5}), "reps", "-5 is out of range: accepted 1 to " + thousands(most) + " here"},
		{"reps past the most", small(map[string]any{"reps": most + 1}), "reps", "accepted at most " + thousands(most) + " replications"},
		{"fractional reps", small(map[string]any{"reps": 2.5}), "reps", "not a whole number"},
		{"reps as text", small(map[string]any{"reps": "many"}), "reps", `"many" is not a number`},
		{"years past 50", small(map[string]any{"years": 51}), "years", "51 is out of range: accepted 1 to 50"},
		{"negative seed", small(map[string]any{"seed": -1}), "seed", "accepted a whole number from 0"},
		{"cohort as text", small(map[string]any{"cohort": "yes"}), "cohort", "not true or false"},
		{"unknown scenario", small(map[string]any{"scenario": "nope"}), "scenario", `"nope" is not a built-in scenario`},
		{"a path as scenario", small(map[string]any{"scenario": "/etc/passwd"}), "scenario", "is not a built-in scenario"},
		{"unknown request field", small(map[string]any{"replications": 3}), "replications", "is not a field of this request"},
		{"retention above 1", small(map[string]any{"set": map[string]any{"rule.retention_share": 1.5}}), "rule.retention_share", "1.5 is out of range: accepted 0 to 1"},
		{"retention as text", small(map[string]any{"set": map[string]any{"rule.retention_share": "most"}}), "rule.retention_share", `"most" is not a number: accepted 0 to 1`},
		{"unknown rule", small(map[string]any{"set": map[string]any{"rule.type": "generous"}}), "rule.type", `"generous" is not a rule`},
		{"repay years fractional", small(map[string]any{"set": map[string]any{"rule.repay_years": 1.5}}), "rule.repay_years", "1.5 is not a whole number: accepted 0 to 10"},
		{"unknown lever", small(map[string]any{"set": map[string]any{"rule.generosity": 1}}), "rule.generosity", "is not a scenario field"},
		{"fundholding without streams", small(map[string]any{"set": map[string]any{"rule.type": "fundholding"}}), "rule.covered_streams", "is empty: fundholding needs one or more"},
		{"stop-loss in cohort mode", small(map[string]any{"set": map[string]any{"rule.type": "hard", "stop_loss.threshold": 5000, "stop_loss.streams": []string{"elective"}}}), "cohort", "cannot apply"},
		{"stop-loss with no threshold", small(map[string]any{"cohort": false, "set": map[string]any{"rule.type": "hard", "stop_loss": true, "stop_loss.streams": "elective"}}), "stop_loss.threshold", "0 is out of range"},
		{"YAML text with a bad value", small(map[string]any{"scenario": "name: mine\nrule:\n  participation: 2\n"}), "rule.participation", "2 is out of range: accepted 0 to 1"},
		{"YAML text that is not YAML", small(map[string]any{"scenario": "name: [unclosed\n"}), "scenario", "not valid YAML"},
		{"practices without a file", small(map[string]any{"practices": "A81001"}), "practices", "upload one first"},
		{"an upload that is not there", small(map[string]any{"scenario": nil, "upload": "0123456789abcdef"}), "upload", "no upload"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/api/validate", "/api/runs"} {
				code, out := call(t, "POST", ts.URL+path, c.body)
				if code != 400 && !(c.field == "upload" && code == 404) {
					t.Fatalf("%s: HTTP %d, want 400: %v", path, code, out)
				}
				if out["field"] != c.field {
					t.Errorf("%s: field %v, want %s (%v)", path, out["field"], c.field, out["error"])
				}
				if msg, _ := out["message"].(string); !strings.Contains(msg, c.msg) {
					t.Errorf("%s: message %q, want it to say %q", path, msg, c.msg)
				}
				if e, _ := out["error"].(string); !strings.Contains(e, c.msg) {
					t.Errorf("%s: error %q lacks %q", path, e, c.msg)
				}
			}
		})
	}
	// Nothing was queued by any of them.
	code, out := call(t, "GET", ts.URL+"/api/runs", nil)
	if code != 200 || out["raw"] != nil && !strings.HasPrefix(strings.TrimSpace(out["raw"].(string)), "[]") {
		t.Errorf("runs after bad requests: %d %v", code, out)
	}
}

// A refused file's message is what `gpbudget validate` prints for the same
// file (the scenario validator on the file the answer carries).
func TestValidateMessageIsTheValidators(t *testing.T) {
	_, ts := testServer(t, Config{})
	code, out := call(t, "POST", ts.URL+"/api/validate", small(map[string]any{
		"scenario": "pbc-indicative-2009", "set": map[string]any{"rule.participation": 1.2, "budget.pace": -0.1}}))
	if code != 400 {
		t.Fatalf("HTTP %d", code)
	}
	file, _ := out["yaml"].(string)
	_, err := scenarios.Parse([]byte(file), scenarioFile)
	if err == nil {
		t.Fatal("the refused file parses")
	}
	var lines []string
	for _, e := range out["errors"].([]any) {
		lines = append(lines, e.(map[string]any)["error"].(string))
	}
	if got, want := strings.Join(lines, "\n"), err.Error(); got != want {
		t.Errorf("errors\n%s\nwant the validator's\n%s", got, want)
	}
	// Each names its field and line, and the file keeps the built-in's comments.
	if out["field"] != "budget.pace" || !strings.HasPrefix(lines[0], "scenario.yaml:") || len(lines) != 2 {
		t.Errorf("first error %q (field %v), %d errors", lines[0], out["field"], len(lines))
	}
	if !strings.Contains(file, "# Made by gpbudget serve from the built-in scenario pbc-indicative-2009") || !strings.Contains(file, "business_case:") {
		t.Errorf("file:\n%s", file)
	}
}

func TestServerLimits(t *testing.T) {
	_, ts := testServer(t, Config{MaxPatientYears: 5e6, MaxRows: 1000, MaxUpload: 4 << 10})
	// The default area is about 3.4e5 patients: 10 x (1 + 1) years is 6.8e6.
	code, out := call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"reps": 10}))
	if code != 400 || out["field"] != "reps" || !strings.Contains(out["error"].(string), "limit of 5 million patient-years") || !strings.Contains(out["error"].(string), "at most 7 replications of 1 year here") {
		t.Errorf("run past --max-patient-years: %d %v", code, out)
	}
	code, out = call(t, "POST", ts.URL+"/api/validate", small(nil))
	if code != 200 || out["max_reps"].(float64) != 7 {
		t.Errorf("validate: %d, max_reps %v, want 7", code, out["max_reps"])
	}
	// 50 practices x 1 year x 25 replications is 1,250 rows.
	code, out = call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"reps": 25, "scenario": "name: few\npopulation:\n  synthetic:\n    practices: 50\n    list_size_mean: 100\n    list_size_sd: 10\n    min_list: 50\n    max_list: 200\n"}))
	if code != 400 || !strings.Contains(out["error"].(string), "1,250 result rows") || !strings.Contains(out["error"].(string), "at most 20 replications") {
		t.Errorf("run past --max-rows: %d %v", code, out)
	}
	// A scenario cannot raise the server's limits by raising its own.
	code, out = call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"reps": 10, "set": map[string]any{"limits.patient_years": 1e15}}))
	if code != 400 || out["field"] != "reps" {
		t.Errorf("raised limits: %d %v", code, out)
	}
	code, out = call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"set": map[string]any{"limits.practices": 1e9, "population.synthetic.practices": 30000}}))
	if code != 400 || !strings.Contains(out["error"].(string), "this server holds limits.practices to 20000") {
		t.Errorf("raised practice limit: %d %v", code, out)
	}
	// An upload, or a request body, over --max-upload is refused whole.
	big := strings.Repeat("# padding\n", 1000) + "name: big\n"
	res, err := http.Post(ts.URL+"/api/uploads?kind=scenario&name=big.yaml", "application/octet-stream", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "limit of 4 KiB") {
		t.Errorf("big upload: %d %s", res.StatusCode, b)
	}
	code, out = call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"scenario": big + strings.Repeat("x", maxJSONBody)}))
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d %v", code, out)
	}
}

// A run goes through the API to done: its headline agrees with its own
// rows (counted here from the downloaded Parquet file, independently of
// the summary), its scenario file reproduces its rows exactly, and its
// report has charts.
func TestRunToDone(t *testing.T) {
	s, ts := testServer(t, Config{})
	code, out := call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"set": map[string]any{"rule.type": "hard", "rule.repay_years": 2}}))
	if code != 202 {
		t.Fatalf("HTTP %d: %v", code, out)
	}
	id := out["id"].(string)
	end := waitEnd(t, ts, "runs", id)
	if end["status"] != "done" || end["progress"].(float64) != 1 {
		t.Fatalf("ended %v: %v", end["status"], end["error"])
	}
	code, st := call(t, "GET", ts.URL+"/api/runs/"+id, nil)
	if code != 200 || st["status"] != "done" {
		t.Fatalf("GET: %d %v", code, st)
	}
	sum := st["summary"].(map[string]any)
	// The Parquet download: every practice-year, as one file.
	res, err := http.Get(ts.URL + "/api/runs/" + id + "/results.parquet")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "results-"+id+".parquet") {
		t.Fatalf("results.parquet: %d %q", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
	rows, err := parquet.Read[runfolder.Row](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4*1*50 {
		t.Fatalf("%d rows, want 4 x 1 x 50", len(rows))
	}
	// The download is the run's own part files, every row in order: read
	// here one file at a time, not by the merge the server uses.
	parts := partRows(t, filepath.Join(s.cfg.Data, runsDir, id, "run", runfolder.PracticeYears))
	if !slices.Equal(rows, parts) {
		t.Fatalf("results.parquet (%d rows) is not the run's part files read in order (%d rows)", len(rows), len(parts))
	}
	over := 0
	for _, r := range parts {
		if -r.Variance > 0.05*r.Budget {
			over++
		}
	}
	var all map[string]any
	for _, b := range sum["bands"].([]any) {
		if b.(map[string]any)["band"] == "all" {
			all = b.(map[string]any)
		}
	}
	if got, want := all["p_over_5"].(float64), float64(over)/float64(len(parts)); math.Abs(got-want) > 1e-12 {
		t.Errorf("headline p_over_5 %v, counted from the rows %v", got, want)
	}
	if r95 := sum["commissioner"].(map[string]any)["reserve_95"].(float64); !(r95 >= 0) {
		t.Errorf("reserve_95 %v", r95)
	}
	// The scenario file reproduces the rows: run it as gpbudget run would.
	res, err = http.Get(ts.URL + "/api/runs/" + id + "/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(res.Body)
	res.Body.Close()
	sc, err := scenarios.Parse(file, "scenario.yaml")
	if err != nil {
		t.Fatalf("the downloaded scenario: %v\n%s", err, file)
	}
	if sc.Rule.Type != "hard" || sc.Rule.RepayYears != 2 || sc.Replications != 4 || sc.Years != 1 || sc.Seed != 7 {
		t.Errorf("the downloaded scenario lost a setting:\n%s", file)
	}
	m, err := sc.Model(sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := rundir.Execute(context.Background(), &rundir.Spec{Scenario: sc, Model: m, Seed: sc.Seed, Reps: sc.Replications,
		Years: sc.Years, Workers: 1, Dir: dir, Version: "test", Cohort: true}); err != nil {
		t.Fatal(err)
	}
	if again := partRows(t, filepath.Join(dir, runfolder.PracticeYears)); !slices.Equal(again, rows) {
		t.Error("the downloaded scenario, run again, gives other rows")
	}
	// The report, the charts and the ledger.
	for _, p := range []string{"/report", "/charts", "/ledger.parquet", "/report?download=1"} {
		res, err := http.Get(ts.URL + "/api/runs/" + id + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(b) < 100 {
			t.Errorf("%s: %d, %d bytes", p, res.StatusCode, len(b))
		}
		if strings.HasPrefix(p, "/report") && !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s has no chart", p)
		}
		if p == "/charts" {
			var cs []chart
			if err := json.Unmarshal(b, &cs); err != nil || len(cs) < 3 || !strings.HasPrefix(cs[0].SVG, "<svg") {
				t.Errorf("charts: %v, %d", err, len(cs))
			}
		}
		if p == "/report" && strings.Contains(string(b), s.cfg.Data) {
			t.Error("the report shows where the server keeps its data")
		}
	}
}

// partRows reads every Parquet file in a run folder's table folder, in
// name order (the parts' numbers), as rows: the plain way to read a run,
// beside which the server's merged download is checked.
func partRows(t *testing.T, tableDir string) []runfolder.Row {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(tableDir, "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no part files in %s (%v)", tableDir, err)
	}
	slices.Sort(files)
	var rows []runfolder.Row
	for _, f := range files {
		r, err := parquet.ReadFile[runfolder.Row](f)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	return rows
}

// A cancelled run stops, says so, and leaves a folder whose manifest says
// it did not complete; its files are refused.
func TestCancel(t *testing.T) {
	s, ts := testServer(t, Config{Workers: 1})
	// Patient level, many replications: long enough to cancel.
	code, out := call(t, "POST", ts.URL+"/api/runs", map[string]any{"scenario": "default", "reps": 2000, "years": 3, "seed": 1})
	if code != 202 {
		t.Fatalf("HTTP %d: %v", code, out)
	}
	id := out["id"].(string)
	for i := 0; i < 200; i++ {
		if _, st := call(t, "GET", ts.URL+"/api/runs/"+id, nil); st["status"] == "running" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, out = call(t, "DELETE", ts.URL+"/api/runs/"+id, nil)
	if code != 200 || out["status"] != "cancelled" {
		t.Fatalf("DELETE: %d %v", code, out)
	}
	man, err := runfolder.ReadManifest(filepath.Join(s.cfg.Data, runsDir, id, "run"))
	if err != nil || man.Completed {
		t.Errorf("manifest after cancel: %v, completed %v", err, man != nil && man.Completed)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/runs/"+id+"/results.parquet", nil); code != http.StatusConflict {
		t.Errorf("results of a cancelled run: HTTP %d", code)
	}
	b, _ := os.ReadFile(filepath.Join(s.cfg.Data, runsDir, id, "result.json"))
	if !strings.Contains(string(b), `"cancelled"`) || !strings.Contains(string(b), "completed: false") {
		t.Errorf("result.json: %s", b)
	}
	// A second DELETE, of a run that has ended, removes it and its folder.
	if code, out := call(t, "DELETE", ts.URL+"/api/runs/"+id, nil); code != 200 || out["deleted"] != true {
		t.Errorf("second DELETE: HTTP %d %v", code, out)
	}
	if _, err := os.Stat(filepath.Join(s.cfg.Data, runsDir, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the deleted run's folder: %v", err)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/runs/"+id, nil); code != 404 {
		t.Errorf("GET of a deleted run: HTTP %d", code)
	}
}

// Runs posted at once: at most MaxRuns run together, the rest wait, a full
// queue is refused with 503, and every run's results equal the same
// settings run alone (whatever ran beside it).
func TestConcurrentRuns(t *testing.T) {
	s, ts := testServer(t, Config{MaxRuns: 2, MaxQueue: 3, Workers: 1})
	seeds := []int{1, 2, 3, 4, 5}
	ids := make([]string, len(seeds))
	var wg sync.WaitGroup
	codes := make([]int, len(seeds))
	for i, seed := range seeds {
		wg.Go(func() {
			code, out := call(t, "POST", ts.URL+"/api/runs", map[string]any{"scenario": "default", "reps": 3, "years": 2, "seed": seed, "cohort": true})
			codes[i] = code
			if code == 202 {
				ids[i] = out["id"].(string)
			}
		})
	}
	wg.Wait()
	for i, c := range codes {
		if c != 202 {
			t.Errorf("run %d: HTTP %d", i, c)
		}
	}
	for _, id := range ids {
		waitEnd(t, ts, "runs", id)
	}
	if p := s.peak.Load(); p != 2 {
		t.Errorf("at most %d runs ran at once, want MaxRuns 2", p)
	}
	for i, id := range ids {
		_, st := call(t, "GET", ts.URL+"/api/runs/"+id, nil)
		if st["status"] != "done" {
			t.Fatalf("run %d: %v %v", i, st["status"], st["error"])
		}
	}
	// Run 3 alone, on a fresh server: the same headline.
	_, ts2 := testServer(t, Config{})
	_, out := call(t, "POST", ts2.URL+"/api/runs", map[string]any{"scenario": "default", "reps": 3, "years": 2, "seed": 3, "cohort": true})
	alone := waitEnd(t, ts2, "runs", out["id"].(string))["summary"]
	_, st := call(t, "GET", ts.URL+"/api/runs/"+ids[2], nil)
	if a, b := jsonOf(t, alone), jsonOf(t, st["summary"]); a != b {
		t.Errorf("run alone and beside others differ:\n%s\n%s", a, b)
	}
	// A full queue: one long run holds each slot, three wait, the next is refused.
	s.cfg.MaxRuns = 2
	var long []string
	for i := 0; i < 5; i++ {
		code, out := call(t, "POST", ts.URL+"/api/runs", map[string]any{"scenario": "default", "reps": 3000, "years": 3, "seed": i})
		if code != 202 {
			t.Fatalf("long run %d: HTTP %d %v", i, code, out)
		}
		long = append(long, out["id"].(string))
	}
	code, out := call(t, "POST", ts.URL+"/api/runs", small(nil))
	if code != http.StatusServiceUnavailable || !strings.Contains(out["error"].(string), "3 runs waiting") {
		t.Errorf("past the queue: HTTP %d %v", code, out)
	}
	for _, id := range long {
		call(t, "DELETE", ts.URL+"/api/runs/"+id, nil)
	}
	for _, id := range long {
		if _, st := call(t, "GET", ts.URL+"/api/runs/"+id, nil); st["status"] != "cancelled" {
			t.Errorf("long run %s: %v", id, st["status"])
		}
	}
}

func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Runs survive a restart; one the server was stopped in the middle of says
// it did not finish.
func TestRestart(t *testing.T) {
	data := t.TempDir()
	s, ts := testServer(t, Config{Data: data})
	_, out := call(t, "POST", ts.URL+"/api/runs", small(nil))
	id := out["id"].(string)
	first := waitEnd(t, ts, "runs", id)
	_, out = call(t, "POST", ts.URL+"/api/runs", map[string]any{"scenario": "default", "reps": 3000, "years": 3})
	stopped := out["id"].(string)
	ts.Close()
	s.Close()

	_, ts2 := testServer(t, Config{Data: data})
	code, st := call(t, "GET", ts2.URL+"/api/runs/"+id, nil)
	if code != 200 || st["status"] != "done" || jsonOf(t, st["summary"]) != jsonOf(t, first["summary"]) {
		t.Errorf("after a restart: %d %v", code, st["status"])
	}
	if res, err := http.Get(ts2.URL + "/api/runs/" + id + "/report"); err != nil || res.StatusCode != 200 {
		t.Errorf("report after a restart: %v", err)
	}
	_, st = call(t, "GET", ts2.URL+"/api/runs/"+stopped, nil)
	if st["status"] != "cancelled" || !strings.Contains(st["error"].(string), "completed: false") {
		t.Errorf("the run stopped by the server: %v %v", st["status"], st["error"])
	}
	// A job whose server died (no result.json) reads as failed.
	os.Remove(filepath.Join(data, runsDir, stopped, "result.json"))
	_, ts3 := testServer(t, Config{Data: data})
	if _, st = call(t, "GET", ts3.URL+"/api/runs/"+stopped, nil); st["status"] != "failed" {
		t.Errorf("a run with no ending: %v", st["status"])
	}
}

// A comparison's paired differences are those `gpbudget compare` makes
// (run.Paired and analysis.Compare on the same settings), and each side is
// a run of its own.
func TestComparison(t *testing.T) {
	s, ts := testServer(t, Config{})
	body := map[string]any{"a": map[string]any{"scenario": "default"}, "b": map[string]any{"scenario": "default", "set": map[string]any{"rule.type": "hard", "rule.retention_share": 1}},
		"reps": 6, "years": 2, "seed": 11, "cohort": true}
	code, out := call(t, "POST", ts.URL+"/api/comparisons", body)
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	end := waitEnd(t, ts, "comparisons", out["id"].(string))
	if end["status"] != "done" {
		t.Fatalf("comparison: %v %v", end["status"], end["error"])
	}
	runs := end["runs"].([]any)
	for _, r := range runs {
		if _, st := call(t, "GET", ts.URL+"/api/runs/"+r.(string), nil); st["status"] != "done" || st["summary"] == nil {
			t.Errorf("run %v of the comparison: %v", r, st["status"])
		}
	}
	// Each side's commissioner cost and savings kept, totalled by hand from
	// its run's part files per replication: their means, the paired
	// difference b - a and its standard error (sample SD of the six
	// differences / sqrt 6).
	lines := map[string]map[string]any{}
	for _, l := range end["differences"].([]any) {
		if l := l.(map[string]any); l["band"] == analysis.AllBands {
			lines[l["metric"].(string)] = l
		}
	}
	for metric, col := range map[string]func(runfolder.Row) float64{
		"commissioner_cost": func(r runfolder.Row) float64 { return r.CommissionerPaid },
		"savings_retained":  func(r runfolder.Row) float64 { return r.SavingsRetained },
	} {
		var side [2][6]float64
		for k, r := range runs {
			for _, row := range partRows(t, filepath.Join(s.cfg.Data, runsDir, r.(string), "run", runfolder.PracticeYears)) {
				side[k][row.Replication] += col(row)
			}
		}
		var ma, mb, md, ss float64
		for i := range 6 {
			ma += side[0][i] / 6
			mb += side[1][i] / 6
			md += (side[1][i] - side[0][i]) / 6
		}
		for i := range 6 {
			d := side[1][i] - side[0][i] - md
			ss += d * d
		}
		l := lines[metric]
		if l == nil {
			t.Fatalf("no %s line in %v", metric, end["differences"])
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"a", l["a"].(float64), ma}, {"b", l["b"].(float64), mb}, {"difference", l["difference"].(float64), md},
			{"se_paired", l["se_paired"].(float64), math.Sqrt(ss / 5 / 6)}} {
			if math.Abs(c.got-c.want) > 1e-9*math.Max(1, math.Abs(c.want)) {
				t.Errorf("%s %s: the page says %v, the runs' rows %v", metric, c.name, c.got, c.want)
			}
		}
	}
	// The same comparison as the command line makes it.
	var models []*sim.Model
	for _, set := range []string{"", "rule:\n  type: hard\n  retention_share: 1\n"} {
		b, _ := scenarios.Builtin("default")
		sc, err := scenarios.Parse(append(b, set...), "x")
		if err != nil {
			t.Fatal(err)
		}
		m, err := sc.Model(11)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	ms := []*analysis.Metrics{{}, {}}
	p := &rundir.Paired{Names: []string{"default", "default#2"}, Models: models, Seed: 11, Reps: 6, Years: 2, Workers: 2, Cohort: true}
	if err := p.Run(context.Background(), []sim.Sink{ms[0], ms[1]}); err != nil {
		t.Fatal(err)
	}
	rows, err := analysis.Compare(p.Names, ms, 11)
	if err != nil {
		t.Fatal(err)
	}
	var want any
	json.Unmarshal([]byte(jsonOf(t, diffLines(rows))), &want)
	if got, want := jsonOf(t, end["differences"]), jsonOf(t, want); got != want {
		t.Errorf("differences\n%s\nwant\n%s", got, want)
	}
	// A side's error names its side.
	body["b"] = map[string]any{"set": map[string]any{"rule.participation": -1}}
	code, out = call(t, "POST", ts.URL+"/api/comparisons", body)
	if code != 400 || out["side"] != "b" || out["field"] != "rule.participation" {
		t.Errorf("bad b: %d %v", code, out)
	}
	body["reps"] = 1
	body["b"] = map[string]any{}
	if code, out = call(t, "POST", ts.URL+"/api/comparisons", body); code != 400 || out["field"] != "reps" {
		t.Errorf("one replication: %d %v", code, out)
	}
	for _, p := range []string{"/report", "/charts", "/results.parquet"} {
		res, err := http.Get(ts.URL + "/api/comparisons/" + end["id"].(string) + p)
		if err != nil || res.StatusCode != 200 {
			t.Errorf("%s: %v %v", p, err, res.StatusCode)
		}
		res.Body.Close()
	}
}

func sendFile(t *testing.T, ts *httptest.Server, kind, name string, body []byte) (int, map[string]any) {
	t.Helper()
	res, err := http.Post(ts.URL+"/api/uploads?kind="+kind+"&name="+name, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// Uploads are checked by the validators files go through, kept under the
// server's own names, and used by runs.
func TestUploads(t *testing.T) {
	s, ts := testServer(t, Config{})
	code, out := sendFile(t, ts, "scenario", "../../etc/mine.yaml", []byte("name: mine\nrule:\n  type: hard\n"))
	if code != 201 || out["name"] != "mine.yaml" || out["scenario"].(map[string]any)["values"].(map[string]any)["rule.type"] != "hard" {
		t.Fatalf("scenario upload: %d %v", code, out)
	}
	sid := out["id"].(string)
	if code, again := sendFile(t, ts, "scenario", "other.yaml", []byte("name: mine\nrule:\n  type: hard\n")); code != 200 || again["id"] != sid {
		t.Errorf("the same file again: %d %v", code, again)
	}
	code, out = sendFile(t, ts, "scenario", "bad.yaml", []byte("name: bad\nrule:\n  retention_share: 3\n"))
	if code != 400 || out["field"] != "rule.retention_share" || !strings.HasPrefix(out["error"].(string), "bad.yaml:3: ") {
		t.Errorf("bad scenario: %d %v", code, out)
	}
	pop, err := os.ReadFile("../../scenarios/testdata/population/quinary-new.csv")
	if err != nil {
		t.Fatal(err)
	}
	code, out = sendFile(t, ts, "", "list.csv", pop)
	if code != 201 || out["kind"] != "population" || out["practices"].(float64) < 1 {
		t.Fatalf("list-size upload: %d %v", code, out)
	}
	pid := out["id"].(string)
	code, out = sendFile(t, ts, "population", "broken.csv", []byte("ORG_CODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS\nA1,MALE,0_4,lots\n"))
	if code != 400 || out["field"] != "population" || !strings.Contains(out["error"].(string), "broken.csv, line 2") {
		t.Errorf("broken list-size file: %d %v", code, out)
	}
	// Stored only under the server's names.
	ents, _ := os.ReadDir(filepath.Join(s.cfg.Data, uploadsDir))
	for _, e := range ents {
		if !idRE.MatchString(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".json"), ".yaml"), ".csv")) {
			t.Errorf("upload kept as %s", e.Name())
		}
	}
	code, out = call(t, "POST", ts.URL+"/api/runs", map[string]any{"upload": sid, "population": pid, "reps": 2, "years": 1, "cohort": true})
	if code != 202 {
		t.Fatalf("run of uploads: %d %v", code, out)
	}
	end := waitEnd(t, ts, "runs", out["id"].(string))
	if end["status"] != "done" || !strings.HasPrefix(end["scenario"].(string), "mine, practices of ") {
		t.Errorf("run of uploads: %v %v %v", end["status"], end["scenario"], end["error"])
	}
	code, out = call(t, "POST", ts.URL+"/api/validate", map[string]any{"population": pid, "practices": "NOPE1"})
	if code != 400 || out["field"] != "practices" {
		t.Errorf("unknown practice code: %d %v", code, out)
	}
	code, out = call(t, "POST", ts.URL+"/api/validate", map[string]any{"upload": pid})
	if code != 400 || out["field"] != "upload" || !strings.Contains(out["error"].(string), "population file, not a scenario") {
		t.Errorf("a list-size file as a scenario: %d %v", code, out)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/uploads/..%2f..%2fetc", nil); code != 400 && code != 404 {
		t.Errorf("a path as an upload id: %d", code)
	}
}

// The guard: a loopback server answers only loopback names, and refuses a
// change asked for by a page of another site.
func TestGuard(t *testing.T) {
	_, ts := testServer(t, Config{Loopback: true})
	req, _ := http.NewRequest("GET", ts.URL+"/api/scenarios", nil)
	req.Host = "evil.example:8080"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("rebound host: %d", res.StatusCode)
	}
	b, _ := json.Marshal(small(nil))
	req, _ = http.NewRequest("POST", ts.URL+"/api/runs", bytes.NewReader(b))
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d", res.StatusCode)
	}
	// A sandboxed frame or a file:// page sends Origin: null; a browser
	// says Sec-Fetch-Site; a form sends text/plain, or either form type,
	// without asking this server first.
	for _, h := range []map[string]string{
		{"Origin": "null", "Content-Type": "application/json"},
		{"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"},
		{"Sec-Fetch-Site": "same-site", "Content-Type": "application/json"},
		{"Content-Type": "text/plain"},
		{"Content-Type": "application/x-www-form-urlencoded"},
		{"Content-Type": "multipart/form-data; boundary=x"},
		{},
	} {
		for _, path := range []string{"/api/runs", "/api/validate", "/api/comparisons", "/api/uploads"} {
			req, _ := http.NewRequest("POST", ts.URL+path, bytes.NewReader(b))
			for k, v := range h {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusUnsupportedMediaType {
				t.Errorf("POST %s with %v: HTTP %d, want 403 or 415", path, h, res.StatusCode)
			}
		}
	}
	req, _ = http.NewRequest("DELETE", ts.URL+"/api/runs/0123456789abcdef", nil)
	req.Header.Set("Origin", "null")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("DELETE with Origin null: %v %v", err, res.StatusCode)
	}
	req, _ = http.NewRequest("POST", ts.URL+"/api/runs", bytes.NewReader(b))
	req.Header.Set("Origin", ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if res, err = http.DefaultClient.Do(req); err != nil || res.StatusCode != 202 {
		t.Errorf("same-origin POST: %v %v", err, res.StatusCode)
	}
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true, ":8080": false, "0.0.0.0:8080": false, "192.168.1.2:8080": false} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%s) = %v", addr, !want)
		}
	}
}

// Every API route is in the OpenAPI document, with its method, and the
// document describes no route the server lacks.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, ts := testServer(t, Config{})
	res, err := http.Get(ts.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Info  map[string]any            `json:"info"`
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if doc.Info["version"] != "test" {
		t.Errorf("version %v", doc.Info["version"])
	}
	have := map[string]bool{}
	for _, r := range s.apiRoutes() {
		have[strings.ToLower(r.method)+" "+r.pattern] = true
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[m+" "+p] = true
			if !have[m+" "+p] {
				t.Errorf("openapi.json documents %s %s, which the server does not answer", m, p)
			}
		}
	}
	for r := range have {
		if !documented[r] {
			t.Errorf("%s is not in openapi.json", r)
		}
	}
}

// The levers are the scenario schema's fields: none dropped for a renamed
// path, each with its range, and their values are the scenario's.
func TestLevers(t *testing.T) {
	s, _ := testServer(t, Config{})
	if len(s.levers) != len(leverSpecs) {
		var got []string
		for _, l := range s.levers {
			got = append(got, l.Path)
		}
		t.Fatalf("levers %v: some of leverSpecs are not in the schema", got)
	}
	byPath := map[string]Lever{}
	for _, l := range s.levers {
		byPath[l.Path] = l
	}
	if l := byPath["rule.retention_share"]; l.Kind != "number" || l.Range != "0 to 1" || l.Description == "" {
		t.Errorf("retention lever %+v", l)
	}
	if l := byPath["stop_loss.threshold"]; l.Section != "stop_loss" || l.Range != "more than 0" {
		t.Errorf("stop-loss threshold %+v", l)
	}
	if l := byPath["rule.type"]; l.Kind != "choice" || !slices.Contains(l.Choices, "fundholding") {
		t.Errorf("rule type %+v", l)
	}
	b, _ := scenarios.Builtin("fundholding-1996")
	sc, err := scenarios.Parse(b, "x")
	if err != nil {
		t.Fatal(err)
	}
	v, err := leverValues(sc, s.levers)
	if err != nil {
		t.Fatal(err)
	}
	if v["stop_loss"] != true || v["stop_loss.threshold"] != 5000.0 || v["rule.min_list_size"] != 5000.0 || v["budget.method"] != "historic" {
		t.Errorf("fundholding values %v", v)
	}
}

// A client that goes away mid-run stops only its event stream: the run
// finishes into its folder, whose manifest says it completed.
func TestDisconnectedClient(t *testing.T) {
	s, ts := testServer(t, Config{Workers: 1})
	_, out := call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"reps": 40}))
	id := out["id"].(string)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/runs/"+id+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(res.Body).ReadString('\n')
	if !strings.HasPrefix(line, "event: progress") {
		t.Errorf("first line of the stream: %q", line)
	}
	cancel() // the client goes away
	res.Body.Close()
	j, _ := s.find(runsDir, id)
	<-j.done
	if _, st := call(t, "GET", ts.URL+"/api/runs/"+id, nil); st["status"] != "done" {
		t.Errorf("after the client left: %v %v", st["status"], st["error"])
	}
	man, err := runfolder.ReadManifest(filepath.Join(s.cfg.Data, runsDir, id, "run"))
	if err != nil || !man.Completed {
		t.Errorf("manifest: %v", err)
	}
}

// The contract's corridor is a lever like any other: a minimum savings
// rate above any saving shares nothing; none shares savings from the first
// pound; a contract under another rule is the validator's error, named.
func TestContractLevers(t *testing.T) {
	s, ts := testServer(t, Config{})
	saved := map[float64]float64{}
	for _, msr := range []float64{0, 0.5} {
		code, out := call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"reps": 6, "set": map[string]any{
			"rule.type": "shared_savings", "contract.savings.min_rate_table": "", "contract.savings.min_rate": msr, "contract.savings.share": 0.5}}))
		if code != 202 {
			t.Fatalf("MSR %v: HTTP %d %v", msr, code, out)
		}
		end := waitEnd(t, ts, "runs", out["id"].(string))
		if end["status"] != "done" {
			t.Fatalf("MSR %v: %v %v", msr, end["status"], end["error"])
		}
		saved[msr] = end["summary"].(map[string]any)["commissioner"].(map[string]any)["savings_retained_mean"].(float64)
	}
	// A holder's saving is a few per cent of its benchmark at most, never half.
	if !(saved[0] > 0) || saved[0.5] != 0 {
		t.Errorf("shared savings: %v with no minimum rate, %v with a minimum of 50%% of the benchmark", saved[0], saved[0.5])
	}
	code, out := call(t, "POST", ts.URL+"/api/validate", small(map[string]any{"set": map[string]any{"contract.sides": "two"}}))
	if code != 400 || out["field"] != "contract" || !strings.Contains(out["message"].(string), "accepted with rule type shared_savings") {
		t.Errorf("a contract under indicative budgets: %d %v", code, out)
	}
	// The levers show Medicare's defaults where a scenario has no contract.
	def := s.builtins[0]
	if def.Name != "default" || def.Values["contract"] != false || def.Values["contract.sides"] != "one" || def.Values["contract.savings.min_rate_table"] != "medicare" {
		t.Errorf("default's contract levers: %v", def.Values)
	}
	for _, b := range s.builtins {
		if b.Name == "mnp-two-sided-2026" && (b.Values["contract.savings.min_rate_table"] != "" || b.Values["contract.savings.min_rate"] != 0.02) {
			t.Errorf("a fixed minimum rate reads %v, %v", b.Values["contract.savings.min_rate_table"], b.Values["contract.savings.min_rate"])
		}
	}
}
