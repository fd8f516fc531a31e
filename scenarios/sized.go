package scenarios

import (
	"fmt"
	"math"

	"github.com/gpbudget/gpbudget/sim"
)

// SizedPractice is a practice to build from a scenario's synthetic
// practice distribution: its code, registered list and geography (a real
// practice's, as validate-risk builds them).
type SizedPractice struct {
	ID            string
	List          int
	Place, Region string // e.g. CCG and NHS England region codes
}

// ModelOfPractices builds s's model (see Model) for a population of the
// given practices: each is drawn from s's synthetic practice distribution
// (age structure and tilt, need, style; explicit practices give their
// pooled age structure and spread of need), with the population seed
// popSeed, then given its list (its drawn age-sex mix scaled to the list,
// largest remainder), code and geography. The lists are those at the start
// of budget year 1.
func (s *Scenario) ModelOfPractices(ps []SizedPractice, seed, popSeed uint64) (*sim.Model, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("no practices to build")
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
	syn.Practices = len(ps)
	// Lists are set below; the draws only need a usable distribution.
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
		var share BySexBand
		for sex := range sim.NSex {
			v := make([]float64, sim.NBands)
			for b := range sim.NBands {
				v[b] = float64(mp.Count[sex][b])
			}
			if sex == int(sim.Male) {
				share.Male = v
			} else {
				share.Female = v
			}
		}
		spec := ApportionList(ps[i].ID, ps[i].List, share)
		copy(mp.Count[sim.Male][:], spec.List.Male)
		copy(mp.Count[sim.Female][:], spec.List.Female)
		mp.ID = ps[i].ID
		setGeo(mp, ps[i].Place, ps[i].Region)
	}
	if err := m.Validate(); err != nil {
		return nil, &Error{File: s.source(), Msg: err.Error()}
	}
	return m, nil
}

// setGeo places a practice: its place shares place shocks, its region
// region shocks.
func setGeo(p *sim.Practice, place, region string) {
	p.Area = place
	_ = region
}
