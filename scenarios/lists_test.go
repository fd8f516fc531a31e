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
// mode. Record them again, when a change to the engine is meant to change
// results, with: go test ./scenarios -run PrintDigests -v -digests
var listsOffGolden = []struct {
	scenario string
	cohort   bool
	digest   string
}{
	{"default", false, "281f4386e8cc717a2d9ccc9289f7b9f255f1131c5711bb5628e6095d89ad1348"},
	{"default", true, "37894ca73ca7e3b01855a59ca63381d4a19304c1eacfabb96e20989cd92943d8"},
	{"fundholding-1996", false, "954594a20320590ce6ace34e5478832eeedf9ed73d1183bdff06d345e01f3721"},
	{"conservative-consortia-2010", true, "a1e4026ba01139c1650b801dd65bb11e328325e93b901852355e5c4fcd950fc7"},
	{"pbc-earned-autonomy-2009", false, "99d67698d7ee40a42762729ff95f02d3de93e6cb31e4b4ad1f287a334c878550"},
	{"conservative-risk-pool-2010", false, "edc8646308e2fb0eb6a47e56807bbf58e646d916596b09be86f537d7b19c4db8"},
	{"testdata/scenarios/explicit.yaml", false, "424d9316e8d7e3d992e88c20873ef59eb78df3d007f31cdab49e987a032a865a"},
}

// TestListsOffReproducesEarlierRows: with lists.dynamics false (the
// default), rows and ledger are bit for bit those of the engine before list
// dynamics; with it true they differ.
func TestListsOffReproducesEarlierRows(t *testing.T) {
	for _, g := range listsOffGolden {
		s, err := Load(g.scenario)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Population.Practices) == 0 {
			s.Population.Synthetic.Practices = 12
			// The need spread before it was calibrated on the
			// weighted populations (scenarios/defaults.go).
			s.Population.Synthetic.NeedSD = 0.2
		}
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
