package sim

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// FormulaSpec says how a capitation formula is estimated: by a
// person-level least-squares regression of a year's cost on age-sex cell
// and a need proxy, fitted to a sample of the area's patients, as the
// person-based resource allocation formula (PBRA) was fitted to a sample of
// England's (Dixon et al., BMJ 2011;343:d6608). The proxy is the log of
// the patient's practice need index measured with error: a practice-level
// error (what an indicator measures of a practice's need, such as an area
// deprivation score attributed to its patients, gets wrong) and a
// person-level one.
type FormulaSpec struct {
	SampleSize int     // patients in the estimation sample
	ErrorSD    float64 // SD of the person-level error in the proxy (log scale)
	BiasSD     float64 // SD of the practice-level error in the proxy (log scale)
}

// Formula is an estimated capitation formula: a patient in age-sex cell c
// with need proxy x is expected to cost Weights[c] + NeedCoef·x a year. A
// practice's target is the sum over its list: Σ n_c·Weights[c] +
// NeedCoef·n·Proxy[i], Proxy[i] being its patients' mean proxy (negative
// totals are taken as 0), scaled so that the area's targets sum to its
// expected spend.
type Formula struct {
	Weights  [NCells]float64
	NeedCoef float64
	Proxy    []float64 // per practice
	Fit      FormulaFit
}

// FormulaFit is how well a formula fits: the figures Dixon et al. report
// for PBRA (person-level R² about 0.12; practice-level 0.77 for the full
// formula and 0.34 for age and sex alone; about a third of practices 10%
// or more from target).
type FormulaFit struct {
	SampleSize int
	// NeedCoefSE is the need coefficient's least-squares standard error.
	NeedCoefSE float64
	// PersonR2 is the person-level regression's R² in its sample.
	PersonR2 float64
	// PracticeR2 is the list-weighted R² of practices' expected spend per
	// head (age, sex, need and style; no chance) on the formula's target
	// per head; AgeSexPracticeR2 the same for a formula of age and sex
	// alone, and PerfectPracticeR2 for one that knows each practice's true
	// need (the engine's perfect formula).
	PracticeR2, AgeSexPracticeR2, PerfectPracticeR2 float64
	// ShareOff10 is the share of practices whose expected spend is 10% or
	// more from the formula's target.
	ShareOff10 float64
}

