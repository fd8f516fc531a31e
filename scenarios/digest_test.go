package scenarios

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// rowDigest hashes every replication's rows and ledger, in order, to the
// last bit: the fields that have existed since the ledger (0.3.0), so a
// golden digest holds when columns are added and fails when any of these
// values changes.
type rowDigest struct{ h hash.Hash }

func (d *rowDigest) Write(r *sim.Replication) error {
	var b []byte
	f := func(v float64) { b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v)) }
	i := func(v int) { b = binary.LittleEndian.AppendUint64(b, uint64(int64(v))) }
	for k := range r.Rows {
		x := &r.Rows[k]
		i(x.Replication)
		i(x.Year)
		i(x.Practice)
		i(x.ListSize)
		for _, v := range []float64{x.Budget, x.Target, x.SpendTotal, x.Variance, x.SavingsRetained, x.DeficitCarried,
			x.StopLossPaid, x.PoolTransfer, x.CommissionerPaid, x.Reinvested, x.HolderPaid, x.DeficitRepaid, x.TopSlice} {
			f(v)
		}
		for s := range sim.NStreams {
			f(x.Spend[s])
			i(x.Events[s])
		}
		b = append(b, x.Regime...)
		b = append(b, 0)
		b = append(b, x.Holder...)
		b = append(b, 0)
	}
	for _, e := range r.Ledger {
		i(int(e.Year))
		i(int(e.Practice))
		i(int(e.From))
		i(int(e.To))
		i(int(e.Reason))
		f(e.Amount)
	}
	_, err := d.h.Write(b)
	return err
}

// runDigest runs s with seed 11, 3 replications of 3 years on 2 workers,
// and digests the rows and ledger.
func runDigest(t *testing.T, s *Scenario, cohort bool) string {
	t.Helper()
	m, err := s.Model(11)
	if err != nil {
		t.Fatal(err)
	}
	d := &rowDigest{h: sha256.New()}
	if err := sim.Run(context.Background(), m, sim.Options{Seed: 11, FirstRep: 0, LastRep: 3, Years: 3, Workers: 2, Cohort: cohort}, d); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", d.h.Sum(nil))
}

// TestPrintDigests prints the golden digests of the current engine (run
// with -run PrintDigests -v -digests to record them).
func TestPrintDigests(t *testing.T) {
	if !*printDigests {
		t.Skip("run with -digests to print the current engine's digests")
	}
	for _, g := range listsOffGolden {
		s, err := Load(g.scenario)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Population.Practices) == 0 {
			s.Population.Synthetic.Practices = 12
			s.Population.Synthetic.NeedSD = 0.2
		}
		t.Logf("{%q, %v, %q},", g.scenario, g.cohort, runDigest(t, s, g.cohort))
	}
}
