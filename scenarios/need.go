package scenarios

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/sim"
)

// A practice's need from NHS England's need-weighted populations. A
// component's weighted population over its population is the practice's
// expected cost per head relative to England's (age, sex and need together:
// the weights sum to England's population), so England's age-sex expected
// cost per head under the scenario's rates and costs, times that ratio, is
// what the practice's expected cost per head should be. Hospital streams
// (outpatient, A&E, emergency and elective) take the general and acute
// component, prescribing the prescribing component. The need index is the
// one that gives the practice's own age-sex list that expected cost, each
// stream's rates times need^need_elasticity (the engine's model), found by
// bisection (the cost rises with need). England's age-sex mix is that of
// every practice in the population file (NHS Digital's files cover England;
// a smaller file stands for its own area).

// NeedReport says what UseWeightedPopulations did.
type NeedReport struct {
	Matched int
	// Missing are the practices the file has no usable row for (absent, no
	// population, or no general-and-acute or prescribing figure): their
	// need index stays 1, England's average beyond age and sex.
	Missing []string
	// Clamped are practices whose need fell outside what a scenario
	// accepts (1e-6 to 100), set to the nearer bound.
	Clamped []string
}

// costPerHead is a list's expected cost per head by stream at need 1.
func (s *Scenario) costPerHead(male, female []int) (out [sim.NStreams]float64, n float64) {
	for st, x := range s.Streams.all() {
		mc := 0.0
		for _, p := range x.Cost.Parts {
			mc += p.Share * p.Mean
		}
		for b := range 20 {
			out[st] += (float64(male[b])*x.Rate.Male[b] + float64(female[b])*x.Rate.Female[b]) * mc
		}
	}
	for b := range 20 {
		n += float64(male[b] + female[b])
	}
	for st := range out {
		out[st] /= math.Max(n, 1)
	}
	return out, n
}

// englandCost is England's age-sex expected cost per head at need 1,
// hospital streams and prescribing, over the practices of england.
func (s *Scenario) englandCost(england []PracticeSpec) (hospital, prescribing float64) {
	pop := 0.0
	for _, p := range england {
		c, n := s.costPerHead(p.List.Male, p.List.Female)
		for st, v := range c {
			if st == int(sim.Prescribing) {
				prescribing += v * n
			} else {
				hospital += v * n
			}
		}
		pop += n
	}
	return hospital / pop, prescribing / pop
}

// needCost is a practice's expected cost per head at need index need,
// hospital streams and prescribing, from its cost per head at need 1.
func (s *Scenario) needCost(c [sim.NStreams]float64, need float64) (hospital, prescribing float64) {
	for st, x := range s.Streams.all() {
		v := c[st] * math.Pow(need, x.NeedElasticity)
		if st == int(sim.Prescribing) {
			prescribing += v
		} else {
			hospital += v
		}
	}
	return hospital, prescribing
}

// UseWeightedPopulations sets each explicit practice's need index, and its
// ICB and region where it has none, from a need-weighted population file's
// rows, matched by practice code; england
// is the practices whose age-sex mix stands for England's (see above).
func (s *Scenario) UseWeightedPopulations(ws []nhsdata.WeightedPopulation, england []PracticeSpec) NeedReport {
	var rep NeedReport
	hN, pN := s.englandCost(england)
	byCode := map[string]*nhsdata.WeightedPopulation{}
	for i := range ws {
		w := &ws[i]
		if w.Pop > 0 && w.Has[nhsdata.GeneralAcute] && w.Has[nhsdata.Prescribing] && w.WP[nhsdata.GeneralAcute] > 0 && w.WP[nhsdata.Prescribing] > 0 {
			byCode[strings.ToUpper(w.Practice)] = w
		}
	}
	for i := range s.Population.Practices {
		p := &s.Population.Practices[i]
		w, ok := byCode[strings.ToUpper(p.ID)]
		if !ok {
			p.Need = 1
			rep.Missing = append(rep.Missing, p.ID)
			continue
		}
		rep.Matched++
		// The file's ICB and region are the practice's units at those
		// levels (for their common shocks), where it has none.
		if p.ICB == "" {
			p.ICB = w.ICB
		}
		if p.Region == "" {
			p.Region = w.Region
		}
		target := hN*w.WP[nhsdata.GeneralAcute]/w.Pop + pN*w.WP[nhsdata.Prescribing]/w.Pop
		c, _ := s.costPerHead(p.List.Male, p.List.Female)
		cost := func(need float64) float64 { h, q := s.needCost(c, need); return h + q }
		lo, hi := math.Log(1e-6), math.Log(100)
		switch {
		case cost(math.Exp(lo)) >= target:
			p.Need = 1e-6
			rep.Clamped = append(rep.Clamped, p.ID)
		case cost(math.Exp(hi)) <= target:
			p.Need = 100
			rep.Clamped = append(rep.Clamped, p.ID)
		default:
			for range 100 {
				mid := (lo + hi) / 2
				if cost(math.Exp(mid)) < target {
					lo = mid
				} else {
					hi = mid
				}
			}
			p.Need = math.Exp((lo + hi) / 2)
		}
	}
	return rep
}

// WriteWeightedPopulations writes practices' need as NHS England's
// need-weighted population layout (Practice_Code, Patients, G&A WP,
// Prescr WP), the inverse of UseWeightedPopulations with england = ps: so
// `synth` can hand `run --population` the need it drew.
func (s *Scenario) WriteWeightedPopulations(w io.Writer, ps []PracticeSpec) error {
	hN, pN := s.englandCost(ps)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"Practice_Code", "Patients", "G&A WP", "Prescr WP"})
	for _, p := range ps {
		c, n := s.costPerHead(p.List.Male, p.List.Female)
		h, q := s.needCost(c, p.Need)
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', 12, 64) }
		if err := cw.Write([]string{p.ID, strconv.Itoa(int(n)), f(n * h / hN), f(n * q / pN)}); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing need-weighted populations: %w", err)
	}
	return nil
}
