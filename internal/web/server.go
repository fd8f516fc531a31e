// Package web is gpbudget's what-if page and the HTTP API it uses: pick a
// scenario or upload one (or an NHS Digital list-size file), set the levers
// that decide the answer, run it with progress streamed, see the headline
// table and the report's charts, compare two settings with common random
// numbers, and download the scenario, the results and the report.
//
// Every input goes through the scenario validator files go through
// (scenarios.Parse, the scenario's limits, CheckRun), held to this
// server's own limits; no path a client sends is ever opened (uploads are
// stored under names the server makes); runs are queued, a bounded number
// at a time, each into its own run folder under the data folder, where
// finished runs survive a restart. The page and its assets are embedded:
// it works offline.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
)

// Config sets a server up. Zero values take the defaults below.
type Config struct {
	// Data is the folder where runs, comparisons and uploads are kept.
	Data    string
	Version string
	// Workers each run uses (default: every core).
	Workers int
	// MaxRuns run at once; up to MaxQueue more wait their turn (0: none
	// wait; a run that finds every slot taken is refused).
	MaxRuns  int
	MaxQueue int
	// BodyTimeout is how long a request's body may take to arrive.
	BodyTimeout time.Duration
	// MaxPatientYears bounds a run's replications x (years + 1) x
	// patients, and MaxRows its result rows (replications x years x
	// practices); a scenario file cannot raise them.
	MaxPatientYears float64
	MaxRows         float64
	// MaxUpload bounds an uploaded file or a request body, in bytes.
	MaxUpload int64
	// Loopback: the server listens on a loopback address only, so it
	// answers only requests addressed to a loopback name (a web page on
	// another site cannot reach it through DNS rebinding).
	Loopback bool
	// Log receives a line for each run that starts and ends (nil: none).
	Log io.Writer
}

// Defaults, each sized for a 2-core laptop (see docs in README, "The
// what-if page").
const (
	// One run at a time uses every core; the rest wait.
	DefaultMaxRuns  = 1
	DefaultMaxQueue = 20
	// 2e10 patient-years: about 25 s in cohort mode on 2 cores (about 8e8
	// patient-years a second, bench/README.md) or about 25 minutes at
	// patient level (about 1.35e7 a second). The default area's 200
	// replications of 3 years are 2.4e8.
	DefaultMaxPatientYears = 2e10
	// 2e7 result rows: about 2.2 GB of Parquet at about 110 bytes a row.
	DefaultMaxRows = 2e7
	// 64 MiB: NHS Digital's five-year-band file for all of England is
	// about 20 MB.
	DefaultMaxUpload = 64 << 20
	// 2 minutes for a body: 64 MiB at 4.5 Mbit/s.
	DefaultBodyTimeout = 2 * time.Minute
)

// Server is the page and the API. Create it with New; Close ends its runs.
type Server struct {
	cfg    Config
	schema *schema
	levers []Lever
	// implied are the values of implied sections' fields where a scenario
	// has no such section; builtins the built-in scenarios as listed.
	implied  map[string]any
	builtins []scenarioInfo
	mux      *http.ServeMux
	ctx      context.Context
	stop     context.CancelFunc
	slots    chan struct{}
	wg       sync.WaitGroup

	mu          sync.Mutex
	runs        map[string]*job
	comparisons map[string]*job
	curves      map[string]*job
	uploads     map[string]*upload
	waiting     int
	// active counts jobs holding a slot; peak is the most there have been.
	active, peak atomic.Int32
}

//go:embed assets
var assets embed.FS

//go:embed openapi.json
var openAPIDoc []byte

