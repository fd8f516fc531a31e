package sim

import (
	"fmt"
	"math"
)

// list is one practice's patients in structure-of-arrays form, owned by a
// worker for the span of one (replication, practice) task.
type list struct {
	sex   []uint8
	age   []uint8
	state []uint8
	row   []uint16 // (cell*K + state): the patient's row in the tables
	cells [NCells]int32
}

func (l *list) reset() {
	l.sex, l.age, l.state, l.row = l.sex[:0], l.age[:0], l.state[:0], l.row[:0]
	l.cells = [NCells]int32{}
}

func (l *list) add(sex, age, state, K int) {
	c := CellOf(sex, age)
	l.sex = append(l.sex, uint8(sex))
	l.age = append(l.age, uint8(age))
	l.state = append(l.state, uint8(state))
	l.row = append(l.row, uint16(c*K+state))
	l.cells[c]++
}

// worker holds everything one goroutine reuses across tasks, so the hot
// loop allocates nothing once buffers have grown.
type worker struct {
	p      *prepared
	counts Draws
	costs  Draws
	demo   Draws
	other  Draws
	tab    countTables
	mu     []float64
	pop    list
	ages   []uint8 // scratch for the fixed starting ages
}

// yearOut is what simulating one practice-year yields.
type yearOut struct {
	listSize int
	target   float64 // capitation target at the start of the year
	spend    [NStreams]float64
	events   [NStreams]int
	stopLoss float64 // cost above the per-patient stop-loss threshold
}

// stateOf draws a frailty state from the stationary distribution.
func (w *worker) stateOf(d *Draws) int {
	u := d.Float64()
	f := &w.p.m.Frailty
	cum := 0.0
	for k, s := range f.Share {
		cum += s
		if u < cum {
			return k
		}
	}
	return len(f.Share) - 1
}

// initList builds the starting list of practice i: ages within band are fixed
// for the scenario and seed (the practice's characteristics), frailty states
// are chance and drawn per replication.
func (w *worker) initList(seed uint64, rep, i int) {
	pr := &w.p.m.Practices[i]
	K := w.p.k
	w.pop.reset()
	w.other.Reseed(seed, PurposeAges, -1, i, -1)
	w.demo.Reseed(seed, PurposeInitial, rep, i, -1)
	for sex := range NSex {
		for b := range NBands {
			for range pr.Count[sex][b] {
				age := 5*b + int(w.other.G.Uint64()%5)
				if b == NBands-1 {
					age = 95 + int(w.other.G.Uint64()%10)
				}
				w.pop.add(sex, age, w.stateOf(&w.demo), K)
			}
		}
	}
}

// buildTables sets the count tables for practice i with per-stream rate
// multipliers mult (replication uncertainty, behaviour).
func (w *worker) buildTables(i int, mult *[NStreams]float64) {
	p := w.p
	K := p.k
	n := NCells * K * NStreams
	w.mu = grow(w.mu, n)
	var disp [NStreams]float64
	for s := range NStreams {
		disp[s] = p.m.Streams[s].Dispersion
	}
	for c := range NCells {
		sex, b := c/NBands, c%NBands
		for k := range K {
			for s := range NStreams {
				w.mu[(c*K+k)*NStreams+s] = p.m.Streams[s].Rate[sex][b] * p.pmult[i][s] * mult[s] * p.frailMult[s][k]
			}
		}
	}
	w.tab.build(w.mu, &disp)
}