// EstimateFormula fits a capitation formula to a sample of m's patients,
// each with a year of events and costs drawn from the model (at its point
// parameters, without drift, shocks or trends), keyed by seed (purpose
// PurposeFormula), so the formula is fixed by the scenario and seed.
func EstimateFormula(m *Model, spec FormulaSpec, seed uint64) (*Formula, error) {
	if spec.SampleSize < 100 || spec.SampleSize > 10_000_000 {
		return nil, fmt.Errorf("formula sample of %d patients: accepted 100 to 10,000,000", spec.SampleSize)
	}
	if !(spec.ErrorSD >= 0 && spec.ErrorSD <= 10) || !(spec.BiasSD >= 0 && spec.BiasSD <= 10) {
		return nil, fmt.Errorf("formula proxy error SDs %v, %v: accepted 0 to 10", spec.ErrorSD, spec.BiasSD)
	}
	mm := *m
	mm.Budget.Formula = nil
	p, err := prepare(&mm)
	if err != nil {
		return nil, err
	}
	np := len(m.Practices)
	f := &Formula{Proxy: make([]float64, np)}
	// Each practice's proxy error and the mean of its patients' errors.
	var d Draws
	cum := make([]float64, np)
	bias := make([]float64, np)
	total := 0.0
	for i := range m.Practices {
		pr := &m.Practices[i]
		n := float64(pr.ListSize())
		d.Reseed(Key{Seed: seed, Rep: -1, Practice: i, Year: -1}, PurposeFormula)
		bias[i] = spec.BiasSD * d.Norm()
		f.Proxy[i] = math.Log(pr.Need) + bias[i] + spec.ErrorSD/math.Sqrt(n)*d.Norm()
		total += n
		cum[i] = total
	}
	w := &worker{p: p}
	w.setup()
	w.costs.Reseed(Key{Seed: seed, Rep: -1, Practice: -1, Year: -2}, PurposeFormula)
	w.costsB.Reseed(Key{Seed: seed, Rep: -1, Practice: -1, Year: -3}, PurposeFormula)
	d.Reseed(Key{Seed: seed, Rep: -1, Practice: -1, Year: -1}, PurposeFormula)
	K := p.k
	n := spec.SampleSize
	cell := make([]uint8, n)
	x := make([]float64, n)
	y := make([]float64, n)
	for j := range n {
		// A patient: a practice by list size, a cell by its list, a
		// frailty state by the cell's shares.
		u := d.Float64() * total
		i := searchCum(cum, u)
		c := searchCum(p.joinCDF[i][:], d.Float64())
		k := w.stateOf(&d, c)
		cost := 0.0
		for s := range NStreams {
			mu := m.Streams[s].Rate[c/NBands][c%NBands] * p.pmult[i][s] * p.frailMult[s][c*K+k]
			if r := m.Streams[s].Dispersion; r > 0 && !math.IsInf(r, 1) {
				mu *= d.Gamma(r) / r
			}
			if cnt := d.Poisson(mu); cnt > 0 {
				cost += w.costSum(s, cnt)
			}
		}
		cell[j] = uint8(c)
		x[j] = math.Log(m.Practices[i].Need) + bias[i] + spec.ErrorSD*d.Norm()
		y[j] = cost
	}
	if err := f.fit(cell, x, y); err != nil {
		return nil, err
	}
	f.Fit.SampleSize = n
	f.practiceFit(p)
	return f, nil
}

// searchCum returns the first index with u < cum[i] (the last if none),
// for cum non-decreasing and u and cum not negative. u is random, so the
// binary search (Shar's: it counts the entries of cum[:len-1] at or below
// u) moves by masks, not by branches a processor cannot predict; the
// comparisons are of the floats' bits, which order as non-negative floats
// do.
func searchCum(cum []float64, u float64) int {
	a := cum[:len(cum)-1]
	if len(a) == 0 {
		return 0
	}
	ub := math.Float64bits(u)
	base, n := 0, len(a)
	for n > 1 {
		half := n / 2
		_, below := bits.Sub64(ub, math.Float64bits(a[base+half]), 0) // 1 if u < a[base+half]
		base += half & (int(below) - 1)
		n -= half
	}
	_, below := bits.Sub64(ub, math.Float64bits(a[base]), 0)
	return base + 1 - int(below)
}

// fit is least squares of y on cell dummies and x: the within-cell
// regression gives the proxy's coefficient, γ = Σ_c S_xy,c / Σ_c S_xx,c
// over deviations from cell means, and each cell's weight is its mean of y
// - γ·x. A cell without sampled patients takes the weight of the nearest
// band of the same sex that has some.
func (f *Formula) fit(cell []uint8, x, y []float64) error {
	var n, sx, sy [NCells]float64
	for j := range y {
		c := cell[j]
		n[c]++
		sx[c] += x[j]
		sy[c] += y[j]
	}
	var sxy, sxx float64
	for j := range y {
		c := cell[j]
		dx := x[j] - sx[c]/n[c]
		sxy += dx * (y[j] - sy[c]/n[c])
		sxx += dx * dx
	}
	if sxx > 0 {
		f.NeedCoef = sxy / sxx
	}
	have := false
	for c := range NCells {
		if n[c] > 0 {
			f.Weights[c] = (sy[c] - f.NeedCoef*sx[c]) / n[c]
			have = true
		}
	}
	if !have {
		return errors.New("formula: the sample has no patients")
	}
	for c := range NCells {
		if n[c] > 0 {
			continue
		}
		sex, b := c/NBands, c%NBands
		best := -1
		for dist := 1; dist < NBands && best < 0; dist++ {
			for _, bb := range []int{b - dist, b + dist} {
				if bb >= 0 && bb < NBands && n[sex*NBands+bb] > 0 {
					best = sex*NBands + bb
					break
				}
			}
		}
		if best < 0 { // no patient of this sex: the other sex's band
			best = (1-sex)*NBands + b
		}
		f.Weights[c] = f.Weights[best]
	}
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var rss, tss float64
	for j := range y {
		e := y[j] - f.Weights[cell[j]] - f.NeedCoef*x[j]
		rss += e * e
		tss += (y[j] - mean) * (y[j] - mean)
	}
	if tss > 0 {
		f.Fit.PersonR2 = 1 - rss/tss
	}
	if dof := float64(len(y) - NCells - 1); sxx > 0 && dof > 0 {
		f.Fit.NeedCoefSE = math.Sqrt(rss / dof / sxx)
	}
	return nil
}

