package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
)

// allocated is the bytes the process allocated while f ran (the server
// runs in this process).
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// A scenario text's size and shape are checked before any tree is built
// from it: a text of many small items, a set of many list entries and a
// deep nesting are refused, naming the field, and what the server
// allocates to refuse each is a few times the request. Without the checks
// a 200 KB list of zeros allocates about 60 MB in the YAML decoder
// (measured by removing checkShape).
func TestShapeBoundedBeforeBuilding(t *testing.T) {
	_, ts := testServer(t, Config{})
	cases := []struct {
		name, field, says string
		body              map[string]any
	}{
		{"a list of 100,000 zeros", "scenario", "items",
			map[string]any{"scenario": "name: amp\ndescription: [" + strings.Repeat("0,", 100000) + "0]\n"}},
		{"a list of 50,000 lines", "scenario", "items",
			map[string]any{"scenario": "name: amp\ndescription:\n" + strings.Repeat("- 0\n", 50000)}},
		{"brackets 40 deep", "scenario", "deep",
			map[string]any{"scenario": "name: x\ndescription: " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n"}},
		{"a set of 50,000 streams", "set", "items",
			map[string]any{"scenario": "default", "set": map[string]any{"rule.covered_streams": strings.Split(strings.Repeat("ae,", 50000), ",")}}},
		{"a long text in set", "set", "text",
			map[string]any{"scenario": "default", "set": map[string]any{"name": strings.Repeat("x", 5000)}}},
	}
	for _, c := range cases {
		body, _ := json.Marshal(c.body)
		var code int
		var out map[string]any
		n := allocated(func() { code, out = call(t, "POST", ts.URL+"/api/validate", json.RawMessage(body)) })
		msg, _ := out["error"].(string)
		if code != 400 || out["field"] != c.field || !strings.Contains(msg, c.says) {
			t.Errorf("%s: HTTP %d %v, want 400 on %s saying %q", c.name, code, out, c.field, c.says)
		}
		if limit := 8*uint64(len(body)) + 4<<20; n > limit {
			t.Errorf("%s (%d bytes): %d bytes allocated to refuse it, want under %d", c.name, len(body), n, limit)
		}
	}
	// Over the size a scenario's text may have: 413, before anything.
	big, _ := json.Marshal(map[string]any{"scenario": "name: big\ndescription: x" + strings.Repeat("y", maxScenarioBytes) + "\n"})
	if code, out := call(t, "POST", ts.URL+"/api/validate", json.RawMessage(big)); code != 413 {
		t.Errorf("a text over %d bytes: HTTP %d %v", maxScenarioBytes, code, out)
	}
	// A file with a second document: the validator refuses it, as
	// `gpbudget validate` does, and the edit does not drop it silently.
	code, out := call(t, "POST", ts.URL+"/api/validate", map[string]any{"scenario": "name: one\n---\nname: two\nrule:\n  type: hard\n", "set": map[string]any{"rule.retention_share": 0.5}})
	if msg, _ := out["error"].(string); code != 400 || !strings.Contains(msg, "second YAML document") {
		t.Errorf("two documents: HTTP %d %v", code, out)
	}
	// An uploaded scenario is held to the same shape.
	if code, out := sendFile(t, ts, "scenario", "amp.yaml", []byte("name: amp\ndescription: ["+strings.Repeat("0,", 30000)+"0]\n")); code != 400 || !strings.Contains(fmt.Sprint(out["error"]), "items") {
		t.Errorf("an uploaded text of many items: HTTP %d %v", code, out)
	}
}

// An upload whose file cannot be written is answered with the error (it
// was answered 201), and sending it again once the fault is gone keeps it.
func TestUploadWriteErrorNotLost(t *testing.T) {
	s, ts := testServer(t, Config{})
	body := []byte("name: mine\nrule:\n  type: hard\n")
	code, out := sendFile(t, ts, "scenario", "mine.yaml", body)
	if code != 201 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	id := out["id"].(string)
	path := filepath.Join(s.cfg.Data, uploadsDir, id+".yaml")
	// The kept file goes missing, and a folder stands where it was: a
	// file cannot be written there.
	os.Remove(path)
	if err := os.MkdirAll(filepath.Join(path, "blocker"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out := sendFile(t, ts, "scenario", "mine.yaml", body); code != 500 || !strings.Contains(fmt.Sprint(out["error"]), "keeping the upload") {
		t.Errorf("an upload that could not be written: HTTP %d %v, want 500", code, out)
	}
	if code, _ := call(t, "GET", ts.URL+"/api/uploads/"+id, nil); code != 404 {
		t.Errorf("the upload that was not kept: HTTP %d, want 404", code)
	}
	os.RemoveAll(path)
	if code, out := sendFile(t, ts, "scenario", "mine.yaml", body); code != 201 {
		t.Errorf("sent again: HTTP %d %v", code, out)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, body) {
		t.Errorf("kept file: %q %v", got, err)
	}
}

// Results whose bytes no longer match the manifest are refused, whether a
// part or the merged file was damaged; a damaged merged file is made again
// from parts that match.
func TestDamagedResultsNotServed(t *testing.T) {
	s, ts := testServer(t, Config{})
	code, out := call(t, "POST", ts.URL+"/api/runs", small(nil))
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	id := out["id"].(string)
	if end := waitEnd(t, ts, "runs", id); end["status"] != "done" {
		t.Fatalf("run: %v", end["error"])
	}
	get := func() (int, []byte) {
		res, err := http.Get(ts.URL + "/api/runs/" + id + "/results.parquet")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	code, good := get()
	if code != 200 {
		t.Fatalf("results: HTTP %d", code)
	}
	// The merged file damaged: made again, the same bytes.
	merged := filepath.Join(s.cfg.Data, runsDir, id, "results.parquet")
	flip(t, merged)
	if code, again := get(); code != 200 || !bytes.Equal(again, good) {
		t.Errorf("after the merged file was damaged: HTTP %d, same bytes %v", code, bytes.Equal(again, good))
	}
	// A part damaged: refused, naming it.
	parts, _ := filepath.Glob(filepath.Join(s.cfg.Data, runsDir, id, "run", runfolder.PracticeYears, "*.parquet"))
	if len(parts) == 0 {
		t.Fatal("no parts")
	}
	flip(t, parts[0])
	if code, b := get(); code != http.StatusConflict || !strings.Contains(string(b), "checksum") {
		t.Errorf("a damaged part: HTTP %d %s", code, b)
	}
}

// flip inverts 16 bytes in the middle of a file, keeping its size.
func flip(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 2; i < len(b)/2+16 && i < len(b); i++ {
		b[i] ^= 0xFF
	}
	// Another modification time too, as another process writing it would.
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, time.Now().Add(time.Second), time.Now().Add(time.Second))
}

// A scenario sent as text is kept once (the run's scenario.yaml), not in
// the job's record or the list of runs; a finished run is deleted with its
// folder; a comparison's run is deleted only with its comparison.
func TestRequestsKeptOnceAndDeleted(t *testing.T) {
	s, ts := testServer(t, Config{})
	text := "name: mine\ndescription: " + strings.Repeat("long words ", 5000) + "\n"
	code, out := call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"scenario": text}))
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	id := out["id"].(string)
	waitEnd(t, ts, "runs", id)
	rec, _ := os.ReadFile(filepath.Join(s.cfg.Data, runsDir, id, "job.json"))
	if bytes.Contains(rec, []byte("long words long words")) || !bytes.Contains(rec, []byte("scenario_sha256")) {
		t.Errorf("job.json keeps the text (%d bytes)", len(rec))
	}
	res, _ := http.Get(ts.URL + "/api/runs")
	list, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if len(list) > 8<<10 {
		t.Errorf("the list of one run is %d bytes", len(list))
	}
	if code, out := call(t, "DELETE", ts.URL+"/api/runs/"+id, nil); code != 200 || out["deleted"] != true {
		t.Errorf("DELETE a finished run: HTTP %d %v", code, out)
	}
	if _, err := os.Stat(filepath.Join(s.cfg.Data, runsDir, id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("its folder: %v", err)
	}

	code, out = call(t, "POST", ts.URL+"/api/comparisons", map[string]any{"a": map[string]any{"scenario": "default"},
		"b": map[string]any{"scenario": "default", "set": map[string]any{"rule.type": "hard"}}, "reps": 4, "years": 1, "seed": 3, "cohort": true})
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	cid := out["id"].(string)
	end := waitEnd(t, ts, "comparisons", cid)
	runs := end["runs"].([]any)
	if code, _ := call(t, "DELETE", ts.URL+"/api/runs/"+runs[0].(string), nil); code != http.StatusConflict {
		t.Errorf("DELETE a comparison's run: HTTP %d, want 409", code)
	}
	if code, _ := call(t, "DELETE", ts.URL+"/api/comparisons/"+cid, nil); code != 200 {
		t.Errorf("DELETE a comparison: HTTP %d", code)
	}
	for _, p := range []string{filepath.Join(comparisonsDir, cid), filepath.Join(runsDir, runs[0].(string)), filepath.Join(runsDir, runs[1].(string))} {
		if _, err := os.Stat(filepath.Join(s.cfg.Data, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after DELETE: %v", p, err)
		}
	}
}

// With no queue (--max-queue 0), a run that finds the one slot taken is
// refused with 503 and Retry-After.
func TestNoQueue(t *testing.T) {
	_, ts := testServer(t, Config{MaxQueue: -1, Workers: 1})
	code, out := call(t, "POST", ts.URL+"/api/runs", map[string]any{"scenario": "default", "reps": 2000, "years": 3, "seed": 1})
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	id := out["id"].(string)
	if code, out := call(t, "POST", ts.URL+"/api/runs", small(nil)); code != http.StatusServiceUnavailable {
		t.Errorf("a second run with no queue: HTTP %d %v", code, out)
	}
	call(t, "DELETE", ts.URL+"/api/runs/"+id, nil)
}

// A body that does not arrive within the body timeout is given up on.
func TestBodyTimeout(t *testing.T) {
	_, ts := testServer(t, Config{BodyTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/validate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"scenario\":", strings.TrimPrefix(ts.URL, "http://"))
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(c)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a stalled body held the connection %v", took)
	}
	if len(b) > 0 && !bytes.Contains(b, []byte(" 408 ")) && !bytes.Contains(b, []byte(" 400 ")) {
		t.Errorf("a stalled body: %s", b)
	}
}

// The page's template is served only filled in; a damaged job.json lists
// its run as failed (it can be deleted); temporaries left by a killed
// server are removed when it starts.
func TestTemplateJobsTemporaries(t *testing.T) {
	data := t.TempDir()
	_, ts := testServer(t, Config{Data: data})
	for path, want := range map[string]int{"/assets/index.html": 404, "/assets/app.js": 200, "/assets/style.css": 200, "/assets/": 404} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: HTTP %d, want %d", path, res.StatusCode, want)
		}
	}
	code, out := call(t, "POST", ts.URL+"/api/runs", small(nil))
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	id := out["id"].(string)
	waitEnd(t, ts, "runs", id)
	dir := filepath.Join(data, runsDir, id)
	os.WriteFile(filepath.Join(dir, "job.json"), []byte("{damaged"), 0o644)
	tmp := filepath.Join(dir, ".results.parquet.tmp")
	os.WriteFile(tmp, []byte("half"), 0o644)
	upTmp := filepath.Join(data, uploadsDir, ".0123456789abcdef.yaml.tmp")
	os.WriteFile(upTmp, []byte("half"), 0o644)
	_, ts2 := testServer(t, Config{Data: data})
	code, st := call(t, "GET", ts2.URL+"/api/runs/"+id, nil)
	if code != 200 || st["status"] != "failed" || !strings.Contains(fmt.Sprint(st["error"]), "job.json") {
		t.Errorf("a run with a damaged job.json: HTTP %d %v %v", code, st["status"], st["error"])
	}
	for _, p := range []string{tmp, upTmp} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after a restart: %v", filepath.Base(p), err)
		}
	}
	if code, _ := call(t, "DELETE", ts2.URL+"/api/runs/"+id, nil); code != 200 {
		t.Errorf("DELETE a damaged run: HTTP %d", code)
	}
}

