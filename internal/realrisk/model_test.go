package realrisk_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/gpbudget/gpbudget/internal/realrisk"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// The model's side carries geography from the practices to the holders: in
// a model whose only effect beyond chance is a place shock of SD 0.1 (20
// CCGs of 5 practices of 10,000 people, two regions), a geographic holder
// of 45,000 people is one CCG (its five practices: the model's lists move
// a little off 10,000), whose log change against national growth has
// variance v = 2 × 0.1² × (1 − 1/20) (the national growth takes the CCGs'
// mean out), so x = 1 - exp of it has SD about e^(v/2) √(e^v − 1) = 0.140;
// chance adds its own variance, measured by the same run without the shock.
// A random holder mixes CCGs and spreads far less. 20 replications of two
// pairs of years: 800 CCG-years; the SD's Monte Carlo SE is 0.005
// (measured: seeds 7, 11, 12, 13 give 0.148, 0.144, 0.142, 0.136), and the
// tolerance is 4 SE, 0.02. Fixed seed.
func TestSimulateGeography(t *testing.T) {
	_, chance := simulateCCGs(t, 0)
	rnd, geo := simulateCCGs(t, 0.1)
	v := 2 * 0.01 * 0.95
	want := math.Sqrt(math.Exp(v)*(math.Exp(v)-1) + chance.SD*chance.SD)
	t.Logf("geographic SD %.4f (want %.4f; chance alone %.4f), random %.4f", geo.SD, want, chance.SD, rnd.SD)
	if math.Abs(geo.SD-want) > 0.02 {
		t.Errorf("geographic 45,000: SD %.4f, want %.4f ± 0.02", geo.SD, want)
	}
	if !(rnd.SD < geo.SD/2) {
		t.Errorf("random 45,000: SD %.4f, want under half the geographic %.4f", rnd.SD, geo.SD)
	}
}

// simulateCCGs runs the model of TestSimulateGeography with place shock SD
// place and measures holders of 45,000 (random, geographic).
func simulateCCGs(t *testing.T, place float64) (rnd, geo realrisk.Measured) {
	t.Helper()
	s := scenarios.Default()
	s.Drift.SD = scenarios.StreamValues{}
	s.Trends = scenarios.Trends{}
	s.Shocks.NeighbourhoodSD, s.Shocks.ICBSD, s.Shocks.RegionSD, s.Shocks.NationalSD = scenarios.StreamValues{}, scenarios.StreamValues{}, scenarios.StreamValues{}, scenarios.StreamValues{}
	s.Shocks.PlaceSD = scenarios.StreamValues{Prescribing: place}
	var ps []scenarios.SizedPractice
	var pairs []realrisk.Pair
	for _, y := range []int{2016, 2017} {
		pairs = append(pairs, realrisk.Pair{From: y, To: y + 1})
	}
	for c := range 20 {
		for k := range 5 {
			p := scenarios.SizedPractice{ID: fmt.Sprintf("P%d%d", c, k), List: 10_000}
			p.Geo[sim.LevelPlace], p.Geo[sim.LevelRegion] = fmt.Sprint("C", c), fmt.Sprint("R", c/10)
			ps = append(ps, p)
			for i := range pairs {
				pairs[i].Rows = append(pairs[i].Rows, realrisk.Row{Practice: p.ID, Region: p.Geo[sim.LevelRegion], CCG: p.Geo[sim.LevelPlace],
					Postcode: fmt.Sprint(k), List0: 10_000, List1: 10_000, Drugs0: 1e6, Drugs1: 1e6})
			}
		}
	}
	m, err := s.ModelOfPractices(ps, 7, 7)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := realrisk.Simulate(context.Background(), m.Fixing(), realrisk.Population(pairs), pairs, realrisk.DefaultFilter,
		sim.Options{Seed: 7, LastRep: 20, Workers: 2, Cohort: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(mp) != 40 {
		t.Fatalf("%d model pairs, want 20 replications × 2", len(mp))
	}
	res := realrisk.Measure(mp, realrisk.Options{Sizes: []int{45_000}, Shuffles: 1, Seed: 1})
	if res[1].Holders != 800 {
		t.Fatalf("geographic holders %d, want 800 (one a CCG)", res[1].Holders)
	}
	return res[0], res[1]
}
