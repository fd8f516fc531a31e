package forecast

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/gpbudget/gpbudget/internal/stats"
)

// Change is one practice's annual change of a log quantity (the list, or
// drug cost per head).
type Change struct {
	D    float64 // log change over the year
	Prev float64 // the practice's log change the year before; NaN if unknown
	List float64 // list at the start of the year
	Year int     // the year the change ends in
}

// ChangeModel is a mixture model of practices' annual log changes: small
// drift, and rare jumps (mergers, list cleaning, a dispensing contract won
// or lost) of a few sizes:
//
//	D ~ (1 − Σ P_k)·N(Mu[y] + Phi·(x − XMean), Sigma²·(NRef/n)^Gamma) + Σ_k P_k·N(Mu_k, SD_k²)
//
// where x is the practice's previous change winsorised at ±Winsor (XMean
// when unknown), n its list, and Mu[y] the drift of year y. The drift of a
// future year is the fitted years' mean drift, uncertain by Tau (the SD of
// the years' drifts beyond their sampling error). Estimated by maximum
// likelihood with the EM algorithm (Dempster, Laird & Rubin 1977; McLachlan
// & Peel 2000, ch. 2), Gamma profiled over a grid and the number of jump
// components (1 to 3) chosen by BIC (Schwarz 1978).
type ChangeModel struct {
	Mu, Phi, Sigma, Gamma float64
	// Jumps are the jump components; Pi is their total probability.
	Jumps               []Jump
	Pi                  float64
	Tau                 float64
	Years               int // fitted years of changes
	XMean, Winsor, NRef float64
	YearMu              map[int]float64
	N                   int     // changes fitted
	LogLik              float64 // at the estimate
	// RobustSD is 1.4826 × the median absolute deviation of the changes,
	// and SD their plain SD, for reports.
	RobustSD, SD float64
}

// ChangeOptions choose the model's form.
type ChangeOptions struct {
	// SizeScaled lets the drift's variance fall with list size (Gamma
	// estimated); otherwise Gamma is 0.
	SizeScaled bool
	// Persistent lets a practice's previous change carry into the next
	// (Phi estimated); otherwise Phi is 0.
	Persistent bool
}

// Jump is one jump component: probability, mean and SD of the log change.
type Jump struct{ P, Mu, SD float64 }

var gammaGrid = []float64{0, 0.25, 0.5, 0.75, 1}

// FitChanges fits the model to annual changes. It needs at least 20.
func FitChanges(obs []Change, opt ChangeOptions) (*ChangeModel, error) {
	if len(obs) < 20 {
		return nil, fmt.Errorf("%d annual changes: need at least 20 to fit their distribution", len(obs))
	}
	ds := make([]float64, len(obs))
	for i, o := range obs {
		if math.IsNaN(o.D) || math.IsInf(o.D, 0) || !(o.List > 0) {
			return nil, errors.New("non-finite change or list")
		}
		ds[i] = o.D
	}
	med, rsd := stats.MedianRobustSD(ds)
	best := (*ChangeModel)(nil)
	grid := []float64{0}
	if opt.SizeScaled {
		grid = gammaGrid
	}
	bic := math.Inf(1)
	for k := 1; k <= 3; k++ {
		var bk *ChangeModel
		for _, g := range grid {
			m := fitChangesEM(obs, opt, g, med, rsd, k)
			if bk == nil || m.LogLik > bk.LogLik {
				bk = m
			}
		}
		// Parameters: year drifts, Sigma, Phi and Gamma where estimated,
		// and three for each jump component.
		np := float64(len(bk.YearMu) + 1 + 3*k)
		if opt.Persistent {
			np++
		}
		if opt.SizeScaled {
			np++
		}
		if b := -2*bk.LogLik + np*math.Log(float64(len(obs))); b < bic {
			bic, best = b, bk
		}
	}
	best.RobustSD = rsd
	mean := 0.0
	for _, d := range ds {
		mean += d
	}
	mean /= float64(len(ds))
	for _, d := range ds {
		best.SD += (d - mean) * (d - mean)
	}
	best.SD = math.Sqrt(best.SD / float64(len(ds)-1))
	return best, nil
}