// Numbers as a person writes them: "70%" is 0.7 and "50,000" is 50000;
// a run's name says what it changed.
func TestNumbersAsWritten(t *testing.T) {
	_, ts := testServer(t, Config{})
	code, out := call(t, "POST", ts.URL+"/api/validate", small(map[string]any{"set": map[string]any{
		"rule.type": "hard", "rule.retention_share": "70%", "rule.consortium.by": "population", "rule.consortium.target_population": "50,000"}}))
	if code != 200 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	y := out["yaml"].(string)
	if !strings.Contains(y, "retention_share: 0.7\n") || !strings.Contains(y, "target_population: 50000\n") {
		t.Errorf("70%% and 50,000 written as:\n%s", y)
	}
	for _, bad := range []string{"7O%", "50,00", "1,2345"} {
		if code, _ := call(t, "POST", ts.URL+"/api/validate", small(map[string]any{"set": map[string]any{"rule.retention_share": bad}})); code != 400 {
			t.Errorf("%q: HTTP %d, want 400", bad, code)
		}
	}
	code, out = call(t, "POST", ts.URL+"/api/runs", small(map[string]any{"set": map[string]any{"rule.type": "hard"}}))
	if code != 202 || out["scenario"] != "default, Budget rule: hard" {
		t.Errorf("the run's name: %d %v", code, out["scenario"])
	}
	waitEnd(t, ts, "runs", out["id"].(string))
}

