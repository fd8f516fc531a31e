package realrisk

import (
	"math"

	"gonum.org/v1/gonum/stat"

	"github.com/gpbudget/gpbudget/internal/stats"
)

// Components are the variance components of practices' residuals (change
// in log drug cost per head less national growth) by geographic level,
// and the engine parameters they imply (see Estimate).
type Components struct {
	Pairs int
	// Practices: practice-pairs used (Trimmed more were beyond 4 robust SD
	// of their pair's median). Regions and CCGs: per pair, on average;
	// RegionPeople and CCGPeople: people of kept practices per unit.
	Practices, Trimmed      int
	Regions, CCGs           float64
	RegionPeople, CCGPeople float64
	// SDs of the yearly residual: between regions, between CCGs within a
	// region, and between practices within a CCG (practice drift's change
	// and chance together), by method of moments on each pair, variances
	// averaged over pairs (a negative average is taken as 0).
	RegionSD, CCGSD, PracticeSD float64
	// The same by pair (the unbiased variances may be negative: their SDs
	// are then NaN).
	ByPair []PairComponents
	// Lag1: correlation of a practice's residual in one pair with its
	// residual in the next (both within 4 robust SD), each less its CCG's
	// mean in the pair, averaged over pairs of pairs weighted by practices
	// (Lag1N in all).
	Lag1  float64
	Lag1N int
	// Persistence ρ and stationary SD of an AR(1) drift whose changes have
	// the within-CCG SD and lag-1 correlation -(1-ρ)/2: ρ = 1 + 2·Lag1
	// (within 0 to 0.95), DriftSD = PracticeSD / sqrt(2(1-ρ)).
	Persistence, DriftSD float64
	// White-noise yearly shocks whose changes have the region and CCG SDs:
	// SD / √2 (the change of an independent yearly shock has variance 2σ²).
	RegionShockSD, PlaceShockSD float64
	// National growth of each pair, and the national shock SD: the SD of
	// the growths (n-1) / √2.
	NationalGrowth  []float64
	NationalShockSD float64
}

// trimSD is how many robust SDs from its pair's median a residual may lie
// and still count: drug costs have a few practices whose dispensing
// changed in kind (a branch opening or closing), which a normal model of
// drift and shocks is not meant to reproduce.
const trimSD = 4

// Estimate estimates the variance components of the pairs' practice
// residuals, nested random effects region / CCG / practice:
//
//	r = a_region + b_ccg + e_practice
//
// by the method of moments for an unbalanced two-stage nested design
// (Searle, Casella & McCulloch, Variance Components, 1992, §4.6 and
// §5.5): with MSA, MSB, MSE the mean squares between regions, between CCGs
// within regions and within CCGs,
//
//	E[MSE] = σ²_e,  E[MSB] = σ²_e + k1·σ²_b,  E[MSA] = σ²_e + k2·σ²_b + k3·σ²_a
//	k1 = (N - Σ_i Σ_j n_ij²/n_i) / (b - a)
//	k2 = (Σ_i Σ_j n_ij²/n_i - Σ_ij n_ij²/N) / (a - 1)
//	k3 = (N - Σ_i n_i²/N) / (a - 1)
//
// for N practices in b CCGs in a regions.
func Estimate(pairs []Pair) Components {
	c := Components{Pairs: len(pairs)}
	var va, vb, ve, nva, nvb, nve float64
	kept := make([]map[string]float64, len(pairs))
	for k := range pairs {
		p := &pairs[k]
		g := p.NationalGrowth()
		c.NationalGrowth = append(c.NationalGrowth, g)
		r := make([]float64, len(p.Rows))
		for i := range p.Rows {
			r[i] = p.Residual([]int{i}, g)
		}
		med, rsd := stats.MedianRobustSD(r)
		var y []float64
		var region, ccg, codes []string
		for i, v := range r {
			if math.Abs(v-med) > trimSD*rsd {
				c.Trimmed++
				continue
			}
			codes = append(codes, p.Rows[i].Practice)
			y = append(y, v)
			region = append(region, p.Rows[i].Region)
			ccg = append(ccg, p.Rows[i].CCG)
		}
		c.Practices += len(y)
		// The lag-1 correlation is of practices' deviations from their
		// CCG's mean: place and region shocks, independent across years,
		// would add their own -0.5 to it.
		type acc struct{ sum, n float64 }
		unit := map[[2]string]acc{}
		for i := range y {
			u := unit[[2]string{region[i], ccg[i]}]
			unit[[2]string{region[i], ccg[i]}] = acc{u.sum + y[i], u.n + 1}
		}
		kept[k] = map[string]float64{}
		for i, code := range codes {
			u := unit[[2]string{region[i], ccg[i]}]
			kept[k][code] = y[i] - u.sum/u.n
		}
		n := nested(y, region, ccg)
		c.ByPair = append(c.ByPair, PairComponents{From: p.From, To: p.To, RegionSD: math.Sqrt(n.va), CCGSD: math.Sqrt(n.vb), PracticeSD: math.Sqrt(n.ve)})
		c.Regions += float64(n.a) / float64(len(pairs))
		c.CCGs += float64(n.b) / float64(len(pairs))
		people := 0.0
		for _, row := range p.Rows {
			people += row.List0
		}
		c.RegionPeople += people / float64(n.a) / float64(len(pairs))
		c.CCGPeople += people / float64(n.b) / float64(len(pairs))
		for _, x := range []struct {
			v    float64
			s, n *float64
		}{{n.va, &va, &nva}, {n.vb, &vb, &nvb}, {n.ve, &ve, &nve}} {
			if !math.IsNaN(x.v) {
				*x.s += x.v
				*x.n++
			}
		}
	}
	sd := func(s, n float64) float64 {
		if n == 0 {
			return math.NaN()
		}
		return math.Sqrt(max(s/n, 0))
	}
	c.RegionSD, c.CCGSD, c.PracticeSD = sd(va, nva), sd(vb, nvb), sd(ve, nve)
	var wsum, csum float64
	for k := 0; k+1 < len(pairs); k++ {
		if pairs[k].To != pairs[k+1].From {
			continue
		}
		var x, z []float64
		for code, v := range kept[k] {
			if w, ok := kept[k+1][code]; ok {
				x = append(x, v)
				z = append(z, w)
			}
		}
		if len(x) < 3 {
			continue
		}
		csum += float64(len(x)) * stat.Correlation(x, z, nil)
		wsum += float64(len(x))
		c.Lag1N += len(x)
	}
	c.Lag1 = math.NaN()
	if wsum > 0 {
		c.Lag1 = csum / wsum
	}
	c.Persistence = math.NaN()
	if !math.IsNaN(c.Lag1) {
		c.Persistence = min(max(1+2*c.Lag1, 0), 0.95)
		c.DriftSD = c.PracticeSD / math.Sqrt(2*(1-c.Persistence))
	}
	c.RegionShockSD, c.PlaceShockSD = c.RegionSD/math.Sqrt2, c.CCGSD/math.Sqrt2
	c.NationalShockSD = math.NaN()
	if len(c.NationalGrowth) >= 2 {
		c.NationalShockSD = stat.StdDev(c.NationalGrowth, nil) / math.Sqrt2
	}
	return c
}

