package forecast

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Mixture is a predictive distribution whose logarithm is a mixture of
// normals: the outcome X has log X ~ Σ W[k]·N(Mu[k], SD[k]²). It is a
// mixture of lognormals on the outcome's scale (patients or pounds).
type Mixture struct {
	W, Mu, SD []float64
}

// LogNormal is the one-component mixture LN(mu, sd²).
func LogNormal(mu, sd float64) Mixture {
	return Mixture{W: []float64{1}, Mu: []float64{mu}, SD: []float64{sd}}
}

// Shift adds c to the log of the outcome (multiplies it by e^c).
func (m Mixture) Shift(c float64) Mixture {
	out := Mixture{W: append([]float64(nil), m.W...), Mu: make([]float64, len(m.Mu)), SD: append([]float64(nil), m.SD...)}
	for k, v := range m.Mu {
		out.Mu[k] = v + c
	}
	return out
}

// Convolve is the distribution of the product of independent outcomes of a
// and b: on the log scale the sum, a mixture of every pair of components.
func Convolve(a, b Mixture) Mixture {
	var out Mixture
	for i := range a.W {
		for j := range b.W {
			out.W = append(out.W, a.W[i]*b.W[j])
			out.Mu = append(out.Mu, a.Mu[i]+b.Mu[j])
			out.SD = append(out.SD, math.Hypot(a.SD[i], b.SD[j]))
		}
	}
	return out
}

// LogCDF is P(log X ≤ z).
func (m Mixture) LogCDF(z float64) float64 {
	p := 0.0
	for k, w := range m.W {
		if m.SD[k] == 0 {
			if z >= m.Mu[k] {
				p += w
			}
			continue
		}
		p += w * distuv.UnitNormal.CDF((z-m.Mu[k])/m.SD[k])
	}
	return p
}

// Quantile is the outcome's p-quantile, by bisection of LogCDF to 1e-10 on
// the log scale.
func (m Mixture) Quantile(p float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for k := range m.W {
		lo = math.Min(lo, m.Mu[k]-12*m.SD[k]-1e-9)
		hi = math.Max(hi, m.Mu[k]+12*m.SD[k]+1e-9)
	}
	for range 200 {
		mid := (lo + hi) / 2
		if m.LogCDF(mid) < p {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-10 {
			break
		}
	}
	return math.Exp((lo + hi) / 2)
}

// Mean is E[X].
func (m Mixture) Mean() float64 {
	s := 0.0
	for k, w := range m.W {
		s += w * math.Exp(m.Mu[k]+m.SD[k]*m.SD[k]/2)
	}
	return s
}

// CRPS is the continuous ranked probability score of the mixture for the
// outcome y (Gneiting & Raftery 2007, eq. 21: E|X − y| − E|X − X'|/2),
// in closed form: for a lognormal X ~ LN(m, s²) with mean M,
//
//	E|X − y| = M − y + 2[y·Φ(w) − M·Φ(w − s)],  w = (log y − m)/s,
//
// and for independent lognormals X_k, X_l with S² = s_k² + s_l²,
//
//	E|X_k − X_l| = M_k + M_l − 2[M_k·Φ((m_l − m_k − s_k²)/S) + M_l·Φ((m_k − m_l − s_l²)/S)].
//
// With one component it equals CRPSLogNormal (Baran & Lerch 2015).
func (m Mixture) CRPS(y float64) float64 {
	phi := distuv.UnitNormal.CDF
	n := len(m.W)
	mean := make([]float64, n)
	for k := range n {
		mean[k] = math.Exp(m.Mu[k] + m.SD[k]*m.SD[k]/2)
	}
	e1 := 0.0
	for k, w := range m.W {
		var d float64
		switch {
		case y <= 0:
			d = mean[k] - y
		case m.SD[k] == 0:
			d = math.Abs(mean[k] - y)
		default:
			z := (math.Log(y) - m.Mu[k]) / m.SD[k]
			d = mean[k] - y + 2*(y*phi(z)-mean[k]*phi(z-m.SD[k]))
		}
		e1 += w * d
	}
	e2 := 0.0
	for k := range n {
		for l := range n {
			s := math.Hypot(m.SD[k], m.SD[l])
			var d float64
			if s == 0 {
				d = math.Abs(mean[k] - mean[l])
			} else {
				d = mean[k] + mean[l] - 2*(mean[k]*phi((m.Mu[l]-m.Mu[k]-m.SD[k]*m.SD[k])/s)+mean[l]*phi((m.Mu[k]-m.Mu[l]-m.SD[l]*m.SD[l])/s))
			}
			e2 += m.W[k] * m.W[l] * d
		}
	}
	return e1 - e2/2
}
