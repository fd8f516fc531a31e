package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/internal/england"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"go.yaml.in/yaml/v3"
)

// Side is one setting of the levers: a scenario (a built-in name, a
// scenario's YAML text, or an uploaded scenario) with fields set on top,
// and optionally the practices of an uploaded list-size file.
type Side struct {
	Scenario   string `json:"scenario,omitempty"`
	Upload     string `json:"upload,omitempty"`
	Population string `json:"population,omitempty"`
	Practices  string `json:"practices,omitempty"`
	// Area is an area of England (an ICB, place, PCN or region, by code
	// or a unique part of its name): its real practices, built in, in
	// place of the scenario's population (population.england).
	Area string         `json:"area,omitempty"`
	Set  map[string]any `json:"set,omitempty"`
	// A scenario sent as text is kept once, in the run's scenario.yaml
	// (as edited): a job's record of the request names it by these.
	TextBytes  int    `json:"scenario_bytes,omitempty"`
	TextSHA256 string `json:"scenario_sha256,omitempty"`
}

// isText says whether a side's scenario is a scenario's text rather than
// a built-in's name.
func (sd Side) isText() bool { return strings.ContainsAny(sd.Scenario, ":\n") }

// record is the side as a job keeps it: a scenario's text by its size and
// checksum.
func (sd Side) record() Side {
	if sd.isText() {
		sum := sha256.Sum256([]byte(sd.Scenario))
		sd.TextBytes, sd.TextSHA256 = len(sd.Scenario), hex.EncodeToString(sum[:])
		sd.Scenario = ""
	}
	return sd
}

// Params are a run's size and randomness; nil takes the scenario's own.
type Params struct {
	Reps   *int    `json:"reps,omitempty"`
	Years  *int    `json:"years,omitempty"`
	Seed   *uint64 `json:"seed,omitempty"`
	Cohort bool    `json:"cohort"`
}

// RunRequest is the body of POST /api/runs and /api/validate.
type RunRequest struct {
	Side
	Params
}

// CompareRequest is the body of POST /api/comparisons: two sides run with
// the same size and seed (common random numbers).
type CompareRequest struct {
	A Side `json:"a"`
	B Side `json:"b"`
	Params
}

// apiError is a 4xx answer: the message, and the field it is about (a
// scenario path such as rule.retention_share, or a request field such as
// reps) so the page can show it next to that field. Message is the part
// after the field, as the validator words it; Error is the whole line
// `gpbudget validate` prints.
type apiError struct {
	status  int
	Error   string       `json:"error"`
	Field   string       `json:"field,omitempty"`
	Message string       `json:"message,omitempty"`
	Side    string       `json:"side,omitempty"`
	Errors  []fieldError `json:"errors,omitempty"`
	// YAML is the scenario file the validator refused, when it refused a
	// file: `gpbudget validate` on it says the same.
	YAML string `json:"yaml,omitempty"`
}

