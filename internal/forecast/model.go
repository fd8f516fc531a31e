// Package forecast fits practices' spending histories and forecasts their
// spend a few years ahead with predictive intervals: a log-scale linear mixed
// model per cost stream (practice effects shrunk towards the area mean, a
// trend, and year-to-year residuals that persist as AR(1)), fitted by
// restricted maximum likelihood with gonum's optimiser, and a backtest that
// scores the intervals on held-out years.
package forecast

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat/distuv"
)

// Series is one practice's history of one quantity: years T (any integers,
// increasing) and log spend per head Z = log(spend / list size). Scale is the
// residual variance multiplier, the area's mean list size over the practice's
// (a sum over patients has variance proportional to the list, so per-head
// spend of a small practice is noisier).
type Series struct {
	T     []float64
	Z     []float64
	Scale float64
}

// Fit is the fitted model
//
//	Z[i,t] = A + B·(t − T0) + U[i] + Y[t] + E[i,t],  U[i] ~ N(0, Tau²),  Y[t] ~ N(0, Omega²),
//	E[i,·] AR(1): Var E = Sigma²·(W·Scale[i] + 1 − W), Corr(E[i,t], E[i,s]) = Rho^|t−s|,
//
// estimated by REML (Patterson & Thompson 1971; Harville 1977) with A and B
// by generalised least squares. Y is the year's effect shared by every
// practice of the history (a bad winter, a price change: what pooling does
// not diversify away), a crossed random effect handled exactly through the
// Woodbury identity. W is the share of the residual variance (at the
// area's mean list) that falls with list size as chance does; the rest
// (a practice's drifting style) does not. Predictions are the best linear
// unbiased predictor (Goldberger 1962) with the prediction variance that
// includes the uncertainty in A and B and, for a year not yet seen, its
// year effect.
type Fit struct {
	A, B, T0         float64
	Tau, Sigma, Rho  float64
	Omega            float64       // SD of the year effect shared by every practice
	W                float64       // share of residual variance that scales as 1/list
	CovAB            [2][2]float64 // covariance of (A, B)
	TauSE            float64       // approximate standard error of Tau
	NPractices, NObs int
	// Years is the number of distinct years observed. With two, the
	// persistence of year-to-year variation (Rho), and what of the
	// variation is a practice's own (Tau) rather than the year's, are not
	// identified: Predict then forecasts from each practice's last year
	// with an interval that holds whatever they are (see Change).
	Years  int
	Change *ChangeFit // two-year fits only
	series []Series
	// What prediction needs of the fit: the sample years (index by year),
	// K = Omega²(I + Omega²G)⁻¹ and g = ZᵀB⁻¹r (see moments).
	years []float64
	k     []float64
	gr    []float64
	hx    []float64 // ZᵀB⁻¹X (T×2)
}

// ChangeFit is what a two-year history identifies: the year-on-year change
// in log spend per head, pooled over practices seen in both years. Writing
// D for the variance of a one-year change at Scale 1, the model's
// Z[i,t+h] − Z[i,t] has mean B·h and variance 2σ²·s(1 − ρ^h), and
// D = 2σ²(1 − ρ), so (1 − ρ^h)/(1 − ρ) ≤ h for every ρ < 1 bounds it by
// h·D·s: an interval built on that bound holds whatever the unidentified ρ
// and Tau are.
type ChangeFit struct {
	Trend, TrendVar float64 // B from the changes, and its variance
	D               float64 // variance of a one-year change at Scale 1
	Changes         int     // practices seen in both years
	// Inflate multiplies variances for D being estimated from Changes − 1
	// degrees of freedom: (t quantile / normal quantile at 97.5%)², so the
	// 95% interval is a Student-t one and the central ones are wider still.
	Inflate float64
}

// Model parameters estimated for each quantity (A, B, Tau, Sigma, W, Rho,
// Omega): a history of three years or more with fewer observations is
// refused.
const Params = 7

// Needed is how many practice-years a fit needs: the full model's Params,
// or for a two-year history the change model's trend and variance from
// three practices seen in both years (ChangeFit), so the variance has two
// degrees of freedom at least.
func Needed(years int) int {
	if years == 2 {
		return 6
	}
	return Params
}

// ErrShortHistory is returned (wrapped) for a history too short to fit.
var ErrShortHistory = errors.New("too little history")

