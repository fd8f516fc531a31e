package nhsdata

import (
	"math"
	"sort"
)

// NeedSpread summarises relative need per head across practices from a
// need-weighted population file: for each component, the SD of
// log(weighted population / population), and the correlation of those logs
// between components (Pearson, over practices with every component).
type NeedSpread struct {
	Practices int // with population at least MinPop and every component given
	MinPop    float64
	LogSD     [NComponents]float64
	Corr      [NComponents][NComponents]float64
	// SmallShare is the share of practices with a population under 3,000
	// (among those with any population).
	SmallShare float64
}

// MeasureNeed computes NeedSpread over practices of at least minPop
// patients (small lists have noisy ratios; the reference figures use 1,000).
func MeasureNeed(ws []WeightedPopulation, minPop float64) NeedSpread {
	s := NeedSpread{MinPop: minPop}
	var logs [NComponents][]float64
	small, any := 0, 0
	for _, w := range ws {
		if w.Pop > 0 {
			any++
			if w.Pop < 3000 {
				small++
			}
		}
		if w.Pop < minPop || w.Pop <= 0 {
			continue
		}
		ok := true
		for c := range NComponents {
			if !w.Has[c] || w.WP[c] <= 0 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		for c := range NComponents {
			logs[c] = append(logs[c], math.Log(w.WP[c]/w.Pop))
		}
	}
	if any > 0 {
		s.SmallShare = float64(small) / float64(any)
	}
	s.Practices = len(logs[0])
	if s.Practices < 2 {
		return s
	}
	var mean [NComponents]float64
	for c := range NComponents {
		for _, v := range logs[c] {
			mean[c] += v
		}
		mean[c] /= float64(s.Practices)
	}
	for a := range NComponents {
		for b := range NComponents {
			cov := 0.0
			for i := range logs[a] {
				cov += (logs[a][i] - mean[a]) * (logs[b][i] - mean[b])
			}
			s.Corr[a][b] = cov / float64(s.Practices-1)
		}
	}
	for c := range NComponents {
		s.LogSD[c] = math.Sqrt(s.Corr[c][c])
	}
	for a := range NComponents {
		for b := range NComponents {
			s.Corr[a][b] /= s.LogSD[a] * s.LogSD[b]
		}
	}
	return s
}

// ListSizes summarises one payments year's lists: practices, patients,
// mean list and the share under 3,000 patients.
type ListSizes struct {
	Year       int
	Practices  int
	Patients   float64
	Mean       float64
	SmallShare float64
}

// MeasureLists computes ListSizes for each year of a built history.
func MeasureLists(rows []PracticeYear) []ListSizes {
	by := map[int]*ListSizes{}
	small := map[int]int{}
	for _, r := range rows {
		l := by[r.Year]
		if l == nil {
			l = &ListSizes{Year: r.Year}
			by[r.Year] = l
		}
		l.Practices++
		l.Patients += r.List
		if r.List < 3000 {
			small[r.Year]++
		}
	}
	var out []ListSizes
	for y, l := range by {
		l.Mean = l.Patients / float64(l.Practices)
		l.SmallShare = float64(small[y]) / float64(l.Practices)
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}
