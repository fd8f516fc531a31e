package scenarios

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// prefixDigest digests (rowDigest) each replication's rows and ledger
// entries of years 1..upTo only.
type prefixDigest struct {
	rowDigest
	upTo int
}

func (d *prefixDigest) Write(r *sim.Replication) error {
	cut := sim.Replication{Rep: r.Rep}
	for _, x := range r.Rows {
		if x.Year <= d.upTo {
			cut.Rows = append(cut.Rows, x)
		}
	}
	for _, e := range r.Ledger {
		if int(e.Year) <= d.upTo {
			cut.Ledger = append(cut.Ledger, e)
		}
	}
	return d.rowDigest.Write(&cut)
}

// TestSameYearAtAnyHorizon: year t of a run depends on the scenario, the
// seed and t, never on the horizon. For every library scenario (its
// synthetic area cut to 12 practices, every effect on), at patient level
// and in cohort mode (where the scenario allows it), a run of 2 years and
// one of 5 give the same years 1-2, rows and ledger to the last bit. (At
// patient level the count tables' reference rates once looked ahead to the
// horizon: sim.taskEffects.blockRefs.)
func TestSameYearAtAnyHorizon(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every library scenario twice in both modes")
	}
	for _, n := range Names() {
		s, err := Load(n)
		if err != nil {
			t.Fatal(err)
		}
		s.Population.Synthetic.Practices = min(s.Population.Synthetic.Practices, 12)
		if len(s.Population.Practices) > 12 {
			s.Population.Practices = s.Population.Practices[:12]
		}
		m, err := s.Model(3)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for _, cohort := range []bool{false, true} {
			if cohort && m.StopLoss.Active() {
				continue // a per-patient stop-loss needs patients
			}
			var got [2][]byte
			for k, years := range []int{2, 5} {
				d := &prefixDigest{rowDigest{sha256.New()}, 2}
				if err := sim.Run(context.Background(), m, sim.Options{Seed: 3, LastRep: 2, Years: years, Workers: 2, Cohort: cohort}, d); err != nil {
					t.Fatalf("%s (cohort %v, %d years): %v", n, cohort, years, err)
				}
				got[k] = d.h.Sum(nil)
			}
			if !bytes.Equal(got[0], got[1]) {
				t.Errorf("%s (cohort %v): years 1-2 differ between a 2-year and a 5-year run", n, cohort)
			}
		}
	}
}
