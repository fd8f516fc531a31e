package web

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"go.yaml.in/yaml/v3"
)

// A Lever is one setting the page offers: a field of the scenario file by
// its dotted path. Its description, type and accepted range come from the
// scenario schema (gpbudget schema), so the page cannot drift from what the
// validator accepts; the label, unit and grouping are the page's.
type Lever struct {
	Path  string `json:"path"`
	Label string `json:"label"`
	Group string `json:"group"`
	Unit  string `json:"unit,omitempty"`
	// Kind is number, integer, choice, bool, streams (a set of cost
	// streams) or section (an optional part of the file, on or off).
	Kind    string   `json:"kind"`
	Choices []string `json:"choices,omitempty"`
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	// MinExclusive: the value must be above Min, not equal to it.
	MinExclusive bool `json:"min_exclusive,omitempty"`
	// Range says in words what is accepted ("0 to 1", "more than 0").
	Range       string `json:"range,omitempty"`
	Description string `json:"description"`
	// Section is the optional section (a Lever of kind section) the lever
	// belongs to: it counts only while the section is on.
	Section string `json:"section,omitempty"`
	// Applies lists the rule types under which the lever does anything
	// (empty: all).
	Applies []string `json:"applies,omitempty"`
}

// leverSpec is a lever as the page defines it, before the schema fills it in.
type leverSpec struct {
	path, label, group, unit string
	applies                  []string
}

// Rule types by what they hold: the levers that act under each.
var (
	holdsRisk   = []string{"hard", "fundholding"}
	keepsSaving = []string{"indicative", "hard", "fundholding"}
)

// leverSpecs are the levers that decide the answer, in the page's order.
var leverSpecs = []leverSpec{
	{"budget.method", "Budget method", "Budget", "", nil},
	{"budget.pace", "Pace towards capitation", "Budget", "share of the gap closed a year (0.05 = 5%)", nil},
	{"budget.uplift", "Uplift on historic budgets", "Budget", "fraction a year, real terms", nil},
	{"budget.top_slice", "Top-slice kept back", "Budget", "fraction of each budget", nil},
	{"rule.type", "Budget rule", "Rule", "", nil},
	{"rule.retention_share", "Savings retained", "Rule", "fraction of an underspend (0.7 = 70%)", keepsSaving},
	{"rule.participation", "Practices taking part", "Rule", "fraction of practices", nil},
	{"rule.min_list_size", "Smallest list that may take part", "Rule", "patients", nil},
	{"rule.covered_streams", "Streams the fund covers", "Rule", "cost streams", []string{"fundholding"}},
	{"rule.consortium.by", "Budget holders", "Holders and risk", "", nil},
	{"rule.consortium.target_population", "Consortium size", "Holders and risk", "patients per consortium", nil},
	{"rule.repay_years", "Deficit repaid over", "Holders and risk", "years (0 = from later underspends)", holdsRisk},
	{"rule.deficit_cap", "Deficit written off above", "Holders and risk", "fraction of a yearly budget (0 = no cap)", holdsRisk},
	{"rule.pool_share", "Risk pool share", "Holders and risk", "fraction of each budget", []string{"hard"}},
	{"stop_loss", "Per-patient stop-loss", "Holders and risk", "", holdsRisk},
	{"stop_loss.threshold", "Stop-loss threshold", "Holders and risk", "£ per patient a year", holdsRisk},
	{"stop_loss.streams", "Stop-loss covers", "Holders and risk", "cost streams", holdsRisk},
}

// Run levers are the run's size and randomness; they are not scenario
// paths but take their description and range from the scenario's own
// run defaults.
var runSpecs = []struct {
	name, schemaField, label, unit string
}{
	{"reps", "replications", "Replications", "chance worlds simulated"},
	{"years", "years", "Budget years", "years after the base year"},
	{"seed", "seed", "Random seed", "the same seed gives the same results"},
}

// schema is the scenario schema as plain JSON values, for lookups by path.
type schema struct {
	defs map[string]any
	root map[string]any
}

func loadSchema() (*schema, error) {
	b, err := json.Marshal(scenarios.Schema())
	if err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("scenario schema: %w", err)
	}
	sc := &schema{}
	sc.defs, _ = doc["$defs"].(map[string]any)
	sc.root = sc.deref(doc)
	if sc.root == nil {
		return nil, fmt.Errorf("scenario schema has no root object")
	}
	return sc, nil
}

// deref follows a $ref to its definition; a property's own description
// (next to the $ref) is kept.
func (sc *schema) deref(n map[string]any) map[string]any {
	ref, ok := n["$ref"].(string)
	if !ok {
		return n
	}
	d, _ := sc.defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	if d == nil {
		return nil
	}
	if desc, ok := n["description"]; ok {
		out := map[string]any{}
		for k, v := range d {
			out[k] = v
		}
		out["description"] = desc
		return out
	}
	return d
}

