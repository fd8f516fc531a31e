package web

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/internal/england"
	"github.com/gpbudget/gpbudget/scenarios"
)

// The areas a person picks from are the built-in table's, searchable by
// part of a name, within an area, bounded; bad queries are 400s naming
// the parameter.
func TestAreas(t *testing.T) {
	_, ts := testServer(t, Config{})
	tab, err := england.Load()
	if err != nil {
		t.Fatal(err)
	}
	code, out := call(t, "GET", ts.URL+"/api/areas?level=icb&q=shrop", nil)
	as, _ := out["areas"].([]any)
	if code != 200 || len(as) != 1 || as[0].(map[string]any)["code"] != "QOC" {
		t.Fatalf("ICBs holding 'shrop': HTTP %d %v", code, out)
	}
	icb, _ := tab.Lookup("QOC")
	want := tab.Areas(england.PCN, icb)
	code, out = call(t, "GET", ts.URL+"/api/areas?level=pcn&in=QOC", nil)
	as, _ = out["areas"].([]any)
	if code != 200 || len(as) != len(want) || out["more"].(float64) != 0 {
		t.Fatalf("PCNs in QOC: HTTP %d, %d areas, want %d", code, len(as), len(want))
	}
	for i, a := range as {
		m := a.(map[string]any)
		if m["code"] != want[i].Code || m["patients"].(float64) != float64(want[i].Patients) {
			t.Errorf("PCN %d: %v, want %+v", i, m, want[i])
		}
	}
	// All of England's PCNs: the first maxAreasShown, the rest counted.
	code, out = call(t, "GET", ts.URL+"/api/areas?level=pcn", nil)
	as, _ = out["areas"].([]any)
	all := tab.Areas(england.PCN, tab.England())
	if code != 200 || len(as) != maxAreasShown || int(out["more"].(float64)) != len(all)-maxAreasShown {
		t.Fatalf("all PCNs: HTTP %d, %d shown, %v more; want %d and %d", code, len(as), out["more"], maxAreasShown, len(all)-maxAreasShown)
	}
	for q, field := range map[string]string{
		"level=ward":                    "level",
		"in=nowhere+at+all+xyz":         "in",
		"q=" + strings.Repeat("a", 101): "q",
		"path=/etc/passwd":              "path",
	} {
		code, out := call(t, "GET", ts.URL+"/api/areas?"+q, nil)
		if code != 400 || out["field"] != field {
			t.Errorf("GET /api/areas?%.40s: HTTP %d %v, want 400 on %s", q, code, out, field)
		}
	}
}