type fieldError struct {
	Error   string `json:"error"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func badField(field, format string, a ...any) *apiError {
	msg := fmt.Sprintf(format, a...)
	e := &apiError{status: 400, Field: field, Message: msg, Error: msg}
	if field != "" {
		e.Error = field + ": " + msg
	}
	e.Errors = []fieldError{{Error: e.Error, Field: field, Message: msg}}
	return e
}

// fromError turns a validator's error (one *scenarios.Error or several
// joined) into a 400 naming each field; other errors are named after
// fallback, the request field that brought them.
func fromError(err error, fallback string) *apiError {
	var all []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		all = append(all, e)
	}
	walk(err)
	out := &apiError{status: 400}
	for _, e := range all {
		fe := fieldError{Error: e.Error(), Field: fallback, Message: e.Error()}
		var se *scenarios.Error
		if errors.As(e, &se) {
			fe.Message = se.Msg
			if se.Field != "" {
				fe.Field = requestField(se.Field)
			}
		}
		out.Errors = append(out.Errors, fe)
	}
	if len(out.Errors) == 0 {
		out.Errors = []fieldError{{Error: err.Error(), Field: fallback, Message: err.Error()}}
	}
	out.Error, out.Field, out.Message = out.Errors[0].Error, out.Errors[0].Field, out.Errors[0].Message
	return out
}

// requestField maps the scenario's run defaults to the request's names for
// them (the page's reps, years and seed set the file's replications, years
// and seed).
func requestField(f string) string {
	switch f {
	case "replications":
		return "reps"
	}
	return f
}

func (e *apiError) onSide(side string) *apiError {
	if e != nil {
		e.Side = side
	}
	return e
}

// Decoding: the request's own checks give each bad value its field, where
// encoding/json would say only "cannot unmarshal".

var pathRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

func decodeObject(b []byte, what string) (map[string]json.RawMessage, *apiError) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil || m == nil {
		msg := "is not a JSON object"
		if err != nil {
			msg = fmt.Sprintf("is not a JSON object: %v", err)
		}
		return nil, badField("", "%s %s", what, msg)
	}
	return m, nil
}

func takeString(m map[string]json.RawMessage, key, prefix string) (string, *apiError) {
	raw, ok := m[key]
	if !ok {
		return "", nil
	}
	delete(m, key)
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		if string(raw) == "null" {
			return "", nil
		}
		return "", badField(prefix+key, "%s is not text: accepted a JSON string", short(raw))
	}
	return s, nil
}

func short(raw []byte) string {
	s := string(raw)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// takeSide reads a side's fields from m.
func takeSide(m map[string]json.RawMessage, prefix string) (Side, *apiError) {
	var s Side
	var e *apiError
	if s.Scenario, e = takeString(m, "scenario", prefix); e != nil {
		return s, e
	}
	if s.Upload, e = takeString(m, "upload", prefix); e != nil {
		return s, e
	}
	if s.Population, e = takeString(m, "population", prefix); e != nil {
		return s, e
	}
	if s.Area, e = takeString(m, "area", prefix); e != nil {
		return s, e
	}
	if len(s.Area) > maxAreaQuery {
		return s, badField(prefix+"area", "is %d characters: accepted an area's code or a part of its name of at most %d", len(s.Area), maxAreaQuery)
	}
	if raw, ok := m["practices"]; ok {
		delete(m, "practices")
		if e := checkJSONShape(raw, prefix+"practices", maxPracticeCodes+2, 1, 16*maxPracticeCodes); e != nil {
			return s, e
		}
		var list []string
		if json.Unmarshal(raw, &list) == nil {
			s.Practices = strings.Join(list, ",")
		} else if json.Unmarshal(raw, &s.Practices) != nil && string(raw) != "null" {
			return s, badField(prefix+"practices", "%s is not a list of codes: accepted text such as \"A81001,A81002\" or a list of strings", short(raw))
		}
	}
	if raw, ok := m["set"]; ok {
		delete(m, "set")
		if e := checkJSONShape(raw, prefix+"set", maxSetItems, maxSetDepth, maxSetString); e != nil {
			return s, e
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&s.Set); err != nil {
			return s, badField(prefix+"set", "is not an object of scenario fields and values, such as {\"rule.retention_share\": 0.5}: %v", err)
		}
	}
	return s, nil
}

// takeParams reads reps, years, seed and cohort from m. Their ranges are
// checked in build, once the scenario is known.
func takeParams(m map[string]json.RawMessage) (Params, *apiError) {
	var p Params
	intOf := func(key string, lo, hi float64) (*int, *apiError) {
		raw, ok := m[key]
		if !ok || string(raw) == "null" {
			delete(m, key)
			return nil, nil
		}
		delete(m, key)
		f, e := numberOf(raw, key)
		if e != nil {
			return nil, e
		}
		if f != math.Trunc(f) {
			return nil, badField(key, "%v is not a whole number", f)
		}
		if f < lo || f > hi {
			// The most replications this server runs depends on the
			// area: build says it, once the area is known.
			words := rangeWords(&lo, &hi, false)
			if key == "reps" {
				words = "a whole number, 1 or more (the most for the chosen area is checked once it is known)"
			}
			return nil, badField(key, "%v is out of range: accepted %s", f, words)
		}
		v := int(f)
		return &v, nil
	}
	var e *apiError
	// Replications under 1 are refused in build, which knows the area and
	// so the most this server runs of it.
	if p.Reps, e = intOf("reps", math.MinInt32, math.MaxInt32); e != nil {
		return p, e
	}
	if p.Years, e = intOf("years", 1, float64(scenarios.MaxYears)); e != nil {
		return p, e
	}
	if raw, ok := m["seed"]; ok {
		delete(m, "seed")
		if string(raw) != "null" {
			s := strings.Trim(string(raw), `"`)
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return p, badField("seed", "%s is not a seed: accepted a whole number from 0, at most 20 digits", short(raw))
			}
			p.Seed = &v
		}
	}
	if raw, ok := m["cohort"]; ok {
		delete(m, "cohort")
		if err := json.Unmarshal(raw, &p.Cohort); err != nil {
			return p, badField("cohort", "%s is not true or false", short(raw))
		}
	}
	return p, nil
}

