package sim

import (
	"math"
	"testing"
)

// TestJoinersFollowThePracticeMix draws 200,000 new registrations and
// 100,000 births for a practice with an uneven age-sex mix and checks what
// addJoiners and joinFromMix promise: joiners' cells in the practice's own
// proportions, ages uniform within the band (95+ over 95-104), frailty
// states in the cell's shares; births aged 0, boys at the boys' share,
// states in the stationary shares. Each share is compared with its
// expectation within 4.5 binomial standard errors, sqrt(p(1-p)/n) (about 60
// comparisons: a false alarm below 0.1%); mean ages within 4.5 SE of a
// uniform's (SE = span/sqrt(12 n)). A wrong cell order (the mix reversed)
// fails at hundreds of SE.
func TestJoinersFollowThePracticeMix(t *testing.T) {
	p := Practice{ID: "x", Need: 1, Style: [NStreams]float64{1, 1, 1, 1, 1}}
	// An uneven mix: 1, 2, ... patients by cell, and none in a few cells.
	total := 0
	for c := range NCells {
		if c%7 != 3 {
			p.Count[c/NBands][c%NBands] = c + 1
			total += c + 1
		}
	}
	m := smallModel(p)
	m.Demography = Demography{BirthRate: 0.06, MaleBirthShare: 0.512, Turnover: 0.08}
	share := m.Frailty.Share
	pr, err := prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{p: pr}
	w.setup()
	K := pr.k
	check := func(what string, got, n int, want float64) {
		t.Helper()
		se := math.Sqrt(want * (1 - want) / float64(n))
		if f := float64(got) / float64(n); math.Abs(f-want) > 4.5*se+1e-12 {
			t.Errorf("%s: share %.5f, want %.5f (SE %.5f)", what, f, want, se)
		}
	}

	const n = 200000
	var d Draws
	d.Reseed(Key{Seed: 1, Rep: 2, Practice: 0, Year: 3}, PurposeJoiners)
	w.pop.reset()
	w.joinFromMix(&d, 0, n)
	l := &w.pop
	if len(l.row) != n || len(l.sa) != n {
		t.Fatalf("%d joiners added, want %d", len(l.row), n)
	}
	var cells [NCells]int
	var ageSum [NCells]float64
	states := make([][]int, NCells)
	for c := range states {
		states[c] = make([]int, K)
	}
	for j := range n {
		sex, age := int(l.sa[j])/(MaxAge+1), int(l.sa[j])%(MaxAge+1)
		c := CellOf(sex, age)
		if got := int(l.row[j]) / K; got != c {
			t.Fatalf("joiner %d: row's cell %d, sex and age's %d", j, got, c)
		}
		cells[c]++
		ageSum[c] += float64(age)
		states[c][int(l.row[j])%K]++
	}
	for c := range NCells {
		want := float64(p.Count[c/NBands][c%NBands]) / float64(total)
		check("cell", cells[c], n, want)
		if cells[c] == 0 {
			continue
		}
		b := c % NBands
		lo, span := 5*b, 5.0
		if b == NBands-1 {
			lo, span = 95, 10
		}
		// Ages lo .. lo+span-1, uniform: mean lo + (span-1)/2, SD sqrt((span²-1)/12).
		mean := ageSum[c] / float64(cells[c])
		se := math.Sqrt((span*span-1)/12) / math.Sqrt(float64(cells[c]))
		if want := float64(lo) + (span-1)/2; math.Abs(mean-want) > 4.5*se {
			t.Errorf("cell %d: mean age %.3f, want %.3f (SE %.3f)", c, mean, want, se)
		}
		if c%5 == 0 { // the frailty states of a few cells
			for k := range K {
				check("state", states[c][k], cells[c], pr.cellShare[c*K+k])
			}
		}
	}

	// Births: addJoiners with no turnover and enough women for about
	// 100,000 births.
	m.Demography.Turnover = 0
	w.pop.reset()
	w.addJoiners(Key{Seed: 1, Rep: 2, Practice: 0, Year: 3}, int(100000/m.Demography.BirthRate), 0)
	nb := len(l.row)
	boys := 0
	var st [4]int
	for j := range nb {
		if int(l.sa[j])%(MaxAge+1) != 0 {
			t.Fatalf("birth %d aged %d", j, int(l.sa[j])%(MaxAge+1))
		}
		if int(l.sa[j])/(MaxAge+1) == Male {
			boys++
		}
		st[int(l.row[j])%K]++
	}
	if math.Abs(float64(nb)-100000) > 4.5*math.Sqrt(100000) {
		t.Errorf("%d births, want about 100,000 (Poisson SD 316)", nb)
	}
	check("boys", boys, nb, m.Demography.MaleBirthShare)
	for k := range K {
		check("newborn state", st[k], nb, share[k])
	}
}
