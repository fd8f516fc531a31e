package sim

import "testing"

// TestPlanAllocations: a practice task under a full policy (hard budget,
// behaviour effects that rebuild the tables, an uprated stop-loss) allocates
// nothing once the worker's buffers have grown, so policy adds no
// allocation per patient-year or per task.
func TestPlanAllocations(t *testing.T) {
	m := &Model{Name: "alloc"}
	for s := range NStreams {
		sp := StreamParams{Dispersion: 1, FrailtyLoading: 1, Cost: []CostPart{{Name: "e", Share: 1, Mean: 500, CV: 1}}}
		for b := range NBands {
			sp.Rate[Male][b], sp.Rate[Female][b] = 0.3, 0.3
		}
		m.Streams[s] = sp
	}
	m.Frailty = Frailty{Share: []float64{0.8, 0.2}, Level: []float64{0.5, 3}, Persistence: []float64{0.8, 0.5}, Mortality: []float64{1, 2}}
	m.Demography = Demography{BirthRate: 0.06, MaleBirthShare: 0.5, Turnover: 0.08}
	p := Practice{ID: "A", Need: 1, Style: [NStreams]float64{1, 1, 1, 1, 1}}
	for b := range NBands {
		p.Count[Male][b], p.Count[Female][b] = 50, 50
	}
	m.Practices = []Practice{p}
	m.Budget = Budget{Method: Blend, Pace: 0.1, TopSlice: 0.02, HistoricYears: 2}
	cover := [NStreams]bool{Outpatient: true, Elective: true}
	m.StopLoss = &StopLoss{Threshold: 1000, Uprating: 0.03, Streams: cover}
	m.Rule = &Policy{Start: RegimeHard, Participation: 1, Hard: Hard{RetentionShare: 1, Cover: &cover},
		Behaviour: Behaviour{Hard: [NStreams]Effect{Elective: {Mean: -0.1, SD: 0.05}}}}
	pr, err := prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{p: pr}
	const years = 5
	rows := make([]PracticeYear, years)
	mult := [NStreams]float64{1, 1, 1, 1, 1}
	if err := w.run(1, 0, 0, years, &mult, rows); err != nil {
		t.Fatal(err)
	}
	rep := 0
	allocs := testing.AllocsPerRun(5, func() {
		rep++
		if err := w.run(1, rep, 0, years, &mult, rows); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations per practice task", allocs)
	}
	// A plain rule is taken as a policy without allocating either.
	m.Rule = Hard{RetentionShare: 1}
	if a := testing.AllocsPerRun(5, func() {
		rep++
		if err := w.run(1, rep, 0, years, &mult, rows); err != nil {
			t.Fatal(err)
		}
	}); a > 0 {
		t.Errorf("plain rule: %v allocations per practice task", a)
	}
}
