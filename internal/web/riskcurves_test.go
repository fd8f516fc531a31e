package web

import (
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/internal/riskcurve"
	"github.com/gpbudget/gpbudget/scenarios"
)

// POST /api/risk-curves runs riskcurve's library as `gpbudget risk-curve`
// does, and answers its rows by column name: the same numbers as the
// library's, for the same scenario, sizes, replications and seed. The
// holders' size, left out, is the scenario's (its neighbourhoods of
// 50,000 people). Bad sizes and a curve past the server's limit are
// refused naming the field.
func TestRiskCurves(t *testing.T) {
	_, ts := testServer(t, Config{})
	body := map[string]any{"scenario": "neighbourhood-shared-savings-2026", "sizes": []any{"5,000", 20000}, "reps": 20, "seed": 4}
	code, out := call(t, "POST", ts.URL+"/api/risk-curves", body)
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	id := out["id"].(string)
	end := waitEnd(t, ts, "risk-curves", id)
	if end["status"] != "done" {
		t.Fatalf("risk curve: %v %v", end["status"], end["error"])
	}
	curve := end["curve"].([]any)
	sc, _ := scenarios.Load("neighbourhood-shared-savings-2026")
	rows, err := riskcurve.Run(context.Background(), sc, riskcurve.Options{Sizes: []int{5000, 20000}, Reps: 20, Years: 1, Seed: 4, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(curve) != len(rows) {
		t.Fatalf("%d rows, the library %d", len(curve), len(rows))
	}
	for i, r := range rows {
		c := curve[i].(map[string]any)
		for name, want := range map[string]float64{"holder_size": float64(r.HolderSize), "false_reward": r.FalseReward, "power_2pct": r.Power2pct, "msr_for_5pct_false_reward": r.MSRFor5pct} {
			got, ok := c[name].(float64)
			if !ok || math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("size %d, %s: API %v, library %v", r.HolderSize, name, c[name], want)
			}
		}
	}
	res, err := http.Get(ts.URL + "/api/risk-curves/" + id + "/risk_curve.csv")
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(string(csv), "holder_size,") {
		t.Errorf("the CSV: HTTP %d %.80s", res.StatusCode, csv)
	}

	// The scenario's own holders' size when none is given.
	code, out = call(t, "POST", ts.URL+"/api/risk-curves", map[string]any{"scenario": "neighbourhood-shared-savings-2026", "reps": 4, "seed": 1})
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	end = waitEnd(t, ts, "risk-curves", out["id"].(string))
	if c := end["curve"].([]any); end["status"] != "done" || len(c) != 1 || c[0].(map[string]any)["holder_size"].(float64) < 40000 || c[0].(map[string]any)["holder_size"].(float64) > 60000 {
		t.Errorf("the scenario's holders: %v %v %v", end["status"], end["error"], end["curve"])
	}

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"scenario": "neighbourhood-shared-savings-2026", "sizes": []any{50}}, "sizes"},
		{map[string]any{"scenario": "neighbourhood-shared-savings-2026", "sizes": []any{1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000}}, "sizes"},
		{map[string]any{"scenario": "neighbourhood-shared-savings-2026", "reps": 1}, "reps"},
		{map[string]any{"scenario": "neighbourhood-shared-savings-2026", "reps": 100000}, "reps"},
		{map[string]any{"scenario": "neighbourhood-shared-savings-2026", "years": 6}, "years"},
	} {
		if code, out := call(t, "POST", ts.URL+"/api/risk-curves", c.body); code != 400 || out["field"] != c.field {
			t.Errorf("%v: HTTP %d %v, want 400 on %s", c.body, code, out, c.field)
		}
	}
}