func fitChangesEM(obs []Change, opt ChangeOptions, gamma, med, rsd float64, nj int) *ChangeModel {
	n := len(obs)
	rsd = math.Max(rsd, 1e-4)
	m := &ChangeModel{Gamma: gamma, Winsor: 2.5 * rsd, N: n, YearMu: map[int]float64{}}
	// Reference list: the geometric mean, so Sigma is the spread at a
	// typical practice.
	lg := 0.0
	for _, o := range obs {
		lg += math.Log(o.List)
	}
	m.NRef = math.Exp(lg / float64(n))
	x := make([]float64, n)
	v := make([]float64, n)
	nx, sx := 0, 0.0
	for i, o := range obs {
		v[i] = math.Pow(m.NRef/o.List, gamma)
		if !math.IsNaN(o.Prev) {
			x[i] = math.Max(-m.Winsor, math.Min(m.Winsor, o.Prev))
			sx += x[i]
			nx++
		}
	}
	if nx > 0 {
		m.XMean = sx / float64(nx)
	}
	for i, o := range obs {
		if math.IsNaN(o.Prev) {
			x[i] = m.XMean
		}
		x[i] -= m.XMean
	}
	years := map[int]bool{}
	for _, o := range obs {
		years[o.Year] = true
	}
	for y := range years {
		m.YearMu[y] = med
	}
	m.Sigma = rsd
	m.Jumps = make([]Jump, nj)
	for k := range m.Jumps {
		// Start the jumps at 4, 16 and 64 times the robust SD.
		m.Jumps[k] = Jump{P: 0.05 / float64(nj), Mu: med, SD: rsd * math.Pow(4, float64(k+1))}
	}
	r := make([][]float64, nj) // responsibilities of the jump components
	for k := range r {
		r[k] = make([]float64, n)
	}
	rb := make([]float64, n) // of the drift
	fj := make([]float64, nj)
	prev := math.Inf(-1)
	for it := 0; it < 300; it++ {
		// E step: responsibilities, and the likelihood.
		ll := 0.0
		pi := 0.0
		for _, j := range m.Jumps {
			pi += j.P
		}
		for i, o := range obs {
			mb := m.YearMu[o.Year] + m.Phi*x[i]
			fb := (1 - pi) * normPDF(o.D, mb, m.Sigma*math.Sqrt(v[i]))
			t := fb
			for k, j := range m.Jumps {
				fj[k] = j.P * normPDF(o.D, j.Mu, j.SD)
				t += fj[k]
			}
			if t <= 0 || math.IsNaN(t) {
				// Far from every component: give it to the widest.
				for k := range m.Jumps {
					r[k][i] = 0
				}
				r[nj-1][i], rb[i] = 1, 0
				ll += math.Log(1e-300)
				continue
			}
			rb[i] = fb / t
			for k := range m.Jumps {
				r[k][i] = fj[k] / t
			}
			ll += math.Log(t)
		}
		m.LogLik = ll
		if ll-prev < 1e-8*math.Abs(ll) && it > 5 {
			break
		}
		prev = ll
		// M step: jump components.
		for k := range m.Jumps {
			sr, sj, sj2 := 0.0, 0.0, 0.0
			for i, o := range obs {
				sr += r[k][i]
				sj += r[k][i] * o.D
			}
			j := &m.Jumps[k]
			j.P = math.Max(sr/float64(n), 1e-5)
			if sr > 1e-9 {
				j.Mu = sj / sr
				for i, o := range obs {
					sj2 += r[k][i] * (o.D - j.Mu) * (o.D - j.Mu)
				}
				j.SD = math.Sqrt(sj2 / sr)
			}
		}
		// Body: weighted least squares for the year drifts and Phi.
		if opt.Persistent {
			sxx, sxe := 0.0, 0.0
			for i, o := range obs {
				w := rb[i] / v[i]
				sxx += w * x[i] * x[i]
				sxe += w * x[i] * (o.D - m.YearMu[o.Year])
			}
			if sxx > 0 {
				m.Phi = sxe / sxx
			}
		}
		num, den := map[int]float64{}, map[int]float64{}
		for i, o := range obs {
			w := rb[i] / v[i]
			num[o.Year] += w * (o.D - m.Phi*x[i])
			den[o.Year] += w
		}
		for y := range years {
			if den[y] > 0 {
				m.YearMu[y] = num[y] / den[y]
			}
		}
		ss, sw := 0.0, 0.0
		for i, o := range obs {
			e := o.D - m.YearMu[o.Year] - m.Phi*x[i]
			ss += rb[i] * e * e / v[i]
			sw += rb[i]
		}
		m.Sigma = math.Max(math.Sqrt(ss/sw), 1e-5)
		// Keep the components apart: jumps are wider than the drift, and
		// ordered by width.
		for k := range m.Jumps {
			m.Jumps[k].SD = math.Max(m.Jumps[k].SD, 2*m.Sigma)
		}
	}
	sort.Slice(m.Jumps, func(a, b int) bool { return m.Jumps[a].SD < m.Jumps[b].SD })
	for _, j := range m.Jumps {
		m.Pi += j.P
	}
	// The drift of a year to come: the mean of the fitted years', with the
	// years' spread beyond sampling error as its uncertainty
	// (method of moments).
	m.Years = len(years)
	ys := make([]int, 0, len(years))
	for y := range years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	mu, samp := 0.0, 0.0
	for _, y := range ys {
		mu += m.YearMu[y]
	}
	mu /= float64(len(ys))
	m.Mu = mu
	if len(ys) > 1 {
		w := map[int]float64{}
		for i, o := range obs {
			w[o.Year] += rb[i] / v[i]
		}
		between := 0.0
		for _, y := range ys {
			between += (m.YearMu[y] - mu) * (m.YearMu[y] - mu)
			samp += m.Sigma * m.Sigma / math.Max(w[y], 1e-9)
		}
		between /= float64(len(ys) - 1)
		samp /= float64(len(ys))
		m.Tau = math.Sqrt(math.Max(between-samp, 0))
	}
	return m
}