// A run on an area of England takes the area's real practices (those of
// 100 patients or more, as gpbudget run --area does), names the area, and
// its scenario.yaml runs the same area.
func TestRunOnArea(t *testing.T) {
	_, ts := testServer(t, Config{})
	tab, _ := england.Load()
	icb, _ := tab.Lookup("QOC")
	practices, patients := 0, 0
	for _, p := range tab.Select(icb) {
		if p.Patients >= scenarios.EnglandMinList {
			practices++
			patients += p.Patients
		}
	}
	req := map[string]any{"scenario": "neighbourhood-shared-savings-england-2026", "area": "Shropshire, Telford", "reps": 2, "years": 1, "seed": 3, "cohort": true}
	code, out := call(t, "POST", ts.URL+"/api/runs", req)
	if code != 202 {
		t.Fatalf("HTTP %d: %v", code, out)
	}
	id := out["id"].(string)
	if name, _ := out["scenario"].(string); !strings.Contains(name, "Shropshire") {
		t.Errorf("the run's name %q does not say its area", name)
	}
	if end := waitEnd(t, ts, "runs", id); end["status"] != "done" {
		t.Fatalf("ended %v: %v", end["status"], end["error"])
	}
	_, st := call(t, "GET", ts.URL+"/api/runs/"+id, nil)
	h := st["summary"].(map[string]any)
	if h["practices"].(float64) != float64(practices) || h["patients"].(float64) != float64(patients) {
		t.Errorf("ran %v practices, %v patients; the ICB has %d, %d", h["practices"], h["patients"], practices, patients)
	}
	res, err := http.Get(ts.URL + "/api/runs/" + id + "/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(res.Body)
	res.Body.Close()
	sc, err := scenarios.Parse(file, "scenario.yaml")
	if err != nil || sc.Population.England == nil || sc.Population.England.Area != "QOC" || len(sc.Population.Practices) != practices {
		t.Fatalf("the downloaded scenario does not run QOC: %v\n%s", err, file)
	}
	// The synthetic default on an area; an area with a list-size file, or
	// unknown, is refused naming the area.
	code, out = call(t, "POST", ts.URL+"/api/validate", map[string]any{"scenario": "default", "area": "qoc", "reps": 2, "years": 1, "cohort": true})
	if code != 200 || out["practices"].(float64) != float64(practices) {
		t.Errorf("validate default on QOC: HTTP %d %v", code, out)
	}
	for _, bad := range []map[string]any{
		{"scenario": "default", "area": "Atlantis"},
		{"scenario": "default", "area": "QOC", "population": "u1"},
		{"scenario": "default", "area": "NHS"},
	} {
		code, out := call(t, "POST", ts.URL+"/api/validate", bad)
		if code != 400 || out["field"] != "area" {
			t.Errorf("%v: HTTP %d %v, want 400 on area", bad, code, out)
		}
	}
}

// A risk curve on an area whose scenario's holders are real PCNs measures
// those PCNs (one row, level pcn, as gpbudget risk-curve --holders pcn),
// beside holders of their mean size; levels without an area are refused.
func TestRiskCurveOnAreaByLevel(t *testing.T) {
	_, ts := testServer(t, Config{})
	req := map[string]any{"scenario": "neighbourhood-shared-savings-england-2026", "area": "QOC", "reps": 4, "years": 1, "seed": 5}
	code, out := call(t, "POST", ts.URL+"/api/risk-curves", req)
	if code != 202 {
		t.Fatalf("HTTP %d: %v", code, out)
	}
	id := out["id"].(string)
	if end := waitEnd(t, ts, "risk-curves", id); end["status"] != "done" {
		t.Fatalf("ended %v: %v", end["status"], end["error"])
	}
	_, st := call(t, "GET", ts.URL+"/api/risk-curves/"+id, nil)
	rows, _ := st["curve"].([]any)
	tab, _ := england.Load()
	icb, _ := tab.Lookup("QOC")
	pcns := tab.Areas(england.PCN, icb)
	var real map[string]any
	for _, r := range rows {
		if m := r.(map[string]any); m["level"] == "pcn" {
			real = m
		}
	}
	if real == nil {
		t.Fatalf("no row of the real PCNs: %v", rows)
	}
	if n, _ := real["holders"].(float64); int(n) != len(pcns) {
		t.Errorf("%v real holders, want QOC's %d PCNs (%v)", real["holders"], len(pcns), real)
	}
	code, out = call(t, "POST", ts.URL+"/api/risk-curves", map[string]any{"scenario": "neighbourhood-shared-savings-2026", "levels": []string{"pcn"}, "reps": 2})
	if code != 400 || out["field"] != "levels" {
		t.Errorf("levels without an area: HTTP %d %v", code, out)
	}
}

// A comparison on an area: both sides take the area's practices; the same
// setting twice differs by exactly nothing (common random numbers).
func TestCompareOnArea(t *testing.T) {
	_, ts := testServer(t, Config{})
	side := map[string]any{"scenario": "neighbourhood-shared-savings-england-2026", "area": "QOC"}
	code, out := call(t, "POST", ts.URL+"/api/comparisons", map[string]any{"a": side, "b": side, "reps": 3, "years": 1, "seed": 2, "cohort": true})
	if code != 202 {
		t.Fatalf("HTTP %d: %v", code, out)
	}
	id := out["id"].(string)
	if end := waitEnd(t, ts, "comparisons", id); end["status"] != "done" {
		t.Fatalf("ended %v: %v", end["status"], end["error"])
	}
	_, st := call(t, "GET", ts.URL+"/api/comparisons/"+id, nil)
	for _, r := range st["runs"].([]any) {
		_, run := call(t, "GET", ts.URL+"/api/runs/"+r.(string), nil)
		if name, _ := run["scenario"].(string); !strings.Contains(name, "Shropshire") {
			t.Errorf("run %v is named %q, without its area", r, name)
		}
	}
	diffs, _ := st["differences"].([]any)
	if len(diffs) == 0 {
		t.Fatal("no differences")
	}
	for _, d := range append(diffs, st["after_pool_differences"].([]any)...) {
		m := d.(map[string]any)
		if v, ok := m["difference"].(float64); ok && v != 0 {
			t.Errorf("the same setting twice: %v %v differs by %v", m["metric"], m["band"], v)
		}
	}
}
