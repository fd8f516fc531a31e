package scenarios

import (
	"bytes"
	"math"
	"testing"

	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/sim"
)

// TestDefaultCostPerHeadSpread: across the default area's practices, the
// log of expected cost per head from age, sex and need together (style is
// not need) has an SD within 0.17-0.23, about the need-weighted
// populations' 0.20 [ref §9]. 5,000 practices drawn as the default area's
// are: the SD's sampling SE is about 0.002.
func TestDefaultCostPerHeadSpread(t *testing.T) {
	s := Default()
	s.Population.Synthetic.Practices = 5000
	m, err := s.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	var logs []float64
	for i := range m.Practices {
		pr := &m.Practices[i]
		e := 0.0
		for st := range sim.NStreams {
			sp := &m.Streams[st]
			x := 0.0
			for sex := range sim.NSex {
				for b := range sim.NBands {
					x += float64(pr.Count[sex][b]) * sp.Rate[sex][b]
				}
			}
			e += x * sp.MeanCost() * math.Pow(pr.Need, sp.NeedElasticity)
		}
		logs = append(logs, math.Log(e/float64(pr.ListSize())))
	}
	mean, v := 0.0, 0.0
	for _, x := range logs {
		mean += x / float64(len(logs))
	}
	for _, x := range logs {
		v += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(v / float64(len(logs)-1))
	t.Logf("log-SD of expected cost per head: %.4f", sd)
	if sd < 0.17 || sd > 0.23 {
		t.Errorf("log-SD of expected cost per head %.4f: want 0.17-0.23 (need-weighted populations: 0.20)", sd)
	}
}

// TestWeightedPopulationsRoundTrip: the need a synthetic area drew, written
// as need-weighted populations and read back, is the need each practice
// gets; a practice the file lacks keeps need 1 and is reported.
func TestWeightedPopulationsRoundTrip(t *testing.T) {
	s := Default()
	s.Population.Synthetic.Practices = 300
	m, err := s.Model(4)
	if err != nil {
		t.Fatal(err)
	}
	specs := make([]PracticeSpec, len(m.Practices))
	for i, p := range m.Practices {
		specs[i] = PracticeSpec{ID: p.ID, Need: p.Need}
		specs[i].List.Male = append([]int(nil), p.Count[sim.Male][:]...)
		specs[i].List.Female = append([]int(nil), p.Count[sim.Female][:]...)
	}
	var buf bytes.Buffer
	if err := s.WriteWeightedPopulations(&buf, specs); err != nil {
		t.Fatal(err)
	}
	ws, err := nhsdata.ReadWeighted(&buf, "wp.csv")
	if err != nil {
		t.Fatal(err)
	}
	got := append([]PracticeSpec(nil), specs...)
	for i := range got {
		got[i].Need = 1
	}
	got = append(got, ApportionList("Z9999", 4000, s.AreaAgeShare()))
	s.UsePractices(got)
	rep := s.UseWeightedPopulations(ws, specs)
	if rep.Matched != len(specs) || len(rep.Missing) != 1 || rep.Missing[0] != "Z9999" || len(rep.Clamped) != 0 {
		t.Fatalf("report %+v: want %d matched, Z9999 missing", rep, len(specs))
	}
	for i, p := range specs {
		if g := s.Population.Practices[i].Need; math.Abs(g/p.Need-1) > 1e-6 {
			t.Errorf("practice %s: need %.6f read back, drew %.6f", p.ID, g, p.Need)
		}
	}
	if g := s.Population.Practices[len(specs)].Need; g != 1 {
		t.Errorf("a practice missing from the file has need %v, want 1", g)
	}
}

// TestWeightedNeedByHand: with every stream's need elasticity 0.5 and a
// practice of England's own age-sex mix, expected cost per head is need^0.5
// times England's, so a practice whose weighted populations are 1.21 times
// its population (both components) has need 1.21² = 1.4641.
func TestWeightedNeedByHand(t *testing.T) {
	s := Default()
	for _, st := range s.Streams.all() {
		st.NeedElasticity = 0.5
	}
	p := ApportionList("A1", 5000, s.AreaAgeShare())
	s.UsePractices([]PracticeSpec{p})
	ws := []nhsdata.WeightedPopulation{{Practice: "A1", Pop: 5000}}
	ws[0].WP[nhsdata.GeneralAcute], ws[0].WP[nhsdata.Prescribing] = 6050, 6050
	ws[0].Has[nhsdata.GeneralAcute], ws[0].Has[nhsdata.Prescribing] = true, true
	s.UseWeightedPopulations(ws, []PracticeSpec{p})
	if g := s.Population.Practices[0].Need; math.Abs(g-1.4641) > 1e-9 {
		t.Errorf("need %.10f, want 1.4641", g)
	}
}
