package sim

import (
	"errors"
	"fmt"
	"math"
)

// prepared holds what a run derives once from a Model: normalised frailty
// multipliers, cost-sampling constants, demographic transition thresholds and
// capitation weights.
type prepared struct {
	m *Model
	k int

	// frailMult[s][cell*K+k]: stream s's rate multiplier in frailty state
	// k in an age-sex cell (mean 1 over the cell's shares).
	frailMult [NStreams][]float64
	// cellShare[cell*K+k]: the share of a cell's patients in state k (the
	// chain's equilibrium in that cell with Frailty.ByAge, else Share);
	// cellMort[cell*K+k]: the death-rate multiplier of state k there (mean
	// 1 over the cell's shares).
	cellShare, cellMort []float64
	// trans[cell*K+k]: thresholds over outcomes 0..K-1 (next state), K (death), K+1 (leaves).
	trans [][]uint64
	// exit[cell*K+k]: probability of death or leaving; move[k*K+j]: of state
	// j next year given the patient stays (trans before thresholding), which
	// is a redraw from q with probability 1 - persistence[k], else state k.
	exit, move, q []float64
	// cost sampling per stream
	cost [NStreams]costSampler
	// capitation: expected cost per head by cell and stream for need 1, style 1
	unitCost [NCells][NStreams]float64
	// capWeight[c]: per-head weight used for budgets (model's own or supplied)
	capWeight [NCells]float64
	capScale  float64 // scales the area's capitation total to its expected spend
	// joiner distribution per practice: cumulative over cells (cohort
	// mode, the formula's sample), and as Walker's alias table over cells
	// (NCells entries a practice: patient-level joiners, joinFromMix)
	joinCDF   [][NCells]float64
	joinAlias []uint64
	// style-and-need multipliers per practice and stream
	pmult [][NStreams]float64
	// need adjustment used by capitation per practice
	needAdj []float64
	// names: every ledger party's name (Model.PartyNames); holder[i]: the
	// holder index of practice i, its consortium's (numbered after the
	// practices, in Model.Groups order) or its own.
	names  []string
	holder []int

	// Effects beyond chance (effects.go): whether drift and shocks are on,
	// which levels have shocks, their Cholesky factors, each practice's unit
	// at each level (index), the base years
	// the budget-setting lag needs, the priors' derived state, the
	// capitation formula if estimated, and each stream's share of the
	// area's expected spend (the capitation target's expected growth).
	drift, shocks  bool
	driftL, shockL [NStreams][NStreams]float64
	levelOn        [NLevels]bool
	unit           [][NLevels]int
	lag            int
	unc            *uncertainty
	formula        *Formula
	streamShare    [NStreams]float64
	lists          *listPrep // nil: no list dynamics
}

type costSampler struct {
	family CostFamily
	cum    []float64 // cumulative part shares
	mu     []float64 // lognormal log-mean per part
	sigma  []float64 // lognormal log-sd per part
	mean   []float64
	shape  float64 // GammaSum: shape per event (1/CV²); 0 means fixed cost
	scale  float64 // GammaSum: mean·CV²
}

