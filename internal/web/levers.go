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
	// Exclusive: the validator refuses the field under other rule types,
	// so the page leaves it (or its section) out of the file there.
	Exclusive bool `json:"exclusive,omitempty"`
	// Implied: a section that is there exactly when the rule type is one
	// of Applies (the page shows no switch for it).
	Implied bool `json:"implied,omitempty"`
	// Blank names the empty choice of a choice lever, where the file takes
	// "" (a fixed rate in place of a sliding table).
	Blank string `json:"blank,omitempty"`
	// Clears is a choice lever that setting this one sets to its blank
	// choice, as the file does (a minimum rate given without a table
	// replaces the table).
	Clears string `json:"clears,omitempty"`
}

// leverSpec is a lever as the page defines it, before the schema fills it in.
type leverSpec struct {
	path, label, group, unit string
	applies                  []string
	// exclusive, implied, blank and clears: as Lever's.
	exclusive, implied bool
	blank, clears      string
}

// Rule types by what they hold: the levers that act under each.
var (
	holdsRisk   = []string{"hard", "fundholding"}
	keepsSaving = []string{"indicative", "hard", "fundholding"}
)

// leverSpecs are the levers that decide the answer, in the page's order.
var leverSpecs = []leverSpec{
	{path: "budget.method", label: "Budget method", group: "Budget"},
	{path: "budget.pace", label: "Pace towards capitation", group: "Budget", unit: "share of the gap closed a year"},
	{path: "budget.uplift", label: "Uplift on historic budgets", group: "Budget", unit: "share a year, after inflation"},
	{path: "budget.top_slice", label: "Top-slice kept back", group: "Budget", unit: "share of each budget"},
	{path: "rule.type", label: "Budget rule", group: "Rule"},
	{path: "rule.retention_share", label: "Savings retained", group: "Rule", unit: "share of an underspend", applies: keepsSaving},
	{path: "rule.participation", label: "Practices taking part", group: "Rule", unit: "share of practices"},
	{path: "rule.min_list_size", label: "Smallest list that may take part", group: "Rule", unit: "patients"},
	{path: "rule.covered_streams", label: "Streams the fund covers", group: "Rule", unit: "cost streams", applies: []string{"fundholding"}, exclusive: true},
	{path: "rule.consortium.by", label: "Budget holders", group: "Holders and risk"},
	{path: "rule.consortium.target_population", label: "Consortium size", group: "Holders and risk", unit: "patients per consortium"},
	{path: "rule.repay_years", label: "Deficit repaid over", group: "Holders and risk", unit: "years (0 = from later underspends)", applies: holdsRisk},
	{path: "rule.deficit_cap", label: "Deficit written off above", group: "Holders and risk", unit: "share of a yearly budget (0 = no cap)", applies: holdsRisk},
	{path: "rule.pool_share", label: "Risk pool share", group: "Holders and risk", unit: "share of each budget", applies: []string{"hard"}},
	{path: "stop_loss", label: "Per-patient stop-loss", group: "Holders and risk", applies: holdsRisk},
	{path: "stop_loss.threshold", label: "Stop-loss threshold", group: "Holders and risk", unit: "£ per patient a year", applies: holdsRisk},
	{path: "stop_loss.streams", label: "Stop-loss covers", group: "Holders and risk", unit: "cost streams", applies: holdsRisk},
	// A shared-savings contract's corridor (scenarios/contract.go): the
	// section is there exactly when the rule is shared_savings, with
	// Medicare's BASIC track for what a file leaves out.
	{path: "contract", label: "Shared-savings contract", group: "Contract", applies: contracts, exclusive: true, implied: true},
	{path: "contract.sides", label: "Sides", group: "Contract", applies: contracts, exclusive: true},
	{path: "contract.risk", label: "Loss side", group: "Contract", applies: contracts, exclusive: true},
	{path: "contract.sharing", label: "Sharing", group: "Contract", applies: contracts, exclusive: true},
	{path: "contract.savings.min_rate_table", label: "Minimum savings rate", group: "Contract", unit: "sliding with the holder's population, or fixed", applies: contracts, exclusive: true, blank: "fixed (below)"},
	{path: "contract.savings.min_rate", label: "Fixed minimum savings rate", group: "Contract", unit: "share of the benchmark", applies: contracts, exclusive: true, clears: "contract.savings.min_rate_table"},
	{path: "contract.savings.share", label: "Savings shared", group: "Contract", unit: "share paid to the holder", applies: contracts, exclusive: true},
	{path: "contract.savings.cap_benchmark", label: "Shared savings capped at", group: "Contract", unit: "share of the benchmark (0 = no cap)", applies: contracts, exclusive: true},
	{path: "contract.losses.min_rate_table", label: "Minimum loss rate", group: "Contract", unit: "two-sided, asymmetric: sliding or fixed", applies: contracts, exclusive: true, blank: "fixed (below)"},
	{path: "contract.losses.min_rate", label: "Fixed minimum loss rate", group: "Contract", unit: "share of the benchmark", applies: contracts, exclusive: true, clears: "contract.losses.min_rate_table"},
	{path: "contract.losses.share", label: "Losses shared", group: "Contract", unit: "share paid by the holder", applies: contracts, exclusive: true},
	{path: "contract.losses.cap_benchmark", label: "Shared losses capped at", group: "Contract", unit: "share of the benchmark (0 = no cap)", applies: contracts, exclusive: true},
	{path: "contract.losses.cap_revenue", label: "or at", group: "Contract", unit: "share of the holder's revenue (0 = no cap)", applies: contracts, exclusive: true},
	{path: "contract.revenue_per_patient", label: "Holder's revenue", group: "Contract", unit: "£ per patient a year (0 = not given: no revenue cap)", applies: contracts, exclusive: true},
}

