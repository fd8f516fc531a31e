package scenarios

import (
	"fmt"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// ModelOfPractices gives each practice its list, code and units; empty
// neighbourhoods are consecutive practices of a place up to
// geography.neighbourhood people, empty ICBs consecutive places of a
// region, geography.icb / geography.place of them.
func TestModelOfPractices(t *testing.T) {
	s := Default()
	s.Population.Synthetic.Geography = Geography{Neighbourhood: 20_000, Place: 500_000, ICB: 1_000_000, Region: 8_000_000}
	var ps []SizedPractice
	for i, c := range []struct {
		place, region string
		list          int
	}{
		{"A", "R1", 12_000}, {"A", "R1", 9_000}, {"A", "R1", 1_500}, {"A", "R1", 7_000}, // N1 N1 N2 N2
		{"B", "R1", 30_000}, {"B", "R1", 4_000}, // N1 N2; ICB 1 with A (2 places an ICB)
		{"C", "R1", 5_000}, // ICB 2
		{"D", "R2", 6_000}, // ICB 1 of R2
	} {
		p := SizedPractice{ID: fmt.Sprintf("X%d", i), List: c.list}
		p.Geo[sim.LevelPlace], p.Geo[sim.LevelRegion] = c.place, c.region
		ps = append(ps, p)
	}
	ps[7].Geo[sim.LevelNeighbourhood] = "PCN9" // given: kept
	m, err := s.ModelOfPractices(ps, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A/N1 R1/I1", "A/N1 R1/I1", "A/N2 R1/I1", "A/N2 R1/I1", "B/N1 R1/I1", "B/N2 R1/I1", "C/N1 R1/I2", "PCN9 R2/I1"}
	for i, p := range m.Practices {
		if p.ID != ps[i].ID || p.ListSize() != ps[i].List {
			t.Errorf("practice %d: %s of %d, want %s of %d", i, p.ID, p.ListSize(), ps[i].ID, ps[i].List)
		}
		got := p.Geo[sim.LevelNeighbourhood] + " " + p.Geo[sim.LevelICB]
		if got != want[i] || p.Geo[sim.LevelPlace] != ps[i].Geo[sim.LevelPlace] || p.Geo[sim.LevelRegion] != ps[i].Geo[sim.LevelRegion] {
			t.Errorf("practice %d: units %v, want %s", i, p.Geo, want[i])
		}
	}
	if _, err := s.ModelOfPractices([]SizedPractice{{ID: "Z", List: 0}}, 1, 2); err == nil {
		t.Error("a practice of 0 patients was built")
	}
}
