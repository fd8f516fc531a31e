package forecast

import (
	"fmt"
	"math"
	"sort"

	"github.com/gpbudget/gpbudget/internal/stats"
)

// practiceState is what a change forecast needs of a practice at the end
// of its history.
type practiceState struct {
	year          int
	list, spend   float64
	prevList      float64 // last annual log change of the list; NaN if unknown
	prevPerHead   float64 // last annual log change of spend per head; NaN if unknown
	spendPositive bool
	listKnown     bool
	listMean      bool
}

// Changes is the change forecaster: lists and spend per head each move by
// a ChangeModel a year from the practice's last observed values, and spend
// is their product (the two changes taken as independent).
type Changes struct {
	List, PerHead *ChangeModel
	state         map[string]*practiceState
	LastYear      int
}

// collectChanges returns, for one group's records, the annual log changes
// of the list and of total spend per head, and each practice's last state.
func collectChanges(recs []Record) (list, perHead []Change, st map[string]*practiceState, last int) {
	byP := map[string][]*Record{}
	var ids []string
	for i := range recs {
		r := &recs[i]
		if _, ok := byP[r.Practice]; !ok {
			ids = append(ids, r.Practice)
		}
		byP[r.Practice] = append(byP[r.Practice], r)
		last = max(last, r.Year)
	}
	sort.Strings(ids)
	st = map[string]*practiceState{}
	for _, p := range ids {
		rs := byP[p]
		sort.Slice(rs, func(a, b int) bool { return rs[a].Year < rs[b].Year })
		s := &practiceState{prevList: math.NaN(), prevPerHead: math.NaN()}
		for j, r := range rs {
			if j > 0 {
				q := rs[j-1]
				consecutive := r.Year == q.Year+1
				if consecutive && r.List > 0 && q.List > 0 {
					d := math.Log(r.List / q.List)
					list = append(list, Change{D: d, Prev: s.prevList, List: q.List, Year: r.Year})
					s.prevList = d
				} else {
					s.prevList = math.NaN()
				}
				if consecutive && r.List > 0 && q.List > 0 && r.Total() > 0 && q.Total() > 0 {
					d := math.Log(r.Total()/r.List) - math.Log(q.Total()/q.List)
					perHead = append(perHead, Change{D: d, Prev: s.prevPerHead, List: q.List, Year: r.Year})
					s.prevPerHead = d
				} else {
					s.prevPerHead = math.NaN()
				}
			}
			s.year, s.list, s.spend = r.Year, r.List, r.Total()
			s.listKnown, s.spendPositive, s.listMean = r.List > 0, r.Total() > 0, r.ListMean
		}
		st[p] = s
	}
	return list, perHead, st, last
}

// FitChangesHistory fits the change forecaster to one group's records.
// perHead false skips the spend model (lists only).
func FitChangesHistory(recs []Record, listOpt, perHeadOpt ChangeOptions, perHead bool) (*Changes, error) {
	lc, pc, st, last := collectChanges(recs)
	c := &Changes{state: st, LastYear: last}
	var err error
	if c.List, err = FitChanges(lc, listOpt); err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	if perHead {
		if c.PerHead, err = FitChanges(pc, perHeadOpt); err != nil {
			return nil, fmt.Errorf("changes of spend per head: %w", err)
		}
	}
	return c, nil
}

// ListPredictive is the predictive distribution of practice p's list in
// year, and false when the practice has no list in the fitted history's
// last year (or year is not after it). quarterMean says the list of year
// is to be the mean of its quarterly counts (see PredictToQuarterMean).
func (c *Changes) ListPredictive(p string, year int, quarterMean bool) (Mixture, bool) {
	s, ok := c.state[p]
	if !ok || s.year != c.LastYear || !s.listKnown || year <= s.year {
		return Mixture{}, false
	}
	if quarterMean && !s.listMean {
		return c.List.PredictToQuarterMean(s.prevList, s.list, year-s.year).Shift(math.Log(s.list)), true
	}
	return c.List.Predict(s.prevList, s.list, year-s.year).Shift(math.Log(s.list)), true
}

// SpendPredictive is the predictive distribution of practice p's spend in
// year: last year's spend times the changes of spend per head and of the
// list; false when the practice had no spend in the fitted history's last
// year.
func (c *Changes) SpendPredictive(p string, year int) (Mixture, bool) {
	s, ok := c.state[p]
	if !ok || c.PerHead == nil || s.year != c.LastYear || !s.listKnown || !s.spendPositive || year <= s.year {
		return Mixture{}, false
	}
	h := year - s.year
	m := Convolve(c.PerHead.Predict(s.prevPerHead, s.list, h), c.List.Predict(s.prevList, s.list, h))
	return m.Shift(math.Log(s.spend)), true
}

// AnnualChanges returns one group's annual log changes of practices' lists
// and of their total spend per head (practice-years with spend in both
// years), for fitting a ChangeModel or describing them.
func AnnualChanges(recs []Record) (list, perHead []Change) {
	list, perHead, _, _ = collectChanges(recs)
	return list, perHead
}

// ChangeSummary describes changes: the median, robust SD (1.4826 × MAD),
// plain SD, and the share beyond ±log(1.2) (more than a 20% change).
func ChangeSummary(cs []Change) (median, robustSD, sd, beyond20 float64) {
	if len(cs) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	d := make([]float64, len(cs))
	mean := 0.0
	for i, c := range cs {
		d[i] = c.D
		mean += c.D / float64(len(cs))
		if math.Abs(c.D) > math.Log(1.2) {
			beyond20++
		}
	}
	for _, v := range d {
		sd += (v - mean) * (v - mean)
	}
	median, robustSD = stats.MedianRobustSD(d)
	return median, robustSD, math.Sqrt(sd / math.Max(float64(len(d)-1), 1)), beyond20 / float64(len(d))
}