// New makes a server over cfg.Data, loading the runs, comparisons and
// uploads kept there.
func New(cfg Config) (*Server, error) {
	if cfg.Data == "" {
		return nil, errors.New("web: no data folder")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.MaxRuns <= 0 {
		cfg.MaxRuns = DefaultMaxRuns
	}
	cfg.MaxQueue = max(cfg.MaxQueue, 0)
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.MaxPatientYears <= 0 {
		cfg.MaxPatientYears = DefaultMaxPatientYears
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	sc, err := loadSchema()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, schema: sc, levers: sc.levers(), slots: make(chan struct{}, cfg.MaxRuns),
		runs: map[string]*job{}, comparisons: map[string]*job{}, curves: map[string]*job{}, uploads: map[string]*upload{}}
	if s.implied, err = impliedValues(s.levers); err != nil {
		return nil, err
	}
	if s.builtins, err = s.builtinList(); err != nil {
		return nil, err
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	for _, d := range []string{runsDir, comparisonsDir, curvesDir, uploadsDir} {
		if err := os.MkdirAll(filepath.Join(cfg.Data, d), 0o755); err != nil {
			return nil, fmt.Errorf("data folder %s cannot be created: %w", cfg.Data, err)
		}
	}
	probe := filepath.Join(cfg.Data, ".write-test")
	if err := os.WriteFile(probe, []byte("x"), 0o644); err != nil {
		return nil, fmt.Errorf("data folder %s is not writable: %w", cfg.Data, err)
	}
	os.Remove(probe)
	if err := s.load(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Folders under the data folder.
const (
	runsDir        = "runs"
	comparisonsDir = "comparisons"
	curvesDir      = "risk-curves"
	uploadsDir     = "uploads"
)

// Close cancels every queued and running run and waits for them to stop;
// each run's folder then says it did not complete.
func (s *Server) Close() {
	s.stop()
	s.wg.Wait()
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.guard(s.mux) }

// route is one of the server's routes: method and pattern as
// http.ServeMux reads them.
type route struct {
	method, pattern string
	h               http.HandlerFunc
}

// apiRoutes are the API's routes, each documented in openapi.json (a test
// holds the two together).
func (s *Server) apiRoutes() []route {
	return []route{
		{"GET", "/api/openapi.json", s.openAPI},
		{"GET", "/api/scenarios", s.listScenarios},
		{"GET", "/api/scenarios/{name}", s.getScenario},
		{"GET", "/api/levers", s.getLevers},
		{"GET", "/api/areas", s.getAreas},
		{"POST", "/api/validate", s.validate},
		{"POST", "/api/uploads", s.postUpload},
		{"GET", "/api/uploads/{id}", s.getUpload},
		{"GET", "/api/runs", s.listRuns},
		{"POST", "/api/runs", s.postRun},
		{"GET", "/api/runs/{id}", s.getJob(runsDir)},
		{"DELETE", "/api/runs/{id}", s.cancelJob(runsDir)},
		{"GET", "/api/runs/{id}/events", s.events(runsDir)},
		{"GET", "/api/runs/{id}/charts", s.chartsFile(runsDir)},
		{"GET", "/api/runs/{id}/report", s.reportFile(runsDir)},
		{"GET", "/api/runs/{id}/scenario.yaml", s.scenarioYAML()},
		{"GET", "/api/runs/{id}/results.parquet", s.parquetFile(runfolder.PracticeYears)},
		{"GET", "/api/runs/{id}/ledger.parquet", s.parquetFile(runfolder.Ledger)},
		{"POST", "/api/comparisons", s.postComparison},
		{"GET", "/api/comparisons/{id}", s.getJob(comparisonsDir)},
		{"DELETE", "/api/comparisons/{id}", s.cancelJob(comparisonsDir)},
		{"GET", "/api/comparisons/{id}/events", s.events(comparisonsDir)},
		{"GET", "/api/comparisons/{id}/charts", s.chartsFile(comparisonsDir)},
		{"GET", "/api/comparisons/{id}/report", s.reportFile(comparisonsDir)},
		{"GET", "/api/comparisons/{id}/results.parquet", s.comparisonParquet()},
		{"POST", "/api/risk-curves", s.postRiskCurve},
		{"GET", "/api/risk-curves/{id}", s.getJob(curvesDir)},
		{"DELETE", "/api/risk-curves/{id}", s.cancelJob(curvesDir)},
		{"GET", "/api/risk-curves/{id}/events", s.events(curvesDir)},
		{"GET", "/api/risk-curves/{id}/risk_curve.csv", s.curveCSV()},
	}
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.page)
	// The page's script and style only: the page's template is served
	// filled in, at /.
	for _, name := range []string{"app.js", "style.css"} {
		m.HandleFunc("GET /assets/"+name, func(w http.ResponseWriter, r *http.Request) {
			http.ServeFileFS(w, r, assets, "assets/"+name)
		})
	}
	for _, r := range s.apiRoutes() {
		m.HandleFunc(r.method+" "+r.pattern, r.h)
	}
	// Anything else under /api/ answers in JSON, as the API does.
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, &apiError{status: 404, Error: fmt.Sprintf("%s %s is not part of the API: see /api/openapi.json", r.Method, r.URL.Path)})
	})
	s.mux = m
}

