package scenarios

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

var printDigests = flag.Bool("digests", false, "print the golden digests of the current engine")

// listsOffGolden are digests (rowDigest: the rows' and ledger's values to
// the last bit) of runs (seed 11, 3 replications of 3 years, 2 workers;
// synthetic areas cut to 12 practices, need SD 0.2) made by the engine
// before list dynamics existed (commit d4d6ec4), patient level and cohort
// mode; the patient-level ones recorded again for 0.5.0, whose patient-years
// draw three words rather than six (sim/patientdraws.go) and whose joiners
// draw their cell from an alias table (cohort mode's are unchanged). Record
// them again, when a change to the engine is meant to change results, with:
// go test ./scenarios -run PrintDigests -v -digests
var listsOffGolden = []struct {
	scenario string
	cohort   bool
	digest   string
}{
	{"default", false, "eb403064007dca7ce8a785bd10aa7e02d65356751dcd5c399d7db26c21c09237"},
	{"default", true, "37894ca73ca7e3b01855a59ca63381d4a19304c1eacfabb96e20989cd92943d8"},
	{"fundholding-1996", false, "01f3e3fb4fd54dc0b74ab5507b0ebbf0a5f61477ffde44836fe3fa6e83e1f839"},
	{"conservative-consortia-2010", true, "a1e4026ba01139c1650b801dd65bb11e328325e93b901852355e5c4fcd950fc7"},
	{"pbc-earned-autonomy-2009", false, "4c9616ca597f82733b1cedb8f685ea9350f31aee1393bc8ac7f67e15c8e189cc"},
	{"conservative-risk-pool-2010", false, "f8d4a6f6b4db776a9cc22502f1869a9178e48b3472dd69bf952ef1dee9a2f314"},
	{"testdata/scenarios/explicit.yaml", false, "dcc48cacb9b2f9ea927dac4351ccb4c34f0c0989203109fe01141572b695c89b"},
}

// goldenScenario is a scenario as the golden digests ran it: a synthetic
// area cut to 12 practices with the need spread before it was calibrated on
// the weighted populations (scenarios/defaults.go), chance only (risk.go),
// and the emergency admission rates as they were (recalibrated since to
// the share of admissions at 65+).
func goldenScenario(t *testing.T, name string) *Scenario {
	t.Helper()
	s, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Population.Practices) == 0 {
		s.Population.Synthetic.Practices = 12
		s.Population.Synthetic.NeedSD = 0.2
	}
	s.ChanceOnly = true
	s.Streams.Emergency.Rate = same(scaleGradient(emergencyGradient2009, emergencyPerHead))
	return s
}

// TestListsOffReproducesEarlierRows: with lists.dynamics false (the
// default) and chance_only true (no drift, shocks, trends, priors, budget
// lag, estimated formula or frailty by age: risk.go), rows and ledger are
// bit for bit those of the engine before list dynamics and those effects;
// with list dynamics on they differ.
func TestListsOffReproducesEarlierRows(t *testing.T) {
	for _, g := range listsOffGolden {
		s := goldenScenario(t, g.scenario)
		if s.Lists.Dynamics {
			t.Fatalf("%s: list dynamics on by default", g.scenario)
		}
		if got := runDigest(t, s, g.cohort); got != g.digest {
			t.Errorf("%s (cohort %v): digest %s, want %s", g.scenario, g.cohort, got, g.digest)
		}
		s.Lists.Dynamics = true
		if got := runDigest(t, s, g.cohort); got == g.digest {
			t.Errorf("%s (cohort %v): the same rows with list dynamics on", g.scenario, g.cohort)
		}
	}
}

// TestListsRefused: bad list dynamics are refused with the field.
func TestListsRefused(t *testing.T) {
	refuses(t, []badCase{
		{"negative drift SD", "name: x\nlists:\n  drift_sd: -0.1\n", []string{"bad.yaml:3:", "lists.drift_sd", "accepted 0 to 1"}},
		{"jump probabilities over 1", "name: x\nlists:\n  jumps: [{probability: 0.7, mean: 0, sd: 0.1}, {probability: 0.6, mean: 0, sd: 0.1}]\n", []string{"lists.jumps", "sum to 1.3"}},
		{"a bound in the last band", "name: x\nlists:\n  leaving: [{list_below: 3000, closure: 0.01, merger: 0.01}, {list_below: 9000, closure: 0, merger: 0}]\n", []string{"lists.leaving[1].list_below", "last band"}},
		{"bounds not increasing", "name: x\nlists:\n  leaving: [{list_below: 3000, closure: 0.01}, {list_below: 2000}, {}]\n", []string{"lists.leaving[1].list_below", "increasing"}},
		{"no bands", "name: x\nlists:\n  leaving: []\n", []string{"lists.leaving", "is empty"}},
		{"closure and merger over 1", "name: x\nlists:\n  leaving: [{closure: 0.7, merger: 0.6}]\n", []string{"lists.leaving[0]", "sum to more than 1"}},
		{"no neighbours", "name: x\nlists:\n  neighbours: 0\n", []string{"lists.neighbours", "accepted 1 to 50"}},
		{"a jump limit past ten-fold", "name: x\nlists:\n  jump_limit: 5\n", []string{"lists.jump_limit"}},
	})
}

// TestListsOnRuns: the default area with list dynamics runs in both modes
// (Run audits every replication's ledger), practices close and merge, and
// the closed ones' rows say so.
func TestListsOnRuns(t *testing.T) {
	s, err := Parse([]byte("name: moving\nlists: {dynamics: true}\nrule: {type: hard}\n"), "moving.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Model(3)
	if err != nil {
		t.Fatal(err)
	}
	if m.Lists == nil || len(m.Lists.Jumps) != 2 || m.Lists.Neighbours != 5 {
		t.Fatalf("list dynamics %+v: want the measured defaults", m.Lists)
	}
	for _, cohort := range []bool{false, true} {
		c := &closedCount{}
		if err := sim.Run(context.Background(), m, sim.Options{Seed: 3, LastRep: 20, Years: 5, Cohort: cohort}, c); err != nil {
			t.Fatal(err)
		}
		if c.closed == 0 {
			t.Errorf("cohort %v: no practice closed or merged in 20 replications of 5 years", cohort)
		}
	}
}

type closedCount struct{ closed int }

func (c *closedCount) Write(r *sim.Replication) error {
	for _, x := range r.Rows {
		if x.Regime == sim.RegimeClosed {
			c.closed++
			if x.ListSize != 0 || x.Budget != 0 || x.SpendTotal != 0 || x.Holder != "commissioner" {
				return fmt.Errorf("closed row %+v", x)
			}
		}
	}
	return nil
}
