package realrisk

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= tol) {
		t.Errorf("%s = %.12g, want %.12g (± %g)", what, got, want, tol)
	}
}

// A pair whose figures are worked by hand: drug cost 100 pounds a head
// everywhere last year; this year A1 +10%, B1 -10%, the rest unchanged.
func handPair() Pair {
	return Pair{From: 2017, To: 2018, Rows: []Row{
		{Practice: "A1", Region: "R1", CCG: "A", Postcode: "AA1", List0: 6000, List1: 6000, Drugs0: 600_000, Drugs1: 660_000},
		{Practice: "A2", Region: "R1", CCG: "A", Postcode: "AA2", List0: 6000, List1: 6000, Drugs0: 600_000, Drugs1: 600_000},
		{Practice: "A3", Region: "R1", CCG: "A", Postcode: "AA3", List0: 3000, List1: 3000, Drugs0: 300_000, Drugs1: 300_000},
		{Practice: "B1", Region: "R1", CCG: "B", Postcode: "BB1", List0: 8000, List1: 8000, Drugs0: 800_000, Drugs1: 720_000},
		{Practice: "B2", Region: "R1", CCG: "B", Postcode: "BB2", List0: 4000, List1: 4000, Drugs0: 400_000, Drugs1: 400_000},
	}}
}

func TestMeasureByHand(t *testing.T) {
	p := handPair()
	// National: 2.70 m pounds over 27,000 people, then 2.68 m over 27,000.
	growth := 2.68e6 / 2.70e6
	near(t, "national growth", p.NationalGrowth(), math.Log(growth), 1e-15)
	res := Measure([]Pair{p}, Options{Sizes: []int{5000, 11000}, Shuffles: 3, Seed: 1})

	// Singles of 5,000 are 3,500-7,000 people: A1, A2, B2 (A3 and B1 are
	// outside). x = 1 - spend / (100 × growth × list).
	xs := []float64{1 - 1.1/growth, 1 - 1/growth, 1 - 1/growth}
	mean := (xs[0] + xs[1] + xs[2]) / 3
	sd := math.Sqrt((sq(xs[0]-mean) + sq(xs[1]-mean) + sq(xs[2]-mean)) / 3)
	// Median 1 - 1/growth; absolute deviations 0.1/growth, 0, 0: MAD 0.
	for _, r := range res[:2] {
		if r.Size != 5000 || r.Holders != 3 {
			t.Fatalf("5,000: %+v, want 3 holders", r)
		}
		near(t, r.Grouping+" 5,000 SD", r.SD, sd, 1e-12)
		near(t, r.Grouping+" 5,000 robust SD", r.RobustSD, 0, 1e-12)
		// x of A2 and B2 is 1 - 1/0.99259 = -0.0075: not over 2%.
		near(t, r.Grouping+" 5,000 P(x > 2%)", r.POver2, 0, 0)
	}
	// Geographic 11,000, inside a CCG: A1+A2 (12,000; A3 is CCG A's
	// incomplete tail) and B1+B2 (12,000).
	g := res[3]
	if g.Grouping != Geographic || g.Holders != 2 {
		t.Fatalf("geographic 11,000: %+v, want 2 holders", g)
	}
	bench := 100 * growth * 12000
	x1, x2 := 1-1.26e6/bench, 1-1.12e6/bench
	near(t, "geographic SD", g.SD, math.Abs(x1-x2)/2, 1e-12)
	near(t, "geographic robust SD", g.RobustSD, 1.4826*math.Abs(x1-x2)/2, 1e-12)
	near(t, "geographic P(x > 2%)", g.POver2, 0.5, 0) // x2 = +0.060
	near(t, "geographic mean size", g.MeanSize, 12000, 0)
	// Random 11,000: each of three shuffles of 27,000 people gives one or
	// two holders (A1, A3, B1 first leaves 10,000).
	if r := res[2]; r.Grouping != Random || r.Holders < 3 || r.Holders > 6 {
		t.Errorf("random 11,000: %+v, want 3 to 6 holders", r)
	}
}

func sq(x float64) float64 { return x * x }

func TestGroupingsCover(t *testing.T) {
	// Random holders are disjoint, reach the size, and each stops at the
	// first practice that reaches it.
	p := handPair()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		seen := map[int]bool{}
		for _, m := range RandomGroups(&p, 9000, rng) {
			tot := 0.0
			for k, i := range m {
				if seen[i] {
					t.Fatalf("practice %d in two holders", i)
				}
				seen[i] = true
				tot += p.Rows[i].List0
				if k < len(m)-1 && tot >= 9000 {
					t.Fatalf("holder %v goes on past 9,000 people", m)
				}
			}
			if tot < 9000 {
				t.Fatalf("holder %v has %v people, under 9,000", m, tot)
			}
		}
	}
	// Above 50,000 people, geographic holders span CCGs of a region.
	if got := GeoGroups(&p, 60_000); len(got) != 0 {
		t.Errorf("27,000 people make %d holders of 60,000", len(got))
	}
	q := handPair()
	for i := range q.Rows {
		q.Rows[i].List0 *= 4 // A1 24,000, A2 24,000, A3 12,000, B1 32,000, B2 16,000
	}
	got := GeoGroups(&q, 60_000)
	if want := [][]int{{0, 1, 2}, {3, 4}}; len(got) != 1 || !slices.Equal(got[0], want[0]) {
		t.Errorf("geographic 60,000: %v, want %v (B's 48,000 an incomplete tail)", got, want[:1])
	}
}

// The sample in testdata (see its README) gives the figures expected.py
// computes from the same files independently.
func TestSample(t *testing.T) {
	paths, _ := filepath.Glob("testdata/payments_*.csv")
	years, err := ReadYears(paths)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := Pairs(years, DefaultFilter)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 2 || len(pairs[0].Rows) != 44 || len(pairs[1].Rows) != 45 {
		t.Fatalf("pairs: %d, want 2 of 44 and 45 practices", len(pairs))
	}
	// F81095 is kept in 2017-18 only, F81094 in 2016-17 only.
	var codes []string
	for _, r := range pairs[1].Rows {
		codes = append(codes, r.Practice)
	}
	if s := strings.Join(codes, " "); !strings.Contains(s, "F81095") || strings.Contains(s, "F81094") {
		t.Errorf("2017-18 keeps %s", s)
	}
	near(t, "national growth 2016-17", pairs[0].NationalGrowth(), -0.012928494362464, 1e-13)
	near(t, "national growth 2017-18", pairs[1].NationalGrowth(), -0.024914578135557, 1e-13)
	res := Measure(pairs, Options{Sizes: []int{5000, 30000}, Shuffles: 5, Seed: 1})
	s, g := res[0], res[3]
	if s.Holders != 34 || g.Holders != 21 || g.Grouping != Geographic {
		t.Fatalf("holders: singles %d, geographic 30,000 %d; want 34 and 21", s.Holders, g.Holders)
	}
	near(t, "singles SD", s.SD, 0.148008246950363, 1e-12)
	near(t, "singles robust SD", s.RobustSD, 0.051449023672177, 1e-12)
	near(t, "singles P(x > 2%)", s.POver2, 11.0/34, 1e-15)
	near(t, "geographic SD", g.SD, 0.068232920865182, 1e-12)
	near(t, "geographic robust SD", g.RobustSD, 0.030607146311157, 1e-12)
	near(t, "geographic P(x > 2%)", g.POver2, 7.0/21, 1e-15)
}
