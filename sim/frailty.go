package sim

import (
	"fmt"
	"math"
)

// prepareFrailty derives the frailty chain's transition matrix (p.q,
// p.move), each age-sex cell's state shares and mortality multipliers, and
// each stream's rate multipliers per cell and state.
//
// Without Frailty.ByAge every cell has the stationary shares Share, and
// rates and death rates are normalised over them. The frail die sooner,
// though, so at older ages fewer survive in the high states than Share
// says, and a list started from Share drifts away from the mix its rates
// were normalised to. With ByAge each cell's shares are the chain's
// equilibrium at that age: newborns start in Share; each year a person
// dies with the band's death rate times the state's multiplier, and
// survivors move by the chain; a band's shares average its single years of
// age weighted by survivors. Death-rate multipliers are normalised over
// the band's own shares, so its death rate is the life table's, and the
// shares and multipliers are solved together by fixed-point iteration.
// Rates are then normalised per cell too, so a band's mean rate stays
// the one given, and starting lists, births and joiners draw their states
// from their cell's shares: the mix does not drift.
func (p *prepared) prepareFrailty() error {
	m := p.m
	f := &m.Frailty
	K := p.k
	// q_j ∝ share_j (1 - persistence_j) keeps Share stationary.
	q, qs := make([]float64, K), 0.0
	for j := range K {
		q[j] = f.Share[j] * (1 - f.Persistence[j])
		qs += q[j]
	}
	for j := range K {
		if qs > 0 {
			q[j] /= qs
		} else {
			q[j] = f.Share[j]
		}
	}
	p.q = q
	p.move = make([]float64, K*K)
	for k := range K {
		for j := range K {
			pj := (1 - f.Persistence[k]) * q[j]
			if j == k {
				pj += f.Persistence[k]
			}
			p.move[k*K+j] = pj
		}
	}
	p.cellShare = make([]float64, NCells*K)
	p.cellMort = make([]float64, NCells*K)
	// Mortality multipliers are normalised to mean 1 over the shares so the
	// life table's death rate holds.
	mmean := 0.0
	for k := range K {
		mmean += f.Share[k] * f.Mortality[k]
	}
	if !(mmean > 0 && mmean <= math.MaxFloat64) {
		return fmt.Errorf("frailty: the mortality multipliers have a share-weighted mean of %v: accepted multipliers whose mean over the states' shares is positive and finite (they scale the life table's death rates, keeping their average)", mmean)
	}
	for c := range NCells {
		for k := range K {
			p.cellShare[c*K+k] = f.Share[k]
			p.cellMort[c*K+k] = f.Mortality[k] / mmean
		}
	}
	if f.ByAge {
		for sex := range NSex {
			p.equilibrium(sex)
		}
	}
	for s := range NStreams {
		load := m.Streams[s].FrailtyLoading
		level := make([]float64, K)
		for k := range K {
			level[k] = math.Pow(f.Level[k], load)
		}
		mult := make([]float64, NCells*K)
		for c := range NCells {
			mean := 0.0
			for k := range K {
				mean += p.cellShare[c*K+k] * level[k]
			}
			// Levels are relative: they must have a positive mean to scale by.
			if !(mean > 0 && mean <= math.MaxFloat64) {
				return fmt.Errorf("frailty: the levels (to the power %v, stream %s's loading) have a share-weighted mean of %v: accepted levels whose mean over the states' shares is positive and finite", load, StreamNames[s], mean)
			}
			for k := range K {
				mult[c*K+k] = level[k] / mean
			}
		}
		p.frailMult[s] = mult
	}
	return nil
}

// equilibrium sets the cells of one sex to the chain's equilibrium shares
// by age with state-dependent mortality (see prepareFrailty).
func (p *prepared) equilibrium(sex int) {
	m := p.m
	f := &m.Frailty
	K := p.k
	cur, next := make([]float64, K), make([]float64, K)
	acc := make([]float64, NBands*K)
	for range 50 {
		clear(acc)
		copy(cur, f.Share)
		alive := 1.0
		for a := 0; a <= MaxAge; a++ {
			b := min(a/5, NBands-1)
			c := sex*NBands + b
			for k := range K {
				acc[b*K+k] += alive * cur[k]
			}
			clear(next)
			surv := 0.0
			for k := range K {
				die := math.Min(m.Demography.Mortality[sex][b]*p.cellMort[c*K+k], maxDeathProb)
				w := cur[k] * (1 - die)
				surv += w
				for j := range K {
					next[j] += w * p.move[k*K+j]
				}
			}
			if surv <= 0 {
				break
			}
			for j := range K {
				cur[j] = next[j] / surv
			}
			alive *= surv
		}
		change := 0.0
		for b := range NBands {
			c := sex*NBands + b
			tot, mmean := 0.0, 0.0
			for k := range K {
				tot += acc[b*K+k]
			}
			if tot <= 0 {
				continue
			}
			for k := range K {
				p.cellShare[c*K+k] = acc[b*K+k] / tot
				mmean += p.cellShare[c*K+k] * f.Mortality[k]
			}
			if mmean <= 0 {
				continue
			}
			for k := range K {
				v := f.Mortality[k] / mmean
				change = math.Max(change, math.Abs(v-p.cellMort[c*K+k]))
				p.cellMort[c*K+k] = v
			}
		}
		if change < 1e-12 {
			break
		}
	}
}