// prepare checks m (see Model.Validate) and derives what a run needs.
func prepare(m *Model) (*prepared, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	p := &prepared{m: m, k: m.Frailty.K()}
	p.names, p.holder = m.PartyNames(), holders(m)
	K := p.k
	if err := p.prepareFrailty(); err != nil {
		return nil, err
	}
	p.trans = make([][]uint64, NCells*K)
	p.exit = make([]float64, NCells*K)
	for c := range NCells {
		sex, b := c/NBands, c%NBands
		for k := range K {
			die := math.Min(m.Demography.Mortality[sex][b]*p.cellMort[c*K+k], maxDeathProb)
			leave := (1 - die) * m.Demography.Turnover
			stay := 1 - die - leave
			p.exit[c*K+k] = die + leave
			row := make([]uint64, K+2)
			cum := 0.0
			for j := range K {
				cum += stay * p.move[k*K+j]
				row[j] = toThreshold(cum)
			}
			cum += die
			row[K] = toThreshold(cum)
			row[K+1] = math.MaxUint64
			p.trans[c*K+k] = row
		}
	}
	for s := range NStreams {
		sp := &m.Streams[s]
		cs := costSampler{family: sp.Family}
		cum := 0.0
		for _, part := range sp.Cost {
			cum += part.Share
			cs.cum = append(cs.cum, cum)
			s2 := math.Log(1 + part.CV*part.CV)
			cs.sigma = append(cs.sigma, math.Sqrt(s2))
			lm := math.Inf(-1)
			if part.Mean > 0 {
				lm = math.Log(part.Mean) - s2/2
			}
			cs.mu = append(cs.mu, lm)
			cs.mean = append(cs.mean, part.Mean)
		}
		cs.cum[len(cs.cum)-1] = 1
		if sp.Family == GammaSum {
			cv := sp.Cost[0].CV
			if cv > 0 {
				cs.shape = 1 / (cv * cv)
				cs.scale = sp.Cost[0].Mean * cv * cv
			}
		}
		p.cost[s] = cs
		mc := sp.MeanCost()
		for c := range NCells {
			p.unitCost[c][s] = sp.Rate[c/NBands][c%NBands] * mc
		}
	}
	for c := range NCells {
		if m.Budget.Weights != nil {
			p.capWeight[c] = m.Budget.Weights[c/NBands][c%NBands]
		} else {
			for s := range NStreams {
				p.capWeight[c] += p.unitCost[c][s]
			}
		}
	}
	np := len(m.Practices)
	if err := p.prepareEffects(); err != nil {
		return nil, err
	}
	p.joinCDF = make([][NCells]float64, np)
	p.joinAlias = make([]uint64, 0, np*NCells)
	var sc aliasScratch
	p.pmult = make([][NStreams]float64, np)
	p.needAdj = make([]float64, np)
	expected, capRaw := 0.0, 0.0
	for i := range m.Practices {
		pr := &m.Practices[i]
		n := float64(pr.ListSize())
		cum := 0.0
		var byStream [NStreams]float64
		head := 0.0
		for c := range NCells {
			cnt := float64(pr.Count[c/NBands][c%NBands])
			cum += cnt / n
			p.joinCDF[i][c] = cum
			for s := range NStreams {
				byStream[s] += cnt * p.unitCost[c][s]
			}
			head += cnt * p.capWeight[c]
		}
		p.joinCDF[i][NCells-1] = 1
		p.joinAlias = appendJoinAlias(p.joinAlias, pr, &sc)
		// Need adjustment: the cost-weighted mean of need^elasticity, so a
		// capitation formula recognises need but not the practice's style.
		num, den := 0.0, 0.0
		for s := range NStreams {
			nm := math.Pow(pr.StreamNeed(Stream(s)), m.Streams[s].NeedElasticity)
			p.pmult[i][s] = pr.Style[s] * nm
			num += byStream[s] * nm
			den += byStream[s]
			expected += byStream[s] * p.pmult[i][s]
			p.streamShare[s] += byStream[s] * p.pmult[i][s]
		}
		p.needAdj[i] = 1
		if den > 0 {
			p.needAdj[i] = num / den
		}
		if p.formula != nil {
			var cells [NCells]int32
			for c := range NCells {
				cells[c] = int32(pr.Count[c/NBands][c%NBands])
			}
			capRaw += p.formula.target(i, &cells)
		} else {
			capRaw += head * p.needAdj[i]
		}
	}
	for s := range NStreams {
		if expected > 0 {
			p.streamShare[s] /= expected
		}
	}
	if !(capRaw > 0 && capRaw <= math.MaxFloat64) {
		return nil, fmt.Errorf("budget: the capitation weights give the area's patients a total of %v: accepted weights (or, without weights, rates and costs) positive in at least one age-sex band where the area has patients", capRaw)
	}
	if !(expected >= 0 && expected <= math.MaxFloat64) {
		return nil, fmt.Errorf("the area's expected spend is %v: accepted rates, costs, need and style whose product is finite", expected)
	}
	p.capScale = expected / capRaw
	var err error
	if p.lists, err = prepareLists(p); err != nil {
		return nil, err
	}
	if err := p.checkCounts(0); err != nil {
		return nil, err
	}
	return p, nil
}

