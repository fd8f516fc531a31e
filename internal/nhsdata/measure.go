package nhsdata

import (
	"math"
	"sort"
	"strings"

	"github.com/gpbudget/gpbudget/internal/stats"
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

// ListChange is one practice's annual log change of its list, as the
// engine's list dynamics are calibrated on (EngineListChanges).
type ListChange struct {
	Practice string
	Year     int     // the year the change ends in
	D        float64 // log(list in Year / list in Year-1)
	Prev     float64 // the practice's change the year before; NaN if unknown
	List     float64 // list in Year-1
}

// EngineListChanges returns the annual list changes the engine's own list
// change (sim.ListDynamics) is fitted to: consecutive years whose lists are
// both counts at one date ("last known"), leaving out the changes the
// engine draws as separate events: a practice's change in a year it
// absorbed another (event "absorbed ..."), which is a merger, and the
// change into a leaver's last year (event "closed" or "merged into ..."),
// when its list is usually already draining away. Prev is the practice's
// change the year before, whatever it was, as the engine sees it.
func EngineListChanges(rows []PracticeYear) []ListChange {
	byP := map[string][]PracticeYear{}
	for _, r := range rows {
		byP[r.Practice] = append(byP[r.Practice], r)
	}
	ids := make([]string, 0, len(byP))
	for p := range byP {
		ids = append(ids, p)
	}
	sort.Strings(ids)
	var out []ListChange
	for _, p := range ids {
		rs := byP[p]
		sort.Slice(rs, func(a, b int) bool { return rs[a].Year < rs[b].Year })
		prev := math.NaN()
		for j := 1; j < len(rs); j++ {
			a, b := rs[j-1], rs[j]
			if b.Year != a.Year+1 || a.List <= 0 || b.List <= 0 || a.ListBasis != "last known" || b.ListBasis != "last known" {
				prev = math.NaN()
				continue
			}
			d := math.Log(b.List / a.List)
			ev := b.Event
			merger := strings.HasPrefix(ev, "absorbed ") || strings.HasPrefix(ev, "opened absorbing ")
			leaving := ev == "closed" || strings.HasPrefix(ev, "merged into ")
			if !merger && !leaving {
				out = append(out, ListChange{Practice: p, Year: b.Year, D: d, Prev: prev, List: a.List})
			}
			prev = d
		}
	}
	return out
}

// LeavingBand is the rate at which practices of one list-size band leave
// the files: closed (patients dispersed) or merged into another practice.
type LeavingBand struct {
	Below             float64 // the band is [previous band's Below, Below); +Inf for the last
	Practices         int     // practice-years in the band with a next year's file
	Closed, Merged    int
	ClosureRate       float64
	MergerRate        float64
	ClosureSE, MergSE float64 // binomial standard errors
}

// LeavingRates counts, over every pair of consecutive years, practices by
// the band of their list in the year they were last seen, and how many of
// them closed or merged before the next year's file, with binomial
// standard errors. bounds are the bands' upper bounds, increasing; a last
// band takes lists from the last bound up.
func LeavingRates(rows []PracticeYear, bounds []float64) []LeavingBand {
	out := make([]LeavingBand, len(bounds)+1)
	for k := range out {
		out[k].Below = math.Inf(1)
		if k < len(bounds) {
			out[k].Below = bounds[k]
		}
	}
	last := 0
	for _, r := range rows {
		last = max(last, r.Year)
	}
	for _, r := range rows {
		if r.Year >= last || r.List <= 0 {
			continue // no next file to leave before
		}
		k := sort.SearchFloat64s(bounds, r.List)
		if k < len(bounds) && r.List == bounds[k] {
			k++
		}
		b := &out[k]
		b.Practices++
		switch {
		case r.Event == "closed":
			b.Closed++
		case strings.HasPrefix(r.Event, "merged into "):
			b.Merged++
		}
	}
	for k := range out {
		b := &out[k]
		if n := float64(b.Practices); n > 0 {
			b.ClosureRate, b.MergerRate = float64(b.Closed)/n, float64(b.Merged)/n
			b.ClosureSE = math.Sqrt(b.ClosureRate * (1 - b.ClosureRate) / n)
			b.MergSE = math.Sqrt(b.MergerRate * (1 - b.MergerRate) / n)
		}
	}
	return out
}

// Dispersal describes where closed practices' patients went: for each
// closure, the practices of the same commissioner present in both years
// are ranked by their gain beyond the year's median growth; Top[k] is the
// median, over closures, of the (k+1)-th largest gain as a share of the
// closed practice's list.
type Dispersal struct {
	Closures int
	Top      [5]float64
}

// MeasureDispersal computes Dispersal over every pair of consecutive years.
func MeasureDispersal(rows []PracticeYear) Dispersal {
	byYear := map[int]map[string]PracticeYear{}
	for _, r := range rows {
		if byYear[r.Year] == nil {
			byYear[r.Year] = map[string]PracticeYear{}
		}
		byYear[r.Year][r.Practice] = r
	}
	var tops [5][]float64
	var d Dispersal
	for y, a := range byYear {
		b, ok := byYear[y+1]
		if !ok {
			continue
		}
		var growth []float64
		for p, r := range a {
			if s, ok := b[p]; ok && r.List > 0 {
				growth = append(growth, s.List/r.List)
			}
		}
		if len(growth) == 0 {
			continue
		}
		g := stats.Median(growth)
		for _, r := range a {
			if r.Event != "closed" || r.List <= 0 {
				continue
			}
			var gains []float64
			for p, q := range a {
				if s, ok := b[p]; ok && q.Commissioner == r.Commissioner {
					gains = append(gains, (s.List-q.List*g)/r.List)
				}
			}
			sort.Sort(sort.Reverse(sort.Float64Slice(gains)))
			d.Closures++
			for k := range tops {
				if k < len(gains) {
					tops[k] = append(tops[k], gains[k])
				}
			}
		}
	}
	for k, v := range tops {
		if len(v) > 0 {
			d.Top[k] = stats.Median(v)
		}
	}
	return d
}