// simulateYear draws one year of events and costs for the current list. It is
// the hot loop: one uniform per patient per stream from the counts stream,
// cost draws only for patients with events.
func (w *worker) simulateYear(sl *StopLoss, out *yearOut) {
	t := &w.tab
	rows := w.pop.row
	out.listSize = len(rows)
	g := &w.counts.G
	var covered [NStreams]bool
	threshold := math.Inf(1)
	if sl != nil && sl.Threshold > 0 {
		covered, threshold = sl.Streams, sl.Threshold
	}
	for i := range rows {
		base := int(rows[i]) * NStreams
		pc := 0.0
		for s := range NStreams {
			u := g.Uint64()
			r := base + s
			if u < t.zero[r] {
				continue
			}
			k := t.sample(r, u)
			c := w.cost(s, k)
			out.events[s] += k
			out.spend[s] += c
			if covered[s] {
				pc += c
			}
		}
		if pc > threshold {
			out.stopLoss += pc - threshold
		}
	}
}

// cost draws the total cost of k events of stream s from the costs stream.
func (w *worker) cost(s, k int) float64 {
	cs := &w.p.cost[s]
	d := &w.costs
	if cs.family == GammaSum {
		if cs.shape == 0 {
			return float64(k) * cs.mean[0]
		}
		return d.Gamma(float64(k)*cs.shape) * cs.scale
	}
	total := 0.0
	for range k {
		j := 0
		if len(cs.cum) > 1 {
			u := d.Float64()
			for j < len(cs.cum)-1 && u >= cs.cum[j] {
				j++
			}
		}
		if cs.sigma[j] == 0 {
			total += cs.mean[j]
		} else {
			total += math.Exp(cs.mu[j] + cs.sigma[j]*d.Norm())
		}
	}
	return total
}

// advance moves the list on a year: frailty transitions, deaths and leavers
// (one uniform per patient), ageing, then births and new registrations.
func (w *worker) advance(seed uint64, rep, i, year int) {
	p := w.p
	K := p.k
	l := &w.pop
	d := &w.demo
	d.Reseed(seed, PurposeDemography, rep, i, year)
	women := 0
	n := len(l.row)
	start := n
	for j := 0; j < n; {
		row := p.trans[l.row[j]]
		u := d.Uint64()
		next := 0
		for next < K+1 && u >= row[next] {
			next++
		}
		c := int(l.row[j]) / K
		if next >= K { // died or left: swap-remove
			l.cells[c]--
			n--
			l.sex[j], l.age[j], l.state[j], l.row[j] = l.sex[n], l.age[n], l.state[n], l.row[n]
			continue
		}
		age := int(l.age[j])
		if age < MaxAge {
			age++
		}
		sex := int(l.sex[j])
		nc := CellOf(sex, age)
		l.cells[c]--
		l.cells[nc]++
		l.age[j], l.state[j], l.row[j] = uint8(age), uint8(next), uint16(nc*K+next)
		if sex == Female && age >= 15 && age <= 44 {
			women++
		}
		j++
	}
	l.sex, l.age, l.state, l.row = l.sex[:n], l.age[:n], l.state[:n], l.row[:n]
	dm := &p.m.Demography
	j := &w.other
	j.Reseed(seed, PurposeJoiners, rep, i, year)
	births := j.Poisson(dm.BirthRate * float64(women))
	for range births {
		sex := Female
		if j.Float64() < dm.MaleBirthShare {
			sex = Male
		}
		l.add(sex, 0, w.stateOf(j), K)
	}
	joiners := j.Poisson(dm.Turnover * float64(start))
	cdf := &p.joinCDF[i]
	for range joiners {
		u := j.Float64()
		c := 0
		for c < NCells-1 && u >= cdf[c] {
			c++
		}
		sex, b := c/NBands, c%NBands
		age := 5*b + int(j.G.Uint64()%5)
		if b == NBands-1 {
			age = 95 + int(j.G.Uint64()%10)
		}
		l.add(sex, age, w.stateOf(j), K)
	}
}

// checkFinite guards against a parameter combination that slipped past
// validation and produced non-finite money.
func checkFinite(rep, practice int, id string, y *yearOut) error {
	for s, v := range y.spend {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("replication %d, practice %s (#%d), stream %s: spend is %v", rep, id, practice, StreamNames[s], v)
		}
	}
	return nil
}
