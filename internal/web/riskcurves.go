package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/internal/england"
	"github.com/gpbudget/gpbudget/internal/riskcurve"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
)

// A risk curve answers "how often does this contract pay for luck?" for
// holders of given sizes (gpbudget risk-curve, through riskcurve's library
// API): the chance the contract rewards a holder whose spend did not
// really change, the minimum savings rate that would hold that to 5%, and
// the chance a true 2% saving is rewarded. Its rows are passed on by their
// column names as the risk-curve table writes them, so columns added or
// renamed there reach the API without a change here.

// CurveRequest is the body of POST /api/risk-curves.
type CurveRequest struct {
	Side
	Params
	Sizes []int `json:"sizes,omitempty"`
	// Levels are real levels (pcn, place, icb, region) whose units, in an
	// area of England, are measured as holders, one row each, beside the
	// sizes: the risk real holders of unequal size face
	// (riskcurve.RunLevels).
	Levels []string `json:"levels,omitempty"`
}

// Bounds of a risk curve's request.
const (
	maxCurveSizes = 8
	minCurveSize  = 100
	maxCurveSize  = 10_000_000
	maxCurveYears = 5
)

// decodeCurveRequest reads a risk curve's JSON body.
func decodeCurveRequest(b []byte) (*CurveRequest, *apiError) {
	m, e := decodeObject(b, "the request")
	if e != nil {
		return nil, e
	}
	r := &CurveRequest{}
	if raw, ok := m["sizes"]; ok {
		delete(m, "sizes")
		if e := checkJSONShape(raw, "sizes", maxCurveSizes+2, 1, 32); e != nil {
			return nil, e
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 || len(list) > maxCurveSizes {
			return nil, badField("sizes", "is not a list of 1 to %d holder sizes in people, such as [50000]", maxCurveSizes)
		}
		for _, x := range list {
			f, e := numberOf(x, "sizes")
			if e != nil {
				return nil, e
			}
			if f != math.Trunc(f) || f < minCurveSize || f > maxCurveSize {
				return nil, badField("sizes", "%v is out of range: accepted whole numbers of people from %s to %s", f, thousands(minCurveSize), thousands(maxCurveSize))
			}
			r.Sizes = append(r.Sizes, int(f))
		}
	}
	if raw, ok := m["levels"]; ok {
		delete(m, "levels")
		if e := checkJSONShape(raw, "levels", len(england.LevelNames)+2, 1, 16); e != nil {
			return nil, e
		}
		if err := json.Unmarshal(raw, &r.Levels); err != nil || len(r.Levels) > len(england.LevelNames) {
			return nil, badField("levels", "is not a list of real levels: accepted up to %d of %s, such as [\"pcn\"]", len(england.LevelNames), strings.Join(england.LevelNames[:], ", "))
		}
		for i, l := range r.Levels {
			if england.LevelOf(l) < 0 || slices.Contains(r.Levels[:i], l) {
				return nil, badField("levels", "%q is not a level or is named twice: accepted %s", short([]byte(l)), strings.Join(england.LevelNames[:], ", "))
			}
		}
	}
	if r.Side, e = takeSide(m, ""); e != nil {
		return nil, e
	}
	if r.Params, e = takeParams(m); e != nil {
		return nil, e
	}
	return r, unknownFields(m, "", sideFields+", reps, years, seed, sizes, levels")
}

func (s *Server) postRiskCurve(w http.ResponseWriter, r *http.Request) {
	body, e := s.readBody(w, r, "scenario")
	if e != nil {
		writeErr(w, e)
		return
	}
	req, e := decodeCurveRequest(body)
	if e != nil {
		writeErr(w, e)
		return
	}
	// The curve's own size: 200 replications of one contract year unless
	// asked; the area's run size is not the curve's.
	p := req.Params
	reps, years := 200, 1
	if p.Reps != nil {
		reps = *p.Reps
	}
	if p.Years != nil {
		years = *p.Years
	}
	p.Reps, p.Years, p.Cohort = nil, nil, false
	b, e := s.build(req.Side, p)
	if e != nil {
		writeErr(w, e)
		return
	}
	if reps < 2 {
		writeErr(w, badField("reps", "%d is out of range: a risk curve needs at least 2 replications for its standard errors", reps))
		return
	}
	if years > maxCurveYears {
		writeErr(w, badField("years", "%d is out of range: accepted 1 to %d contract years", years, maxCurveYears))
		return
	}
	sizes := req.Sizes
	if len(sizes) == 0 {
		sizes = []int{holderSize(b)}
	}
	levels := req.Levels
	real := b.scen.Population.England != nil
	if len(levels) > 0 && !real {
		writeErr(w, badField("levels", "real holders need England's real practices: choose an area of England (area)"))
		return
	}
	if by := b.scen.Rule.Consortium.By; len(levels) == 0 && real && england.LevelOf(by) >= 0 {
		// The scenario's holders are real units: measure them as they are.
		levels = []string{by}
	}
	// Each size simulates its holders twice (no change, and a true 2%
	// cut) over the base year and the contract years.
	cost := 0.0
	for _, n := range sizes {
		h := max(riskcurve.MinHolders, (riskcurve.AutoPatients+n-1)/n)
		cost += 2 * float64(reps) * float64(years+1) * float64(h) * float64(n)
	}
	// Each level simulates the area's patients twice likewise.
	cost += 2 * float64(reps) * float64(years+1) * float64(b.patients) * float64(len(levels))
	if cost > s.cfg.MaxPatientYears {
		most := math.Floor(float64(reps) * s.cfg.MaxPatientYears / cost)
		writeErr(w, badField("reps", "%s replications of %d holder sizes is %s patient-years, more than this server runs at once (its limit of %s): accepted at most %s replications here",
			thousands(reps), len(sizes), amountWords(cost), amountWords(s.cfg.MaxPatientYears), thousands(int(most))))
		return
	}
	o := riskcurve.Options{Sizes: sizes, Reps: reps, Years: years, Seed: b.seed, Workers: s.cfg.Workers}
	j, err := s.startCurve(req, b, o, levels)
	if err != nil {
		jobError(w, err)
		return
	}
	w.Header().Set("Location", "/api/risk-curves/"+j.ID)
	writeJSON(w, http.StatusAccepted, j.view())
}

// holderSize is the people per budget holder of a built scenario: its
// consortium's target where practices are grouped by population, else
// its patients shared among its holders.
func holderSize(b *built) int {
	if c := b.scen.Rule.Consortium; c.By == "population" && c.TargetPopulation > 0 {
		return min(max(c.TargetPopulation, minCurveSize), maxCurveSize)
	}
	holders := map[string]bool{}
	for i := range b.model.Practices {
		p := &b.model.Practices[i]
		h := p.Group
		if h == "" {
			h = "practice:" + p.ID
		}
		holders[h] = true
	}
	n := max(len(holders), 1)
	return min(max(b.patients/n, minCurveSize), maxCurveSize)
}

// startCurve queues a risk curve of b's scenario.
func (s *Server) startCurve(req *CurveRequest, b *built, o riskcurve.Options, levels []string) (*job, error) {
	j, err := s.newJob("risk-curve", curvesDir, &RunRequest{Side: req.Side.record(), Params: req.Params}, b)
	if err != nil {
		return nil, err
	}
	j.Scenario = s.runName(b, req.Side)
	j.Reps, j.Years, j.Cohort = o.Reps, o.Years, false
	if err := j.save(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.curves[j.ID] = j
	s.mu.Unlock()
	if err := s.enqueue(j, func(ctx context.Context) error { return s.execCurve(ctx, j, b, o, levels) }); err != nil {
		s.drop(j, curvesDir)
		return nil, err
	}
	fmt.Fprintf(s.cfg.Log, "risk curve %s queued: %s, sizes %v, %d x %d years, seed %d\n", j.ID, j.Scenario, o.Sizes, o.Reps, o.Years, o.Seed)
	return j, nil
}

func (s *Server) execCurve(ctx context.Context, j *job, b *built, o riskcurve.Options, levels []string) error {
	j.setStage(stageSimulating)
	o.Progress = j.prog
	rows, err := riskcurve.Run(ctx, b.scen, o)
	if err != nil {
		return err
	}
	if len(levels) > 0 {
		real, err := riskcurve.RunLevels(ctx, b.scen, o, levels)
		if err != nil {
			return err
		}
		rows = append(rows, real...)
	}
	j.setStage(stageSummarising)
	meta := map[string]string{"gpbudget.scenario": b.scen.Name, "gpbudget.seed": strconv.FormatUint(o.Seed, 10), "gpbudget.replications": strconv.Itoa(o.Reps),
		"gpbudget.years": strconv.Itoa(o.Years), "gpbudget.version": s.cfg.Version,
		"gpbudget.command": fmt.Sprintf("gpbudget risk-curve --scenario %s --sizes %s --reps %d --years %d --seed %d --out curve", scenarioFile, joinInts(o.Sizes), o.Reps, o.Years, o.Seed)}
	if len(levels) > 0 {
		meta["gpbudget.command"] += " --holders " + strings.Join(levels, ",")
	}
	meta["gpbudget.scenario_yaml"] = string(b.file)
	dir := filepath.Join(j.dir, "curve")
	if err := analysis.WriteRiskCurve(dir, rows, meta); err != nil {
		return err
	}
	curve, err := readCurveCSV(filepath.Join(dir, runfolder.RiskCurveCSV))
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.res.Curve = curve
	j.mu.Unlock()
	return nil
}

// readCurveCSV reads a risk-curve table by its column names: numbers as
// numbers, an empty cell (NaN) as null, anything else as text.
func readCurveCSV(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s has no header", filepath.Base(path))
	}
	var out []map[string]any
	for _, rec := range recs[1:] {
		row := map[string]any{}
		for i, name := range recs[0] {
			if i >= len(rec) {
				break
			}
			switch v := rec[i]; {
			case v == "":
				row[name] = nil
			default:
				if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
					row[name] = f
				} else {
					row[name] = v
				}
			}
		}
		out = append(out, row)
	}
	return out, nil
}

func joinInts(xs []int) string {
	var b []byte
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return string(b)
}

// curveCSV answers a finished risk curve's table.
func (s *Server) curveCSV() http.HandlerFunc {
	return s.doneHandler(curvesDir, func(w http.ResponseWriter, r *http.Request, j *job) {
		serveFile(w, r, filepath.Join(j.dir, "curve", runfolder.RiskCurveCSV), "text/csv; charset=utf-8", "risk-curve-"+j.ID+".csv")
	})
}
