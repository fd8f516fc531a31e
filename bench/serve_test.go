package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/internal/web"
	"github.com/gpbudget/gpbudget/sim"
)

// BenchmarkServeRunToDrawn times what the what-if page waits for from
// pressing Run to a drawn result for the default area, 200 replications x
// 3 years in cohort mode (sub-benchmark page): POST /api/runs, the run into
// its folder, the summary, report and charts, the end of the event stream,
// and the charts fetched; it reports each stage as the server timed it.
// Beside it (engine) the same run's simulation alone, output discarded, so
// the two can be compared in one measurement on a shared machine; both
// report the process's CPU time. The page's own drawing (inserting the SVG)
// is measured by the browser test (TestPageInChromium logs it).
// bench/README.md records the figures.
func BenchmarkServeRunToDrawn(b *testing.B) {
	b.Run("engine", func(b *testing.B) {
		m := model(b, "default")
		cpu0 := processCPU()
		for b.Loop() {
			var d discard
			if err := sim.Run(context.Background(), m, sim.Options{Seed: 1, LastRep: 200, Years: 3, Cohort: true}, &d); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1e3*(processCPU()-cpu0)/float64(b.N), "cpu-ms/op")
	})
	b.Run("page", benchPage)
}

func benchPage(b *testing.B) {
	s, err := web.New(web.Config{Data: b.TempDir(), Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	body := []byte(`{"scenario":"default","reps":200,"years":3,"seed":1,"cohort":true}`)
	stages := map[string]float64{}
	n := 0
	cpu0 := processCPU()
	for b.Loop() {
		res, err := http.Post(ts.URL+"/api/runs", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		var st struct {
			ID string `json:"id"`
		}
		json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
		end := waitEnd(b, ts.URL+"/api/runs/"+st.ID+"/events")
		if end.Status != "done" {
			b.Fatalf("run %s: %s", st.ID, end.Status)
		}
		res, err = http.Get(ts.URL + "/api/runs/" + st.ID + "/charts")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, res.Body); err != nil || res.StatusCode != 200 {
			b.Fatalf("charts: %v %d", err, res.StatusCode)
		}
		res.Body.Close()
		for k, v := range end.Timings {
			stages[k] += v
		}
		n++
	}
	// CPU time, user and system, of the whole process: on a machine
	// others share, wall time counts their work too.
	b.ReportMetric(1e3*(processCPU()-cpu0)/float64(n), "cpu-ms/op")
	for _, k := range []string{"waiting", "simulating", "summarising", "drawing"} {
		b.ReportMetric(stages[k]/float64(n), k+"-ms/op")
	}
}

type ended struct {
	Status  string             `json:"status"`
	Timings map[string]float64 `json:"timings_ms"`
}

func waitEnd(b *testing.B, url string) ended {
	res, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	event := ""
	for sc.Scan() {
		if e, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			event = e
		}
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok && event == "end" {
			var e ended
			if err := json.Unmarshal([]byte(d), &e); err != nil {
				b.Fatal(err)
			}
			return e
		}
	}
	b.Fatal(fmt.Errorf("no end event: %v", sc.Err()))
	return ended{}
}
