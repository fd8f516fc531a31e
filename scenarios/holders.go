package scenarios

import (
	"errors"
	"fmt"
	"math"

	"github.com/gpbudget/gpbudget/sim"
)

// HolderArea describes an area made of equal budget holders, for measuring
// how risk falls with a holder's size (package riskcurve).
type HolderArea struct {
	Size               int // people per holder: PracticesPerHolder x List
	Holders            int
	PracticesPerHolder int
	List               int // patients per practice (Size mod PracticesPerHolder of them one more)
}

// ForHolders returns a copy of s whose population is holders budget
// holders of exactly size people each, everyone taking part: each holder is k
// practices of size/k patients, the remainder spread one a practice (k the nearest whole number of the
// scenario's mean list size in size, at least 1), drawn from the scenario's
// synthetic practice distribution (age structure and tilt, need; explicit
// practices give their pooled age structure and spread of need) with the
// population seed popSeed, and grouped into one holder. A contract's
// truncation at a percentile becomes the amount it is at in s's own area
// (threshold, from s's model), so every size is measured against the same
// point.
func (s *Scenario) ForHolders(size, holders int, popSeed uint64, threshold float64) (*Scenario, HolderArea, error) {
	if size < 1 || holders < 1 {
		return nil, HolderArea{}, fmt.Errorf("holders of %d people, %d of them: accepted 1 or more of each", size, holders)
	}
	syn, err := s.practiceDistribution()
	if err != nil {
		return nil, HolderArea{}, err
	}
	k := max(1, int(math.Round(float64(size)/syn.ListSizeMean)))
	k = min(k, size)
	list := size / k
	a := HolderArea{Size: size, Holders: holders, PracticesPerHolder: k, List: list}
	if a.Holders*k > s.Limits.Practices {
		return nil, a, fmt.Errorf("%d holders of %d practices is %d practices, more than the limit of %d (limits.practices)", holders, k, holders*k, s.Limits.Practices)
	}
	syn.Practices = holders * k
	// Each holder exactly size people: size mod k of its practices one
	// patient larger than the rest.
	syn.Lists = make([]int, holders*k)
	for i := range syn.Lists {
		syn.Lists[i] = list
		if i%k < size%k {
			syn.Lists[i]++
		}
	}
	syn.ListSizeMean, syn.ListSizeSD, syn.MinList, syn.MaxList = float64(size)/float64(k), 0, list, list+1
	syn.IDPrefix = "P"
	c := *s
	c.Population = Population{Synthetic: &syn, Seed: &popSeed}
	c.Rule.Participation, c.Rule.MinListSize = 1, 0
	c.Rule.Consortium = Consortium{By: "population", TargetPopulation: a.Size, NamePrefix: "H"}
	if ct := s.Contract; ct != nil && ct.Truncation != nil && ct.Truncation.Percentile > 0 {
		kc := *ct
		tr := *ct.Truncation
		tr.Amount, tr.Percentile = threshold, 0
		kc.Truncation = &tr
		c.Contract = &kc
	}
	return &c, a, nil
}

// practiceDistribution is the scenario's synthetic practice distribution,
// or one made from its explicit practices: their pooled age structure, mean
// list and spread of need (log-SD), with the default age tilt.
func (s *Scenario) practiceDistribution() (SyntheticPractices, error) {
	ps := s.Population.Practices
	if len(ps) == 0 {
		if s.Population.Synthetic == nil {
			return SyntheticPractices{}, errors.New("the scenario has no practices")
		}
		syn := *s.Population.Synthetic
		return syn, nil
	}
	syn := *Default().Population.Synthetic
	syn.AgeShare = BySexBand{Male: make([]float64, sim.NBands), Female: make([]float64, sim.NBands)}
	n, sl, sl2 := 0.0, 0.0, 0.0
	for _, p := range ps {
		for b := range sim.NBands {
			syn.AgeShare.Male[b] += float64(p.List.Male[b])
			syn.AgeShare.Female[b] += float64(p.List.Female[b])
			n += float64(p.List.Male[b] + p.List.Female[b])
		}
		l := math.Log(p.Need)
		sl += l
		sl2 += l * l
	}
	np := float64(len(ps))
	syn.ListSizeMean = n / np
	syn.NeedSD = math.Sqrt(math.Max(0, sl2/np-(sl/np)*(sl/np)))
	return syn, nil
}

// MinSavingsRate is a contract's minimum savings rate in contract year y
// for a holder of pop people, and whether the scenario is a contract.
func (s *Scenario) MinSavingsRate(y int, pop float64) (float64, bool) {
	if s.Rule.Type != "shared_savings" {
		return 0, false
	}
	r := s.contract().regime().TermsIn(y).MSR
	return r.At(pop), true
}
