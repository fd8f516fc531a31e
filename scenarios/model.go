package scenarios

import (
	"fmt"

	"github.com/gpbudget/gpbudget/sim"
	"go.yaml.in/yaml/v3"
)

var budgetMethods = sim.BudgetMethodNames

func streamList() []string { return sim.StreamNames[:] }

func streamIndex(name string) int {
	for i, n := range sim.StreamNames {
		if n == name {
			return i
		}
	}
	return -1
}

func (s *Streams) all() [sim.NStreams]*Stream {
	return [sim.NStreams]*Stream{&s.Outpatient, &s.Prescribing, &s.AE, &s.Emergency, &s.Elective}
}

func bySexBand(v BySexBand) (out [sim.NSex][sim.NBands]float64) {
	copy(out[sim.Male][:], v.Male)
	copy(out[sim.Female][:], v.Female)
	return out
}

// Model builds the engine's model for a run with the given seed (the seed
// also fixes a synthetic population unless population.seed is set).
func (s *Scenario) Model(seed uint64) (*sim.Model, error) {
	m := &sim.Model{Name: s.Name}
	var styleSD [sim.NStreams]float64
	for i, st := range s.Streams.all() {
		sp := sim.StreamParams{
			Rate:              bySexBand(st.Rate),
			Dispersion:        st.Dispersion,
			FrailtyLoading:    st.FrailtyLoading,
			NeedElasticity:    st.NeedElasticity,
			StyleSD:           st.StyleSD,
			RateUncertaintySD: st.RateUncertaintySD,
		}
		if st.Cost.Family == "gamma" {
			sp.Family = sim.GammaSum
		}
		for _, p := range st.Cost.Parts {
			sp.Cost = append(sp.Cost, sim.CostPart{Name: p.Name, Share: p.Share, Mean: p.Mean, CV: p.CV})
		}
		m.Streams[i] = sp
		styleSD[i] = st.StyleSD
	}
	m.Frailty = sim.Frailty{Share: s.Frailty.Share, Level: s.Frailty.Level, Persistence: s.Frailty.Persistence, Mortality: s.Frailty.Mortality}
	m.Demography = sim.Demography{
		Mortality:      bySexBand(s.Demography.Mortality),
		BirthRate:      s.Demography.BirthRate,
		MaleBirthShare: s.Demography.MaleBirthShare,
		Turnover:       s.Demography.Turnover,
	}
	popSeed := seed
	if s.Population.Seed != nil {
		popSeed = *s.Population.Seed
	}
	if len(s.Population.Practices) > 0 {
		for i, ps := range s.Population.Practices {
			p := sim.Practice{ID: ps.ID, Need: ps.Need, Group: ps.Group}
			copy(p.Count[sim.Male][:], ps.List.Male)
			copy(p.Count[sim.Female][:], ps.List.Female)
			// Styles not given are drawn, fixed per scenario and seed.
			var d sim.Draws
			d.Reseed(popSeed, sim.PurposePopulation, -1, i, -2)
			for st := range sim.NStreams {
				z := d.Norm()
				if v, ok := ps.Style[sim.StreamNames[st]]; ok {
					p.Style[st] = v
				} else {
					sd := styleSD[st]
					p.Style[st] = sim.ExpMeanOne(sd, z)
				}
			}
			m.Practices = append(m.Practices, p)
		}
	} else {
		sy := s.Population.Synthetic
		syn := sim.Synthetic{
			Practices: sy.Practices, ListMean: sy.ListSizeMean, ListSD: sy.ListSizeSD,
			MinList: sy.MinList, MaxList: sy.MaxList, AgeShare: bySexBand(sy.AgeShare),
			AgeTiltSD: sy.AgeTiltSD, NeedSD: sy.NeedSD, IDPrefix: sy.IDPrefix,
		}
		ps, err := syn.Generate(popSeed, styleSD)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: population: %w", s.Name, err)
		}
		m.Practices = ps
	}
	m.Budget = sim.Budget{Method: budgetMethods[s.Budget.Method], Uplift: s.Budget.Uplift, Pace: s.Budget.Pace}
	if s.Budget.Weights != nil {
		w := bySexBand(*s.Budget.Weights)
		m.Budget.Weights = &w
	}
	switch s.Rule.Type {
	case "hard":
		m.Rule = sim.Hard{RetentionShare: s.Rule.RetentionShare}
	default:
		m.Rule = sim.Indicative{RetentionShare: s.Rule.RetentionShare}
	}
	if sl := s.StopLoss; sl != nil {
		x := &sim.StopLoss{Threshold: sl.Threshold}
		for _, n := range sl.Streams {
			if i := streamIndex(n); i >= 0 {
				x.Streams[i] = true
			}
		}
		m.StopLoss = x
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	return m, nil
}

// YAML renders the resolved scenario (every default filled in).
func (s *Scenario) YAML() ([]byte, error) { return yaml.Marshal(s) }
