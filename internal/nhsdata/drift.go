package nhsdata

import (
	"math"
	"sort"

	"github.com/gpbudget/gpbudget/internal/stats"
)

// DrugChanges is how dispensing practices' drug cost per registered
// patient changed from one year to the next: the figures the engine's
// drift and common-shock defaults come from (docs/parameters.md, "Risk
// beyond chance").
type DrugChanges struct {
	From, To int
	// N practices dispensing in both years with at least MinList patients
	// and drugs reimbursed in both.
	N int
	// Median and RobustSD (1.4826 × MAD) of the log change.
	Median, RobustSD float64
	// Of the changes centred on the median and trimmed at 4 robust SD (Kept
	// of them, in Areas commissioners), a one-way random-effects analysis
	// of variance by commissioner (method of moments): the SD between
	// commissioners' means, within them, and the between share of the
	// variance.
	Kept, Areas                       int
	BetweenSD, WithinSD, BetweenShare float64
	// Lag1 is the correlation of a practice's change to this year with its
	// change to the next (Pearson, both trimmed at 4 robust SD), over the
	// Lag1N practices with both; NaN for the last pair of years.
	Lag1  float64
	Lag1N int
}

// MeasureDrugChanges measures DrugChanges for every pair of consecutive
// years in rows, over dispensing practices of at least minList patients.
func MeasureDrugChanges(rows []PracticeYear, minList float64) []DrugChanges {
	type key struct {
		p string
		y int
	}
	byKey := map[key]*PracticeYear{}
	years := map[int]bool{}
	for i := range rows {
		r := &rows[i]
		byKey[key{r.Practice, r.Year}] = r
		years[r.Year] = true
	}
	var ys []int
	for y := range years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	// change[y][practice]: the log change from year y to y+1.
	change := map[int]map[string]float64{}
	ok := func(r *PracticeYear) bool {
		return r != nil && r.Dispensing == "yes" && r.List >= minList && r.Drugs > 0
	}
	var out []DrugChanges
	for _, y := range ys {
		if !years[y+1] {
			continue
		}
		change[y] = map[string]float64{}
		var all []float64
		area := map[string]string{}
		for i := range rows {
			a := &rows[i]
			if a.Year != y {
				continue
			}
			b := byKey[key{a.Practice, y + 1}]
			if !ok(a) || !ok(b) {
				continue
			}
			d := math.Log(b.Drugs/b.List) - math.Log(a.Drugs/a.List)
			change[y][a.Practice] = d
			area[a.Practice] = a.Commissioner
			all = append(all, d)
		}
		if len(all) < 2 {
			continue
		}
		dc := DrugChanges{From: y, To: y + 1, N: len(all), Lag1: math.NaN()}
		dc.Median, dc.RobustSD = stats.MedianRobustSD(all)
		groups := map[string][]float64{}
		for p, d := range change[y] {
			if math.Abs(d-dc.Median) <= 4*dc.RobustSD {
				groups[area[p]] = append(groups[area[p]], d-dc.Median)
			}
		}
		dc.Kept, dc.Areas, dc.BetweenSD, dc.WithinSD = oneWayANOVA(groups)
		if v := dc.BetweenSD*dc.BetweenSD + dc.WithinSD*dc.WithinSD; v > 0 {
			dc.BetweenShare = dc.BetweenSD * dc.BetweenSD / v
		}
		out = append(out, dc)
	}
	for i := range out {
		y := out[i].From
		next, ok := change[y+1]
		if !ok {
			continue
		}
		var x, z []float64
		for p, d := range change[y] {
			if e, ok := next[p]; ok {
				x = append(x, d)
				z = append(z, e)
			}
		}
		out[i].Lag1, out[i].Lag1N = trimmedCorr(x, z)
	}
	return out
}

// oneWayANOVA is the method-of-moments random-effects analysis of variance
// of groups (Searle, Casella & McCulloch, Variance Components, 1992, §3.5):
// σ²_w = MSW, σ²_b = (MSB − MSW)/n0 with n0 = (N − Σn²/N)/(G − 1), a
// negative estimate taken as 0. It returns the observations, groups and the
// two SDs.
func oneWayANOVA(groups map[string][]float64) (n, g int, between, within float64) {
	grand := 0.0
	sumSq := 0.0
	for _, v := range groups {
		for _, x := range v {
			grand += x
		}
		n += len(v)
		sumSq += float64(len(v) * len(v))
	}
	g = len(groups)
	if n <= g || g < 2 {
		return n, g, math.NaN(), math.NaN()
	}
	grand /= float64(n)
	var ssb, ssw float64
	for _, v := range groups {
		m := 0.0
		for _, x := range v {
			m += x
		}
		m /= float64(len(v))
		ssb += float64(len(v)) * (m - grand) * (m - grand)
		for _, x := range v {
			ssw += (x - m) * (x - m)
		}
	}
	msb := ssb / float64(g-1)
	msw := ssw / float64(n-g)
	n0 := (float64(n) - sumSq/float64(n)) / float64(g-1)
	return n, g, math.Sqrt(max(msb-msw, 0) / n0), math.Sqrt(msw)
}

// trimmedCorr is the Pearson correlation of x and y over the pairs within 4
// robust SD of both medians, and how many pairs that is.
func trimmedCorr(x, y []float64) (float64, int) {
	if len(x) < 3 {
		return math.NaN(), len(x)
	}
	mx, sx := stats.MedianRobustSD(x)
	my, sy := stats.MedianRobustSD(y)
	var a, b []float64
	for i := range x {
		if math.Abs(x[i]-mx) <= 4*sx && math.Abs(y[i]-my) <= 4*sy {
			a = append(a, x[i])
			b = append(b, y[i])
		}
	}
	n := float64(len(a))
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= n
	mb /= n
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb), len(a)
}