// numberOf reads a JSON number, or a number written as text (as a form or
// a link holds it).
func numberOf(raw []byte, field string) (float64, *apiError) {
	s := strings.TrimSpace(string(raw))
	if len(s) > 1 && s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, badField(field, "%s is not a number", short(raw))
		}
	}
	f, err := parseNumber(s)
	if err != nil {
		return 0, badField(field, "%q is not a number", s)
	}
	return f, nil
}

var thousandsRE = regexp.MustCompile(`^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$`)

// parseNumber reads a number as a person writes it: with thousands
// separators ("50,000") or as a percentage ("70%" is 0.7).
func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = strings.TrimSpace(t), 100
	}
	if thousandsRE.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("not a number")
	}
	return f / scale, nil // divided: 70/100 is the double nearest 0.7
}

func unknownFields(m map[string]json.RawMessage, prefix string, accepted string) *apiError {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return badField(prefix+keys[0], "is not a field of this request: accepted %s", accepted)
}

const (
	sideFields   = "scenario, upload, population, practices, area, set"
	paramsFields = "reps, years, seed, cohort"
)

// decodeRunRequest reads a run's JSON body.
func decodeRunRequest(b []byte) (*RunRequest, *apiError) {
	m, e := decodeObject(b, "the request")
	if e != nil {
		return nil, e
	}
	r := &RunRequest{}
	if r.Side, e = takeSide(m, ""); e != nil {
		return nil, e
	}
	if r.Params, e = takeParams(m); e != nil {
		return nil, e
	}
	return r, unknownFields(m, "", sideFields+", "+paramsFields)
}

// decodeCompareRequest reads a comparison's JSON body.
func decodeCompareRequest(b []byte) (*CompareRequest, *apiError) {
	m, e := decodeObject(b, "the request")
	if e != nil {
		return nil, e
	}
	r := &CompareRequest{}
	for _, k := range []string{"a", "b"} {
		raw, ok := m[k]
		if !ok {
			return nil, badField(k, "is missing: a comparison needs two settings, a and b, each {%s}", sideFields)
		}
		delete(m, k)
		sm, e := decodeObject(raw, k)
		if e != nil {
			return nil, e.onSide(k)
		}
		s, e := takeSide(sm, "")
		if e == nil {
			e = unknownFields(sm, "", sideFields+" (reps, years, seed and cohort are the comparison's, at the top level)")
		}
		if e != nil {
			return nil, e.onSide(k)
		}
		if k == "a" {
			r.A = s
		} else {
			r.B = s
		}
	}
	if r.Params, e = takeParams(m); e != nil {
		return nil, e
	}
	return r, unknownFields(m, "", "a, b, "+paramsFields)
}

// built is a side made ready to run: the scenario as the validator passed
// it, its model and the run's size.
type built struct {
	scen     *scenarios.Scenario
	model    *sim.Model
	file     []byte // the scenario file as validated: what the page downloads
	base     string // what it was built from, in words
	reps     int
	years    int
	seed     uint64
	cohort   bool
	patients int
	area     *england.Area // the area of England whose practices it runs, if chosen
}

// scenarioFile is the name the edited scenario has in messages and
// downloads, so a message here is word for word what `gpbudget validate
// scenario.yaml` prints for the downloaded file.
const scenarioFile = "scenario.yaml"

