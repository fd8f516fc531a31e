package forecast

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/gpbudget/gpbudget/sim"
	"gonum.org/v1/gonum/stat/distuv"
)

// NQuantities is the five streams and the total (index Total).
const (
	NQuantities = sim.NStreams + 1
	Total       = sim.NStreams
)

// QuantityName names a quantity: a stream's name or "total".
func QuantityName(q int) string {
	if q == Total {
		return "total"
	}
	return sim.StreamNames[q]
}

func value(r *Record, q int) float64 {
	if q == Total {
		return r.Total()
	}
	return r.Spend[q]
}

// GroupFit is one history's fitted model for each requested quantity.
type GroupFit struct {
	Practices []string
	Fits      [NQuantities]*Fit // nil for quantities not fitted
	LastYear  int
	LastList  []float64 // each practice's list in its last year (1 when unknown)
	LastSpend [NQuantities][]float64
	// ListGrowth is the area's mean annual log change in list size, used to
	// carry lists forward.
	ListGrowth float64
	// ListGrowthVar is the variance of a practice's annual log list change
	// about ListGrowth, for a practice of the area's mean list (it scales as
	// 1/list, joiners and leavers being counts); a forecast's list is
	// uncertain by that much per year ahead.
	ListGrowthVar float64
	meanList      []float64
	areaList      float64
	lastYear      []int // each practice's last year in the history
	PerHead       bool  // list sizes known: modelled per head
	// Skipped counts practice-years left out of a quantity's fit for zero
	// spend (log undefined).
	Skipped [NQuantities]int
	// Absent are the quantities asked for that the history does not carry.
	Absent []int
}

// Forecasts says whether practice i's quantity q is forecast: q was fitted,
// the practice is in the history's last year (not closed or merged before
// it), and it had spend on q then (a practice that does not dispense has no
// drug cost to forecast).
func (g *GroupFit) Forecasts(i, q int) bool {
	return g.Fits[q] != nil && g.lastYear[i] == g.LastYear && g.LastSpend[q][i] > 0
}

// FitHistory fits the records of one group (one practice-year each) for
// the quantities asked for. A quantity the history does not carry (fewer
// practice-years with spend than the model needs (Needed), as the four
// streams other than prescribing in a history built from NHS payments
// files) is not fitted:
// its Fits entry stays nil and Absent lists it. It is an error only when
// no quantity asked for can be fitted.
func FitHistory(recs []Record, quantities []int) (*GroupFit, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("no history to fit")
	}
	g := &GroupFit{PerHead: true}
	byP := map[string][]*Record{}
	for i := range recs {
		r := &recs[i]
		if _, ok := byP[r.Practice]; !ok {
			g.Practices = append(g.Practices, r.Practice)
		}
		byP[r.Practice] = append(byP[r.Practice], r)
		if r.List <= 0 {
			g.PerHead = false
		}
		g.LastYear = max(g.LastYear, r.Year)
	}
	sort.Strings(g.Practices)
	if years := distinctYears(recs); len(years) < 2 {
		return nil, fmt.Errorf("%w: the history has one year (%d): one year cannot tell a practice's lasting level from that year's chance, nor give a trend, so no interval would mean anything; give two years or more (three or more for the full model)", ErrShortHistory, years[0])
	}
	np := len(g.Practices)
	g.LastList = make([]float64, np)
	g.lastYear = make([]int, np)
	for q := range NQuantities {
		g.LastSpend[q] = make([]float64, np)
	}
	meanList := make([]float64, np)
	nbar, growth, ng := 0.0, 0.0, 0
	type step struct{ d, w float64 }
	var steps []step
	for i, p := range g.Practices {
		rs := byP[p]
		sort.Slice(rs, func(a, b int) bool { return rs[a].Year < rs[b].Year })
		last := rs[len(rs)-1]
		g.lastYear[i] = last.Year
		g.LastList[i] = 1
		meanList[i] = 1
		if g.PerHead {
			g.LastList[i] = last.List
			s := 0.0
			for j, r := range rs {
				s += r.List
				if j > 0 && r.Year > rs[j-1].Year {
					dy := float64(r.Year - rs[j-1].Year)
					d := math.Log(r.List/rs[j-1].List) / dy
					growth += d
					ng++
					steps = append(steps, step{d, r.List * dy})
				}
			}
			meanList[i] = s / float64(len(rs))
		}
		nbar += meanList[i]
		for q := range NQuantities {
			g.LastSpend[q][i] = value(last, q)
		}
	}
	nbar /= float64(np)
	if ng > 0 {
		g.ListGrowth = growth / float64(ng)
	}
	if len(steps) > 1 {
		// Var(d) ≈ v·nbar/(list·dy): estimate v from the scaled squares.
		v := 0.0
		for _, st := range steps {
			e := st.d - g.ListGrowth
			v += e * e * st.w / nbar
		}
		g.ListGrowthVar = v / float64(len(steps)-1)
	}
	g.meanList, g.areaList = meanList, nbar
	for _, q := range quantities {
		ss := make([]Series, np)
		for i, p := range g.Practices {
			s := Series{Scale: nbar / meanList[i]}
			for _, r := range byP[p] {
				v := value(r, q)
				if v <= 0 {
					g.Skipped[q]++
					continue
				}
				n := 1.0
				if g.PerHead {
					n = r.List
				}
				s.T = append(s.T, float64(r.Year))
				s.Z = append(s.Z, math.Log(v/n))
			}
			ss[i] = s
		}
		obs, years := 0, map[float64]bool{}
		for _, s := range ss {
			obs += len(s.Z)
			for _, t := range s.T {
				years[t] = true
			}
		}
		if obs < Needed(len(years)) {
			g.Absent = append(g.Absent, q)
			continue
		}
		f, err := FitSeries(ss)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", QuantityName(q), err)
		}
		g.Fits[q] = f
	}
	if len(g.Absent) == len(quantities) {
		return nil, fmt.Errorf("%w: no spend to fit: fewer practice-years with spend than the model needs (%d over three years or more, 6 over two) in each of %s", ErrShortHistory, Params, quantityNames(quantities))
	}
	return g, nil
}

