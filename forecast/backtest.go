package forecast

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
)

// BacktestResult scores forecasts of each practice's total spend in held-out
// years. Coverage is the share of outcomes inside the central 50%, 80% and
// 95% predictive intervals; MAE uses the predictive median as the point
// forecast; CRPS is the mean continuous ranked probability score (pounds).
// The naive forecast is what PCTs used: last year's spend plus an uplift; as
// a point forecast its CRPS equals its absolute error.
type BacktestResult struct {
	Forecasts   int     `json:"forecasts"`
	Groups      int     `json:"histories"`
	Holdout     int     `json:"holdout_years"`
	Coverage50  float64 `json:"coverage_50"`
	Coverage80  float64 `json:"coverage_80"`
	Coverage95  float64 `json:"coverage_95"`
	MAE         float64 `json:"mae"`
	CRPS        float64 `json:"crps"`
	NaiveMAE    float64 `json:"naive_mae"`
	NaiveCRPS   float64 `json:"naive_crps"`
	NaiveUplift float64 `json:"naive_uplift"`
	MeanSpend   float64 `json:"mean_spend"`
}

// Backtest holds out the last holdout years of each group's history, fits
// the rest, and scores the forecasts of each practice's total spend. uplift
// is the naive forecast's annual uplift; NaN uses each history's own mean
// annual growth in the area's total spend over the fitted years.
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
		n                    int
		c50, c80, c95        int
		ae, crps, nae, spend float64
		err                  error
		upl                  float64
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
			for _, r := range recs {
				if r.Year <= cut {
					fitRecs = append(fitRecs, r)
				} else {
					test = append(test, r)
				}
			}
			years := map[int]bool{}
			for _, r := range fitRecs {
				years[r.Year] = true
			}
			if len(years) < 2 {
				sc.err = fmt.Errorf("history %d: %d years before the held-out %d: need at least 2", id, len(years), holdout)
				return
			}
			g, err := FitHistory(fitRecs, []int{Total})
			if err != nil {
				sc.err = fmt.Errorf("history %d: %w", id, err)
				return
			}
			u := uplift
			if math.IsNaN(u) {
				u = areaGrowth(fitRecs)
			}
			sc.upl = u
			idx := map[string]int{}
			for i, p := range g.Practices {
				idx[p] = i
			}
			for _, r := range test {
				i, ok := idx[r.Practice]
				if !ok {
					continue // a practice with no fitted history
				}
				hz := r.Year - g.LastYear
				mu, sd := g.Predictive(i, Total, hz)
				y := r.Total()
				in := func(p float64) bool {
					return y >= LogNormalQuantile(mu, sd, (1-p)/2) && y <= LogNormalQuantile(mu, sd, (1+p)/2)
				}
				sc.n++
				if in(0.5) {
					sc.c50++
				}
				if in(0.8) {
					sc.c80++
				}
				if in(0.95) {
					sc.c95++
				}
				sc.ae += math.Abs(y - math.Exp(mu))
				sc.crps += CRPSLogNormal(mu, sd, y)
				sc.nae += math.Abs(y - g.LastSpend[Total][i]*math.Pow(1+u, float64(hz)))
				sc.spend += y
			}
		}()
	}
	wg.Wait()
	res := &BacktestResult{Groups: len(ids), Holdout: holdout}
	var sum score
	for _, sc := range scores {
		if sc.err != nil {
			return nil, sc.err
		}
		sum.n += sc.n
		sum.c50 += sc.c50
		sum.c80 += sc.c80
		sum.c95 += sc.c95
		sum.ae += sc.ae
		sum.crps += sc.crps
		sum.nae += sc.nae
		sum.spend += sc.spend
		sum.upl += sc.upl
	}
	if sum.n == 0 {
		return nil, fmt.Errorf("no held-out practice-years to score")
	}
	n := float64(sum.n)
	res.Forecasts = sum.n
	res.Coverage50, res.Coverage80, res.Coverage95 = float64(sum.c50)/n, float64(sum.c80)/n, float64(sum.c95)/n
	res.MAE, res.CRPS = sum.ae/n, sum.crps/n
	res.NaiveMAE = sum.nae / n
	res.NaiveCRPS = res.NaiveMAE
	res.NaiveUplift = sum.upl / float64(len(ids))
	res.MeanSpend = sum.spend / n
	return res, nil
}

// areaGrowth is the mean annual growth of the area's total spend, over
// practices present in consecutive years.
func areaGrowth(recs []Record) float64 {
	byYear := map[int]map[string]float64{}
	for _, r := range recs {
		if byYear[r.Year] == nil {
			byYear[r.Year] = map[string]float64{}
		}
		byYear[r.Year][r.Practice] = r.Total()
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
