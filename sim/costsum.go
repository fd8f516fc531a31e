package sim

import "math"

// Spend. Costs per event do not depend on which patient has the event, so a
// practice-year's spend in a stream is drawn from the stream's total count,
// in both modes: a gamma-sum stream's is one Gamma(N·shape) draw (exact: a
// sum of gammas of one scale). A lognormal mixture's N events are split over
// its parts (binomials), and a part's n events sum to what lognormalSum
// draws. A part's events below exactCostEvents have their costs drawn one by
// one. Above it, event costs exp(mu + sigma·Z) with
// Z > costTailZ (probability 0.00135) form the tail, drawn exactly: a
// Binomial(n, 0.00135) count, each cost from the normal tail (NormTail). The
// rest, the body, are bounded by exp(mu + 3·sigma); the body sum of m events
// is drawn as a shifted gamma m·shift + theta·Gamma(m·shape) whose first three
// cumulants equal the exact sum's (mean, variance and skewness are those of
// the m-fold sum; shape = 4κ2³/κ3², theta = κ3/(2κ2), shift = κ1 - shape·theta
// from the truncated lognormal's cumulants κ). By the Edgeworth expansion
// the error in the body sum's distribution function is then of order
// κ4-mismatch/m; for a lognormal body the gamma's own fourth cumulant
// (1.5·skew²) is within 3% of the body's for CVs 0.6 to 2.5, so the error is
// far below Monte Carlo noise (TestLognormalSum compares the two).
const (
	exactCostEvents = 32 // fewer events of a part are drawn one by one
	costTailZ       = 3.0
)

// lognormalPart is one lognormal part of a stream's cost with its constants
// for spend's sums.
type lognormalPart struct {
	split               bprob // share of the stream's events, given not an earlier part
	mu, sigma, mean     float64
	tail                bprob   // P(Z > costTailZ)
	shift, theta, shape float64 // body sum ≈ m·shift + theta·Gamma(m·shape); theta < 0 mirrors the gamma
	sd                  float64 // body sd per event, used with a normal where the body has no skew (theta = 0)
}

func newLognormalPart(mu, sigma, mean float64) lognormalPart {
	lp := lognormalPart{mu: mu, sigma: sigma, mean: mean}
	if sigma == 0 {
		return lp
	}
	phi := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	pc := phi(costTailZ)
	lp.tail = newBprob(1 - pc).withPowers()
	// Raw moments of the body, in units of exp(mu): E[X^j | Z < c] =
	// exp(j²σ²/2)·Φ(c - jσ)/Φ(c).
	var r [4]float64
	for j := 1; j <= 3; j++ {
		fj := float64(j)
		r[j] = math.Exp(fj*fj*sigma*sigma/2) * phi(costTailZ-fj*sigma) / pc
	}
	k1 := r[1]
	k2 := r[2] - r[1]*r[1]
	k3 := r[3] - 3*r[1]*r[2] + 2*r[1]*r[1]*r[1]
	scale := math.Exp(mu)
	// A small CV's body is skewed to the left (the truncation at 3 SDs
	// outweighs the lognormal's own skew, below a CV of about 0.02): theta
	// is then negative, a mirrored gamma, with the same three cumulants.
	if math.Abs(k3) > 1e-6*math.Pow(k2, 1.5) {
		lp.theta = k3 / (2 * k2)
		lp.shape = k2 / (lp.theta * lp.theta)
		lp.shift = (k1 - lp.shape*lp.theta) * scale
		lp.theta *= scale
	} else {
		lp.shift = k1 * scale
		lp.sd = math.Sqrt(max(k2, 0)) * scale
	}
	return lp
}

// costSetup builds the worker's lognormal parts for spend.
func (w *worker) costSetup() {
	for s := range NStreams {
		cs := &w.p.cost[s]
		w.parts[s] = nil
		if cs.family == GammaSum {
			continue
		}
		prev := 0.0
		for j := range cs.cum {
			lp := newLognormalPart(cs.mu[j], cs.sigma[j], cs.mean[j])
			if mass := 1 - prev; mass > 0 {
				lp.split = newBprob((cs.cum[j] - prev) / mass).withPowers()
			}
			prev = cs.cum[j]
			w.parts[s] = append(w.parts[s], lp)
		}
	}
}

// spend draws the total cost of k events of stream s: by costSum for a
// gamma-sum stream or few events, otherwise split over the lognormal parts,
// each drawn by lognormalSum.
func (w *worker) spend(s, k int) float64 {
	parts := w.parts[s]
	if len(parts) == 0 || k < exactCostEvents {
		return w.costSum(s, k)
	}
	d := &w.costs
	total := 0.0
	rem := int64(k)
	for j := range parts {
		n := rem
		if j < len(parts)-1 {
			n = d.binomialOf(rem, &parts[j].split)
		}
		rem -= n
		total += d.lognormalSum(&parts[j], n)
	}
	return total
}

// lognormalSum draws the sum of n costs of one lognormal part: one by one
// below exactCostEvents, else the exact tail plus the shifted-gamma body
// (see exactCostEvents).
func (d *Draws) lognormalSum(lp *lognormalPart, n int64) float64 {
	if n == 0 {
		return 0
	}
	if lp.sigma == 0 {
		return float64(n) * lp.mean
	}
	total := 0.0
	if n < exactCostEvents {
		for range n {
			total += fastExp(lp.mu + lp.sigma*d.NormZ())
		}
		return total
	}
	t := d.binomialOf(n, &lp.tail)
	for range t {
		total += fastExp(lp.mu + lp.sigma*d.NormTail(costTailZ))
	}
	m := float64(n - t)
	body := m * lp.shift
	if lp.theta != 0 {
		body += lp.theta * d.Gamma(m*lp.shape)
	} else {
		body += math.Sqrt(m) * lp.sd * d.NormZ()
	}
	return total + max(body, 0)
}