// PairComponents are one pair's SDs of the yearly residual by level.
type PairComponents struct {
	From, To                    int
	RegionSD, CCGSD, PracticeSD float64
}

// nestedANOVA is one pair's method-of-moments estimates (unbiased, so
// possibly negative; NaN where the design cannot show a level).
type nestedANOVA struct {
	a, b       int // regions, CCGs
	va, vb, ve float64
}

// nested estimates the components of y grouped by CCG within region (a
// CCG code under two regions is two CCGs).
func nested(y []float64, region, ccg []string) nestedANOVA {
	type cell struct {
		n   float64
		sum float64
	}
	regions := map[string]*cell{}
	ccgs := map[[2]string]*cell{}
	var N, tot float64
	for i, v := range y {
		r := regions[region[i]]
		if r == nil {
			r = &cell{}
			regions[region[i]] = r
		}
		r.n++
		r.sum += v
		key := [2]string{region[i], ccg[i]}
		c := ccgs[key]
		if c == nil {
			c = &cell{}
			ccgs[key] = c
		}
		c.n++
		c.sum += v
		N++
		tot += v
	}
	out := nestedANOVA{a: len(regions), b: len(ccgs), va: math.NaN(), vb: math.NaN(), ve: math.NaN()}
	a, b := float64(out.a), float64(out.b)
	if N <= b {
		return out
	}
	grand := tot / N
	var ssa, ssb, sse, sumNij2OverNi, sumNij2, sumNi2 float64
	for _, r := range regions {
		m := r.sum / r.n
		ssa += r.n * (m - grand) * (m - grand)
		sumNi2 += r.n * r.n
	}
	for key, c := range ccgs {
		r := regions[key[0]]
		m, mr := c.sum/c.n, r.sum/r.n
		ssb += c.n * (m - mr) * (m - mr)
		sumNij2OverNi += c.n * c.n / r.n
		sumNij2 += c.n * c.n
	}
	for i, v := range y {
		c := ccgs[[2]string{region[i], ccg[i]}]
		d := v - c.sum/c.n
		sse += d * d
	}
	mse := sse / (N - b)
	out.ve = mse
	if b > a {
		msb := ssb / (b - a)
		k1 := (N - sumNij2OverNi) / (b - a)
		out.vb = (msb - mse) / k1
		if a >= 2 {
			msa := ssa / (a - 1)
			k2 := (sumNij2OverNi - sumNij2/N) / (a - 1)
			k3 := (N - sumNi2/N) / (a - 1)
			out.va = (msa - mse - k2*out.vb) / k3
		}
	}
	return out
}