// A run cancelled while it was summarised has a complete run folder: its
// message says so, as its manifest does; one cancelled mid-simulation says
// completed: false.
func TestCancelledMessageSaysWhatTheFolderSays(t *testing.T) {
	sc, err := scenarios.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sc.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	j := &job{Kind: "run", dir: t.TempDir()}
	if msg := folderSays(j, cancelled, "cancelled before it finished"); !strings.Contains(msg, "had not started") {
		t.Errorf("no folder: %s", msg)
	}
	if _, err := rundir.Execute(context.Background(), &rundir.Spec{Scenario: sc, Model: m, Seed: 1, Reps: 2, Years: 1, Workers: 1,
		Dir: filepath.Join(j.dir, "run"), Version: "test", Cohort: true}); err != nil {
		t.Fatal(err)
	}
	if msg := folderSays(j, cancelled, "cancelled before it finished"); !strings.Contains(msg, "completed: true") {
		t.Errorf("a complete folder: %s", msg)
	}
	if msg := folderSays(j, failed, "boom"); msg != "boom" {
		t.Errorf("a failure: %s", msg)
	}
}

func TestAmountWords(t *testing.T) {
	for x, want := range map[float64]string{2e10: "20 billion", 5e6: "5 million", 1.25e9: "1.25 billion", 1000: "1,000", 2.7e8: "270 million"} {
		if got := amountWords(x); got != want {
			t.Errorf("amountWords(%g) = %q, want %q", x, got, want)
		}
	}
}

