package analysis

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// How much is chance? The summary's risk tables: a decomposition of each
// practice's variance of spend, and how well the capitation formula fits.

// DecompRow splits the variance of spend per head across replications, for
// a practice (averaged over its years) or a band (averaged over its
// practice-years), by the law of total variance over the rows' nested
// expected spends (sim.PracticeYear): parameter uncertainty (the variance
// of the expected spend given the parameters), common shocks (the mean
// square of what the shocks add), drift (what the practice's drift adds)
// and chance (the rest: patients, their events and costs). The parts sum
// to the variance up to Monte Carlo error (Residual). Per head, so the
// list's own changes stay out of the parts.
type DecompRow struct {
	Level       string  `parquet:"level,dict"` // "band" or "practice"
	ID          string  `parquet:"id"`         // the band's name or the practice's ID
	Band        string  `parquet:"band,dict"`
	PracticeYrs int     `parquet:"practice_years"`
	Variance    float64 `parquet:"variance"` // of spend per head across replications, £²
	Parameters  float64 `parquet:"parameters"`
	Shocks      float64 `parquet:"shocks"`
	Drift       float64 `parquet:"drift"`
	Chance      float64 `parquet:"chance"`
	Residual    float64 `parquet:"residual"` // variance − the parts: Monte Carlo error
	ShareParams float64 `parquet:"share_parameters"`
	ShareShocks float64 `parquet:"share_shocks"`
	ShareDrift  float64 `parquet:"share_drift"`
	ShareChance float64 `parquet:"share_chance"`
	// The risk a holder faces is chance, drift and shocks; parameter
	// uncertainty is what the modeller does not know (a level a budget set
	// from history already holds), so the risk shares leave it out:
	// RiskShare* = part / (shocks + drift + chance), and RiskSD is the SD
	// of spend per head from them alone.
	RiskSD          float64 `parquet:"risk_sd"`
	RiskShareShocks float64 `parquet:"risk_share_shocks"`
	RiskShareDrift  float64 `parquet:"risk_share_drift"`
	RiskShareChance float64 `parquet:"risk_share_chance"`
}

// RiskRow is one measure of the capitation formula's fit, with PBRA's
// figure where there is one (Dixon et al., BMJ 2011;343:d6608; NaN where
// none).
type RiskRow struct {
	Measure string  `parquet:"measure,dict"`
	Value   float64 `parquet:"value"`
	PBRA    float64 `parquet:"pbra"`
	About   string  `parquet:"about"`
}

// riskColumns are read, with the summary's own, where a run's rows carry
// expected spends (runs made before the risk effects do not).
var riskColumns = []runfolder.Column{
	{Name: "capitation_target", Kind: runfolder.Float},
	{Name: "expected_spend_params", Kind: runfolder.Float}, {Name: "expected_spend_shocks", Kind: runfolder.Float}, {Name: "expected_spend", Kind: runfolder.Float},
}

// decompAcc accumulates one practice-year across replications.
type decompAcc struct {
	y, p                  Moments // spend per head; expected given the parameters
	shocks, drift, chance float64 // sums of squared steps between the levels
}

// fitAcc accumulates one replication-year's list-weighted sums for the
// R² of spend per head (a) and expected spend per head (e) on the target
// per head (b).
type fitAcc struct{ w, wa, waa, wb, wbb, wab, we, wee, web float64 }

// r2 is the list-weighted R² of x per head on the target per head, the
// target scaled to x's total as budgets are: 1 − Σw(x − kb)²/Σw(x − x̄)².
func r2(w, wx, wxx, wb, wbb, wxb float64) float64 {
	if w <= 0 || wb <= 0 {
		return math.NaN()
	}
	k := wx / wb
	rss := wxx - 2*k*wxb + k*k*wbb
	tss := wxx - wx*wx/w
	if tss <= 0 {
		return math.NaN()
	}
	return 1 - rss/tss
}

// riskAcc accumulates, in the summary's scan, the variance decomposition
// by practice and year and the capitation formula's fit by replication and
// year.
type riskAcc struct {
	years int
	acc   []decompAcc // practice·years + year − 1
	fits  map[[2]int32]*fitAcc
	last  [2]int32
	cur   *fitAcc
}

// newRiskAcc is nil where the run's rows carry no expected spends.
func newRiskAcc(dir string, files []string, years int) (*riskAcc, error) {
	have, err := runfolder.HasColumns(filepath.Join(dir, files[0]), "expected_spend_params", "expected_spend_shocks", "expected_spend")
	if err != nil || !have {
		return nil, err
	}
	return &riskAcc{years: years, fits: map[[2]int32]*fitAcc{}}, nil
}