// field returns the schema of the field at a dotted path, or nil.
func (sc *schema) field(path string) map[string]any {
	n := sc.root
	for _, part := range strings.Split(path, ".") {
		props, _ := n["properties"].(map[string]any)
		p, _ := props[part].(map[string]any)
		if p == nil {
			return nil
		}
		if n = sc.deref(p); n == nil {
			return nil
		}
	}
	return n
}

// kindOf is a field's kind: number, integer, choice, bool, strings (a list
// of text) or section (an object); "" for what the page cannot set.
func kindOf(f map[string]any) string {
	switch f["type"] {
	case "number":
		return "number"
	case "integer":
		return "integer"
	case "boolean":
		return "bool"
	case "string":
		if _, ok := f["enum"]; ok {
			return "choice"
		}
		return "text"
	case "array":
		if it, _ := f["items"].(map[string]any); it != nil && it["type"] == "string" {
			return "strings"
		}
	case "object":
		return "section"
	}
	return ""
}

func num(v any) *float64 {
	f, ok := v.(float64)
	if !ok {
		return nil
	}
	return &f
}

// fill completes a lever from its schema field.
func (l *Lever) fill(f map[string]any) {
	l.Description, _ = f["description"].(string)
	l.Kind = kindOf(f)
	if l.Kind == "strings" {
		// Every list the page sets names cost streams.
		l.Kind, l.Choices = "streams", append([]string(nil), sim.StreamNames[:]...)
	}
	if e, ok := f["enum"].([]any); ok {
		for _, c := range e {
			if s, ok := c.(string); ok {
				l.Choices = append(l.Choices, s)
			}
		}
	}
	l.Min, l.Max = num(f["minimum"]), num(f["maximum"])
	if m := num(f["exclusiveMinimum"]); m != nil {
		l.Min, l.MinExclusive = m, true
	}
	l.Range = rangeWords(l.Min, l.Max, l.MinExclusive)
}

// rangeWords says a numeric range in words, as the validator's messages do.
func rangeWords(lo, hi *float64, exclusive bool) string {
	f := func(v float64) string {
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	switch {
	case lo != nil && hi != nil:
		return f(*lo) + " to " + f(*hi)
	case lo != nil && exclusive:
		return "more than " + f(*lo)
	case lo != nil:
		return f(*lo) + " or more"
	case hi != nil:
		return "at most " + f(*hi)
	}
	return ""
}

// levers builds the page's levers from the schema. A lever whose path the
// schema lacks is left out (a field renamed in scenarios drops from the
// page rather than offering a setting the validator would refuse); the
// test of the lever table catches that.
func (sc *schema) levers() []Lever {
	var out []Lever
	for _, sp := range leverSpecs {
		f := sc.field(sp.path)
		if f == nil {
			continue
		}
		l := Lever{Path: sp.path, Label: sp.label, Group: sp.group, Unit: sp.unit, Applies: sp.applies}
		l.fill(f)
		if l.Kind == "" || l.Kind == "text" {
			continue
		}
		// A lever under an optional section (one that is itself a lever
		// of kind section, such as stop_loss) counts only while it is on.
		for _, o := range out {
			if o.Kind == "section" && strings.HasPrefix(sp.path, o.Path+".") {
				l.Section = o.Path
			}
		}
		out = append(out, l)
	}
	return out
}

// runLevers are the run's own settings: replications, years, seed and
// cohort mode.
func (sc *schema) runLevers(maxReps int) []Lever {
	var out []Lever
	for _, r := range runSpecs {
		l := Lever{Path: r.name, Label: r.label, Group: "Run", Unit: r.unit}
		if f := sc.field(r.schemaField); f != nil {
			l.fill(f)
		}
		if r.name == "reps" && maxReps > 0 {
			hi := float64(maxReps)
			l.Max = &hi
			l.Range = rangeWords(l.Min, l.Max, false)
		}
		if r.name == "seed" {
			l.Kind, l.Range = "integer", "0 to 18446744073709551615"
			lo := 0.0
			l.Min = &lo
		}
		out = append(out, l)
	}
	return append(out, Lever{Path: "cohort", Label: "Cohort mode", Group: "Run", Kind: "bool",
		Description: "Simulate each practice from its age-sex-frailty group counts rather than patient by patient: much faster, " +
			"and close to patient level for practice totals (docs/model.md says what it approximates); not with a per-patient stop-loss."})
}

// leverValues reads each lever's value from a resolved scenario: numbers,
// text, lists of text, and for a section whether it is there. A lever of
// an absent section reads null.
func leverValues(s *scenarios.Scenario, ls []Lever) (map[string]any, error) {
	b, err := s.YAML()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("reading the scenario back: %w", err)
	}
	out := map[string]any{}
	for _, l := range ls {
		v, ok := valueAt(doc, l.Path)
		switch {
		case l.Kind == "section":
			out[l.Path] = ok && v != nil
		case !ok:
			out[l.Path] = nil
		default:
			out[l.Path] = jsonValue(v)
		}
	}
	return out, nil
}

func valueAt(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// jsonValue turns a decoded YAML value into one JSON encodes plainly.
func jsonValue(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case uint64:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = jsonValue(x[i])
		}
		return out
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil
		}
	}
	return v
}