// target is the formula's unscaled target for practice i with cell counts n.
func (f *Formula) target(i int, n *[NCells]int32) float64 {
	t, heads := 0.0, 0.0
	for c := range NCells {
		t += float64(n[c]) * f.Weights[c]
		heads += float64(n[c])
	}
	return max(t+f.NeedCoef*heads*f.Proxy[i], 0)
}

// practiceFit sets the practice-level figures from p (the model prepared
// without a formula): expected spend per head against the formula's, the
// age-sex part's alone, and the perfect formula's targets.
func (f *Formula) practiceFit(p *prepared) {
	np := len(p.m.Practices)
	heads := make([]float64, np)
	want := make([]float64, np)
	est := make([]float64, np)
	agesex := make([]float64, np)
	perfect := make([]float64, np)
	var ageW [NCells]float64
	for c := range NCells {
		ageW[c] = p.capWeight[c]
	}
	for i := range p.m.Practices {
		pr := &p.m.Practices[i]
		var cells [NCells]int32
		for c := range NCells {
			cells[c] = int32(pr.Count[c/NBands][c%NBands])
			heads[i] += float64(cells[c])
			for s := range NStreams {
				want[i] += float64(cells[c]) * p.unitCost[c][s] * p.pmult[i][s]
			}
			agesex[i] += float64(cells[c]) * ageW[c]
		}
		est[i] = f.target(i, &cells)
		perfect[i] = agesex[i] * p.needAdj[i]
	}
	f.Fit.PracticeR2, f.Fit.ShareOff10 = practiceR2(heads, want, est)
	f.Fit.AgeSexPracticeR2, _ = practiceR2(heads, want, agesex)
	f.Fit.PerfectPracticeR2, _ = practiceR2(heads, want, perfect)
}

// practiceR2 returns the list-weighted R² of want per head on pred per
// head, pred scaled to want's total (as budgets are), and the share of
// practices 10% or more from their scaled pred.
func practiceR2(heads, want, pred []float64) (r2, off10 float64) {
	var tw, tp, th float64
	for i := range heads {
		tw += want[i]
		tp += pred[i]
		th += heads[i]
	}
	if tp <= 0 || th <= 0 {
		return 0, 1
	}
	scale := tw / tp
	mean := tw / th
	var rss, tss float64
	off := 0
	for i := range heads {
		if heads[i] == 0 {
			continue
		}
		a, b := want[i]/heads[i], scale*pred[i]/heads[i]
		rss += heads[i] * (a - b) * (a - b)
		tss += heads[i] * (a - mean) * (a - mean)
		if b <= 0 || math.Abs(a/b-1) >= 0.10 {
			off++
		}
	}
	if tss > 0 {
		r2 = 1 - rss/tss
	}
	return r2, float64(off) / float64(len(heads))
}
