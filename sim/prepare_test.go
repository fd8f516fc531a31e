package sim

import (
	"math"
	"testing"
)

// TestFrailtyChainKeepsSharesAndPersists checks the transition thresholds the
// engine derives: with no deaths or turnover, each state's row sums to 1, the
// diagonal is the state's persistence plus its share of moves, and the
// stated shares are stationary (π P = π), so high-cost patients stay costly
// for a while and the population mix does not drift.
func TestFrailtyChainKeepsSharesAndPersists(t *testing.T) {
	p := Practice{ID: "x", Need: 1, Style: [NStreams]float64{1, 1, 1, 1, 1}}
	p.Count[0][8] = 10
	m := smallModel(p)
	pr, err := prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	K := 4
	c := 8 // a cell with zero mortality in this model
	P := make([][]float64, K)
	for k := range K {
		row := pr.trans[c*K+k]
		P[k] = make([]float64, K)
		prev := 0.0
		for j := range K {
			cum := float64(row[j]) / 0x1p64
			P[k][j] = cum - prev
			prev = cum
		}
		if math.Abs(prev-1) > 1e-12 {
			t.Fatalf("state %d: moves sum to %v with no deaths or turnover", k, prev)
		}
		if P[k][k] < m.Frailty.Persistence[k] {
			t.Errorf("state %d: stays with probability %v < persistence %v", k, P[k][k], m.Frailty.Persistence[k])
		}
	}
	for j := range K {
		pi := 0.0
		for k := range K {
			pi += m.Frailty.Share[k] * P[k][j]
		}
		if math.Abs(pi-m.Frailty.Share[j]) > 1e-12 {
			t.Errorf("share of state %d after a year: %v, want %v", j, pi, m.Frailty.Share[j])
		}
	}
	// Frailty multipliers average 1 over the stationary shares.
	for s := range NStreams {
		mean := 0.0
		for k := range K {
			mean += m.Frailty.Share[k] * pr.frailMult[s][k]
		}
		if math.Abs(mean-1) > 1e-12 {
			t.Errorf("stream %d: frailty multipliers average %v", s, mean)
		}
	}
}

// smallModel is a model of practice p alone: four frailty states with no
// excess mortality, no deaths, births or turnover, one event a year for
// men of 40-44 in every stream at a cost of 1, indicative budgets.
func smallModel(p Practice) *Model {
	m := &Model{
		Frailty: Frailty{Share: []float64{0.62, 0.26, 0.10, 0.02}, Level: []float64{0.35, 1, 2.6, 9}, Persistence: []float64{0.85, 0.6, 0.5, 0.45}, Mortality: []float64{1, 1, 1, 1}},
		Policy:  Everyone(&Indicative{}),
		Budget:  Budget{Setter: CapitationBudget{}},
	}
	for s := range NStreams {
		m.Streams[s].Cost = []CostPart{{Share: 1, Mean: 1}}
		m.Streams[s].Rate[0][8] = 1
	}
	m.Practices = []Practice{p}
	return m
}
