package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed library/*.yaml
var library embed.FS

// Error is a problem with a scenario: the file, the line (0 if unknown), the
// field path and what is accepted.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", e.Field)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// Names lists the built-in scenarios.
func Names() []string {
	names := []string{}
	ents, _ := library.ReadDir("library")
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Builtin returns the text of a built-in scenario.
func Builtin(name string) ([]byte, bool) {
	b, err := library.ReadFile("library/" + name + ".yaml")
	return b, err == nil
}

// Load reads a scenario from a file path or a built-in name, fills in every
// default and validates it.
func Load(ref string) (*Scenario, error) {
	if b, ok := Builtin(ref); ok && !strings.ContainsAny(ref, "/\\.") {
		return Parse(b, "builtin:"+ref)
	}
	b, err := os.ReadFile(ref)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(ref, "/\\") {
			return nil, fmt.Errorf("scenario %q: no such file, and no built-in scenario of that name (built-in: %s)", ref, strings.Join(Names(), ", "))
		}
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return Parse(b, ref)
}

var lineRE = regexp.MustCompile(`line (\d+): (.*)`)

// Parse decodes a scenario's YAML on top of the defaults and validates it;
// file names the source in errors. A file must hold exactly one scenario: an
// empty file (or only comments) and a second YAML document are errors, not a
// silent default or a silently ignored scenario.
func Parse(data []byte, file string) (*Scenario, error) {
	s := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			var errs []error
			for _, m := range te.Errors {
				e := &Error{File: file, Msg: m}
				if g := lineRE.FindStringSubmatch(m); g != nil {
					e.Line, _ = strconv.Atoi(g[1])
					e.Msg = g[2] + " (see `gpbudget schema` for the accepted fields and types)"
				}
				errs = append(errs, e)
			}
			return nil, errors.Join(errs...)
		}
		return nil, yamlError(file, err)
	}
	root, err := oneDocument(data, file)
	if err != nil {
		return nil, err
	}
	s.file = file
	if err := s.validate(file, root); err != nil {
		return nil, err
	}
	if len(s.Population.Practices) == 0 {
		if err := s.expandEngland(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// yamlError is a YAML syntax error as an Error with its line.
func yamlError(file string, err error) error {
	msg := err.Error()
	e := &Error{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	if g := lineRE.FindStringSubmatch(msg); g != nil {
		e.Line, _ = strconv.Atoi(g[1])
		e.Msg = "not valid YAML: " + g[2]
	}
	return e
}

// oneDocument returns the file's one YAML document, or an error if it has
// none (empty, blank, only comments, or null) or a second one with content.
func oneDocument(data []byte, file string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil || isNull(&root) {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, yamlError(file, err)
		}
		return nil, &Error{File: file, Msg: "has no scenario (the file is empty, blank, only comments or null): accepted a YAML mapping such as `name: mine` (fields left out take the defaults; see `gpbudget schema`)"}
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	} else if err == nil && !isNull(&next) {
		return nil, &Error{File: file, Line: next.Line, Msg: "a second YAML document (after ---) would be ignored: accepted one scenario per file"}
	}
	return &root, nil
}

// isNull says whether a document has no content (only a null).
func isNull(doc *yaml.Node) bool {
	return len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null")
}

type checker struct {
	file string
	root *yaml.Node
	errs []error
}

func (c *checker) fail(field, format string, a ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: lineOf(c.root, field), Field: field, Msg: fmt.Sprintf(format, a...)})
}

// num checks a finite number in [lo, hi].
func (c *checker) num(field string, v, lo, hi float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
		c.fail(field, "%v is out of range: accepted %s", v, rangeText(lo, hi))
	}
}

func rangeText(lo, hi float64) string {
	switch {
	case math.IsInf(hi, 1):
		return fmt.Sprintf("a finite number >= %v", lo)
	default:
		return fmt.Sprintf("%v to %v", lo, hi)
	}
}

func (c *checker) bands(field string, v []float64, lo, hi float64) {
	if len(v) != 20 {
		c.fail(field, "has %d values: accepted exactly 20 (bands 0-4 ... 90-94, 95+)", len(v))
		return
	}
	for i, x := range v {
		c.num(fmt.Sprintf("%s[%d]", field, i), x, lo, hi)
	}
}

var inf = math.Inf(1)

func (s *Scenario) validate(file string, root *yaml.Node) error {
	c := &checker{file: file, root: root}
	if strings.TrimSpace(s.Name) == "" {
		c.fail("name", "is empty: accepted any non-empty text")
	}
	if s.Replications < 1 {
		c.fail("replications", "%d is out of range: accepted 1 or more", s.Replications)
	}
	if s.Years < 1 || s.Years > MaxYears {
		c.fail("years", "%d is out of range: accepted 1 to %d", s.Years, MaxYears)
	}
	c.limits(s.Limits)
	lim := s.Limits
	pop := s.Population
	if len(pop.Practices) == 0 && pop.England == nil {
		sy := pop.Synthetic
		if sy == nil {
			c.fail("population", "has neither synthetic nor practices: accepted one of them")
		} else {
			if sy.Practices < 1 || sy.Practices > lim.Practices {
				c.fail("population.synthetic.practices", "%d is out of range: accepted 1 to %d (limits.practices)", sy.Practices, lim.Practices)
			}
			c.num("population.synthetic.list_size_mean", sy.ListSizeMean, 1, float64(lim.PatientsPerPractice))
			c.num("population.synthetic.list_size_sd", sy.ListSizeSD, 0, 1e6)
			if sy.MinList < 1 {
				c.fail("population.synthetic.min_list", "%d is out of range: accepted 1 or more (a list size of zero is not a practice)", sy.MinList)
			}
			if sy.MaxList < sy.MinList || sy.MaxList > lim.PatientsPerPractice {
				c.fail("population.synthetic.max_list", "%d is out of range: accepted min_list (%d) to %d (limits.patients_per_practice)", sy.MaxList, sy.MinList, lim.PatientsPerPractice)
			}
			c.bands("population.synthetic.age_share.male", sy.AgeShare.Male, 0, inf)
			c.bands("population.synthetic.age_share.female", sy.AgeShare.Female, 0, inf)
			c.num("population.synthetic.age_tilt_sd", sy.AgeTiltSD, 0, 5)
			c.num("population.synthetic.need_sd", sy.NeedSD, 0, 3)
		}
	}
	seen := map[string]bool{}
	for i, p := range pop.Practices {
		f := fmt.Sprintf("population.practices[%d]", i)
		if p.ID == "" {
			c.fail(f+".id", "is empty: accepted a practice code")
		} else if seen[p.ID] {
			c.fail(f+".id", "%q appears twice: accepted unique codes", p.ID)
		}
		seen[p.ID] = true
		c.num(f+".need", p.Need, 1e-6, 100)
		anyone := false
		for _, l := range []struct {
			name string
			v    []int
		}{{"male", p.List.Male}, {"female", p.List.Female}} {
			if len(l.v) != 20 {
				c.fail(f+".list."+l.name, "has %d values: accepted exactly 20 (bands 0-4 ... 95+)", len(l.v))
			}
			for j, x := range l.v {
				if x < 0 {
					c.fail(fmt.Sprintf("%s.list.%s[%d]", f, l.name, j), "%d is negative: accepted 0 or more patients", x)
				}
				anyone = anyone || x > 0
			}
		}
		if !anyone {
			c.fail(f+".list", "list size is zero: accepted 1 or more patients")
		}
		for k, v := range p.Style {
			if streamIndex(k) < 0 {
				c.fail(f+".style."+k, "unknown stream: accepted %s", strings.Join(streamList(), ", "))
			}
			c.num(f+".style."+k, v, 1e-6, 100)
		}
	}
	c.checkExplicit(pop.Practices, lim)
	for i, st := range s.Streams.all() {
		f := "streams." + streamList()[i]
		c.bands(f+".rate.male", st.Rate.Male, 0, 1000)
		c.bands(f+".rate.female", st.Rate.Female, 0, 1000)
		c.num(f+".dispersion", st.Dispersion, 0, 1e6)
		c.num(f+".frailty_loading", st.FrailtyLoading, 0, 5)
		c.num(f+".need_elasticity", st.NeedElasticity, 0, 5)
		c.num(f+".style_sd", st.StyleSD, 0, 3)
		c.num(f+".rate_uncertainty_sd", st.RateUncertaintySD, 0, 3)
		switch st.Cost.Family {
		case "lognormal":
		case "gamma":
			if len(st.Cost.Parts) != 1 {
				c.fail(f+".cost.parts", "has %d parts: a gamma cost has exactly 1", len(st.Cost.Parts))
			}
		default:
			c.fail(f+".cost.family", "%q is not a cost family: accepted lognormal, gamma", st.Cost.Family)
		}
		if len(st.Cost.Parts) == 0 {
			c.fail(f+".cost.parts", "is empty: accepted 1 or more parts")
		}
		sum := 0.0
		for j, p := range st.Cost.Parts {
			pf := fmt.Sprintf("%s.cost.parts[%d]", f, j)
			c.num(pf+".share", p.Share, 0, 1)
			c.num(pf+".mean", p.Mean, 0, 1e7)
			c.num(pf+".cv", p.CV, 0, 20)
			sum += p.Share
		}
		if len(st.Cost.Parts) > 0 && math.Abs(sum-1) > 1e-6 {
			c.fail(f+".cost.parts", "shares sum to %v: accepted shares summing to 1", sum)
		}
	}
	fr := s.Frailty
	k := len(fr.Share)
	if k == 0 || k > 50 {
		c.fail("frailty.share", "has %d states: accepted 1 to 50", k)
	}
	for name, v := range map[string][]float64{"level": fr.Level, "persistence": fr.Persistence, "mortality": fr.Mortality} {
		if len(v) != k {
			c.fail("frailty."+name, "has %d values: accepted one per state (%d, as frailty.share)", len(v), k)
		}
	}
	sum := 0.0
	for i := range fr.Share {
		c.num(fmt.Sprintf("frailty.share[%d]", i), fr.Share[i], 0, 1)
		sum += fr.Share[i]
	}
	if k > 0 && math.Abs(sum-1) > 1e-6 {
		c.fail("frailty.share", "sums to %v: accepted shares summing to 1", sum)
	}
	for i, v := range fr.Level {
		c.num(fmt.Sprintf("frailty.level[%d]", i), v, 0, 1000)
	}
	for i, v := range fr.Persistence {
		c.num(fmt.Sprintf("frailty.persistence[%d]", i), v, 0, 0.999999)
	}
	for i, v := range fr.Mortality {
		c.num(fmt.Sprintf("frailty.mortality[%d]", i), v, 0, 1000)
	}
	d := s.Demography
	c.bands("demography.mortality.male", d.Mortality.Male, 0, 1)
	c.bands("demography.mortality.female", d.Mortality.Female, 0, 1)
	c.num("demography.birth_rate", d.BirthRate, 0, 1)
	c.num("demography.male_birth_share", d.MaleBirthShare, 0, 1)
	c.num("demography.turnover", d.Turnover, 0, 1)
	b := s.Budget
	if !slices.Contains(budgetMethods, b.Method) {
		c.fail("budget.method", "%q is not a budget method: accepted capitation, historic, blend", b.Method)
	}
	c.num("budget.uplift", b.Uplift, -0.5, 1)
	c.num("budget.pace", b.Pace, 0, 1)
	if b.Weights != nil {
		c.bands("budget.weights.male", b.Weights.Male, 0, 1e7)
		c.bands("budget.weights.female", b.Weights.Female, 0, 1e7)
	}
	if b.HistoricYears < 1 || b.HistoricYears > 10 {
		c.fail("budget.historic_years", "%d is out of range: accepted 1 to 10", b.HistoricYears)
	}
	c.num("budget.top_slice", b.TopSlice, 0, 0.5)
	c.num("budget.issue_week", b.IssueWeek, 0, 52)
	r := s.Rule
	switch r.Type {
	case "indicative", "hard", "shared_savings":
		if len(r.CoveredStreams) > 0 {
			c.fail("rule.covered_streams", "is set for rule type %s: accepted only with type fundholding", r.Type)
		}
	case "fundholding":
		if len(r.CoveredStreams) == 0 {
			c.fail("rule.covered_streams", "is empty: fundholding needs one or more of %s", strings.Join(streamList(), ", "))
		}
	default:
		c.fail("rule.type", "%q is not a rule: accepted indicative, hard, fundholding, shared_savings", r.Type)
	}
	for i, n := range r.CoveredStreams {
		if streamIndex(n) < 0 {
			c.fail(fmt.Sprintf("rule.covered_streams[%d]", i), "%q is not a stream: accepted %s", n, strings.Join(streamList(), ", "))
		}
	}
	c.num("rule.retention_share", r.RetentionShare, 0, 1)
	c.num("rule.participation", r.Participation, 0, 1)
	if r.MinListSize < 0 || r.MinListSize > 1_000_000 {
		c.fail("rule.min_list_size", "%d is out of range: accepted 0 to 1000000 patients", r.MinListSize)
	}
	c.num("rule.business_case.approval_prob", r.BusinessCase.ApprovalProb, 0, 1)
	c.num("rule.business_case.turnaround_weeks", r.BusinessCase.TurnaroundWeeks, 0, 104)
	c.num("rule.business_case.lapse_weeks", r.BusinessCase.LapseWeeks, 0, 104)
	if r.EarnedAutonomy.Years < 0 || r.EarnedAutonomy.Years > MaxYears {
		c.fail("rule.earned_autonomy.years", "%d is out of range: accepted 0 (never) to %d", r.EarnedAutonomy.Years, MaxYears)
	}
	if r.EarnedAutonomy.Years > 0 && r.Type != "indicative" {
		c.fail("rule.earned_autonomy.years", "is set for rule type %s: earned autonomy moves practices from indicative to hard budgets, so accepted only with type indicative", r.Type)
	}
	c.num("rule.earned_autonomy.band", r.EarnedAutonomy.Band, 0, 1)
	if r.RepayYears < 0 || r.RepayYears > 10 {
		c.fail("rule.repay_years", "%d is out of range: accepted 0 to 10", r.RepayYears)
	}
	c.num("rule.deficit_cap", r.DeficitCap, 0, 10)
	c.num("rule.pool_share", r.PoolShare, 0, 0.5)
	switch r.Consortium.By {
	case "none", "supplied", "all", "pcn", "place", "icb", "region":
	case "population", "pcn_groups":
		if r.Consortium.TargetPopulation < 1 {
			c.fail("rule.consortium.target_population", "%d is out of range: accepted 1 or more patients", r.Consortium.TargetPopulation)
		}
	default:
		c.fail("rule.consortium.by", "%q is not a grouping: accepted none, supplied, population, all, pcn, place, icb, region, pcn_groups", r.Consortium.By)
	}
	if p := r.Consortium.NamePrefix; p == "" || strings.ContainsAny(p, " \t\n/\\") {
		c.fail("rule.consortium.name_prefix", "%q is not accepted: accepted a short name without spaces or slashes, such as C or NP", p)
	}
	bh := s.Behaviour
	for _, g := range []struct {
		name string
		e    RegimeEffects
	}{{"indicative", bh.Indicative}, {"hard", bh.Hard}} {
		for _, x := range []struct {
			name string
			e    Effect
		}{{"outpatient", g.e.Outpatient}, {"prescribing", g.e.Prescribing}, {"elective", g.e.Elective}} {
			f := "behaviour." + g.name + "." + x.name
			c.num(f+".mean", x.e.Mean, -0.9, 1)
			c.num(f+".sd", x.e.SD, 0, 1)
		}
	}
	c.num("behaviour.substitution_ae", bh.SubstitutionAE, 0, 5)
	c.num("behaviour.substitution_emergency", bh.SubstitutionEmergency, 0, 5)
	if sl := s.StopLoss; sl != nil {
		if r.Type == "indicative" && r.EarnedAutonomy.Years == 0 {
			c.fail("stop_loss", "is set for rule type indicative, where the commissioner carries every overspend, so it would do nothing: accepted with rule type hard or fundholding, or indicative with earned_autonomy.years (practices that move to hard budgets)")
		}
		c.num("stop_loss.threshold", sl.Threshold, 1e-9, 1e9)
		c.num("stop_loss.uprating", sl.Uprating, -0.5, 1)
		if len(sl.Streams) == 0 {
			c.fail("stop_loss.streams", "is empty: accepted one or more of %s", strings.Join(streamList(), ", "))
		}
		for i, n := range sl.Streams {
			if streamIndex(n) < 0 {
				c.fail(fmt.Sprintf("stop_loss.streams[%d]", i), "%q is not a stream: accepted %s", n, strings.Join(streamList(), ", "))
			} else if r.Type == "fundholding" && len(r.CoveredStreams) > 0 && !slices.Contains(r.CoveredStreams, n) {
				c.fail(fmt.Sprintf("stop_loss.streams[%d]", i), "%q is not one of the fund's covered_streams: accepted %s", n, strings.Join(r.CoveredStreams, ", "))
			}
		}
	}
	s.validateRisk(c)
	s.checkContract(c)
	s.Lists.check(c)
	if len(c.errs) == 0 {
		// Vectors as a whole, once each value is valid on its own.
		s.checkWhole(c)
	}
	return errors.Join(c.errs...)
}

// checkWhole checks what the engine normalises or divides by: frailty levels
// and mortality multipliers with a positive share-weighted mean, an age
// structure with a positive total, capitation weights that give the area's
// patients a positive total and streams that spend something.
func (s *Scenario) checkWhole(c *checker) {
	fr := s.Frailty
	lv, mo := 0.0, 0.0
	for k, sh := range fr.Share {
		lv += sh * fr.Level[k]
		mo += sh * fr.Mortality[k]
	}
	if !(lv > 0) {
		c.fail("frailty.level", "has a share-weighted mean of 0 (every state with a share has level 0): accepted levels with a positive mean over frailty.share (they are relative: the engine scales them to mean 1)")
	}
	if !(mo > 0) {
		c.fail("frailty.mortality", "has a share-weighted mean of 0: accepted multipliers with a positive mean over frailty.share (they are relative: the engine scales them to mean 1 and the life table sets the death rate; set demography.mortality to 0 for no deaths)")
	}
	// The area's patients by cell: the synthetic age structure, or the
	// explicit practices' lists.
	var area [2][20]float64
	where := "population.practices"
	if len(s.Population.Practices) > 0 {
		for _, p := range s.Population.Practices {
			for b := range 20 {
				area[0][b] += float64(p.List.Male[b])
				area[1][b] += float64(p.List.Female[b])
			}
		}
	} else {
		where = "population.synthetic.age_share"
		sh := s.Population.Synthetic.AgeShare
		tot := 0.0
		for b := range 20 {
			area[0][b], area[1][b] = sh.Male[b], sh.Female[b]
			tot += sh.Male[b] + sh.Female[b]
		}
		if !(tot > 0) {
			c.fail(where, "is zero in every band: accepted relative shares with a positive total")
			return
		}
	}
	spend := 0.0
	for _, st := range s.Streams.all() {
		mc := 0.0
		for _, p := range st.Cost.Parts {
			mc += p.Share * p.Mean
		}
		for b := range 20 {
			spend += (area[0][b]*st.Rate.Male[b] + area[1][b]*st.Rate.Female[b]) * mc
		}
	}
	if !(spend > 0) {
		c.fail("streams", "every stream's rate or cost is zero in the bands where the area has patients (%s), so nothing would be spent: accepted at least one stream with a positive rate and cost there", where)
	}
	if w := s.Budget.Weights; w != nil {
		tot := 0.0
		for b := range 20 {
			tot += area[0][b]*w.Male[b] + area[1][b]*w.Female[b]
		}
		if !(tot > 0) {
			c.fail("budget.weights", "give the area's patients a capitation total of 0 (no band where %s has patients has a positive weight): accepted weights positive in at least one band with patients", where)
		}
	}
}

// DisplayName returns a scenario reference as a short name for messages.
func DisplayName(ref string) string { return strings.TrimSuffix(path.Base(ref), ".yaml") }