// pageWords say what a lever does in a finance lead's words where the
// schema's are a file's (field names, code values, a regulation's
// citation); the schema's stay for the rest.
var pageWords = map[string]string{
	"budget.method": "How budgets are set: a fair share from each list's ages, sexes and need (capitation); past spend, raised each year by the uplift (historic); " +
		"or last year's budget moved part of the way (the pace) towards the fair share each year.",
	"rule.type": "Who answers for an overspend. Indicative budgets: the commissioner pays it. Hard budgets: the holder keeps savings and repays deficits. " +
		"Fundholding: a hard budget for some kinds of care only, usually with a stop-loss. Shared savings contract: the commissioner pays for care, and the holder " +
		"shares savings (and, two-sided, losses) beyond a corridor.",
	"rule.consortium.by": "Who holds the budget: each practice alone; groups given in the file; practices grouped until each group reaches the consortium size " +
		"(neighbourhoods of about 50,000 people, multi-neighbourhood providers of about 250,000); or one holder for the whole area.",
	"contract":         "A shared savings contract's terms (only under a shared savings contract rule; what is not set follows the US Medicare programme's basic track).",
	"contract.sharing": "Once savings (or losses) pass the minimum rate: shared from the first pound (as Medicare does), or only the part beyond the minimum rate (like an insurance excess).",
	"contract.savings.min_rate_table": "The corridor: savings smaller than this share of the benchmark are not shared, so chance alone is not rewarded. " +
		"Sliding with the holder's population (Medicare's table: 3.9% at 5,000 people down to 2.0% at 60,000 and more), or a fixed rate set below.",
	"contract.savings.min_rate":      "A fixed corridor: savings smaller than this share of the benchmark are not shared. Setting it replaces the sliding table.",
	"contract.losses.min_rate_table": "The corridor for losses, where losses are set separately: sliding with the holder's population (Medicare's table), or a fixed rate set below.",
	"contract.losses.min_rate":       "A fixed corridor for losses: losses smaller than this share of the benchmark are not shared. Setting it replaces the sliding table.",
	"contract.losses.cap_revenue":    "Shared losses at most this share of the holder's own revenue (its revenue per patient times its list); 0: no such cap.",
	"contract.revenue_per_patient":   "The holder's own revenue, in pounds a year per registered patient, used only for the cap on losses by revenue; 0: not given (no such cap).",
}

