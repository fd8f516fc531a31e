package realrisk

import (
	"fmt"
	"math"
	"sort"
)

// Row is one practice kept in a pair of consecutive years: its geography
// (the later year's codes) and its list and drug reimbursement in each.
type Row struct {
	Practice, Region, CCG, Postcode string
	List0, List1, Drugs0, Drugs1    float64
}

// Pair is the practices kept in a pair of consecutive years.
type Pair struct {
	From, To int
	Rows     []Row
}

// Filter says which practices a pair keeps. The defaults (DefaultFilter)
// are the analysis's: the series is drug cost of dispensing practices,
// and a practice whose list jumped (a merger, a split) is not a holder
// whose spend per head moved.
type Filter struct {
	MinList          float64 // patients in both years
	MaxLogListChange float64 // |log(list1/list0)|
	MinDrugsPerHead  float64 // pounds a head in both years, dispensing in both
}

// DefaultFilter keeps practices open in both years with at least 1,000
// patients, a list that changed by at most 0.2 in logs, dispensing in both
// years with at least £5 a head of drugs reimbursed (below that a
// "dispensing" practice dispenses to almost none of its patients).
var DefaultFilter = Filter{MinList: 1000, MaxLogListChange: 0.2, MinDrugsPerHead: 5}

// Keep says whether a practice with these figures is kept.
func (f Filter) Keep(list0, list1, drugs0, drugs1 float64) bool {
	if !(list0 >= f.MinList && list1 >= f.MinList) || math.Abs(math.Log(list1/list0)) > f.MaxLogListChange {
		return false
	}
	return drugs0 > 0 && drugs1 > 0 && drugs0/list0 >= f.MinDrugsPerHead && drugs1/list1 >= f.MinDrugsPerHead
}

// Pairs returns the kept practices of every pair of consecutive years in
// years (sorted by year, as ReadYears returns them), in practice-code
// order. Years without a next year's file pair with nothing; it is an
// error if no pair has a practice.
func Pairs(years []Year, f Filter) ([]Pair, error) {
	var out []Pair
	for i := 0; i+1 < len(years); i++ {
		a, b := years[i], years[i+1]
		if b.Year != a.Year+1 {
			continue
		}
		p := Pair{From: a.Year, To: b.Year}
		for _, code := range sortedCodes(a.Practices) {
			r0 := a.Practices[code]
			r1, ok := b.Practices[code]
			if !ok || !r0.Open || !r1.Open || !r0.Dispensing || !r1.Dispensing {
				continue
			}
			if !f.Keep(r0.List, r1.List, r0.Drugs, r1.Drugs) {
				continue
			}
			p.Rows = append(p.Rows, Row{Practice: code, Region: r1.Region, CCG: r1.CCG, Postcode: r1.Postcode,
				List0: r0.List, List1: r1.List, Drugs0: r0.Drugs, Drugs1: r1.Drugs})
		}
		if len(p.Rows) > 0 {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		var names []string
		for _, y := range years {
			names = append(names, y.File)
		}
		return nil, fmt.Errorf("payments files %v: no pair of consecutive years has a dispensing practice kept (open in both years, at least %.0f patients, list change within %.2f in logs, at least £%.0f a head of drugs): accepted files of consecutive years", names, f.MinList, f.MaxLogListChange, f.MinDrugsPerHead)
	}
	return out, nil
}

// NationalGrowth is the change in log drug cost per head of all the pair's
// practices pooled: the benchmark's growth.
func (p *Pair) NationalGrowth() float64 {
	var n0, n1, x0, x1 float64
	for _, r := range p.Rows {
		n0 += r.List0
		n1 += r.List1
		x0 += r.Drugs0
		x1 += r.Drugs1
	}
	return math.Log(x1/n1) - math.Log(x0/n0)
}

// Residual is a holder's change in log drug cost per head less national
// growth g: log(spend / benchmark) with benchmark = last year's spend per
// head × exp(g) × this year's list. members index p.Rows.
func (p *Pair) Residual(members []int, g float64) float64 {
	var n0, n1, x0, x1 float64
	for _, i := range members {
		r := &p.Rows[i]
		n0 += r.List0
		n1 += r.List1
		x0 += r.Drugs0
		x1 += r.Drugs1
	}
	return math.Log(x1/n1) - math.Log(x0/n0) - g
}

func sortedCodes(m map[string]Practice) []string {
	out := make([]string, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
