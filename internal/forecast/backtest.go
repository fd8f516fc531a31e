package forecast

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
)

// BacktestResult scores one-step-or-more forecasts of held-out years: each
// practice's total spend and, where the history has lists, its list size.
// Coverage is the share of outcomes inside the central 50%, 80% and 95%
// predictive intervals, with its binomial standard error √(p(1−p)/n); MAE
// uses the predictive median as the point forecast; CRPS is the mean
// continuous ranked probability score (pounds, or patients for lists). The
// naive forecast is what PCTs used: last year's value plus an uplift; as a
// point forecast its CRPS equals its absolute error. Spend is scored where
// the practice had spend in the last fitted year and in the held-out one
// (in real payments histories: dispensing practices' drug cost).
type BacktestResult struct {
	Forecasts    int     `json:"forecasts"`
	Groups       int     `json:"histories"`
	Holdout      int     `json:"holdout_years"`
	Coverage50   float64 `json:"coverage_50"`
	Coverage80   float64 `json:"coverage_80"`
	Coverage95   float64 `json:"coverage_95"`
	Coverage50SE float64 `json:"coverage_50_se"`
	Coverage80SE float64 `json:"coverage_80_se"`
	Coverage95SE float64 `json:"coverage_95_se"`
	MAE          float64 `json:"mae"`
	CRPS         float64 `json:"crps"`
	NaiveMAE     float64 `json:"naive_mae"`
	NaiveCRPS    float64 `json:"naive_crps"`
	NaiveUplift  float64 `json:"naive_uplift"`
	MeanSpend    float64 `json:"mean_spend"`
	// SpendModel and ListModel count the histories forecast by each form
	// (chosen on the fitted years; see chooseForms). SpendChangeShare is the
	// share of histories whose spend the change model forecast (the JSON
	// keeps to numbers).
	SpendModel       map[string]int `json:"-"`
	ListModel        map[string]int `json:"-"`
	SpendChangeShare float64        `json:"spend_change_share"`

	ListForecasts    int     `json:"list_forecasts"`
	ListCoverage50   float64 `json:"list_coverage_50"`
	ListCoverage80   float64 `json:"list_coverage_80"`
	ListCoverage95   float64 `json:"list_coverage_95"`
	ListCoverage50SE float64 `json:"list_coverage_50_se"`
	ListCoverage80SE float64 `json:"list_coverage_80_se"`
	ListCoverage95SE float64 `json:"list_coverage_95_se"`
	ListMAE          float64 `json:"list_mae"`
	ListCRPS         float64 `json:"list_crps"`
	ListNaiveMAE     float64 `json:"list_naive_mae"`
	ListNaiveCRPS    float64 `json:"list_naive_crps"`
	ListNaiveUplift  float64 `json:"list_naive_uplift"`
	MeanList         float64 `json:"mean_list"`
}

// tally accumulates scores of one quantity.
type tally struct {
	n             int
	c50, c80, c95 int
	ae, crps, nae float64
	sum           float64
}

func (t *tally) add(m Mixture, y, naive float64) {
	t.n++
	for _, c := range []struct {
		p float64
		n *int
	}{{0.5, &t.c50}, {0.8, &t.c80}, {0.95, &t.c95}} {
		if y >= m.Quantile((1-c.p)/2) && y <= m.Quantile((1+c.p)/2) {
			*c.n++
		}
	}
	t.ae += math.Abs(y - m.Quantile(0.5))
	t.crps += m.CRPS(y)
	t.nae += math.Abs(y - naive)
	t.sum += y
}

func (t *tally) merge(o tally) {
	t.n += o.n
	t.c50 += o.c50
	t.c80 += o.c80
	t.c95 += o.c95
	t.ae += o.ae
	t.crps += o.crps
	t.nae += o.nae
	t.sum += o.sum
}

func (t *tally) meanCRPS() float64 {
	if t.n == 0 {
		return math.Inf(1)
	}
	return t.crps / float64(t.n)
}

// coverage returns the three coverages and their binomial standard errors.
func (t *tally) coverage() (c, se [3]float64) {
	n := float64(t.n)
	for k, v := range []int{t.c50, t.c80, t.c95} {
		p := float64(v) / n
		c[k], se[k] = p, math.Sqrt(p*(1-p)/n)
	}
	return c, se
}

// SpendForm is a form of the spend forecaster: the level model (FitHistory:
// log spend per head as practice effect, trend and AR(1) year effects) or
// the change model (Changes: last year's spend moved by heavy-tailed
// changes of spend per head and of the list) with its options.
type SpendForm struct {
	Level bool
	Opt   ChangeOptions
}

func (f SpendForm) String() string {
	if f.Level {
		return "level"
	}
	return "change" + f.Opt.String()
}

func (o ChangeOptions) String() string {
	s := ""
	if o.SizeScaled {
		s += "+size"
	}
	if o.Persistent {
		s += "+persistence"
	}
	return s
}

var changeForms = []ChangeOptions{{}, {SizeScaled: true}, {Persistent: true}, {SizeScaled: true, Persistent: true}}

