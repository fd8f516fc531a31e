package scenarios

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// contractOf builds a scenario's model and returns its contract.
func contractOf(t *testing.T, s *Scenario) (*sim.Model, *sim.SharedSavings) {
	t.Helper()
	m, err := s.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := m.Policy.Start.(*sim.SharedSavings)
	if !ok {
		t.Fatalf("%s: regime %T, want a shared-savings contract", s.Name, m.Policy.Start)
	}
	return m, c
}

func load(t *testing.T, name string) *Scenario {
	t.Helper()
	s, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestContractLibrary: the 2026 scenarios and the Medicare one build the
// contracts their headers describe.
func TestContractLibrary(t *testing.T) {
	nb := load(t, "neighbourhood-shared-savings-2026")
	m, c := contractOf(t, nb)
	if y := c.TermsIn(1); y.TwoSided || len(y.MSR.Table) != len(sim.MedicareMSR) || y.SavingsShare != 0.5 || y.SavingsCap != 0.1 {
		t.Errorf("neighbourhood terms %+v", y)
	}
	if in := m.Policy.Incentive; in == nil || in.PerPatient != 1 || in.Against != sim.AsFloor || in.TargetProb != 0.8 {
		t.Errorf("neighbourhood incentive %+v", m.Policy.Incentive)
	}
	if g := m.Groups(); len(g) < 8 || len(g) > 12 || g[0] != "NP001" || nb.CommissionerLabel != "ICB" {
		t.Errorf("neighbourhoods %v, label %q", g, nb.CommissionerLabel)
	}

	m, c = contractOf(t, load(t, "mnp-two-sided-2026"))
	y1, y2 := c.TermsIn(1), c.TermsIn(2)
	if y1.TwoSided || y1.MSR.Fixed != 0.02 || !y2.TwoSided || y2.MSR.Fixed != 0.01 || y2.MLR.Fixed != 0.01 || y2.LossShare != 0.3 || y2.LossCapBenchmark != 0.02 || y2.SavingsShare != 0.5 || !reflect.DeepEqual(c.TermsIn(9), y2) {
		t.Errorf("MNP glide path %+v then %+v", y1, y2)
	}
	if g := m.Groups(); len(g) < 4 || len(g) > 6 {
		t.Errorf("MNPs %v", g)
	}

	m, c = contractOf(t, load(t, "iho-whole-population-2026"))
	if y := c.TermsIn(1); !y.TwoSided || y.MLR.Fixed != 0.005 || y.LossShare != 0.5 || y.LossCapBenchmark != 0.03 || y.LossCapRevenue != 0 || y.SavingsCap != 0.03 {
		t.Errorf("IHO terms (symmetric) %+v", y)
	}
	if g := m.Groups(); len(g) != 1 || g[0] != "IHO001" {
		t.Errorf("IHO holders %v", g)
	}

	m, c = contractOf(t, load(t, "mssp-basic-2024"))
	a, cc, d, e := c.TermsIn(1), c.TermsIn(3), c.TermsIn(4), c.TermsIn(5)
	if a.TwoSided || a.SavingsShare != 0.4 || a.SavingsCap != 0.1 || len(a.MSR.Table) != len(sim.MedicareMSR) || !reflect.DeepEqual(c.TermsIn(2), a) {
		t.Errorf("MSSP level A %+v", a)
	}
	if !cc.TwoSided || cc.SavingsShare != 0.5 || cc.LossShare != 0.3 || cc.LossCapBenchmark != 0.01 || cc.LossCapRevenue != 0.02 || len(cc.MLR.Table) == 0 {
		t.Errorf("MSSP level C %+v", cc)
	}
	if d.LossCapBenchmark != 0.02 || d.LossCapRevenue != 0.04 || e.LossCapBenchmark != 0.04 || e.LossCapRevenue != 0.08 || e.SavingsShare != 0.5 || c.RevenuePerPatient != 121 {
		t.Errorf("MSSP levels D, E %+v %+v", d, e)
	}
	if sl := m.StopLoss; !sl.Active() || !sl.WithTrend || sl.Threshold < 2000 || sl.Threshold > 50000 || sl.Streams != [sim.NStreams]bool{true, true, true, true, true} {
		t.Errorf("MSSP truncation at the 99th percentile: %+v", sl)
	}
	if b, ok := m.Budget.Setter.(sim.AgreementBenchmark); !ok || !reflect.DeepEqual(b.Weights, []float64{0.1, 0.3, 0.6}) || b.AgreementYears != 5 || b.Reference != sim.ReferenceArea || math.Abs(b.Prospective-1.0/3) > 1e-12 {
		t.Errorf("MSSP benchmark %+v, want Medicare's agreement benchmark", m.Budget.Setter)
	}
}

// TestContractTruncationPercentile: the truncation point at a percentile
// leaves about that share of patients' yearly cost above it: the 99th
// percentile is above the 95th, and both are fixed by the population seed.
func TestContractTruncationPercentile(t *testing.T) {
	point := func(q string) float64 {
		s, err := Parse([]byte("name: t\npopulation:\n  synthetic:\n    practices: 10\nrule:\n  type: shared_savings\ncontract:\n  truncation:\n    percentile: "+q+"\n"), "t.yaml")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := contractOf(t, s)
		return m.StopLoss.Threshold
	}
	p99, p95 := point("0.99"), point("0.95")
	if !(p99 > p95 && p95 > 0) || point("0.99") != p99 {
		t.Errorf("99th percentile %v, 95th %v", p99, p95)
	}
}

// TestContractDefaults: a contract with nothing said is Medicare's BASIC
// level A; a side that gives only min_rate gets that fixed rate, not the
// default table; a glide step changes only what it names; a scenario that
// is not a contract shows no contract section when resolved.
func TestContractDefaults(t *testing.T) {
	s, err := Parse([]byte("name: x\nrule:\n  type: shared_savings\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, c := contractOf(t, s)
	if y := c.TermsIn(1); y.TwoSided || len(y.MSR.Table) == 0 || y.SavingsShare != 0.4 || y.SavingsCap != 0.1 || y.AboveCorridor {
		t.Errorf("default terms %+v", y)
	}
	s, err = Parse([]byte(`name: x
rule:
  type: shared_savings
contract:
  sides: two
  sharing: above_corridor
  savings:
    min_rate: 0.03
  glide_path:
    - from_year: 3
      savings:
        min_rate_table: medicare
      losses:
        share: 0.6
`), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, c = contractOf(t, s)
	y1, y2, y3 := c.TermsIn(1), c.TermsIn(2), c.TermsIn(3)
	if y1.MSR.Fixed != 0.03 || len(y1.MSR.Table) != 0 || !y1.AboveCorridor || len(y1.MLR.Table) == 0 || y1.LossShare != 0.3 {
		t.Errorf("year 1 %+v", y1)
	}
	if !reflect.DeepEqual(y2.MSR, y1.MSR) || y2.LossShare != 0.3 {
		t.Errorf("year 2 is not year 1: %+v", y2)
	}
	if len(y3.MSR.Table) == 0 || y3.LossShare != 0.6 || y3.SavingsShare != y1.SavingsShare || !y3.TwoSided {
		t.Errorf("year 3 %+v", y3)
	}
	b, err := Default().YAML()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("contract:")) {
		t.Error("the default (indicative) scenario resolves with a contract section")
	}
}

// TestContractRoundTrip: each contract scenario, resolved, parses back to
// the same resolved scenario.
func TestContractRoundTrip(t *testing.T) {
	for _, name := range []string{"neighbourhood-shared-savings-2026", "mnp-two-sided-2026", "iho-whole-population-2026", "mssp-basic-2024"} {
		a, err := load(t, name).YAML()
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(a, "resolved.yaml")
		if err != nil {
			t.Fatalf("%s resolved does not parse: %v", name, err)
		}
		b, _ := s.YAML()
		if !bytes.Equal(a, b) {
			t.Errorf("%s: resolved twice differs", name)
		}
	}
}

// TestContractFieldErrors: bad contract, truncation and incentive values
// are named with their line and what is accepted.
func TestContractFieldErrors(t *testing.T) {
	const ss = "name: x\nrule:\n  type: shared_savings\n"
	cases := []badCase{
		{"contract on indicative", "name: x\ncontract:\n  sides: two\n", []string{"bad.yaml:2:", "contract", "rule type shared_savings"}},
		{"sides", ss + "contract:\n  sides: both\n", []string{"bad.yaml:5:", "contract.sides", "one, two"}},
		{"risk", ss + "contract:\n  risk: mild\n", []string{"bad.yaml:5:", "contract.risk", "asymmetric, symmetric"}},
		{"sharing", ss + "contract:\n  sharing: all\n", []string{"bad.yaml:5:", "contract.sharing", "first_pound, above_corridor"}},
		{"msr", ss + "contract:\n  savings:\n    min_rate: 0.6\n", []string{"bad.yaml:6:", "contract.savings.min_rate", "0 to 0.5"}},
		{"share", ss + "contract:\n  losses:\n    share: 1.5\n", []string{"bad.yaml:6:", "contract.losses.share", "0 to 1"}},
		{"cap", ss + "contract:\n  savings:\n    cap_benchmark: -0.1\n", []string{"bad.yaml:6:", "contract.savings.cap_benchmark"}},
		{"revenue cap on savings", ss + "contract:\n  savings:\n    cap_revenue: 0.02\n", []string{"bad.yaml:6:", "contract.savings.cap_revenue", "only on losses"}},
		{"table", ss + "contract:\n  savings:\n    min_rate_table: medicaid\n", []string{"bad.yaml:6:", "min_rate_table", "medicare"}},
		{"table and bands", ss + "contract:\n  savings:\n    min_rate_table: medicare\n    min_rate_bands: [{min: 1, max: 10, at_min: 0.02, at_max: 0.01}]\n", []string{"contract.savings.min_rate_bands", "one of them"}},
		{"bands out of order", ss + "contract:\n  savings:\n    min_rate_bands:\n      - {min: 5000, max: 9999, at_min: 0.03, at_max: 0.02}\n      - {min: 9000, max: 0, at_min: 0.02, at_max: 0.02}\n", []string{"bad.yaml:8:", "min_rate_bands[1].min", "above the previous band's max (9999)"}},
		{"open band not last", ss + "contract:\n  savings:\n    min_rate_bands:\n      - {min: 5000, max: 0, at_min: 0.03, at_max: 0.02}\n      - {min: 9000, max: 0, at_min: 0.02, at_max: 0.02}\n", []string{"min_rate_bands[0].max", "not the last"}},
		{"band rate", ss + "contract:\n  savings:\n    min_rate_bands:\n      - {min: 5000, max: 0, at_min: 0.9, at_max: 0.02}\n", []string{"min_rate_bands[0].at_min", "0 to 0.5"}},
		{"symmetric with losses", ss + "contract:\n  sides: two\n  risk: symmetric\n  losses:\n    share: 0.2\n", []string{"bad.yaml:7:", "contract.losses", "mirrors the savings side"}},
		{"glide year", ss + "contract:\n  glide_path:\n    - from_year: 3\n    - from_year: 2\n", []string{"bad.yaml:7:", "contract.glide_path[1].from_year", "accepted 4 to"}},
		{"glide first year", ss + "contract:\n  glide_path:\n    - from_year: 1\n", []string{"contract.glide_path[0].from_year", "accepted 2 to"}},
		{"glide sides", ss + "contract:\n  glide_path:\n    - from_year: 2\n      sides: three\n", []string{"bad.yaml:7:", "contract.glide_path[0].sides"}},
		{"glide two rates", ss + "contract:\n  glide_path:\n    - from_year: 2\n      savings:\n        min_rate: 0.01\n        min_rate_table: medicare\n", []string{"contract.glide_path[0].savings", "more than one"}},
		{"glide share", ss + "contract:\n  glide_path:\n    - from_year: 2\n      losses:\n        share: 2\n", []string{"bad.yaml:8:", "contract.glide_path[0].losses.share"}},
		{"truncation both", ss + "contract:\n  truncation:\n    amount: 50000\n    percentile: 0.99\n", []string{"bad.yaml:5:", "contract.truncation", "exactly one"}},
		{"truncation none", ss + "contract:\n  truncation:\n    uprating: 0\n", []string{"contract.truncation", "exactly one"}},
		{"truncation percentile", ss + "contract:\n  truncation:\n    percentile: 0.2\n", []string{"bad.yaml:6:", "contract.truncation.percentile", "0.5 to 0.9999"}},
		{"truncation stream", ss + "contract:\n  truncation:\n    amount: 1000\n    streams: [dental]\n", []string{"contract.truncation.streams[0]", "dental"}},
		{"stop-loss on a contract", ss + "stop_loss:\n  threshold: 5000\n  streams: [elective]\n", []string{"bad.yaml:4:", "stop_loss", "contract.truncation"}},
		{"revenue", ss + "contract:\n  revenue_per_patient: -1\n", []string{"bad.yaml:5:", "contract.revenue_per_patient"}},
		{"contract behaviour", ss + "contract:\n  behaviour:\n    elective:\n      mean: -2\n", []string{"bad.yaml:7:", "contract.behaviour.elective.mean"}},
		{"incentive basis", "name: x\nincentive:\n  per_patient: 0.95\n  basis: luck\n  against_savings: floor\n", []string{"bad.yaml:4:", "incentive.basis", "taking_part, targets"}},
		{"incentive against", "name: x\nincentive:\n  per_patient: 0.95\n  basis: taking_part\n  against_savings: above\n", []string{"bad.yaml:5:", "incentive.against_savings", "addition, floor, ceiling"}},
		{"incentive amount", "name: x\nincentive:\n  per_patient: -1\n  basis: taking_part\n  against_savings: floor\n", []string{"bad.yaml:3:", "incentive.per_patient"}},
		{"incentive ceiling", "name: x\nincentive:\n  per_patient: 2\n  basis: taking_part\n  against_savings: ceiling\n  ceiling_per_patient: 1\n", []string{"bad.yaml:6:", "incentive.ceiling_per_patient", "2 to"}},
		{"incentive probability", "name: x\nincentive:\n  per_patient: 1\n  basis: targets\n  target_prob: 1.2\n  against_savings: floor\n", []string{"bad.yaml:5:", "incentive.target_prob"}},
		{"target probability for taking part", "name: x\nincentive:\n  per_patient: 1\n  basis: taking_part\n  target_prob: 0.5\n  against_savings: floor\n", []string{"incentive.target_prob", "basis targets"}},
		{"label", "name: x\ncommissioner_label: \"\"\n", []string{"bad.yaml:2:", "commissioner_label"}},
		{"grouping", "name: x\nrule:\n  consortium:\n    by: postcode\n", []string{"rule.consortium.by", "population, all"}},
		{"prefix", "name: x\nrule:\n  consortium:\n    name_prefix: \"N P\"\n", []string{"bad.yaml:4:", "rule.consortium.name_prefix"}},
	}
	refuses(t, cases)
}

// TestForHolders: an area of 4 holders of 50,000 people from
// mssp-basic-2024's practice distribution (mean list 9,485) is 5 practices
// of 10,000 each per holder, grouped into H001-H004, everyone taking part;
// a truncation at a percentile becomes the given amount, leaving the
// scenario's own as it was.
func TestForHolders(t *testing.T) {
	s := load(t, "mssp-basic-2024")
	s.Rule.Participation = 0.5
	hs, a, err := s.ForHolders(50000, 4, 9, 12345)
	if err != nil {
		t.Fatal(err)
	}
	if a.Size != 50000 || a.PracticesPerHolder != 5 || a.List != 10000 {
		t.Errorf("area %+v (the scenario's mean list is 9,485)", a)
	}
	m, err := hs.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	size := map[string]int{}
	for i := range m.Practices {
		size[m.Practices[i].Group] += m.Practices[i].ListSize()
	}
	if len(size) != 4 || size["H001"] != 50000 || size["H004"] != 50000 || m.Policy.Participation != 1 {
		t.Errorf("holders %v, participation %v", size, m.Policy.Participation)
	}
	if m.StopLoss.Threshold != 12345 || s.Contract.Truncation.Percentile != 0.99 {
		t.Errorf("truncation %+v; the scenario's own is changed: %+v", m.StopLoss, s.Contract.Truncation)
	}
	if _, _, err := s.ForHolders(1_000_000, 10_000, 1, 0); err == nil || !strings.Contains(err.Error(), "limits.practices") {
		t.Errorf("an area past the practice limit: %v", err)
	}
}

// TestBenchmarkAndQualityRefused: a bad agreement benchmark or quality gate
// is refused, naming the field and what is accepted.
func TestBenchmarkAndQualityRefused(t *testing.T) {
	const c = "name: x\nrule:\n  type: shared_savings\ncontract:\n"
	refuses(t, []badCase{
		{"no weights", c + "  benchmark: {weights: [], agreement_years: 5, reference: area}\n", []string{"contract.benchmark.weights", "1 to 5"}},
		{"weights sum to 0", c + "  benchmark: {weights: [0, 0], agreement_years: 5, reference: area}\n", []string{"contract.benchmark.weights", "positive sum"}},
		{"a negative weight", c + "  benchmark: {weights: [-0.1, 1], agreement_years: 5, reference: area}\n", []string{"contract.benchmark.weights[0]"}},
		{"agreement too long", c + "  benchmark: {weights: [1], agreement_years: 12, reference: area}\n", []string{"contract.benchmark.agreement_years", "1 to 11"}},
		{"unknown reference", c + "  benchmark: {weights: [1], agreement_years: 5, reference: moon}\n", []string{"contract.benchmark.reference", "national, area"}},
		{"prospective over 1", c + "  benchmark: {weights: [1], agreement_years: 5, reference: area, prospective: 2}\n", []string{"contract.benchmark.prospective"}},
		{"quality over 1", c + "  quality: {meets: 1.5, otherwise: 0}\n", []string{"contract.quality.meets"}},
	})
}

// paidShare runs s (seed 7, reps replications of 2 years) and returns the
// share of holder-years paid shared savings, and their number.
func paidShare(t *testing.T, s *Scenario, reps int) (float64, int) {
	t.Helper()
	m, err := s.Model(7)
	if err != nil {
		t.Fatal(err)
	}
	var paid, n int
	sink := sinkFunc(func(r *sim.Replication) error {
		type hy struct {
			year   int
			holder string
		}
		got := map[hy]float64{}
		for _, x := range r.Rows {
			if x.Regime == "shared_savings" {
				got[hy{x.Year, x.Holder}] += x.SharedSavings
			}
		}
		for _, v := range got {
			n++
			if v > 0 {
				paid++
			}
		}
		return nil
	})
	if err := sim.Run(context.Background(), m, sim.Options{Seed: 7, LastRep: reps, Years: 2, Workers: 2}, sink); err != nil {
		t.Fatal(err)
	}
	return float64(paid) / float64(n), n
}

type sinkFunc func(*sim.Replication) error

func (f sinkFunc) Write(r *sim.Replication) error { return f(r) }

// TestMSSPPaysChanceRarely: mssp-basic-2024 has no behaviour effect, so
// every ACO-year it pays is paid for chance or drift. Medicare's MSR is set
// for chance (a confidence interval that narrows with size), and with its
// agreement benchmark (set from weighted base years, updated by the area's
// realised growth, so area shocks and trends leave it) and without
// practices' own drift, the share of ACO-years paid is at most 10% (plus 3
// binomial SE), fewer by 3 SE than under the ratchet it replaced (the
// mean of the last 1-3 years of own spend, set every year), paired on the
// seed: measured at seed 7, 16 replications, 8.3% against 16.5% of 544
// ACO-years, with shocks at nested levels
// (the neighbourhood's are an ACO's own, and the area reference takes out
// the place's and larger units'). (With drift the share is about 17%:
// drift does not fall with size, and the MSR does not allow for it;
// docs/model.md.)
func TestMSSPPaysChanceRarely(t *testing.T) {
	if testing.Short() {
		t.Skip("runs mssp-basic-2024")
	}
	s := load(t, "mssp-basic-2024")
	s.Drift.SD = StreamValues{}
	paid, n := paidShare(t, s, 16)
	if se := math.Sqrt(0.1 * 0.9 / float64(n)); paid > 0.1+3*se {
		t.Errorf("without drift %.3f of %d ACO-years paid, want at most 0.10 + 3 SE (%.3f)", paid, n, se)
	}
	s.Contract.Benchmark = nil // the ratchet: budget.method historic, the last 1-3 years
	ratchet, _ := paidShare(t, s, 16)
	t.Logf("without drift: agreement benchmark pays %.3f of %d ACO-years, the ratchet %.3f", paid, n, ratchet)
	if se := math.Sqrt((paid*(1-paid) + ratchet*(1-ratchet)) / float64(n)); ratchet-paid < 3*se {
		t.Errorf("without drift the ratchet pays %.3f of ACO-years, the agreement benchmark %.3f: want fewer by 3 SE (%.3f)", ratchet, paid, se)
	}
}
