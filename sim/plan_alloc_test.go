package sim

import (
	"context"
	"testing"
)

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
	m.Budget = Budget{Setter: BlendBudget{HistoricBudget: HistoricBudget{Years: 2}, Pace: 0.1}, TopSlice: 0.02}
	cover := [NStreams]bool{Outpatient: true, Elective: true}
	m.StopLoss = &StopLoss{Threshold: 1000, Uprating: 0.03, Streams: cover}
	m.Policy = Everyone(&Fundholding{Hard: Hard{RetentionShare: 1, Deficits: RepayOverYears{Years: 3},
		Behaviour: [NStreams]Effect{Elective: {Mean: -0.1, SD: 0.05}}}, Cover: cover})
	pr, err := prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{p: pr}
	const years = 5
	rows := make([]PracticeYear, years)
	mult := [NStreams]float64{1, 1, 1, 1, 1}
	if err := w.runTask(context.Background(), patients{w}, TaskKey(1, 0, 0), years, &mult, rows); err != nil {
		t.Fatal(err)
	}
	rep := 0
	allocs := testing.AllocsPerRun(5, func() {
		rep++
		if err := w.runTask(context.Background(), patients{w}, TaskKey(1, rep, 0), years, &mult, rows); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations per practice task", allocs)
	}
	// Settling a replication allocates per replication (the regimes'
	// state), never per row: a tenfold larger area allocates as often.
	settleAllocs := func(np int) float64 {
		ps := make([]Practice, np)
		for i := range ps {
			ps[i] = Practice{ID: string(rune('A'+i%26)) + string(rune('a'+i/26))}
		}
		mm := &Model{Practices: ps, Policy: m.Policy}
		st := settlement{p: &prepared{m: mm, names: mm.PartyNames(), holder: holders(mm)}}
		rows := make([]PracticeYear, np*years)
		for j := range rows {
			rows[j] = PracticeYear{Year: 1 + j/np, Practice: j % np, Budget: 100, SpendTotal: 90 + float64(j%20), regime: regimeStart}
			rows[j].Spend[Outpatient] = rows[j].SpendTotal
		}
		led := make([]Entry, 0, 10*len(rows))
		return testing.AllocsPerRun(5, func() {
			if _, err := st.settle(rows, Key{Seed: 1, Practice: -1, Year: -1}, led[:0]); err != nil {
				t.Fatal(err)
			}
		})
	}
	if a, b := settleAllocs(20), settleAllocs(200); b > a {
		t.Errorf("settling allocates per row: %v allocations for 20 practices, %v for 200", a, b)
	}
}
