package sim

import "math"

// Calibration: what the model says about patients, to check it against
// published facts (sim/calibration_test.go). Not for runs: these keep one
// value per patient or band.

// calibrationWorker is a worker for m's calibration functions (it panics
// on a model Validate refuses: they are for tests and built-in models).
func calibrationWorker(m *Model) *worker {
	p, err := prepare(m)
	if err != nil {
		panic(err)
	}
	w := &worker{p: p}
	w.setup()
	return w
}

// startPractice builds practice i's starting list in replication rep and
// its count tables at its own rates (no effects), and returns its key.
func (w *worker) startPractice(seed uint64, rep, i int) Key {
	one := [NStreams]float64{1, 1, 1, 1, 1}
	k := TaskKey(seed, rep, i)
	w.initList(k)
	w.buildTables(i, &one)
	return k
}

// BandTotals are a year's totals by five-year band, both sexes together.
type BandTotals struct {
	Events     [NStreams][NBands]float64 // events
	Expected   [NStreams][NBands]float64 // Σ of the patients' mean counts (rates × frailty)
	ExpectedSq [NStreams][NBands]float64 // Σ of their squares
	Heads      [NBands]float64           // patients
}

// EventsByBand simulates every practice of m patient by patient from its
// starting list (replication rep, no effects: chance alone) and returns
// the totals by band of the years-th year (1: the starting list's year).
func EventsByBand(m *Model, seed uint64, rep, years int) *BandTotals {
	w := calibrationWorker(m)
	out := &BandTotals{}
	for i := range m.Practices {
		k := w.startPractice(seed, rep, i)
		for y := range years - 1 {
			w.advance(k.At(y))
		}
		w.reseedYear(k.At(years - 1))
		l := &w.pop
		for j, row := range l.row {
			b := min(int(l.sa[j])%(MaxAge+1)/5, NBands-1)
			out.Heads[b]++
			base := int(row) * NStreams
			u, _ := patientUniforms(w.counts.G.Uint64(), w.counts.G.Uint64(), w.counts.G.Uint64())
			for s := range NStreams {
				mu := w.tab.mu[base+s]
				out.Expected[s][b] += mu
				out.ExpectedSq[s][b] += mu * mu
				if u[s] >= w.tab.zero[base+s] {
					out.Events[s][b] += float64(w.tab.sample(base+s, u[s]))
				}
			}
		}
	}
	return out
}

// FollowUp follows the patients aged minAge or more who have at least
// minEvents events of stream s in a year, by the model's frailty chain
// (persistence, redraws and state-dependent deaths; ageing between bands
// left out): it returns, for that year and each of the next years, the
// mean rate multiplier of those still alive relative to their age-sex
// group's (1 = back to the group's mean). Patients are weighted by the
// model's practices' lists; style and need are taken as 1. Exact for the
// chain: the selection is by each state's negative binomial probability
// of minEvents or more.
func FollowUp(m *Model, s Stream, minAge, minEvents, years int) ([]float64, error) {
	p, err := prepare(m)
	if err != nil {
		return nil, err
	}
	K := p.k
	r := m.Streams[s].Dispersion
	var n [NCells]float64
	for i := range m.Practices {
		for c := range NCells {
			n[c] += float64(m.Practices[i].Count[c/NBands][c%NBands])
		}
	}
	v := make([]float64, NCells*K) // the selected patients by cell and state
	for c := range NCells {
		if 5*(c%NBands) < minAge {
			continue
		}
		for k := range K {
			mu := m.Streams[s].Rate[c/NBands][c%NBands] * p.frailMult[s][c*K+k]
			v[c*K+k] = n[c] * p.cellShare[c*K+k] * atLeast(mu, r, minEvents)
		}
	}
	ratio := func() float64 {
		num, den := 0.0, 0.0
		for g, x := range v {
			num += x * p.frailMult[s][g]
			den += x
		}
		return num / den
	}
	out := []float64{ratio()}
	next := make([]float64, K)
	for range years {
		for c := range NCells {
			clear(next)
			for k := range K {
				die := math.Min(m.Demography.Mortality[c/NBands][c%NBands]*p.cellMort[c*K+k], maxDeathProb)
				for j := range K {
					next[j] += v[c*K+k] * (1 - die) * p.move[k*K+j]
				}
			}
			copy(v[c*K:c*K+K], next)
		}
		out = append(out, ratio())
	}
	return out, nil
}

// atLeast is P(N >= k) for a negative binomial count with mean mu and
// shape r (Poisson for r = 0 or +Inf).
func atLeast(mu, r float64, k int) float64 {
	var t countTables
	disp := [NStreams]float64{r}
	t.build([]float64{mu, 0, 0, 0, 0}, &disp)
	p, q, a, poisson := t.pmf0(0)
	cum := 0.0
	for j := range k {
		cum += p
		f := q / float64(j+1)
		if !poisson {
			f *= float64(j) + a
		}
		p *= f
	}
	return 1 - cum
}
