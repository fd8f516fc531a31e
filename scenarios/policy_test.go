package scenarios

import (
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// TestPolicyLibrary: the policy scenarios load, and each builds the regime
// and deficit policy its header describes.
func TestPolicyLibrary(t *testing.T) {
	get := func(name string) *sim.Model {
		t.Helper()
		s, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.Model(1)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	pbc := get("pbc-indicative-2009").Policy
	ind, ok := pbc.Start.(*sim.Indicative)
	if !ok || pbc.Participation != 0.73 || ind.BusinessCase == nil || ind.BusinessCase.TurnaroundWeeks != 8 || !ind.MakeUpOverspends || ind.RetentionShare != 0.7 {
		t.Errorf("pbc-indicative-2009: %+v %+v", pbc, pbc.Start)
	}
	hm := get("conservative-hard-budgets-2010")
	hard, ok := hm.Policy.Start.(*sim.Hard)
	if !ok || hard.RetentionShare != 1 || hard.Deficits != (sim.WriteOffAbove{Cap: 0.1, Then: sim.RepayOverYears{Years: 3}}) || len(hm.Groups()) != 0 {
		t.Errorf("conservative-hard-budgets-2010: %+v", hm.Policy.Start)
	}
	if rp := get("conservative-risk-pool-2010").Policy.Start.(*sim.Hard); rp.Deficits != (sim.RiskPool{Share: 0.02}) {
		t.Errorf("conservative-risk-pool-2010: deficits %+v", rp.Deficits)
	}
	if c := get("conservative-consortia-2010"); len(c.Groups()) < 2 {
		t.Errorf("conservative-consortia-2010: %d consortia", len(c.Groups()))
	}
	fm := get("fundholding-1996")
	fh, ok := fm.Policy.Start.(*sim.Fundholding)
	if !ok || fh.Cover[sim.Emergency] || !fh.Cover[sim.Elective] || fm.Policy.MinList != 5000 || fh.Name() != "fundholding" || fh.Deficits != (sim.RepayFromUnderspends{}) {
		t.Errorf("fundholding-1996: %+v", fm.Policy.Start)
	}
	ea := get("pbc-earned-autonomy-2009").Policy
	if ea.Autonomy == nil || ea.Autonomy.Years != 3 || ea.Autonomy.Then.Name() != "hard" {
		t.Errorf("pbc-earned-autonomy-2009: autonomy %+v", ea.Autonomy)
	}
}

// TestPolicyFieldErrors: bad policy fields are named with their line and
// what is accepted.
func TestPolicyFieldErrors(t *testing.T) {
	cases := []badCase{
		{"fundholding without streams", "name: x\nrule:\n  type: fundholding\n", []string{"bad.yaml:2:", "rule.covered_streams", "fundholding needs"}},
		{"covered stream", "name: x\nrule:\n  type: fundholding\n  covered_streams: [outpatient, dentistry]\n", []string{"rule.covered_streams[1]", "dentistry"}},
		{"covered streams on hard", "name: x\nrule:\n  type: hard\n  covered_streams: [outpatient]\n", []string{"bad.yaml:4:", "only with type fundholding"}},
		{"participation", "name: x\nrule:\n  participation: 1.5\n", []string{"bad.yaml:3:", "rule.participation", "0 to 1"}},
		{"approval", "name: x\nrule:\n  business_case:\n    approval_prob: -0.1\n", []string{"bad.yaml:4:", "rule.business_case.approval_prob"}},
		{"consortium", "name: x\nrule:\n  consortium:\n    by: postcode\n", []string{"bad.yaml:4:", "rule.consortium.by", "none, supplied, population"}},
		{"autonomy on hard", "name: x\nrule:\n  type: hard\n  earned_autonomy:\n    years: 2\n", []string{"bad.yaml:5:", "rule.earned_autonomy.years", "only with type indicative"}},
		{"repay years", "name: x\nrule:\n  repay_years: 11\n", []string{"bad.yaml:3:", "rule.repay_years", "0 to 10"}},
		{"effect", "name: x\nbehaviour:\n  hard:\n    elective:\n      mean: -2\n", []string{"bad.yaml:5:", "behaviour.hard.elective.mean", "-0.9 to 1"}},
		{"top slice", "name: x\nbudget:\n  top_slice: 0.9\n", []string{"bad.yaml:3:", "budget.top_slice"}},
		{"issue week", "name: x\nbudget:\n  issue_week: 60\n", []string{"bad.yaml:3:", "budget.issue_week", "0 to 52"}},
		{"historic years", "name: x\nbudget:\n  historic_years: 0\n", []string{"bad.yaml:3:", "budget.historic_years", "1 to 10"}},
		{"stop-loss outside the fund", "name: x\nrule:\n  type: fundholding\n  covered_streams: [elective]\nstop_loss:\n  threshold: 5000\n  streams: [elective, emergency]\n", []string{"bad.yaml:7:", "stop_loss.streams[1]", "covered_streams"}},
		{"pool share", "name: x\nrule:\n  pool_share: 0.6\n", []string{"bad.yaml:3:", "rule.pool_share", "0 to 0.5"}},
		{"uprating", "name: x\nstop_loss:\n  threshold: 5000\n  streams: [elective]\n  uprating: 3\n", []string{"bad.yaml:5:", "stop_loss.uprating"}},
	}
	refuses(t, cases)
}

// TestConsortiumGrouping: by population, consecutive practices form groups
// of at least the target, except a last group of at least half the target (a
// smaller remainder joins the group before it); supplied
// grouping needs a group for every practice.
func TestConsortiumGrouping(t *testing.T) {
	s, err := Parse([]byte("name: x\nrule:\n  type: hard\n  consortium:\n    by: population\n    target_population: 50000\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Model(3)
	if err != nil {
		t.Fatal(err)
	}
	size := map[string]int{}
	total := 0
	for _, p := range m.Practices {
		if p.Group == "" {
			t.Fatalf("practice %s has no group", p.ID)
		}
		size[p.Group] += p.ListSize()
		total += p.ListSize()
	}
	if len(size) < 2 || len(size) > total/50000+1 {
		t.Errorf("%d groups for %d patients", len(size), total)
	}
	last := m.Practices[len(m.Practices)-1].Group
	for g, n := range size {
		if n < 50000 && (g != last || n < 25000) {
			t.Errorf("group %s has %d patients, below the target", g, n)
		}
	}
	s.Rule.Consortium.By = "supplied"
	if _, err := s.Model(3); err == nil || !strings.Contains(err.Error(), "no group") {
		t.Errorf("supplied grouping without groups: %v", err)
	}
}