// countHeadroom is how far a run may raise a stream's rates above the
// model's own (rate × frailty × need × style) at most: behaviour effects
// (up to ×2) and substitution (up to ×5.5 with scenarios' bounds) make 11;
// checkCounts allows for a rate-uncertainty draw of 5 SD on top, and for
// the effects (effectHeadroom).
const countHeadroom = 11

// checkCounts checks that the count distribution of each stream's highest
// mean count, with room for what a run of the given years multiplies rates
// by, fits in the count tables (maxCount counts), so a valid model never
// reaches maxCount.
func (p *prepared) checkCounts(years int) error {
	var errs []error
	for s := range NStreams {
		sp := &p.m.Streams[s]
		hi := 0.0
		for c := range NCells {
			for k := range p.k {
				hi = math.Max(hi, sp.Rate[c/NBands][c%NBands]*p.frailMult[s][c*p.k+k])
			}
		}
		pm := 0.0
		for i := range p.pmult {
			pm = math.Max(pm, p.pmult[i][s])
		}
		sd := sp.RateUncertaintySD
		mean := hi * pm * countHeadroom * math.Exp(5*sd-sd*sd/2) * p.effectHeadroom(s, years)
		if mean == 0 {
			continue
		}
		var t countTables
		disp := [NStreams]float64{}
		disp[s] = sp.Dispersion
		mu := make([]float64, NStreams)
		mu[s] = mean
		t.build(mu, &disp)
		if t.walk(s, toThreshold(1-countSlack), false) >= maxCount || t.err != nil {
			errs = append(errs, fmt.Errorf("stream %s: a patient's mean count can reach %.3g a year (the highest rate × frailty multiplier %.3g × need and style %.3g, with room for rate uncertainty and behaviour), and with dispersion %v its distribution does not fit in %d counts: accepted rates, frailty levels, need, style and dispersion that give a most frail, most needy patient a mean count far below that",
				StreamNames[s], mean, hi, pm, sp.Dispersion, maxCount))
		}
	}
	return errors.Join(errs...)
}

// holders returns each practice's holder index: its consortium's (numbered
// after the practices, in Model.Groups order) or its own.
func holders(m *Model) []int {
	group := map[string]int{}
	for g, name := range m.Groups() {
		group[name] = len(m.Practices) + g
	}
	out := make([]int, len(m.Practices))
	for i := range m.Practices {
		out[i] = i
		if g := m.Practices[i].Group; g != "" {
			out[i] = group[g]
		}
	}
	return out
}

// capitation returns the capitation target for practice i with cell counts n.
func (p *prepared) capitation(i int, n *[NCells]int32) float64 {
	if p.formula != nil {
		return p.formula.target(i, n) * p.capScale
	}
	t := 0.0
	for c := range NCells {
		t += float64(n[c]) * p.capWeight[c]
	}
	return t * p.needAdj[i] * p.capScale
}

// ExpectedSpend returns the model's expected spend per stream for practice i
// with its starting list, frailty at its stationary mean.
func (m *Model) ExpectedSpend(i int) [NStreams]float64 {
	var out [NStreams]float64
	pr := &m.Practices[i]
	for s := range NStreams {
		sp := &m.Streams[s]
		mult := pr.Style[s] * math.Pow(pr.StreamNeed(Stream(s)), sp.NeedElasticity)
		mc := sp.MeanCost()
		for sex := range NSex {
			for b := range NBands {
				out[s] += float64(pr.Count[sex][b]) * sp.Rate[sex][b] * mult * mc
			}
		}
	}
	return out
}

// appendJoinAlias appends practice pr's joiners' alias table over cells
// (weights: its list's counts by cell) to dst. A practice without patients
// has no joiners; its table picks cell 0.
func appendJoinAlias(dst []uint64, pr *Practice, sc *aliasScratch) []uint64 {
	var w [NCells]float64
	for c := range NCells {
		w[c] = float64(pr.Count[c/NBands][c%NBands])
	}
	if pr.ListSize() == 0 {
		w[0] = 1
	}
	return appendAlias(dst, w[:], sc)
}