// distinctYears lists the years of recs, in order.
func distinctYears(recs []Record) []int {
	var out []int
	for _, r := range recs {
		out = append(out, r.Year)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Basis says how the forecasts' intervals were made when the history was
// too short for the full model, "" when it was not: 'gpbudget forecast'
// prints it and records it in its files.
func (g *GroupFit) Basis() string {
	for _, f := range g.Fits {
		if f != nil && f.Change != nil {
			return fmt.Sprintf("widened: two years of history (to %d) cannot show how long year-to-year variation persists, "+
				"so each forecast is the practice's last year plus the area's trend, with an interval as wide as any persistence allows "+
				"(h years ahead: h times the variance of one year's change, from %d practices' changes, with a Student-t allowance); "+
				"three or more years give the full model", g.LastYear, f.Change.Changes)
		}
	}
	return ""
}

func quantityNames(qs []int) string {
	var s []string
	for _, q := range qs {
		s = append(s, QuantityName(q))
	}
	return strings.Join(s, ", ")
}

// Predictive returns the log-scale mean and SD of practice i's spend on
// quantity q in year LastYear+h (constant prices; list carried forward at
// the area's growth).
func (g *GroupFit) Predictive(i, q, h int) (mu, sd float64) {
	m, v := g.Fits[q].Predict(i, float64(g.LastYear+h), false)
	n := 1.0
	if g.PerHead {
		n = g.LastList[i] * math.Exp(float64(h)*g.ListGrowth)
		v += float64(h) * g.ListGrowthVar * g.areaList / g.meanList[i]
	}
	return m + math.Log(n), math.Sqrt(v)
}

// LogNormalQuantile is exp(mu + sd·Φ⁻¹(p)).
func LogNormalQuantile(mu, sd, p float64) float64 {
	return math.Exp(mu + sd*distuv.UnitNormal.Quantile(p))
}

// CRPSLogNormal is the continuous ranked probability score of a lognormal
// forecast LN(mu, sd²) for outcome y (Baran & Lerch 2015, eq. 5):
//
//	y[2Φ(w) − 1] − 2 exp(mu + sd²/2)[Φ(w − sd) + Φ(sd/√2) − 1],  w = (log y − mu)/sd.
func CRPSLogNormal(mu, sd, y float64) float64 {
	if y <= 0 {
		// All mass is above y: CRPS = E|X − y| − E|X − X'|/2 with X > 0 ≥ y.
		m := math.Exp(mu + sd*sd/2)
		return m - y - m*(2*distuv.UnitNormal.CDF(sd/math.Sqrt2)-1)
	}
	phi := distuv.UnitNormal.CDF
	if sd == 0 {
		return math.Abs(y - math.Exp(mu))
	}
	w := (math.Log(y) - mu) / sd
	return y*(2*phi(w)-1) - 2*math.Exp(mu+sd*sd/2)*(phi(w-sd)+phi(sd/math.Sqrt2)-1)
}