// FitSeries fits the model to practices' series. Practices with no
// observations are allowed (they are predicted at the area mean).
func FitSeries(ss []Series) (*Fit, error) {
	n, t0 := 0, 0.0
	zbar := 0.0
	for _, s := range ss {
		if len(s.T) != len(s.Z) {
			return nil, errors.New("series with unequal T and Z")
		}
		for j := range s.T {
			n++
			t0 += s.T[j]
			zbar += s.Z[j]
			if math.IsNaN(s.Z[j]) || math.IsInf(s.Z[j], 0) {
				return nil, fmt.Errorf("non-finite log spend per head %v", s.Z[j])
			}
		}
	}
	years := map[float64]bool{}
	for _, s := range ss {
		for _, t := range s.T {
			years[t] = true
		}
	}
	if len(years) < 2 {
		return nil, fmt.Errorf("%w: one year of history: one year cannot tell a practice's lasting level from that year's chance, nor give a trend; give two years or more", ErrShortHistory)
	}
	if n < Needed(len(years)) {
		if len(years) == 2 {
			return nil, fmt.Errorf("%w: %d practice-years over two years: the change between the years needs three practices seen in both; give more practices or years", ErrShortHistory, n)
		}
		return nil, fmt.Errorf("%w: %d practice-years, fewer than the model's %d parameters (level, trend, practice SD, residual SD and its share that falls with list size, persistence, year SD); give more practices or years", ErrShortHistory, n, Params)
	}
	t0 /= float64(n)
	zbar /= float64(n)
	v0 := 0.0
	for _, s := range ss {
		for _, z := range s.Z {
			v0 += (z - zbar) * (z - zbar)
		}
	}
	v0 = math.Max(v0/float64(n), 1e-8)
	f := &Fit{T0: t0, series: ss, NObs: n, NPractices: len(ss), Years: len(years)}
	for y := range years {
		f.years = append(f.years, y)
	}
	slices.Sort(f.years)
	if f.Years == 2 {
		c, err := fitChange(ss)
		if err != nil {
			return nil, err
		}
		f.Change = c
	}
	// Parameters: log Tau², log Sigma², atanh Rho, log Omega², logit W.
	obj := func(x []float64) float64 {
		v, _ := f.moments(f.params(x))
		return v.reml
	}
	init := []float64{math.Log(v0 / 2), math.Log(v0 / 2), 0.3, math.Log(v0 / 50), 0}
	res, err := optimize.Minimize(optimize.Problem{Func: obj}, init,
		&optimize.Settings{MajorIterations: 4000, Converger: &optimize.FunctionConverge{Absolute: 1e-9, Iterations: 80}},
		&optimize.NelderMead{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("fitting: %w", err)
	}
	p := f.params(res.X)
	if math.IsNaN(p.tau2+p.sig2+p.rho+p.om2+p.w) || p.bad() {
		return nil, errors.New("fitting: the likelihood did not converge")
	}
	f.Tau, f.Sigma, f.Rho, f.Omega, f.W = math.Sqrt(p.tau2), math.Sqrt(p.sig2), p.rho, math.Sqrt(p.om2), p.w
	m, ok := f.moments(p)
	if !ok {
		return nil, errors.New("fitting: the likelihood did not converge")
	}
	f.A, f.B, f.CovAB, f.k, f.gr, f.hx = m.a, m.b, m.covAB, m.k, m.gr, m.hx
	// Large-sample SE of an SD estimated from P practice effects observed
	// with little noise: Tau/sqrt(2(P-1)) (it understates the SE when the
	// residual noise is large against Tau).
	f.TauSE = f.Tau / math.Sqrt(2*math.Max(float64(len(ss)-1), 1))
	return f, nil
}

// params are the variance parameters.
type params struct{ tau2, sig2, rho, om2, w float64 }

// params maps the optimiser's unconstrained x to the parameters.
func (f *Fit) params(x []float64) params {
	return params{math.Exp(x[0]), math.Exp(x[1]), math.Tanh(x[2]), math.Exp(x[3]), 1 / (1 + math.Exp(-x[4]))}
}

// bad says whether the parameters are outside the region the likelihood
// can identify.
func (p params) bad() bool {
	return p.tau2 < 1e-12 || p.sig2 < 1e-12 || p.tau2 > 1e6 || p.sig2 > 1e6 || math.Abs(p.rho) > 0.995 || p.om2 > 1e6
}

// resid is a practice's residual variance at Scale s.
func (p params) resid(s float64) float64 { return p.sig2 * (p.w*s + 1 - p.w) }

// fitChange estimates a two-year history's change model: each practice
// seen in both years gives one change d = ΔZ/g over the gap g, with
// variance D·s/g (the bound of ChangeFit), so weights g/s; the trend is
// their weighted mean and D the weighted mean square about it over m − 1.
func fitChange(ss []Series) (*ChangeFit, error) {
	var sw, swd float64
	type change struct{ d, w float64 }
	var cs []change
	for _, s := range ss {
		if len(s.T) != 2 || s.T[1] == s.T[0] {
			continue
		}
		g := s.T[1] - s.T[0]
		c := change{(s.Z[1] - s.Z[0]) / g, g / s.Scale}
		cs = append(cs, c)
		sw += c.w
		swd += c.w * c.d
	}
	if len(cs) < 3 {
		return nil, fmt.Errorf("%w: two years of history, but %d practices seen in both: the year-to-year variation needs three; give more practices or years", ErrShortHistory, len(cs))
	}
	c := &ChangeFit{Trend: swd / sw, Changes: len(cs)}
	for _, x := range cs {
		c.D += x.w * (x.d - c.Trend) * (x.d - c.Trend)
	}
	df := float64(len(cs) - 1)
	c.D /= df
	c.TrendVar = c.D / sw
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.975) / distuv.UnitNormal.Quantile(0.975)
	c.Inflate = q * q
	return c, nil
}