// scoreForms fits fit records with the given forms and scores the test
// records. doSpend false skips spend.
func scoreForms(fit, test []Record, lf ChangeOptions, sf SpendForm, uplift float64, doSpend bool) (list, spend tally, err error) {
	perHead := true
	for _, r := range fit {
		if r.List <= 0 {
			perHead = false
			break
		}
	}
	var ch *Changes
	if perHead {
		// Too short a history for the change model leaves lists unscored
		// under the level model.
		if ch, err = FitChangesHistory(fit, lf, sf.Opt, doSpend && !sf.Level); err != nil {
			if !sf.Level {
				return list, spend, err
			}
			ch, err = nil, nil
		}
	} else if !sf.Level {
		return list, spend, fmt.Errorf("the change forecaster needs list sizes")
	}
	var g *GroupFit
	if doSpend && sf.Level {
		if g, err = FitHistory(fit, []int{Total}); err != nil {
			return list, spend, err
		}
	}
	_, _, st, last := collectChanges(fit)
	u, ul := uplift, uplift
	if math.IsNaN(uplift) {
		u = areaGrowth(fit, (*Record).Total)
		ul = areaGrowth(fit, func(r *Record) float64 { return r.List })
	}
	idx := map[string]int{}
	if g != nil {
		for i, p := range g.Practices {
			idx[p] = i
		}
	}
	for _, r := range test {
		s, ok := st[r.Practice]
		if !ok || s.year != last {
			continue // no history in the last fitted year: not forecast
		}
		hz := float64(r.Year - last)
		if ch != nil && r.List > 0 {
			if m, ok := ch.ListPredictive(r.Practice, r.Year, r.ListMean); ok {
				list.add(m, r.List, s.list*math.Pow(1+ul, hz))
			}
		}
		y := r.Total()
		if !doSpend || !s.spendPositive || y <= 0 {
			continue
		}
		var m Mixture
		if sf.Level {
			mu, sd := g.Predictive(idx[r.Practice], Total, r.Year-g.LastYear)
			m = LogNormal(mu, sd)
		} else if m, ok = ch.SpendPredictive(r.Practice, r.Year); !ok {
			continue
		}
		spend.add(m, y, s.spend*math.Pow(1+u, hz))
	}
	return list, spend, nil
}

// chooseForms picks the list and spend forecasters' forms for a history
// ending in fit, on fit alone, by rolling origin (Tashman 2000): each
// candidate is fitted on the years before each of fit's years from its
// third on and scored one year ahead on that year; the lowest total CRPS
// wins, the list's form first, then spend's with it. A form whose 95%
// intervals cover less than 0.95 − 3 binomial SEs of the validation
// outcomes is miscalibrated and not chosen while another is not. With fewer
// than three fitted years it keeps the defaults (size-scaled, persistent
// lists; the level model for spend).
func chooseForms(fit []Record, uplift float64) (ChangeOptions, SpendForm) {
	lf := ChangeOptions{SizeScaled: true, Persistent: true}
	sf := SpendForm{Level: true}
	yearSet := map[int]bool{}
	for _, r := range fit {
		yearSet[r.Year] = true
	}
	var years []int
	for y := range yearSet {
		years = append(years, y)
	}
	sort.Ints(years)
	if len(years) < 3 {
		return lf, sf
	}
	// score returns a candidate's pooled validation tally (list or spend).
	score := func(l ChangeOptions, s SpendForm, spend bool) (tally, bool) {
		var t tally
		for _, v := range years[2:] {
			var inner, val []Record
			for _, r := range fit {
				if r.Year < v {
					inner = append(inner, r)
				} else if r.Year == v {
					val = append(val, r)
				}
			}
			lt, st, err := scoreForms(inner, val, l, s, uplift, spend)
			if err != nil {
				return t, false
			}
			if spend {
				t.merge(st)
			} else {
				t.merge(lt)
			}
		}
		return t, t.n > 0
	}
	pick := func(ts []tally, ok []bool) int {
		best, bi := math.Inf(1), -1
		for _, calibratedOnly := range []bool{true, false} {
			for i, t := range ts {
				if !ok[i] {
					continue
				}
				c, _ := t.coverage()
				if calibratedOnly && c[2] < 0.95-3*math.Sqrt(0.95*0.05/float64(t.n)) {
					continue
				}
				if t.meanCRPS() < best {
					best, bi = t.meanCRPS(), i
				}
			}
			if bi >= 0 {
				return bi
			}
		}
		return bi
	}
	ts, ok := make([]tally, len(changeForms)), make([]bool, len(changeForms))
	for i, o := range changeForms {
		ts[i], ok[i] = score(o, sf, false)
	}
	if i := pick(ts, ok); i >= 0 {
		lf = changeForms[i]
	}
	cands := []SpendForm{{Level: true}}
	for _, o := range changeForms {
		cands = append(cands, SpendForm{Opt: o})
	}
	ts, ok = make([]tally, len(cands)), make([]bool, len(cands))
	for i, c := range cands {
		ts[i], ok[i] = score(lf, c, true)
	}
	if i := pick(ts, ok); i >= 0 {
		sf = cands[i]
	}
	return lf, sf
}