// build makes a side ready to run: its scenario text (never a path a
// client sent: a built-in's text, the request's own text, or an upload
// this server stored under a name of its own), with the side's fields set
// on it, through scenarios.Parse (the validator every file goes through),
// the practices of an uploaded list-size file, this server's limits, the
// model, and CheckRun.
func (s *Server) build(sd Side, p Params) (*built, *apiError) {
	text, base, e := s.baseText(sd)
	if e != nil {
		return nil, e
	}
	badReps := 0
	if p.Reps != nil && *p.Reps < 1 {
		badReps, p.Reps = *p.Reps, nil
	}
	var area *england.Area
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(&doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode || !oneDocument(dec) {
		// Not one mapping: the validator says why, with the line.
		if _, perr := scenarios.Parse(text, scenarioFile); perr != nil {
			return nil, fromError(perr, "scenario")
		}
		return nil, badField("scenario", "is not one YAML mapping: accepted a scenario file such as `name: mine`")
	}
	keys := make([]string, 0, len(sd.Set))
	for k := range sd.Set {
		keys = append(keys, k)
	}
	slices.Sort(keys) // a section's removal before its fields are set is the caller's to avoid
	for _, k := range keys {
		if e := s.setField(&doc, k, sd.Set[k]); e != nil {
			return nil, e
		}
	}
	if p.Reps != nil {
		scenarios.SetField(&doc, "replications", scalar("!!int", strconv.Itoa(*p.Reps)))
	}
	if p.Years != nil {
		scenarios.SetField(&doc, "years", scalar("!!int", strconv.Itoa(*p.Years)))
	}
	if p.Seed != nil {
		scenarios.SetField(&doc, "seed", scalar("!!int", strconv.FormatUint(*p.Seed, 10)))
	}
	if strings.TrimSpace(sd.Area) != "" {
		a, e := areaOf(sd)
		if e != nil {
			return nil, e
		}
		// The area's practices in place of the scenario's: population.england
		// in the file, so the downloaded scenario.yaml runs the same area.
		scenarios.SetField(&doc, "population.practices", nil)
		scenarios.SetField(&doc, "population.england.table", scalar("!!str", england.Year))
		scenarios.SetField(&doc, "population.england.area", scalar("!!str", a.Code))
		base += fmt.Sprintf(" on England's practices of %s %s (%s)", levelWords(a.Level), a.Code, a.Name)
		area = &a
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Made by gpbudget serve from %s.\n", base)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, badField("scenario", "cannot be written back as YAML: %v", err)
	}
	enc.Close()
	file := buf.Bytes()
	sc, err := scenarios.Parse(file, scenarioFile)
	if err != nil {
		e := fromError(err, "scenario")
		e.YAML = string(file)
		return nil, e
	}
	capped := s.capLimits(sc)
	if sd.Population != "" {
		up, e := s.upload(sd.Population, "population", "population")
		if e != nil {
			return nil, e
		}
		f, err := os.Open(up.path)
		if err != nil {
			return nil, &apiError{status: 500, Error: fmt.Sprintf("reading the stored list-size file: %v", err)}
		}
		var codes []string
		if strings.TrimSpace(sd.Practices) != "" {
			for _, c := range strings.Split(sd.Practices, ",") {
				codes = append(codes, strings.TrimSpace(c))
			}
		}
		ps, err := scenarios.ReadPopulation(f, up.Name, codes, sc.Limits)
		f.Close()
		if err != nil {
			field := "population"
			if strings.Contains(err.Error(), "--practices") {
				field = "practices"
			}
			return nil, s.limitNote(badField(field, "%s", err.Error()), capped)
		}
		sc.UsePractices(ps)
		base += fmt.Sprintf(" with the practices of %s", up.Name)
	} else if sd.Practices != "" {
		return nil, badField("practices", "selects practices of a list-size file: upload one first (population)")
	}
	b := &built{scen: sc, file: file, base: base, reps: sc.Replications, years: sc.Years, seed: sc.Seed, cohort: p.Cohort, area: area}
	m, err := sc.Model(b.seed)
	if err != nil {
		return nil, s.limitNote(fromError(err, "scenario"), capped)
	}
	b.model = m
	for i := range m.Practices {
		b.patients += m.Practices[i].ListSize()
	}
	if badReps != 0 {
		return nil, badField("reps", "%d is out of range: accepted 1 to %s here", badReps, thousands(s.maxReps(b)))
	}
	if e := s.checkSize(b); e != nil {
		return nil, e
	}
	if err := sc.CheckRun(m, b.reps, b.years); err != nil {
		return nil, s.limitNote(fromError(err, "reps"), capped)
	}
	if b.cohort && m.StopLoss.Active() {
		return nil, badField("cohort", "cohort mode cannot apply scenario %s's per-patient stop-loss: turn cohort mode off, or turn the stop-loss off", sc.Name)
	}
	return b, nil
}

// oneDocument says whether a decoder that has read a document is at the
// end of its text (or at documents with nothing in them): the validator
// refuses a second document, which the edit here would silently drop.
func oneDocument(dec *yaml.Decoder) bool {
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil || len(next.Content) > 0 && !(next.Content[0].Kind == yaml.ScalarNode && next.Content[0].Tag == "!!null") {
			return false
		}
	}
}