// contracts are the rule types that hold a contract.
var contracts = []string{"shared_savings"}

// Run levers are the run's size and randomness; they are not scenario
// paths but take their description and range from the scenario's own
// run defaults.
var runSpecs = []struct {
	name, schemaField, label, unit, about string
}{
	{"reps", "replications", "Replications", "chance worlds simulated", "How many times the area's years are simulated, each time with its own chance events (who falls ill, who joins or leaves). More replications give steadier figures and take longer."},
	{"years", "years", "Budget years", "years after the base year", "Budget years simulated after the base year (the year budgets are first set from)."},
	{"seed", "seed", "Random seed", "the same seed gives the same results", "A number that starts the chance events: the same settings with the same seed give exactly the same results, so a colleague can reproduce a run."},
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
		l := Lever{Path: sp.path, Label: sp.label, Group: sp.group, Unit: sp.unit, Applies: sp.applies,
			Exclusive: sp.exclusive, Implied: sp.implied, Blank: sp.blank, Clears: sp.clears}
		l.fill(f)
		if w := pageWords[sp.path]; w != "" {
			l.Description = w
		}
		if l.Blank != "" {
			l.Choices = append([]string{""}, l.Choices...)
		}
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
		// The schema's words are for a file (and name the flags that
		// override it); the page's are for a person setting a run.
		l.Description = r.about
		if r.name == "reps" && maxReps > 0 {
			hi := float64(maxReps)
			l.Max = &hi
			l.Range = rangeWords(l.Min, l.Max, false)
		}
		if r.name == "seed" {
			l.Kind, l.Range = "integer", "any whole number from 0"
			lo := 0.0
			l.Min = &lo
		}
		out = append(out, l)
	}
	return append(out, Lever{Path: "cohort", Label: "Fast mode (groups of patients)", Group: "Run", Kind: "bool",
		Description: "Simulates each practice's patients in groups of the same age, sex and frailty rather than one by one: " +
			"much faster, and close to the one-by-one result for practice totals. It cannot apply a per-patient stop-loss."})
}

// impliedValues are the values the fields of an implied section take where
// a file leaves the section out (a contract's: Medicare's BASIC track),
// read from a scenario that sets only the rule type that implies it, so
// the page shows what a switch to that rule will run.
func impliedValues(ls []Lever) (map[string]any, error) {
	out := map[string]any{}
	for _, sec := range ls {
		if !sec.Implied || len(sec.Applies) == 0 {
			continue
		}
		sc, err := scenarios.Parse([]byte("name: implied\nrule:\n  type: "+sec.Applies[0]+"\n"), "implied")
		if err != nil {
			return nil, fmt.Errorf("the defaults of %s: %w", sec.Path, err)
		}
		v, err := leverValues(sc, ls)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			if l.Section == sec.Path {
				out[l.Path] = v[l.Path]
			}
		}
	}
	return out, nil
}

// leverValues reads each lever's value from a resolved scenario: numbers,
// text, lists of text, and for a section whether it is there. A lever of
// an absent section reads null.
func leverValues(s *scenarios.Scenario, ls []Lever) (map[string]any, error) {
	b, err := s.YAML()
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("reading the scenario back: %w", err)
	}
	out := map[string]any{}
	for _, l := range ls {
		n := scenarios.FieldNode(&doc, l.Path)
		switch {
		case l.Kind == "section":
			out[l.Path] = n != nil && n.Tag != "!!null"
		case n == nil && l.Blank != "":
			// An empty choice is left out of the file (omitempty): there
			// it is the blank one, where its section is.
			if i := strings.LastIndexByte(l.Path, '.'); i > 0 && scenarios.FieldNode(&doc, l.Path[:i]) != nil {
				out[l.Path] = ""
				continue
			}
			out[l.Path] = nil
		case n == nil:
			out[l.Path] = nil
		default:
			var v any
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("reading %s back: %w", l.Path, err)
			}
			out[l.Path] = jsonValue(v)
		}
	}
	return out, nil
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
