package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gpbudget/gpbudget/internal/england"
)

// Areas of England: a side may take an ICB's, place's, PCN's or region's
// real practices from the built-in table (scenarios.UseEngland) in place
// of its scenario's population, and GET /api/areas lists the areas a
// person can pick from, searchable by code or part of a name. Only the
// server's own table is read: no path from a client is opened.

// Bounds of an area's query and of one answer.
const (
	maxAreaQuery  = 100 // characters of a code or name
	maxAreasShown = 50  // areas in one answer; the rest are counted
)

// levelWords is a level as the page writes it.
func levelWords(level string) string {
	switch level {
	case "icb":
		return "ICB"
	case "pcn":
		return "PCN"
	}
	return level
}

// areaOf looks a side's area up in England's table; an unknown or
// ambiguous area is a 400 naming the nearest.
func areaOf(sd Side) (england.Area, *apiError) {
	if sd.Population != "" {
		return england.Area{}, badField("area", "takes its practices from England's built-in table: a list-size file (population) is not taken with it; choose one")
	}
	if sd.Practices != "" {
		return england.Area{}, badField("practices", "selects practices of a list-size file, not of an area: leave it empty with an area")
	}
	t, err := england.Load()
	if err != nil {
		return england.Area{}, &apiError{status: 500, Error: err.Error()}
	}
	a, err := t.Lookup(sd.Area)
	if err != nil {
		return england.Area{}, badField("area", "%s", strings.Replace(err.Error(), " (see 'gpbudget areas')", "", 1))
	}
	return a, nil
}

// AreaList is the answer of GET /api/areas.
type AreaList struct {
	Level string         `json:"level"`
	In    *england.Area  `json:"in,omitempty"`
	Areas []england.Area `json:"areas"`
	// More is how many further areas matched beyond those listed.
	More   int    `json:"more"`
	Source string `json:"source"`
}

// getAreas answers GET /api/areas?level=icb|place|pcn|region&in=CODE&q=TEXT:
// the areas at level (within area in), whose code or name holds q, by
// code, at most maxAreasShown of them.
func (s *Server) getAreas(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "level" && k != "in" && k != "q" {
			writeErr(w, badField(k, "is not a parameter of /api/areas: accepted level, in, q"))
			return
		}
	}
	level := q.Get("level")
	if level == "" {
		level = "icb"
	}
	l := england.LevelOf(level)
	if l < 0 {
		writeErr(w, badField("level", "%q is not a level: accepted %s", short([]byte(level)), strings.Join(england.LevelNames[:], ", ")))
		return
	}
	in, text := q.Get("in"), strings.ToLower(strings.TrimSpace(q.Get("q")))
	for _, p := range []struct{ name, v string }{{"in", in}, {"q", text}} {
		if len(p.v) > maxAreaQuery {
			writeErr(w, badField(p.name, "is %d characters: accepted at most %d", len(p.v), maxAreaQuery))
			return
		}
	}
	t, err := england.Load()
	if err != nil {
		writeErr(w, &apiError{status: 500, Error: err.Error()})
		return
	}
	out := AreaList{Level: england.LevelNames[l], Areas: []england.Area{}, Source: england.Provenance + ". " + england.Attribution + "."}
	within := t.England()
	if strings.TrimSpace(in) != "" {
		a, err := t.Lookup(in)
		var le *england.LookupError
		if errors.As(err, &le) {
			writeErr(w, badField("in", "%s", strings.Replace(err.Error(), " (see 'gpbudget areas')", "", 1)))
			return
		} else if err != nil {
			writeErr(w, &apiError{status: 500, Error: err.Error()})
			return
		}
		within, out.In = a, &a
	}
	for _, a := range t.Areas(l, within) {
		if text != "" && !strings.Contains(strings.ToLower(a.Code), text) && !strings.Contains(strings.ToLower(a.Name), text) {
			continue
		}
		if len(out.Areas) == maxAreasShown {
			out.More++
			continue
		}
		out.Areas = append(out.Areas, a)
	}
	writeJSON(w, http.StatusOK, out)
}

// areaWords is an area as a run's name says it.
func areaWords(a england.Area) string {
	return fmt.Sprintf("%s %s", levelWords(a.Level), a.Name)
}