func normPDF(x, mu, sd float64) float64 {
	z := (x - mu) / sd
	return math.Exp(-z*z/2) / (sd * math.Sqrt(2*math.Pi))
}

// Quarter-mean step: the list of a year given as the mean of its four
// quarterly counts, at 1/4, 2/4, 3/4 and 1 year after the last known count,
// moves from that count by the mean of a random walk at those times: drift
// times 5/8 and variance times (1/16)·Σ_k Σ_l min(t_k, t_l) = 7.5/16; a jump
// at a uniform time in the year shows in 4, 3, 2 or 1 of the four counts.
const (
	quarterDrift = 0.625
	quarterVar   = 7.5 / 16
)

// step is the distribution of one year's change, its drift part scaled by
// (drift, variance) factors and its jumps by the fractions given.
func (m *ChangeModel) step(carry, vb, tau2, driftF, varF float64, fracs []float64) Mixture {
	st := Mixture{W: []float64{1 - m.Pi}, Mu: []float64{driftF * (m.Mu + carry)}, SD: []float64{math.Sqrt(varF * (vb + tau2))}}
	for _, j := range m.Jumps {
		for _, f := range fracs {
			st.W = append(st.W, j.P/float64(len(fracs)))
			st.Mu = append(st.Mu, f*j.Mu+(driftF-f)*m.Mu)
			st.SD = append(st.SD, math.Sqrt(f*f*j.SD*j.SD+varF*tau2))
		}
	}
	return st
}

// Predict is the distribution of a practice's total log change over h
// years (h ≥ 1), for a practice of list n whose last change was prev (NaN
// if unknown): the sum of h independent years, each drift or a jump. The
// previous change's effect decays by Phi a year. Each future year's drift
// departs from Mu by Tau, and Mu itself is uncertain by Tau/√Years (taken
// as independent between years, a slight understatement for h > 1).
func (m *ChangeModel) Predict(prev, n float64, h int) Mixture {
	return m.predict(prev, n, h, false)
}

// PredictToQuarterMean is Predict for a target year whose list is the mean
// of its quarterly counts while the last fitted list is a count at one date:
// the last of the h steps is a quarter-mean step.
func (m *ChangeModel) PredictToQuarterMean(prev, n float64, h int) Mixture {
	return m.predict(prev, n, h, true)
}

func (m *ChangeModel) predict(prev, n float64, h int, quarterMean bool) Mixture {
	x := 0.0
	if !math.IsNaN(prev) {
		x = math.Max(-m.Winsor, math.Min(m.Winsor, prev)) - m.XMean
	}
	vb := m.Sigma * m.Sigma * math.Pow(m.NRef/n, m.Gamma)
	tau2 := m.Tau * m.Tau * (1 + 1/float64(max(m.Years, 1)))
	var out Mixture
	carry := x
	for k := 1; k <= h; k++ {
		carry *= m.Phi
		var st Mixture
		if k == h && quarterMean {
			st = m.step(carry, vb, tau2, quarterDrift, quarterVar, []float64{0.25, 0.5, 0.75, 1})
		} else {
			st = m.step(carry, vb, tau2, 1, 1, []float64{1})
		}
		if k == 1 {
			out = st
		} else {
			out = Convolve(out, st).prune(1e-9)
		}
	}
	return out
}

// prune drops components of weight below eps and renormalises.
func (m Mixture) prune(eps float64) Mixture {
	var out Mixture
	t := 0.0
	for k, w := range m.W {
		if w >= eps {
			out.W = append(out.W, w)
			out.Mu = append(out.Mu, m.Mu[k])
			out.SD = append(out.SD, m.SD[k])
			t += w
		}
	}
	for k := range out.W {
		out.W[k] /= t
	}
	return out
}
