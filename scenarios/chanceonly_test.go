package scenarios

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// digestSink hashes every row and ledger entry of a run, in order, bit for
// bit, so two runs that differ anywhere differ in their digest.
type digestSink struct{ h hash.Hash }

func (d *digestSink) Write(r *sim.Replication) error {
	var b [8]byte
	put := func(x uint64) { binary.LittleEndian.PutUint64(b[:], x); d.h.Write(b[:]) }
	f := func(x float64) { put(math.Float64bits(x)) }
	put(uint64(r.Rep))
	for _, row := range r.Rows {
		put(uint64(row.Replication))
		put(uint64(row.Year))
		put(uint64(row.Practice))
		put(uint64(row.ListSize))
		f(row.Budget)
		f(row.Target)
		for s := range sim.NStreams {
			f(row.Spend[s])
			put(uint64(row.Events[s]))
		}
		for _, x := range []float64{row.SpendTotal, row.Variance, row.SavingsRetained, row.DeficitCarried, row.StopLossPaid,
			row.PoolTransfer, row.CommissionerPaid, row.Reinvested, row.HolderPaid, row.DeficitRepaid, row.StopLossExcess, row.TopSlice} {
			f(x)
		}
		d.h.Write([]byte(row.Regime + "|" + row.Holder + "|"))
	}
	for _, e := range r.Ledger {
		put(uint64(e.Year))
		put(uint64(e.Practice))
		put(uint64(e.From))
		put(uint64(e.To))
		put(uint64(e.Reason))
		f(e.Amount)
	}
	return nil
}

// runDigest runs scenario s (seed 11, 3 replications of 3 years) and
// returns the digest of its rows and ledger.
func runDigest(t *testing.T, s *Scenario, cohort bool) string {
	t.Helper()
	m, err := s.Model(11)
	if err != nil {
		t.Fatal(err)
	}
	d := &digestSink{h: sha256.New()}
	if err := sim.Run(context.Background(), m, sim.Options{Seed: 11, FirstRep: 0, LastRep: 3, Years: 3, Workers: 2, Cohort: cohort}, d); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", d.h.Sum(nil))
}

// emergencyGradient2009 is the emergency admissions' age gradient of the
// model the digests come from.
var emergencyGradient2009 = [20]float64{1.6, 0.45, 0.5, 0.85, 1.0, 0.95, 0.95, 1.0, 1.0, 1.05, 1.4, 1.7, 2.1, 3.2, 4.5, 6.8, 10.0, 13.5, 17.0, 19.0}

// goldenRuns are the digests of runs of the model as it was before drift,
// common shocks, trends, budget-setting lag, an estimated capitation
// formula, age-dependent frailty and parameter priors were added (commit
// d31387a), for library scenarios cut to 12 practices.
var goldenRuns = []struct {
	scenario string
	cohort   bool
	digest   string
}{
	{"default", false, "09053746223c9a73fc0b63131ee6f1eeccaa34c6ec4daa45d293b6200ab3fd61"},
	{"default", true, "8e6c0d85c3a6abe7a5eb4bc69218f6d17c62684f1b9688ac0b79b0b34f84bade"},
	{"fundholding-1996", false, "afa1d90ecfc7af6edc5ba4f6bc8cafdbc59f744b4bfe5d662f720b21e70d22bb"},
	{"conservative-hard-budgets-2010", true, "fe189f65a1df85dec322ee18d2e9bf182268fe1d3f35aba72cba36abf08633e3"},
	{"conservative-consortia-2010", true, "8736b7915e975c23bddaab099aeae4a7f81a68013333a599b638bf537baee2c0"},
	{"pbc-earned-autonomy-2009", false, "6848955d517b7834dfc5da30a97cb6d619cba5d260a214445de7b698cece0b25"},
	{"testdata/scenarios/explicit.yaml", false, "6480ebf9fd4b08c50908a563100fc8ae546052fcce35fd565afcde0bec96e92d"},
	{"conservative-risk-pool-2010", false, "b31f7a46f68ee9d048acbedd88e825040d08ff1c75b65bb17b4fcb99c184b4d2"},
}

// TestChanceOnlyReproducesEarlierModel: chance_only: true switches every
// effect beyond chance off, and the rows and ledger are then bit for bit
// those of the model before the effects existed.
func TestChanceOnlyReproducesEarlierModel(t *testing.T) {
	for _, g := range goldenRuns {
		s, err := Load(g.scenario)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Population.Practices) == 0 {
			s.Population.Synthetic.Practices = 12
		}
		s.ChanceOnly = true
		// The emergency admission rates as they were (recalibrated since to
		// the share of admissions at 65+).
		s.Streams.Emergency.Rate = same(scaleGradient(emergencyGradient2009, emergencyPerHead))
		got := runDigest(t, s, g.cohort)
		if got != g.digest {
			t.Errorf("%s (cohort %v): digest %s, want %s", g.scenario, g.cohort, got, g.digest)
		}
	}
}

// TestChanceOnlyFile: chance_only in a file switches the effects off in
// the scenario itself, so its resolved form (as a manifest records it)
// parses again to the same scenario; a file that also switches an effect
// on is refused, naming the field.
func TestChanceOnlyFile(t *testing.T) {
	s, err := Parse([]byte("name: co\nchance_only: true\ndrift:\n  persistence: 0.5\n"), "co.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Drift.SD != (StreamValues{}) || s.RiskAdjustment.Formula != "perfect" || s.Budget.Lag != 1 || len(s.Uncertainty.Priors) != 0 || s.Frailty.ByAge {
		t.Errorf("chance_only left effects on: %+v %+v", s.Drift, s.RiskAdjustment)
	}
	y, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(y, "resolved.yaml")
	if err != nil {
		t.Fatalf("the resolved chance-only scenario does not parse: %v", err)
	}
	y2, _ := again.YAML()
	if string(y2) != string(y) {
		t.Errorf("resolved twice differs:\n%s\nvs\n%s", y, y2)
	}
	for _, c := range []struct{ file, field string }{
		{"name: x\nchance_only: true\ndrift:\n  sd: {ae: 0.1}\n", "drift"},
		{"name: x\nchance_only: true\nbudget:\n  lag: 2\n", "budget.lag"},
		{"name: x\nchance_only: true\nuncertainty:\n  priors:\n    cost.ae: {dist: lognormal, sd: 0.1}\n", "uncertainty"},
		{"name: x\nchance_only: true\nrisk_adjustment:\n  formula: estimated\n", "risk_adjustment"},
	} {
		_, err := Parse([]byte(c.file), "bad.yaml")
		if err == nil || !strings.Contains(err.Error(), c.field) || !strings.Contains(err.Error(), "chance_only") {
			t.Errorf("%q: error %v, want one naming %s and chance_only", c.file, err, c.field)
		}
	}
}
