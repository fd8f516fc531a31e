package bench

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// peerPython returns the interpreter for the numpy peer, skipping the test
// visibly where there is none (failing it under CI, whose image installs
// python3-numpy).
func peerPython(t *testing.T) string {
	t.Helper()
	py, err := PeerPython(context.Background())
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs the numpy peer: %v", err)
		}
		t.Skipf("the numpy peer cannot run here: %v", err)
	}
	return py
}

func defaultKernel(t *testing.T, years int) (*sim.Kernel, *sim.Model) {
	t.Helper()
	m := model(t, "default")
	k, err := sim.NewKernel(m, years, false)
	if err != nil {
		t.Fatal(err)
	}
	return k, m
}

// TestPeerAgreesWithKernel checks that the peer models what the Go kernel
// does, as it is and with --totals: for every (replication, practice) of the default scenario over the
// base year and 2 years, both simulate the same replications (the same rate
// multipliers and prices, from Kernel.Spec) with their own random numbers,
// and their patient-years, events and spend per stream, summed over the
// years, agree in expectation. The cells are independent (practices of a
// replication share only the multipliers both are given), so under
// agreement the differences d have mean 0 and sum(d)/sqrt(sum(d²)) is
// about standard normal (Σd² estimates Var Σd: E d² = Var d): the test
// fails beyond 4, a Monte Carlo bound with fixed seeds, so it is
// deterministic. With 3 × 50 cells the totals' standard errors are about
// 0.2% (prescribing items) to 0.5% (emergency admissions): a peer whose
// prescribing rate was 1% high failed it (z = -5.7), and so did one whose
// joiners were left out (patient-years, z = 10.7). It compares means, not
// spreads: a peer that dropped the gamma mixing would keep its means.
func TestPeerAgreesWithKernel(t *testing.T) {
	py := peerPython(t)
	const years, seed = 2, 7
	reps := []int{1, 2, 3}
	k, m := defaultKernel(t, years)
	spec := k.Spec(seed, reps)
	np := len(m.Practices)
	goCells := make([]peerCell, len(reps)*np)
	for ri, rep := range reps {
		for i := range np {
			k.Start(seed, rep, i)
			c := &goCells[ri*np+i]
			for y := 0; y <= years; y++ {
				n, ev, sp := k.YearTotals(seed, rep, i, y)
				c.n += float64(n)
				for s := range sim.NStreams {
					c.events[s] += float64(ev[s])
					c.spend[s] += sp[s]
				}
			}
		}
	}
	for _, totals := range []bool{false, true} {
		t.Run(map[bool]string{false: "counts", true: "totals"}[totals], func(t *testing.T) {
			args := []string{"--validate", "--seed", "11"}
			if totals {
				args = append(args, "--totals")
			}
			out, err := RunPeer(context.Background(), py, spec, args...)
			if err != nil {
				t.Fatal(err)
			}
			comparePeer(t, out, reps, goCells)
		})
	}
}

// peerCell is one (replication, practice)'s sums over the years.
type peerCell struct {
	n      float64
	events [sim.NStreams]float64
	spend  [sim.NStreams]float64
}

// comparePeer checks the peer's --validate output against the Go kernel's
// cells (see TestPeerAgreesWithKernel).
func comparePeer(t *testing.T, out []byte, reps []int, goCells []peerCell) {
	t.Helper()
	np := len(goCells) / len(reps)
	var pv struct {
		Reps []struct {
			Rep       int                     `json:"rep"`
			ListYears []float64               `json:"list_years"`
			Events    [][sim.NStreams]float64 `json:"events"`
			Spend     [][sim.NStreams]float64 `json:"spend"`
		} `json:"reps"`
	}
	if err := json.Unmarshal(out, &pv); err != nil {
		t.Fatalf("peer's output: %v: %.300s", err, out)
	}
	if len(pv.Reps) != len(reps) {
		t.Fatalf("peer gave %d replications, want %d", len(pv.Reps), len(reps))
	}
	check := func(what string, get func(c *peerCell) float64, peer func(ri, i int) float64) {
		t.Helper()
		sum, sq, tot := 0.0, 0.0, 0.0
		for ri := range reps {
			for i := range np {
				g := get(&goCells[ri*np+i])
				d := g - peer(ri, i)
				sum += d
				sq += d * d
				tot += g
			}
		}
		z := sum / math.Sqrt(sq)
		t.Logf("%s: Go %.6g, peer - Go %.3g%%, z = %.2f", what, tot, -100*sum/tot, z)
		if !(math.Abs(z) <= 4) {
			t.Errorf("%s: the peer's total differs from the Go kernel's by %.3g%% (z = %.2f, bound 4): it does not model the same thing", what, -100*sum/tot, z)
		}
	}
	for ri := range reps {
		if pv.Reps[ri].Rep != reps[ri] || len(pv.Reps[ri].ListYears) != np || len(pv.Reps[ri].Events) != np || len(pv.Reps[ri].Spend) != np {
			t.Fatalf("peer's replication %d: want replication %d with %d practices", ri, reps[ri], np)
		}
	}
	check("patient-years", func(c *peerCell) float64 { return c.n }, func(ri, i int) float64 { return pv.Reps[ri].ListYears[i] })
	for s := range sim.NStreams {
		check(sim.StreamNames[s]+" events", func(c *peerCell) float64 { return c.events[s] }, func(ri, i int) float64 { return pv.Reps[ri].Events[i][s] })
		check(sim.StreamNames[s]+" spend", func(c *peerCell) float64 { return c.spend[s] }, func(ri, i int) float64 { return pv.Reps[ri].Spend[i][s] })
	}
}

// TestPeerTimes runs the peer's timing on a tiny workload (one replication,
// base year and 1 year): the patient-years it reports are at least the
// starting lists' and the rate is positive and finite.
func TestPeerTimes(t *testing.T) {
	py := peerPython(t)
	k, m := defaultKernel(t, 1)
	out, err := RunPeer(context.Background(), py, k.Spec(1, []int{1}), "--repeats", "1")
	if err != nil {
		t.Fatal(err)
	}
	var po peerOut
	if err := json.Unmarshal(out, &po); err != nil {
		t.Fatalf("peer's output: %v: %.300s", err, out)
	}
	start := int64(0)
	for i := range m.Practices {
		start += int64(m.Practices[i].ListSize())
	}
	if po.PatientYears < start+start*9/10 || po.PatientYears > 2*start+start/10 {
		t.Errorf("peer simulated %d patient-years; the starting lists hold %d, so base year and 1 year should be about %d", po.PatientYears, start, 2*start)
	}
	if po.PatientYearsPerSec == nil || !(*po.PatientYearsPerSec > 0) || math.IsInf(*po.PatientYearsPerSec, 0) {
		t.Errorf("peer's rate: %v", po.PatientYearsPerSec)
	}
	if po.NumPy == "" {
		t.Error("peer did not say its numpy version")
	}
}