// Backtest holds out the last holdout years of each group's history, fits
// the rest, and scores the forecasts of each practice's total spend and
// list. The forecasters' forms are chosen on the fitted years only (see
// chooseForms): nothing is tuned to the held-out years. uplift is the naive
// forecast's annual uplift; NaN uses each history's own mean annual growth
// in the area's total spend (for lists, in the area's lists) over the
// fitted years.
func Backtest(h *History, holdout int, uplift float64) (*BacktestResult, error) {
	if holdout < 1 {
		return nil, fmt.Errorf("holdout %d: accepted 1 or more years", holdout)
	}
	groups := map[int][]Record{}
	var ids []int
	for _, r := range h.Records {
		if _, ok := groups[r.Group]; !ok {
			ids = append(ids, r.Group)
		}
		groups[r.Group] = append(groups[r.Group], r)
	}
	sort.Ints(ids)
	type score struct {
		list, spend tally
		lf          ChangeOptions
		sf          SpendForm
		upl, uplL   float64
		err         error
	}
	scores := make([]score, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for gi, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			sc := &scores[gi]
			recs := groups[id]
			last := math.MinInt
			for _, r := range recs {
				last = max(last, r.Year)
			}
			cut := last - holdout
			var fitRecs, test []Record
			years := map[int]bool{}
			for _, r := range recs {
				if r.Year <= cut {
					fitRecs = append(fitRecs, r)
					years[r.Year] = true
				} else {
					test = append(test, r)
				}
			}
			if len(years) < 2 {
				sc.err = fmt.Errorf("history %d: %d years before the held-out %d: need at least 2", id, len(years), holdout)
				return
			}
			sc.lf, sc.sf = chooseForms(fitRecs, uplift)
			sc.list, sc.spend, sc.err = scoreForms(fitRecs, test, sc.lf, sc.sf, uplift, true)
			if sc.err != nil {
				sc.err = fmt.Errorf("history %d: %w", id, sc.err)
			}
			sc.upl, sc.uplL = uplift, uplift
			if math.IsNaN(uplift) {
				sc.upl = areaGrowth(fitRecs, (*Record).Total)
				sc.uplL = areaGrowth(fitRecs, func(r *Record) float64 { return r.List })
			}
		}()
	}
	wg.Wait()
	res := &BacktestResult{Groups: len(ids), Holdout: holdout, SpendModel: map[string]int{}, ListModel: map[string]int{}}
	var list, spend tally
	for _, sc := range scores {
		if sc.err != nil {
			return nil, sc.err
		}
		list.merge(sc.list)
		spend.merge(sc.spend)
		res.NaiveUplift += sc.upl / float64(len(ids))
		res.ListNaiveUplift += sc.uplL / float64(len(ids))
		res.SpendModel[sc.sf.String()]++
		if !sc.sf.Level {
			res.SpendChangeShare += 1 / float64(len(ids))
		}
		if sc.list.n > 0 {
			res.ListModel["change"+sc.lf.String()]++
		}
	}
	if spend.n == 0 {
		return nil, fmt.Errorf("no held-out practice-years with spend to score")
	}
	n := float64(spend.n)
	res.Forecasts = spend.n
	c, se := spend.coverage()
	res.Coverage50, res.Coverage80, res.Coverage95 = c[0], c[1], c[2]
	res.Coverage50SE, res.Coverage80SE, res.Coverage95SE = se[0], se[1], se[2]
	res.MAE, res.CRPS = spend.ae/n, spend.crps/n
	res.NaiveMAE = spend.nae / n
	res.NaiveCRPS = res.NaiveMAE
	res.MeanSpend = spend.sum / n
	if list.n > 0 {
		n := float64(list.n)
		res.ListForecasts = list.n
		c, se := list.coverage()
		res.ListCoverage50, res.ListCoverage80, res.ListCoverage95 = c[0], c[1], c[2]
		res.ListCoverage50SE, res.ListCoverage80SE, res.ListCoverage95SE = se[0], se[1], se[2]
		res.ListMAE, res.ListCRPS = list.ae/n, list.crps/n
		res.ListNaiveMAE = list.nae / n
		res.ListNaiveCRPS = res.ListNaiveMAE
		res.MeanList = list.sum / n
	}
	return res, nil
}

// areaGrowth is the mean annual growth of the area's total of val (spend,
// or lists), over practices present in consecutive years.
func areaGrowth(recs []Record, val func(*Record) float64) float64 {
	byYear := map[int]map[string]float64{}
	for _, r := range recs {
		if byYear[r.Year] == nil {
			byYear[r.Year] = map[string]float64{}
		}
		byYear[r.Year][r.Practice] = val(&r)
	}
	var ys []int
	for y := range byYear {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	lg, n := 0.0, 0
	for j := 1; j < len(ys); j++ {
		a, b := 0.0, 0.0
		for p, v := range byYear[ys[j]] {
			if w, ok := byYear[ys[j-1]][p]; ok {
				a += w
				b += v
			}
		}
		if a > 0 && b > 0 {
			lg += math.Log(b/a) / float64(ys[j]-ys[j-1])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Exp(lg/float64(n)) - 1
}