// add takes a batch's rows: each row's practice (loc[idx[r]]), replication, year,
// list size and spend, and riskColumns' values.
func (ra *riskAcc) add(n int, loc []int, idx []int32, rep, year, list []int32, spend []float64, x [4][]float64) error {
	// Each column cut to n, so that the loop's reads need no bounds checks.
	target, ep, es, e := x[0][:n], x[1][:n], x[2][:n], x[3][:n]
	idx, rep, year, list, spend = idx[:n], rep[:n], year[:n], list[:n], spend[:n]
	for r := range n {
		l := float64(list[r])
		if l <= 0 {
			continue
		}
		yr := int(year[r])
		if yr < 1 || yr > ra.years {
			return fmt.Errorf("year %d in a run of %d years", yr, ra.years)
		}
		k := loc[idx[r]]*ra.years + yr - 1
		if k >= cap(ra.acc) {
			ra.acc = append(ra.acc, make([]decompAcc, k+1-len(ra.acc))...)
		} else if k >= len(ra.acc) {
			ra.acc = ra.acc[:k+1] // zero beyond len: never written
		}
		a := &ra.acc[k]
		// Spend per head as the summary computes it (a quotient); the
		// expected spends and the target per head by one reciprocal, as a
		// division costs several multiplications (about a fifth of this loop's
		// time). They may differ from quotients in the last bit.
		y, inv := spend[r]/l, 1/l
		p, s, x := ep[r]*inv, es[r]*inv, e[r]*inv
		a.y.Add(y)
		a.p.Add(p)
		a.shocks += (s - p) * (s - p)
		a.drift += (x - s) * (x - s)
		a.chance += (y - x) * (y - x)
		if fk := [2]int32{rep[r], year[r]}; ra.cur == nil || fk != ra.last {
			ra.cur = ra.fits[fk]
			if ra.cur == nil {
				ra.cur = &fitAcc{}
				ra.fits[fk] = ra.cur
			}
			ra.last = fk
		}
		f := ra.cur
		t := target[r] * inv
		f.w += l
		f.wa += l * y
		f.waa += l * y * y
		f.wb += l * t
		f.wbb += l * t * t
		f.wab += l * y * t
		f.we += l * x
		f.wee += l * x * x
		f.web += l * x * t
	}
	return nil
}

// riskRows are the formula's measures the manifest records.
func riskRows(man *runfolder.Manifest, sum *Summary) {
	if ra := man.RiskAdjustment; ra != nil {
		sum.RiskAdjustment = append(sum.RiskAdjustment,
			RiskRow{"formula_person_r2", ra.PersonR2, 0.12, fmt.Sprintf("person-level R² of the estimated formula in its sample of %d patients", ra.SampleSize)},
			RiskRow{"formula_practice_r2", ra.PracticeR2, 0.77, "practice-level R² of expected spend per head on the formula's target per head (list-weighted)"},
			RiskRow{"formula_age_sex_practice_r2", ra.AgeSexPracticeR2, 0.34, "the same for a formula of age and sex alone"},
			RiskRow{"formula_perfect_practice_r2", ra.PerfectPracticeR2, math.NaN(), "the same for the perfect formula (true need)"},
			RiskRow{"formula_share_10pct_from_target", ra.ShareOff10, 1.0 / 3, "share of practices whose expected spend is 10% or more from target"},
		)
	}
}

// finish returns the run's fit (rows of the RiskAdjustment table) and the
// decomposition; names and band are each practice's ID and band's name by
// index (see decompose).
func (ra *riskAcc) finish(names, band []string) (fit []RiskRow, decomp []DecompRow) {
	// R² per replication-year, then their mean (and its SE).
	var real, exp Moments
	for _, k := range slices.SortedFunc(maps.Keys(ra.fits), byPair) { // in order: the same bits every time
		f := ra.fits[k]
		if v := r2(f.w, f.wa, f.waa, f.wb, f.wbb, f.wab); !math.IsNaN(v) {
			real.Add(v)
		}
		if v := r2(f.w, f.we, f.wee, f.wb, f.wbb, f.web); !math.IsNaN(v) {
			exp.Add(v)
		}
	}
	if real.N > 0 {
		fit = append(fit,
			RiskRow{"run_practice_r2", real.Mean(), 0.77, fmt.Sprintf("practice-level R² of spend per head on the capitation target per head in the run (list-weighted; mean of %d replication-years, SE %.3f)", int(real.N), real.SE())},
			RiskRow{"run_practice_r2_expected", exp.Mean(), math.NaN(), "the same for expected spend per head (everything but chance)"})
	}
	return fit, decompose(ra.acc, ra.years, names, band)
}

// byPair orders pairs by their first element, then their second.
func byPair(a, b [2]int32) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }

