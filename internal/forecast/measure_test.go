package forecast

import (
	"math"
	"testing"

	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/sim"
)

// TestChangesByBand: each year in order, every practice first (band -1),
// then each band the cuts make, by the list at the start of the year; a
// band's figures are ChangeSummary's of its changes alone (hand-counted).
func TestChangesByBand(t *testing.T) {
	cs := []Change{
		{D: 0.1, List: 1000, Year: 2020}, {D: 0.3, List: 2999, Year: 2020}, {D: -0.2, List: 3000, Year: 2020},
		{D: 0.05, List: 12000, Year: 2019},
	}
	got := ChangesByBand(cs, []float64{3000, 6000})
	want := []struct{ year, band, n int }{
		{2019, -1, 1}, {2019, 0, 0}, {2019, 1, 0}, {2019, 2, 1},
		{2020, -1, 3}, {2020, 0, 2}, {2020, 1, 1}, {2020, 2, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Year != w.year || g.Band != w.band || g.N != w.n {
			t.Errorf("row %d: year %d band %d n %d, want %d %d %d", i, g.Year, g.Band, g.N, w.year, w.band, w.n)
		}
	}
	// 2020's smallest band holds 0.1 and 0.3: median 0.2, and one change of
	// the two beyond ±log 1.2 (0.3 > 0.182).
	if b := got[5]; math.Abs(b.Median-0.2) > 1e-12 || b.Beyond20 != 0.5 {
		t.Errorf("2020 <3000: median %v beyond-20%% %v, want 0.2 and 0.5", b.Median, b.Beyond20)
	}
	if b := got[1]; b.N != 0 || !math.IsNaN(b.Median) {
		t.Errorf("an empty band: %+v, want n 0 and NaN", b)
	}
}

// TestRecordsOf: a payments history's drugs are the prescribing stream and
// its list basis says whether the list is a mean of quarters.
func TestRecordsOf(t *testing.T) {
	recs := RecordsOf([]nhsdata.PracticeYear{{Practice: "A1", Year: 2019, List: 5000, Drugs: 7, ListBasis: "mean of quarters"}, {Practice: "A1", Year: 2018, List: 4900}})
	if r := recs[0]; r.Practice != "A1" || r.Year != 2019 || r.List != 5000 || r.Spend[sim.Prescribing] != 7 || r.Total() != 7 || !r.ListMean {
		t.Errorf("%+v", r)
	}
	if recs[1].ListMean {
		t.Errorf("a count read as a mean of quarters: %+v", recs[1])
	}
}
