package web

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/parquet-go/parquet-go"
)

// The chances after pooling, their standard errors and the reserves'
// intervals, against the same figures computed here a second way, from
// the downloaded rows: a practice's band from its mean list, a row's
// result after pooling as variance - pool_transfer, the standard error
// from the replications' own shares. Before pooling they equal the
// summary's; a pool lowers the chance of overspending after it, and
// without a pool the two are the same.
func TestHolderRisk(t *testing.T) {
	s, ts := testServer(t, Config{})
	for _, c := range []struct {
		name string
		set  map[string]any
		pool bool
	}{
		{"hard budgets with a 10% pool", map[string]any{"rule.type": "hard", "rule.pool_share": 0.1}, true},
		{"hard budgets, no pool", map[string]any{"rule.type": "hard"}, false},
	} {
		code, out := call(t, "POST", ts.URL+"/api/runs", map[string]any{"scenario": "default", "set": c.set, "reps": 30, "years": 2, "seed": 5, "cohort": true})
		if code != 202 {
			t.Fatalf("%s: HTTP %d %v", c.name, code, out)
		}
		id := out["id"].(string)
		end := waitEnd(t, ts, "runs", id)
		if end["status"] != "done" {
			t.Fatalf("%s: %v", c.name, end["error"])
		}
		res, err := http.Get(ts.URL + "/api/runs/" + id + "/results.parquet")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		rows, err := parquet.ReadFile[runfolder.Row](filepath.Join(s.cfg.Data, runsDir, id, "results.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		// The second way.
		mean := map[string][2]float64{}
		for _, r := range rows {
			m := mean[r.PracticeID]
			mean[r.PracticeID] = [2]float64{m[0] + float64(r.ListSize), m[1] + 1}
		}
		type key struct {
			band string
			rep  int32
		}
		n, before, after := map[key]float64{}, map[key]float64{}, map[key]float64{}
		excess := map[[2]int32]float64{}
		for _, r := range rows {
			m := mean[r.PracticeID]
			for _, b := range []string{analysis.Bands[analysis.BandOf(m[0]/m[1])].Name, "all"} {
				k := key{b, r.Replication}
				n[k]++
				if r.SpendTotal-r.Budget > 0.05*r.Budget {
					before[k]++
				}
				if r.SpendTotal-r.Budget+r.PoolTransfer > 0.05*r.Budget {
					after[k]++
				}
			}
			excess[[2]int32{r.Replication, r.Year}] += r.CommissionerPaid - r.Budget
		}
		var sum map[string]any
		_, st := call(t, "GET", ts.URL+"/api/runs/"+id, nil)
		sum = st["summary"].(map[string]any)
		summaryP := map[string]float64{}
		for _, b := range sum["bands"].([]any) {
			b := b.(map[string]any)
			summaryP[b["band"].(string)] = b["p_over_5"].(float64)
		}
		hold := sum["holders"].(map[string]any)
		for _, l := range hold["bands"].([]any) {
			l := l.(map[string]any)
			band := l["band"].(string)
			var num, numA, den float64
			var shares, sharesA []float64
			for r := int32(0); r < 30; r++ {
				k := key{band, r}
				num, numA, den = num+before[k], numA+after[k], den+n[k]
				shares, sharesA = append(shares, before[k]/n[k]), append(sharesA, after[k]/n[k])
			}
			pa := numA / den
			if got := l["p_over_5_after"].(float64); math.Abs(got-pa) > 1e-12 {
				t.Errorf("%s, band %s: after pooling %v, here %v", c.name, band, got, pa)
			}
			if p := num / den; math.Abs(summaryP[band]-p) > 1e-12 {
				t.Errorf("%s, band %s: before pooling, summary %v, here %v", c.name, band, summaryP[band], p)
			}
			// Every replication has every practice: the ratio estimator's
			// standard error is the replications' shares' sd / sqrt(30).
			sd := func(x []float64) float64 {
				var m, ss float64
				for _, v := range x {
					m += v / float64(len(x))
				}
				for _, v := range x {
					ss += (v - m) * (v - m)
				}
				return math.Sqrt(ss / float64(len(x)-1) / float64(len(x)))
			}
			if got, want := l["p_over_5_after_se"].(float64), sd(sharesA); math.Abs(got-want) > 1e-9 {
				t.Errorf("%s, band %s: standard error after pooling %v, here %v", c.name, band, got, want)
			}
			if got, want := l["p_over_5_se"].(float64), sd(shares); math.Abs(got-want) > 1e-9 {
				t.Errorf("%s, band %s: standard error before pooling %v, here %v", c.name, band, got, want)
			}
			if band == "all" {
				if c.pool && !(pa < num/den) {
					t.Errorf("%s: after a pool %v, before %v: want fewer overspends after", c.name, pa, num/den)
				}
				if !c.pool && pa != num/den {
					t.Errorf("%s: no pool, yet after %v and before %v differ", c.name, pa, num/den)
				}
			}
		}
		// Reserves: the summary's, with an interval from the sorted needs.
		var need []float64
		for r := int32(0); r < 30; r++ {
			need = append(need, math.Max(0, math.Max(excess[[2]int32{r, 1}], excess[[2]int32{r, 2}])))
		}
		slices.Sort(need)
		comm := sum["commissioner"].(map[string]any)
		for i, rr := range hold["reserves"].([]any) {
			rr := rr.(map[string]any)
			want := comm[[]string{"reserve_95", "reserve_99"}[i]].(float64)
			if v := rr["value"].(float64); math.Abs(v-want) > 1e-6*math.Max(1, want) {
				t.Errorf("%s: reserve %v, summary %v", c.name, v, want)
			}
			if lo, hi := rr["low"].(float64), rr["high"].(float64); !(lo <= want && want <= hi) || !slices.Contains(need, lo) || !slices.Contains(need, hi) {
				t.Errorf("%s: reserve %v, interval %v to %v: not two replications' needs around it", c.name, want, lo, hi)
			}
		}
		os.Remove(filepath.Join(s.cfg.Data, runsDir, id, "results.parquet"))
	}
}

// The interval's ranks, by hand: 200 replications at 95% have 190 below
// the quantile on average, with sd sqrt(200 x 0.95 x 0.05) = 3.08, so
// 190 -/+ 6.04: the values of 1-based rank 183 (floor(183.96)) to 197
// (ceil(196.04)), 0-based 182 to 197 (the upper kept one wider).
func TestQuantileInterval(t *testing.T) {
	if lo, hi := quantileInterval(200, 0.95); lo != 182 || hi != 197 {
		t.Errorf("200 at 95%%: ranks %d to %d, want 182 to 197", lo, hi)
	}
	if lo, hi := quantileInterval(10, 0.99); lo != 8 || hi != 9 {
		t.Errorf("10 at 99%%: ranks %d to %d, want 8 to 9", lo, hi)
	}
}

// The paired standard error of a difference of shares, by hand: two
// replications of 10 practice-years; A counts 2 and 4, B 1 and 2, so the
// shares are 0.3 and 0.15 and the replications' differences -0.1 and
// -0.2, whose mean's standard error is 0.05.
func TestPairedShareSE(t *testing.T) {
	ca := []counts{{n: 10, over5After: 2}, {n: 10, over5After: 4}}
	cb := []counts{{n: 10, over5After: 1}, {n: 10, over5After: 2}}
	pa, pb, se := pairedShareSE(ca, cb, func(c counts) float64 { return c.over5After })
	if math.Abs(pa-0.3) > 1e-12 || math.Abs(pb-0.15) > 1e-12 || math.Abs(se-0.05) > 1e-12 {
		t.Errorf("pa %v, pb %v, se %v; want 0.3, 0.15, 0.05", pa, pb, se)
	}
}

// A comparison's B - A after pooling: the runs' own chances after pooling
// (exactly), a 10% pool lowering the chance a practice must find more than
// 5% itself, and a paired standard error below the independent one (the
// same seed: common random numbers).
func TestComparisonAfterPool(t *testing.T) {
	_, ts := testServer(t, Config{})
	body := map[string]any{"a": map[string]any{"scenario": "default", "set": map[string]any{"rule.type": "hard"}},
		"b":    map[string]any{"scenario": "default", "set": map[string]any{"rule.type": "hard", "rule.pool_share": 0.1}},
		"reps": 8, "years": 2, "seed": 4, "cohort": true}
	code, out := call(t, "POST", ts.URL+"/api/comparisons", body)
	if code != 202 {
		t.Fatalf("HTTP %d %v", code, out)
	}
	end := waitEnd(t, ts, "comparisons", out["id"].(string))
	if end["status"] != "done" {
		t.Fatalf("comparison: %v %v", end["status"], end["error"])
	}
	_, st := call(t, "GET", ts.URL+"/api/comparisons/"+out["id"].(string), nil)
	after := map[string]float64{}
	for i, r := range st["runs"].([]any) {
		_, run := call(t, "GET", ts.URL+"/api/runs/"+r.(string), nil)
		for _, b := range run["summary"].(map[string]any)["holders"].(map[string]any)["bands"].([]any) {
			m := b.(map[string]any)
			if m["band"] == "all" {
				after[fmt.Sprint(i)], after[fmt.Sprint(i)+"se"] = m["p_over_5_after"].(float64), m["p_over_5_after_se"].(float64)
			}
		}
	}
	var d map[string]any
	for _, x := range st["after_pool_differences"].([]any) {
		if m := x.(map[string]any); m["band"] == "all" && m["metric"] == "p_over_5_after" {
			d = m
		}
	}
	if d == nil {
		t.Fatalf("no difference after pooling for all practices: %v", st["after_pool_differences"])
	}
	if d["a"].(float64) != after["0"] || d["b"].(float64) != after["1"] || math.Abs(d["difference"].(float64)-(after["1"]-after["0"])) > 1e-15 {
		t.Errorf("difference %v: the runs' own chances after pooling are %v and %v", d, after["0"], after["1"])
	}
	indep := math.Hypot(after["0se"], after["1se"])
	if se := d["se_paired"].(float64); !(d["difference"].(float64) < 0) || !(se > 0 && se < indep) {
		t.Errorf("a 10%% pool: B - A %v ± %v (paired), want below 0 with a paired SE in (0, %v)", d["difference"], se, indep)
	}
}