// A run kept by an earlier version with its scenario's text in job.json is
// kept, after a restart, as a new one is: the text named by its checksum.
func TestOldRequestsShrunk(t *testing.T) {
	data := t.TempDir()
	_, ts := testServer(t, Config{Data: data})
	code, out := call(t, "POST", ts.URL+"/api/runs", small(nil))
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	id := out["id"].(string)
	waitEnd(t, ts, "runs", id)
	path := filepath.Join(data, runsDir, id, "job.json")
	var rec map[string]any
	b, _ := os.ReadFile(path)
	json.Unmarshal(b, &rec)
	text := "name: old\ndescription: " + strings.Repeat("kept whole ", 3000) + "\n"
	rec["request"] = map[string]any{"scenario": text, "reps": 4}
	b, _ = json.Marshal(rec)
	os.WriteFile(path, b, 0o644)
	_, ts2 := testServer(t, Config{Data: data})
	_, st := call(t, "GET", ts2.URL+"/api/runs/"+id, nil)
	req, _ := st["request"].(map[string]any)
	if req == nil || req["scenario"] != nil || req["scenario_bytes"] != float64(len(text)) || req["reps"] != float64(4) {
		t.Errorf("the old request after a restart: %v", req)
	}
	if b, _ := os.ReadFile(path); bytes.Contains(b, []byte("kept whole kept whole")) {
		t.Errorf("job.json still holds the text (%d bytes)", len(b))
	}
}