// decompose turns the practice-year accumulators (acc[practice·years +
// year − 1]) into practice and band rows (practices in ID order, then
// bands, then "all"); names and band are each practice's ID and band's
// name by index ("": none).
func decompose(acc []decompAcc, years int, names, band []string) []DecompRow {
	type part struct{ v, p, s, d, c float64 }
	// By practice index: its parts and the years that have them.
	byPractice := make([]part, (len(acc)+years-1)/years)
	nYears := make([]int, len(byPractice))
	// In practice and year order, so a summary is the same to the last bit
	// every time.
	for k := range acc {
		a, i := &acc[k], k/years
		if a.y.N < 2 {
			continue
		}
		n := a.y.N
		pt := &byPractice[i]
		// Each estimate unbiased: the sample variances divide by n−1; the
		// steps between levels have mean 0 by construction, so their mean
		// squares divide by n.
		pt.v += a.y.Var()
		pt.p += a.p.Var()
		pt.s += a.shocks / n
		pt.d += a.drift / n
		pt.c += a.chance / n
		nYears[i]++
	}
	row := func(level, id, b string, py int, x part) DecompRow {
		r := DecompRow{Level: level, ID: id, Band: b, PracticeYrs: py, Variance: x.v, Parameters: x.p, Shocks: x.s, Drift: x.d, Chance: x.c,
			Residual: x.v - x.p - x.s - x.d - x.c}
		if t := x.p + x.s + x.d + x.c; t > 0 {
			r.ShareParams, r.ShareShocks, r.ShareDrift, r.ShareChance = x.p/t, x.s/t, x.d/t, x.c/t
		}
		if t := x.s + x.d + x.c; t > 0 {
			r.RiskSD = math.Sqrt(t)
			r.RiskShareShocks, r.RiskShareDrift, r.RiskShareChance = x.s/t, x.d/t, x.c/t
		}
		return r
	}
	var order []int
	for i, n := range nYears {
		if n > 0 {
			order = append(order, i)
		}
	}
	byName := func(a, b int) int { return strings.Compare(names[a], names[b]) }
	if !slices.IsSortedFunc(order, byName) {
		slices.SortFunc(order, byName)
	}
	out := make([]DecompRow, 0, len(order)+len(Bands)+1)
	bandSum := map[string]*part{}
	bandN := map[string]int{}
	var all part
	allN := 0
	for _, i := range order {
		x, ny := byPractice[i], float64(nYears[i])
		b := ""
		if i < len(band) {
			b = band[i]
		}
		out = append(out, row("practice", names[i], b, nYears[i], part{x.v / ny, x.p / ny, x.s / ny, x.d / ny, x.c / ny}))
		if bandSum[b] == nil {
			bandSum[b] = &part{}
		}
		for _, t := range []*part{bandSum[b], &all} {
			t.v += x.v
			t.p += x.p
			t.s += x.s
			t.d += x.d
			t.c += x.c
		}
		bandN[b] += nYears[i]
		allN += nYears[i]
	}
	for _, bd := range Bands {
		if x := bandSum[bd.Name]; x != nil {
			n := float64(bandN[bd.Name])
			out = append(out, row("band", bd.Name, bd.Name, bandN[bd.Name], part{x.v / n, x.p / n, x.s / n, x.d / n, x.c / n}))
		}
	}
	if allN > 0 {
		n := float64(allN)
		out = append(out, row("band", AllBands, AllBands, allN, part{all.v / n, all.p / n, all.s / n, all.d / n, all.c / n}))
	}
	return out
}

// PrintRisk writes the risk tables: how much of the variance of spend per
// head is chance, by band, and the capitation formula's fit.
func (s *Summary) PrintRisk(w io.Writer) error {
	if len(s.Decomposition) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "How much is chance? The risk in spend per head across replications, by the law of total variance: chance, drift and shocks as shares of the risk; parameter uncertainty (what the modeller does not know, not the holder's risk) on its own, as a share of all the variance (practice-years averaged; all in summary/variance_decomposition.csv):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "band\tpractice-years\trisk SD £/head\tchance\tdrift\tshocks\t\tparameter uncertainty\t")
		for _, r := range s.Decomposition {
			if r.Level != "band" {
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%s\t%s\t\t%s\t\n", r.ID, r.PracticeYrs, r.RiskSD,
				pct1(r.RiskShareChance), pct1(r.RiskShareDrift), pct1(r.RiskShareShocks), pct1(r.ShareParams))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(s.RiskAdjustment) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Risk adjustment (capitation formula) R² and fit, against PBRA's (Dixon et al., BMJ 2011):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "measure\tvalue\tPBRA\tabout")
		for _, r := range s.RiskAdjustment {
			pb := ""
			if !math.IsNaN(r.PBRA) {
				pb = fmt.Sprintf("%.2f", r.PBRA)
			}
			fmt.Fprintf(tw, "%s\t%.3f\t%s\t%s\n", r.Measure, r.Value, pb, r.About)
		}
		return tw.Flush()
	}
	return nil
}