// practiceCov fills B_i (row-major, k×k) for series s: the covariance of
// its observations without the year effects.
func practiceCov(v []float64, s *Series, p params) {
	k := len(s.T)
	r := p.resid(s.Scale)
	for a := range k {
		for b := range k {
			v[a*k+b] = p.tau2 + r*math.Pow(p.rho, math.Abs(s.T[a]-s.T[b]))
		}
	}
}

// cholesky factors the k×k matrix v in place (lower triangle) and returns log det.
func cholesky(v []float64, k int) (float64, bool) {
	ld := 0.0
	for j := range k {
		d := v[j*k+j]
		for p := range j {
			d -= v[j*k+p] * v[j*k+p]
		}
		if d <= 0 || math.IsNaN(d) {
			return 0, false
		}
		d = math.Sqrt(d)
		v[j*k+j] = d
		ld += 2 * math.Log(d)
		for i := j + 1; i < k; i++ {
			s := v[i*k+j]
			for p := range j {
				s -= v[i*k+p] * v[j*k+p]
			}
			v[i*k+j] = s / d
		}
	}
	return ld, true
}

// solve returns V⁻¹b given the Cholesky factor L of V.
func solve(l []float64, k int, b []float64) []float64 {
	y := make([]float64, k)
	for i := range k {
		s := b[i]
		for p := range i {
			s -= l[i*k+p] * y[p]
		}
		y[i] = s / l[i*k+i]
	}
	for i := k - 1; i >= 0; i-- {
		s := y[i]
		for p := i + 1; p < k; p++ {
			s -= l[p*k+i] * y[p]
		}
		y[i] = s / l[i*k+i]
	}
	return y
}

// yearIndex is the index of year t among the sample years (-1: none).
func (f *Fit) yearIndex(t float64) int {
	i, ok := slices.BinarySearch(f.years, t)
	if !ok {
		return -1
	}
	return i
}

// moment is what one evaluation of the likelihood yields.
type moment struct {
	reml  float64 // minus the restricted log-likelihood, up to a constant
	a, b  float64 // GLS estimates of A and B
	covAB [2][2]float64
	k, gr []float64 // K = Omega²(I + Omega²G)⁻¹ (T×T) and g = ZᵀB⁻¹r (T)
	hx    []float64 // ZᵀB⁻¹X (T×2)
}

