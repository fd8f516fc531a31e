package scenarios

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// jsonDigest hashes every replication's rows and ledger as JSON (exported
// fields, floats to the last bit), in order.
type jsonDigest struct{ h hash.Hash }

func (d *jsonDigest) Write(r *sim.Replication) error { return json.NewEncoder(d.h).Encode(r) }

// listsOffGolden are digests of runs (seed 11, 3 replications of 3 years,
// 2 workers; synthetic areas cut to 12 practices) made by the engine before
// list dynamics existed (commit c0df4fc), patient level and cohort mode.
var listsOffGolden = []struct {
	scenario string
	cohort   bool
	digest   string
}{
	{"default", false, "ed77b76bb1e6256e7ea121f3ace57e30def4df363ce29099b07a3cce5652d550"},
	{"default", true, "b1e657108ef01784da2ac650142303e3c2396e6536414120301554b715f19074"},
	{"fundholding-1996", false, "8eef75c7a054a91a84e9f7d69703a18977366b5c0e25d477ca93981e791a6225"},
	{"conservative-consortia-2010", true, "e8c61746270eeb16169ae109844f4f8e73cb22019215ffa8b23d39725fd51fa3"},
	{"pbc-earned-autonomy-2009", false, "26b7a385dcb440db96a64fbd823eb041668eba082ce507be5415b7a8ba1be4be"},
	{"conservative-risk-pool-2010", false, "1bac370dc2b8c8c3e3ecb1b8195c34fd24d513ab98ea7efb9e1d930d09150554"},
	{"testdata/scenarios/explicit.yaml", false, "47c2d37c4ae130165f53793b1496041475b0764f74c9b0bd0d34e67e68495c7b"},
}

func listsDigest(t *testing.T, s *Scenario, cohort bool) string {
	t.Helper()
	m, err := s.Model(11)
	if err != nil {
		t.Fatal(err)
	}
	d := &jsonDigest{h: sha256.New()}
	if err := sim.Run(context.Background(), m, sim.Options{Seed: 11, FirstRep: 0, LastRep: 3, Years: 3, Workers: 2, Cohort: cohort}, d); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", d.h.Sum(nil))
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
		if got := listsDigest(t, s, g.cohort); got != g.digest {
			t.Errorf("%s (cohort %v): digest %s, want %s", g.scenario, g.cohort, got, g.digest)
		}
		s.Lists.Dynamics = true
		if got := listsDigest(t, s, g.cohort); got == g.digest {
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