// baseText is the scenario text a side starts from, and where it came from
// in words.
func (s *Server) baseText(sd Side) ([]byte, string, *apiError) {
	if sd.Upload != "" {
		if sd.Scenario != "" {
			return nil, "", badField("scenario", "is set with upload: accepted one of them")
		}
		up, e := s.upload(sd.Upload, "scenario", "upload")
		if e != nil {
			return nil, "", e
		}
		b, err := os.ReadFile(up.path)
		if err != nil {
			return nil, "", &apiError{status: 500, Error: fmt.Sprintf("reading the stored scenario: %v", err)}
		}
		return b, "the uploaded scenario " + up.Name, nil
	}
	name := sd.Scenario
	if name == "" {
		name = "default"
	}
	if sd.isText() {
		if e := checkShape([]byte(name), "scenario"); e != nil {
			return nil, "", e
		}
		return []byte(name), "a scenario sent as text", nil
	}
	if b, ok := scenarios.Builtin(name); ok && !strings.ContainsAny(name, "/\\.") {
		return b, "the built-in scenario " + name, nil
	}
	return nil, "", badField("scenario", "%q is not a built-in scenario: accepted %s, or a scenario's YAML text", name, strings.Join(scenarios.Names(), ", "))
}

// setField sets one scenario field in the document: a number, text,
// true/false, a list of text, or null to leave the field (or an optional
// section such as stop_loss) out. The value's type is checked against the
// schema here, so that a wrong type is named by its field; its range is
// the validator's to check.
func (s *Server) setField(doc *yaml.Node, path string, v any) *apiError {
	if !pathRE.MatchString(path) {
		return badField(path, "is not a scenario field: accepted a dotted path such as rule.retention_share (see gpbudget schema)")
	}
	f := s.schema.field(path)
	kind := ""
	if f != nil {
		kind = kindOf(f)
	}
	if kind == "" {
		return badField(path, "is not a scenario field the page can set: accepted a number, text, true/false or list field of the scenario schema (gpbudget schema)")
	}
	if v == nil {
		scenarios.SetField(doc, path, nil)
		return nil
	}
	lever := Lever{}
	lever.fill(f)
	switch kind {
	case "number", "integer":
		raw, _ := json.Marshal(v)
		x, e := numberOf(raw, path)
		if e != nil {
			e.Message += ": accepted " + orAny(lever.Range)
			e.Error = path + ": " + e.Message
			e.Errors[0].Message, e.Errors[0].Error = e.Message, e.Error
			return e
		}
		if kind == "integer" {
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return badField(path, "%v is not a whole number: accepted %s", x, orAny(lever.Range))
			}
			scenarios.SetField(doc, path, scalar("!!int", strconv.FormatInt(int64(x), 10)))
			return nil
		}
		scenarios.SetField(doc, path, scalar("!!float", strconv.FormatFloat(x, 'g', -1, 64)))
	case "bool":
		b, ok := v.(bool)
		if str, isStr := v.(string); isStr && (str == "true" || str == "false") {
			b, ok = str == "true", true
		}
		if !ok {
			return badField(path, "%v is not true or false", v)
		}
		scenarios.SetField(doc, path, scalar("!!bool", strconv.FormatBool(b)))
	case "choice", "text":
		str, ok := v.(string)
		if !ok {
			return badField(path, "%v is not text: accepted %s", v, orAny(strings.Join(lever.Choices, ", ")))
		}
		scenarios.SetField(doc, path, scalar("!!str", str))
	case "strings":
		var list []string
		switch x := v.(type) {
		case string:
			for _, p := range strings.Split(x, ",") {
				if p = strings.TrimSpace(p); p != "" {
					list = append(list, p)
				}
			}
		case []any:
			for _, it := range x {
				str, ok := it.(string)
				if !ok {
					return badField(path, "%v is not a list of names", v)
				}
				list = append(list, str)
			}
		default:
			return badField(path, "%v is not a list of names", v)
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		for _, it := range list {
			seq.Content = append(seq.Content, scalar("!!str", it))
		}
		scenarios.SetField(doc, path, seq)
	case "section":
		on, ok := v.(bool)
		if !ok {
			return badField(path, "%v: accepted true (include the section) or null or false (leave it out)", v)
		}
		if !on {
			scenarios.SetField(doc, path, nil)
		} else if cur := scenarios.FieldNode(doc, path); cur == nil || cur.Kind != yaml.MappingNode {
			scenarios.SetField(doc, path, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"})
		}
	}
	return nil
}

func orAny(s string) string {
	if s == "" {
		return "any value of the field's type"
	}
	return s
}

func scalar(tag, v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v}
}

// thousands writes n as the page does, with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