// moments evaluates the restricted likelihood at p. With B the
// block-diagonal covariance of practices' observations without the year
// effects and Z the n×T year indicators, V = B + Omega²ZZᵀ, so by the
// Woodbury identity V⁻¹ = B⁻¹ − B⁻¹ZKZᵀB⁻¹ with K = Omega²(I + Omega²G)⁻¹,
// G = ZᵀB⁻¹Z, and log|V| = log|B| + log|I + Omega²G|: one pass over the
// practices (a small Cholesky each) and T×T algebra, exact.
func (f *Fit) moments(p params) (moment, bool) {
	var m moment
	if p.bad() {
		m.reml = math.Inf(1)
		return m, false
	}
	T := len(f.years)
	g := make([]float64, T*T)  // ZᵀB⁻¹Z
	hx := make([]float64, T*2) // ZᵀB⁻¹X
	hz := make([]float64, T)   // ZᵀB⁻¹z
	var sxx [2][2]float64      // XᵀB⁻¹X
	var sxz [2]float64         // XᵀB⁻¹z
	var szz, ld float64        // zᵀB⁻¹z, log|B|
	for i := range f.series {
		s := &f.series[i]
		k := len(s.T)
		if k == 0 {
			continue
		}
		v := make([]float64, k*k)
		practiceCov(v, s, p)
		l, good := cholesky(v, k)
		if !good {
			m.reml = math.Inf(1)
			return m, false
		}
		ld += l
		x2 := make([]float64, k)
		yi := make([]int, k)
		for j := range k {
			x2[j] = s.T[j] - f.T0
			yi[j] = f.yearIndex(s.T[j])
		}
		w1, w2, wz := solve(v, k, ones(k)), solve(v, k, x2), solve(v, k, s.Z)
		for j := range k {
			sxx[0][0] += w1[j]
			sxx[0][1] += w2[j]
			sxx[1][1] += x2[j] * w2[j]
			sxz[0] += wz[j]
			sxz[1] += x2[j] * wz[j]
			szz += s.Z[j] * wz[j]
			hx[yi[j]*2] += w1[j]
			hx[yi[j]*2+1] += w2[j]
			hz[yi[j]] += wz[j]
		}
		// G gains B_i⁻¹ laid out by year: column j of B_i⁻¹ is B_i⁻¹e_j.
		e := make([]float64, k)
		for j := range k {
			clear(e)
			e[j] = 1
			c := solve(v, k, e)
			for a := range k {
				g[yi[a]*T+yi[j]] += c[a]
			}
		}
	}
	sxx[1][0] = sxx[0][1]
	// K = Omega²(I + Omega²G)⁻¹, and log|I + Omega²G|.
	mm := make([]float64, T*T)
	for a := range T {
		for b := range T {
			mm[a*T+b] = p.om2 * g[a*T+b]
		}
		mm[a*T+a]++
	}
	ldm, good := cholesky(mm, T)
	if !good {
		m.reml = math.Inf(1)
		return m, false
	}
	m.k = make([]float64, T*T)
	e := make([]float64, T)
	for j := range T {
		clear(e)
		e[j] = 1
		c := solve(mm, T, e)
		for a := range T {
			m.k[a*T+j] = p.om2 * c[a]
		}
	}
	quad := func(x, y []float64) float64 { // xᵀKy
		q := 0.0
		for a := range T {
			for b := range T {
				q += x[a] * m.k[a*T+b] * y[b]
			}
		}
		return q
	}
	col := func(c int) []float64 {
		out := make([]float64, T)
		for a := range T {
			out[a] = hx[a*2+c]
		}
		return out
	}
	h0, h1 := col(0), col(1)
	var xvx [2][2]float64
	xvx[0][0] = sxx[0][0] - quad(h0, h0)
	xvx[0][1] = sxx[0][1] - quad(h0, h1)
	xvx[1][1] = sxx[1][1] - quad(h1, h1)
	xvx[1][0] = xvx[0][1]
	xvz := [2]float64{sxz[0] - quad(h0, hz), sxz[1] - quad(h1, hz)}
	zvz := szz - quad(hz, hz)
	c, ldx := inv2(xvx)
	m.a = c[0][0]*xvz[0] + c[0][1]*xvz[1]
	m.b = c[1][0]*xvz[0] + c[1][1]*xvz[1]
	m.covAB = c
	m.gr = make([]float64, T)
	for a := range T {
		m.gr[a] = hz[a] - h0[a]*m.a - h1[a]*m.b
	}
	m.hx = hx
	m.reml = 0.5 * (ld + ldm + zvz - m.a*xvz[0] - m.b*xvz[1] + ldx)
	return m, true
}

// designK returns (ZᵀB⁻¹X)ᵀu for a T-vector u.
func (f *Fit) designK(u []float64) (float64, float64) {
	a, b := 0.0, 0.0
	for y := range u {
		a += f.hx[y*2] * u[y]
		b += f.hx[y*2+1] * u[y]
	}
	return a, b
}

