package scenarios

import (
	"errors"
	"fmt"
	"math"

	"github.com/gpbudget/gpbudget/sim"
)

// SizedPractice is a practice to build from a scenario's synthetic
// practice distribution: its code, registered list and units (a real
// practice's, as validate-risk builds them). Neighbourhood and ICB may be
// left empty for ModelOfPractices to fill.
type SizedPractice struct {
	ID   string
	List int
	Geo  [sim.NLevels]string // indexed by sim.Level
}

// ModelOfPractices builds s's model (see Model) for a population of the
// given practices: each is drawn from s's synthetic practice distribution
// (age structure and tilt, need, style; explicit practices give their
// pooled age structure and spread of need), with the population seed
// popSeed, then given its list (its drawn age-sex mix scaled to the list,
// largest remainder), code and units. The lists are those at the start of
// budget year 1.
//
// Where practices have a place but no neighbourhood, consecutive
// practices (in the order given) of one place make a neighbourhood of
// population.synthetic.geography.neighbourhood people; where they have a
// region but no ICB, consecutive places of one region make an ICB of
// geography.icb / geography.place places (rounded, at least 1): real
// files of one kind of practice (dispensing ones) show a fraction of a
// place's people, so a people count would make ICBs too wide.
func (s *Scenario) ModelOfPractices(ps []SizedPractice, seed, popSeed uint64) (*sim.Model, error) {
	if len(ps) == 0 {
		return nil, errors.New("no practices to build")
	}
	syn, err := s.practiceDistribution()
	if err != nil {
		return nil, err
	}
	tot, most := 0, 0
	for _, p := range ps {
		if p.List < 1 {
			return nil, fmt.Errorf("practice %s: %d patients: accepted 1 or more", p.ID, p.List)
		}
		tot += p.List
		most = max(most, p.List)
	}
	geo := fillUnits(ps, syn.Geography)
	syn.Practices = len(ps)
	// Lists and units are set below; the draws only need a usable
	// distribution.
	syn.ListSizeMean, syn.ListSizeSD = math.Round(float64(tot)/float64(len(ps))), 0
	syn.MinList, syn.MaxList = 1, max(most, int(syn.ListSizeMean))
	c := *s
	c.Population = Population{Synthetic: &syn, Seed: &popSeed, StyleCorr: s.Population.StyleCorr, ListsAtYearOne: true}
	m, err := c.Model(seed)
	if err != nil {
		return nil, err
	}
	for i := range m.Practices {
		mp := &m.Practices[i]
		share := BySexBand{Male: make([]float64, sim.NBands), Female: make([]float64, sim.NBands)}
		for b := range sim.NBands {
			share.Male[b] = float64(mp.Count[sim.Male][b])
			share.Female[b] = float64(mp.Count[sim.Female][b])
		}
		spec := ApportionList(ps[i].ID, ps[i].List, share)
		copy(mp.Count[sim.Male][:], spec.List.Male)
		copy(mp.Count[sim.Female][:], spec.List.Female)
		mp.ID = ps[i].ID
		mp.Geo = geo[i]
	}
	if err := m.Validate(); err != nil {
		return nil, &Error{File: s.source(), Msg: err.Error()}
	}
	return m, nil
}

// fillUnits returns the practices' units with empty neighbourhoods and
// ICBs filled as ModelOfPractices says. Codes made here are the place's
// or region's code with a number (place/N1, region/I1).
func fillUnits(ps []SizedPractice, g Geography) [][sim.NLevels]string {
	out := make([][sim.NLevels]string, len(ps))
	perICB := 1
	if g.Place > 0 && g.ICB > 0 {
		perICB = max(1, int(math.Round(float64(g.ICB)/float64(g.Place))))
	}
	var place, region string
	held, nbh, places, icb := 0, 0, 0, 0
	for i, p := range ps {
		out[i] = p.Geo
		pl, rg := p.Geo[sim.LevelPlace], p.Geo[sim.LevelRegion]
		newRegion := i == 0 || rg != region
		newPlace := newRegion || pl != place
		if newRegion {
			region, places, icb = rg, 0, 0
		}
		if newPlace {
			place, held, nbh = pl, 0, 0
			if places%perICB == 0 {
				icb++
			}
			places++
		}
		if out[i][sim.LevelNeighbourhood] == "" && pl != "" && g.Neighbourhood > 0 {
			if held == 0 || held >= g.Neighbourhood {
				nbh++
				held = 0
			}
			held += p.List
			out[i][sim.LevelNeighbourhood] = fmt.Sprintf("%s/N%d", pl, nbh)
		}
		if out[i][sim.LevelICB] == "" && rg != "" {
			out[i][sim.LevelICB] = fmt.Sprintf("%s/I%d", rg, icb)
		}
	}
	return out
}
