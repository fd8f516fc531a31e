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
//	Z[i,t] = A + B·(t − T0) + U[i] + E[i,t],  U[i] ~ N(0, Tau²),
//	E[i,·] AR(1): Var E = Sigma²·Scale[i], Corr(E[i,t], E[i,s]) = Rho^|t−s|,
//
// estimated by REML (Patterson & Thompson 1971; Harville 1977) with A and B
// by generalised least squares. Predictions are the best linear unbiased
// predictor (Goldberger 1962) with the prediction variance that includes the
// uncertainty in A and B.
type Fit struct {
	A, B, T0         float64
	Tau, Sigma, Rho  float64
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

// Model parameters estimated for each quantity (A, B, Tau, Sigma, Rho): a
// history with fewer observations is refused.
const Params = 5

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
	if n < Params {
		return nil, fmt.Errorf("%w: %d practice-years, fewer than the model's %d parameters (level, trend, practice SD, residual SD, persistence); give more practices or years", ErrShortHistory, n, Params)
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
	if f.Years == 2 {
		c, err := fitChange(ss)
		if err != nil {
			return nil, err
		}
		f.Change = c
	}
	// Parameters: log Tau², log Sigma², atanh Rho.
	obj := func(x []float64) float64 {
		v, _ := f.reml(math.Exp(x[0]), math.Exp(x[1]), math.Tanh(x[2]))
		return v
	}
	init := []float64{math.Log(v0 / 2), math.Log(v0 / 2), 0.3}
	res, err := optimize.Minimize(optimize.Problem{Func: obj}, init,
		&optimize.Settings{MajorIterations: 2000, Converger: &optimize.FunctionConverge{Absolute: 1e-9, Iterations: 50}},
		&optimize.NelderMead{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("fitting: %w", err)
	}
	x := res.X
	// Clamp to the region the likelihood can identify.
	tau2, sig2, rho := math.Exp(x[0]), math.Exp(x[1]), math.Tanh(x[2])
	if math.IsNaN(tau2 + sig2 + rho) {
		return nil, errors.New("fitting: the likelihood did not converge")
	}
	f.Tau, f.Sigma, f.Rho = math.Sqrt(tau2), math.Sqrt(sig2), rho
	_, f.CovAB = f.reml(tau2, sig2, rho)
	f.A, f.B = f.gls(tau2, sig2, rho)
	// Large-sample SE of an SD estimated from P practice effects observed
	// with little noise: Tau/sqrt(2(P-1)) (it understates the SE when the
	// residual noise is large against Tau).
	f.TauSE = f.Tau / math.Sqrt(2*math.Max(float64(len(ss)-1), 1))
	return f, nil
}

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
	if len(cs) < 2 {
		return nil, fmt.Errorf("%w: two years of history, but %d practices seen in both: the year-to-year variation cannot be estimated; give more practices or years", ErrShortHistory, len(cs))
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

// practiceCov fills V (row-major, k×k) for series s.
func practiceCov(v []float64, s *Series, tau2, sig2, rho float64) {
	k := len(s.T)
	for a := range k {
		for b := range k {
			v[a*k+b] = tau2 + sig2*s.Scale*math.Pow(rho, math.Abs(s.T[a]-s.T[b]))
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

// accumulate returns XᵀV⁻¹X, XᵀV⁻¹z and Σ log|V_i| for the parameters.
func (f *Fit) accumulate(tau2, sig2, rho float64) (xtx [2][2]float64, xtz [2]float64, ld float64, ok bool) {
	for i := range f.series {
		s := &f.series[i]
		k := len(s.T)
		if k == 0 {
			continue
		}
		v := make([]float64, k*k)
		practiceCov(v, s, tau2, sig2, rho)
		l, good := cholesky(v, k)
		if !good {
			return xtx, xtz, 0, false
		}
		ld += l
		x1 := make([]float64, k)
		x2 := make([]float64, k)
		for j := range k {
			x1[j] = 1
			x2[j] = s.T[j] - f.T0
		}
		w1, w2 := solve(v, k, x1), solve(v, k, x2)
		for j := range k {
			xtx[0][0] += x1[j] * w1[j]
			xtx[0][1] += x1[j] * w2[j]
			xtx[1][1] += x2[j] * w2[j]
			xtz[0] += w1[j] * s.Z[j]
			xtz[1] += w2[j] * s.Z[j]
		}
	}
	xtx[1][0] = xtx[0][1]
	return xtx, xtz, ld, true
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

func (f *Fit) gls(tau2, sig2, rho float64) (a, b float64) {
	xtx, xtz, _, ok := f.accumulate(tau2, sig2, rho)
	if !ok {
		return math.NaN(), math.NaN()
	}
	c, _ := inv2(xtx)
	return c[0][0]*xtz[0] + c[0][1]*xtz[1], c[1][0]*xtz[0] + c[1][1]*xtz[1]
}

// reml returns minus the restricted log-likelihood (up to a constant) and
// the covariance of the GLS estimates of (A, B).
func (f *Fit) reml(tau2, sig2, rho float64) (float64, [2][2]float64) {
	if tau2 < 1e-12 || sig2 < 1e-12 || tau2 > 1e6 || sig2 > 1e6 || math.Abs(rho) > 0.995 {
		return math.Inf(1), [2][2]float64{}
	}
	xtx, xtz, ld, ok := f.accumulate(tau2, sig2, rho)
	if !ok {
		return math.Inf(1), [2][2]float64{}
	}
	c, ldx := inv2(xtx)
	a := c[0][0]*xtz[0] + c[0][1]*xtz[1]
	b := c[1][0]*xtz[0] + c[1][1]*xtz[1]
	q := 0.0
	for i := range f.series {
		s := &f.series[i]
		k := len(s.T)
		if k == 0 {
			continue
		}
		v := make([]float64, k*k)
		practiceCov(v, s, tau2, sig2, rho)
		cholesky(v, k)
		r := make([]float64, k)
		for j := range k {
			r[j] = s.Z[j] - a - b*(s.T[j]-f.T0)
		}
		w := solve(v, k, r)
		for j := range k {
			q += r[j] * w[j]
		}
	}
	return 0.5 * (ld + q + ldx), c
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
	tau2, sig2 := f.Tau*f.Tau, f.Sigma*f.Sigma
	x := [2]float64{1, t - f.T0}
	prior := tau2
	if !effectOnly {
		prior += sig2 * s.Scale
	}
	mean = f.A + f.B*x[1]
	d := x
	variance = prior
	if k > 0 {
		v := make([]float64, k*k)
		practiceCov(v, s, tau2, sig2, f.Rho)
		cholesky(v, k)
		c := make([]float64, k)
		r := make([]float64, k)
		for j := range k {
			c[j] = tau2
			if !effectOnly {
				c[j] += sig2 * s.Scale * math.Pow(f.Rho, math.Abs(t-s.T[j]))
			}
			r[j] = s.Z[j] - f.A - f.B*(s.T[j]-f.T0)
		}
		w := solve(v, k, c)
		for j := range k {
			mean += w[j] * r[j]
			variance -= w[j] * c[j]
			d[0] -= w[j]
			d[1] -= w[j] * (s.T[j] - f.T0)
		}
	}
	variance += d[0]*d[0]*f.CovAB[0][0] + 2*d[0]*d[1]*f.CovAB[0][1] + d[1]*d[1]*f.CovAB[1][1]
	return mean, math.Max(variance, 0)
}