func ones(k int) []float64 {
	o := make([]float64, k)
	for j := range o {
		o[j] = 1
	}
	return o
}

// inv2 inverts a 2×2 matrix; a singular one (no spread in years) fixes B at 0
// with a tiny variance.
func inv2(m [2][2]float64) ([2][2]float64, float64) {
	det := m[0][0]*m[1][1] - m[0][1]*m[1][0]
	if det <= 1e-12*math.Abs(m[0][0]*m[1][1]) || det <= 0 {
		return [2][2]float64{{1 / m[0][0], 0}, {0, 1e-12}}, math.Log(m[0][0])
	}
	return [2][2]float64{{m[1][1] / det, -m[0][1] / det}, {-m[1][0] / det, m[0][0] / det}}, math.Log(det)
}

// Predict returns the predictive mean and variance of Z for practice i (an
// index into the fitted series) in year t. With effectOnly, it predicts the
// practice's expected level A + B(t−T0) + U[i] without the year's residual.
//
// A two-year fit (f.Change) predicts a year after the practice's last
// observed one as that year's value plus the trend, Z[last] + B·h, with
// variance (h·D·Scale + h²·Var B)·Inflate: the bound that holds whatever
// the unidentified persistence (ChangeFit).
func (f *Fit) Predict(i int, t float64, effectOnly bool) (mean, variance float64) {
	s := &f.series[i]
	k := len(s.T)
	if c := f.Change; c != nil && !effectOnly && k > 0 && t > s.T[k-1] {
		h := t - s.T[k-1]
		return s.Z[k-1] + c.Trend*h, (h*c.D*s.Scale + h*h*c.TrendVar) * c.Inflate
	}
	p := params{f.Tau * f.Tau, f.Sigma * f.Sigma, f.Rho, f.Omega * f.Omega, f.W}
	x := [2]float64{1, t - f.T0}
	// The covariance c of Z[i,t] with the observations is on practice i's
	// own: the practice effect, and (unless effectOnly) its residual's
	// persistence. A year not in the sample brings a year effect of its own.
	prior := p.tau2
	if !effectOnly {
		prior += p.resid(s.Scale)
		if f.yearIndex(t) < 0 {
			prior += p.om2
		}
	}
	mean = f.A + f.B*x[1]
	d := x
	variance = prior
	if k > 0 {
		T := len(f.years)
		v := make([]float64, k*k)
		practiceCov(v, s, p)
		cholesky(v, k)
		c := make([]float64, k)
		r := make([]float64, k)
		x2 := make([]float64, k)
		for j := range k {
			c[j] = p.tau2
			if !effectOnly {
				c[j] += p.resid(s.Scale) * math.Pow(p.rho, math.Abs(t-s.T[j]))
			}
			r[j] = s.Z[j] - f.A - f.B*(s.T[j]-f.T0)
			x2[j] = s.T[j] - f.T0
		}
		// cᵀV⁻¹y = cᵀB_i⁻¹y_i − (Z_iᵀB_i⁻¹c)ᵀ K (ZᵀB⁻¹y), for y the
		// residuals (ZᵀB⁻¹r is the fit's g), c itself and the design.
		w := solve(v, k, c)
		zc := make([]float64, T)
		for j := range k {
			zc[f.yearIndex(s.T[j])] += w[j]
		}
		kzc := make([]float64, T)
		for a := range T {
			for b := range T {
				kzc[a] += f.k[a*T+b] * zc[b]
			}
		}
		for j := range k {
			mean += w[j] * r[j]
			variance -= w[j] * c[j]
			d[0] -= w[j]
			d[1] -= w[j] * x2[j]
		}
		for a := range T {
			mean -= kzc[a] * f.gr[a]
			variance += kzc[a] * zc[a]
		}
		// XᵀV⁻¹c = X_iᵀB_i⁻¹c − (ZᵀB⁻¹X)ᵀKZ_iᵀB_i⁻¹c: the second part
		// needs ZᵀB⁻¹X over every practice, kept as the fit's design terms.
		x1v, x2v := f.designK(kzc)
		d[0] += x1v
		d[1] += x2v
	}
	variance += d[0]*d[0]*f.CovAB[0][0] + 2*d[0]*d[1]*f.CovAB[0][1] + d[1]*d[1]*f.CovAB[1][1]
	return mean, math.Max(variance, 0)
}