// openAPI answers the API's description, with this program's version.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		writeErr(w, &apiError{status: 500, Error: err.Error()})
		return
	}
	if info, ok := doc["info"].(map[string]any); ok && s.cfg.Version != "" {
		info["version"] = s.cfg.Version
	}
	writeJSON(w, 200, doc)
}

// guard turns away what a server on a laptop must not answer: when it
// listens on loopback only, requests addressed to any other host name (a
// page elsewhere reaching it through DNS rebinding); and a request that
// changes something (POST, DELETE) from any page but this server's own. A
// browser says where a request comes from in Origin ("null" from a
// sandboxed frame or a file:// page, which may be anyone's) and in
// Sec-Fetch-Site; and a body of a type a form can send (text/plain,
// multipart/form-data, application/x-www-form-urlencoded) needs no
// permission from this server, so only application/json is taken (and
// application/octet-stream for an upload's file): for those a browser asks
// first, and this server sends no CORS header that would allow it.
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Loopback && !loopbackHost(r.Host) {
			writeJSON(w, http.StatusMisdirectedRequest, &apiError{Error: fmt.Sprintf("this server listens on loopback and answers only requests addressed to localhost, 127.0.0.1 or [::1], not %q", r.Host)})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if e := crossSite(r); e != nil {
				writeErr(w, e)
				return
			}
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// crossSite refuses a request that changes something unless it comes from
// this server's own page (or from no page: curl, a script).
func crossSite(r *http.Request) *apiError {
	if o, ok := r.Header["Origin"]; ok {
		origin := strings.Join(o, ",")
		if origin == "null" || !sameOrigin(origin, r.Host) {
			return &apiError{status: http.StatusForbidden, Error: fmt.Sprintf("a request from a page of %s, not of this server: refused (a change is taken only from this server's own page)", origin)}
		}
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return &apiError{status: http.StatusForbidden, Error: fmt.Sprintf("a request from another site (Sec-Fetch-Site: %s): refused (a change is taken only from this server's own page)", site)}
	}
	if r.Method == http.MethodDelete && r.ContentLength <= 0 && r.Header.Get("Content-Type") == "" {
		return nil // nothing in the body
	}
	want := []string{"application/json"}
	if r.URL.Path == "/api/uploads" {
		// A file as it is; none of these is a type a form can send.
		want = []string{"application/octet-stream", "text/csv", "application/yaml", "text/yaml", "application/x-yaml"}
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || !slices.Contains(want, mt) {
		return &apiError{status: http.StatusUnsupportedMediaType, Field: "Content-Type",
			Error: fmt.Sprintf("a body of type %q: accepted %s (the types a form sends are refused: any page could send them)", ct, strings.Join(want, ", "))}
	}
	return nil
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sameOrigin(origin, host string) bool {
	rest, ok := strings.CutPrefix(origin, "http://")
	if !ok {
		rest, ok = strings.CutPrefix(origin, "https://")
	}
	return ok && strings.EqualFold(rest, host)
}

// IsLoopback says whether a listen address (host:port) binds loopback
// only; an empty host binds every interface.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

func writeErr(w http.ResponseWriter, e *apiError) {
	st := e.status
	if st == 0 {
		st = http.StatusBadRequest
	}
	writeJSON(w, st, e)
}

// readBody reads a JSON request body: at most maxJSONBody bytes, within
// the body read timeout.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, field string) ([]byte, *apiError) {
	return s.readLimited(w, r, field, maxJSONBody)
}

// maxJSONBody bounds a JSON request: its scenario text (at most
// maxScenarioBytes, escaped) and its settings. Files go to /api/uploads.
const maxJSONBody = 1 << 20

// readLimited reads a request body of at most limit bytes. The whole body
// must arrive within the body timeout: a client that sends a byte a minute
// does not hold a connection and its buffer for ever.
func (s *Server) readLimited(w http.ResponseWriter, r *http.Request, field string, limit int64) ([]byte, *apiError) {
	// Not every ResponseWriter can set it (a test's recorder cannot). The
	// deadline is lifted once the whole body is read: the connection may
	// carry further requests. A body that did not arrive leaves it: the
	// connection ends with the answer.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
	if r.ContentLength > limit {
		return nil, tooLarge(field, r.ContentLength, limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, tooLarge(field, -1, limit)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			w.Header().Set("Connection", "close") // the rest of the body is not awaited
			return nil, &apiError{status: http.StatusRequestTimeout, Field: field, Error: fmt.Sprintf("%s: the request's body did not arrive within %v", field, s.cfg.BodyTimeout)}
		}
		return nil, &apiError{status: 400, Field: field, Error: fmt.Sprintf("reading the request: %v", err)}
	}
	_ = rc.SetReadDeadline(time.Time{})
	return b, nil
}

func tooLarge(field string, n, limit int64) *apiError {
	size := "larger than"
	if n >= 0 {
		size = bytesWords(n) + ", more than"
	}
	return &apiError{status: http.StatusRequestEntityTooLarge, Field: field,
		Error: fmt.Sprintf("%s: the request is %s this server's limit of %s", field, size, bytesWords(limit))}
}

func bytesWords(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// newID is a random identifier: 16 hex digits.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Limits: a scenario file may raise its own (scenarios.Limits) but not
// past this server's.

// serverLimits are the most this server runs: the scenario defaults for
// practices and patients, and the flags for patient-years and rows.
func (s *Server) serverLimits() scenarios.Limits {
	l := scenarios.DefaultLimits()
	l.PatientYears = int(math.Min(s.cfg.MaxPatientYears, math.MaxInt64/2))
	l.PracticeYears = int(math.Min(s.cfg.MaxRows, math.MaxInt64/2))
	return l
}

// capLimits holds a scenario to this server's limits and returns which
// it lowered, by name, with the server's value.
func (s *Server) capLimits(sc *scenarios.Scenario) map[string]int {
	srv := s.serverLimits()
	lowered := map[string]int{}
	for _, f := range []struct {
		name      string
		own, max_ *int
	}{
		{"practices", &sc.Limits.Practices, &srv.Practices},
		{"patients_per_practice", &sc.Limits.PatientsPerPractice, &srv.PatientsPerPractice},
		{"patients", &sc.Limits.Patients, &srv.Patients},
		{"patient_years", &sc.Limits.PatientYears, &srv.PatientYears},
		{"practice_years", &sc.Limits.PracticeYears, &srv.PracticeYears},
	} {
		if *f.own > *f.max_ {
			*f.own = *f.max_
			lowered[f.name] = *f.max_
		}
	}
	return lowered
}

// limitNote adds to an error about a limit the scenario raised past this
// server's that the server's limit is what bound it.
func (s *Server) limitNote(e *apiError, lowered map[string]int) *apiError {
	for name, v := range lowered {
		if strings.Contains(e.Error, "limits."+name) {
			note := fmt.Sprintf(" (this server holds limits.%s to %d whatever the scenario says)", name, v)
			e.Error += note
			e.Message += note
			if len(e.Errors) > 0 {
				e.Errors[0].Error, e.Errors[0].Message = e.Error, e.Message
			}
		}
	}
	return e
}

// checkSize refuses a run larger than this server's limits, naming the
// flag that sets each, before the scenario's own limits are checked.
func (s *Server) checkSize(b *built) *apiError {
	py := float64(b.reps) * float64(b.years+1) * float64(b.patients)
	if py > s.cfg.MaxPatientYears {
		return badField("reps", "%s replications of %s for %s patients is more than this server runs at once (its limit of %s patient-years, set when it was started): accepted at most %s replications of %s here",
			thousands(b.reps), yearsWord(b.years), thousands(b.patients), amountWords(s.cfg.MaxPatientYears), thousands(s.maxReps(b)), yearsWord(b.years))
	}
	rows := float64(b.reps) * float64(b.years) * float64(len(b.model.Practices))
	if rows > s.cfg.MaxRows {
		return badField("reps", "%s replications of %s for %s practices is %s result rows, more than this server keeps for one run (its limit of %s, set when it was started): accepted at most %s replications of %s here",
			thousands(b.reps), yearsWord(b.years), thousands(len(b.model.Practices)), thousands(int(rows)), amountWords(s.cfg.MaxRows), thousands(s.maxReps(b)), yearsWord(b.years))
	}
	return nil
}

// amountWords writes a large number as a person reads it: "20 billion",
// "5 million", "1,000".
func amountWords(x float64) string {
	for _, u := range []struct {
		v    float64
		name string
	}{{1e12, "trillion"}, {1e9, "billion"}, {1e6, "million"}} {
		if x >= u.v {
			return strconv.FormatFloat(math.Round(x/u.v*100)/100, 'f', -1, 64) + " " + u.name
		}
	}
	return thousands(int(x))
}

// yearsWord is "1 year" or "N years".
func yearsWord(n int) string {
	if n == 1 {
		return "1 year"
	}
	return strconv.Itoa(n) + " years"
}

// maxReps is the most replications of b's years and population this
// server runs.
func (s *Server) maxReps(b *built) int {
	m := float64(math.MaxInt32)
	if b.patients > 0 {
		m = math.Min(m, math.Floor(s.cfg.MaxPatientYears/(float64(b.years+1)*float64(b.patients))))
	}
	if n := len(b.model.Practices); n > 0 {
		m = math.Min(m, math.Floor(s.cfg.MaxRows/(float64(b.years)*float64(n))))
	}
	return int(m)
}

// The page.

var pageTmpl = template.Must(template.ParseFS(assets, "assets/index.html"))

type pageData struct {
	Version string
	Boot    any
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	boot, err := s.bootData()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	if err := pageTmpl.Execute(w, pageData{Version: s.cfg.Version, Boot: boot}); err != nil {
		fmt.Fprintf(s.cfg.Log, "page: %v\n", err)
	}
}

// bootData is what the page needs to draw its form at once: the levers,
// the built-in scenarios with their values, and the server's limits.
func (s *Server) bootData() (map[string]any, error) {
	list := s.builtins
	return map[string]any{
		"version":   s.cfg.Version,
		"levers":    s.levers,
		"run":       s.schema.runLevers(0),
		"scenarios": list,
		"limits":    s.limitsInfo(),
	}, nil
}

func (s *Server) limitsInfo() map[string]any {
	return map[string]any{
		"max_patient_years": s.cfg.MaxPatientYears,
		"max_rows":          s.cfg.MaxRows,
		"max_upload_bytes":  s.cfg.MaxUpload,
		"max_runs":          s.cfg.MaxRuns,
		"max_queue":         s.cfg.MaxQueue,
	}
}

// scenarioInfo is a built-in or uploaded scenario as the page lists it.
type scenarioInfo struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Reps        int            `json:"reps"`
	Years       int            `json:"years"`
	Seed        string         `json:"seed"`
	Practices   int            `json:"practices,omitempty"`
	Values      map[string]any `json:"values"`
}

func (s *Server) describe(sc *scenarios.Scenario) (scenarioInfo, error) {
	v, err := leverValues(sc, s.levers)
	if err != nil {
		return scenarioInfo{}, err
	}
	// A section the file leaves out shows what it would be (a contract's
	// defaults when the rule is switched to one).
	for _, l := range s.levers {
		if l.Implied && v[l.Path] == false {
			for p, x := range s.implied {
				if strings.HasPrefix(p, l.Path+".") {
					v[p] = x
				}
			}
		}
	}
	info := scenarioInfo{Name: sc.Name, Description: strings.TrimSpace(sc.Description), Reps: sc.Replications,
		Years: sc.Years, Seed: fmt.Sprint(sc.Seed), Values: v}
	if sy := sc.Population.Synthetic; len(sc.Population.Practices) > 0 || sy == nil {
		info.Practices = len(sc.Population.Practices)
	} else {
		info.Practices = sy.Practices
	}
	return info, nil
}

// builtinList describes the built-in scenarios, the default first (the
// page starts with it).
func (s *Server) builtinList() ([]scenarioInfo, error) {
	var list []scenarioInfo
	for _, n := range scenarios.Names() {
		b, _ := scenarios.Builtin(n)
		sc, err := scenarios.Parse(b, "builtin:"+n)
		if err != nil {
			return nil, err
		}
		info, err := s.describe(sc)
		if err != nil {
			return nil, err
		}
		list = append(list, info)
	}
	slices.SortStableFunc(list, func(a, b scenarioInfo) int {
		switch {
		case a.Name == "default":
			return -1
		case b.Name == "default":
			return 1
		}
		return 0
	})
	return list, nil
}

func (s *Server) listScenarios(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, s.builtins)
}

// getScenario answers a built-in scenario's text (?resolved=1: with every
// default filled in).
func (s *Server) getScenario(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(r.PathValue("name"), ".yaml")
	b, ok := scenarios.Builtin(name)
	if !ok || strings.ContainsAny(name, "/\\.") {
		writeErr(w, &apiError{status: 404, Field: "name", Error: fmt.Sprintf("%q is not a built-in scenario: accepted %s", name, strings.Join(scenarios.Names(), ", "))})
		return
	}
	if r.URL.Query().Get("resolved") != "" {
		sc, err := scenarios.Parse(b, "builtin:"+name)
		if err == nil {
			b, err = sc.YAML()
		}
		if err != nil {
			writeErr(w, &apiError{status: 500, Error: err.Error()})
			return
		}
	}
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".yaml"))
	w.Write(b)
}

func (s *Server) getLevers(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{"levers": s.levers, "run": s.schema.runLevers(0), "limits": s.limitsInfo()})
}

// validate checks settings as a run would, without running them: 200 with
// the edited scenario file and the run's size, or 400 naming the field.
func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	_, b, ok := s.runRequest(w, r)
	if !ok {
		return
	}
	out := map[string]any{
		"ok": true, "scenario": b.scen.Name, "practices": len(b.model.Practices), "patients": b.patients,
		"reps": b.reps, "years": b.years, "seed": fmt.Sprint(b.seed), "cohort": b.cohort,
		"patient_years": float64(b.reps) * float64(b.years+1) * float64(b.patients),
		"max_reps":      s.maxReps(b), "yaml": string(b.file),
	}
	if b.area != nil {
		out["area"] = b.area
	}
	writeJSON(w, 200, out)
}
