package scenarios

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gpbudget/gpbudget/internal/england"
	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/sim"
)

// EnglandPopulation is population.england: England's real practices, built
// in (package england), all of them or one area's.
type EnglandPopulation struct {
	Table string `yaml:"table" json:"table" jsonschema:"enum=2022/23" jsonschema_description:"The built-in table of England's practices: 2022/23 (NHS England's need-weighted populations; OGL v3)."`
	Area  string `yaml:"area,omitempty" json:"area,omitempty" jsonschema_description:"An ICB, place (sub-ICB location), PCN or region code, or a unique part of a name (see 'gpbudget areas'); empty: every practice in England."`
}

// EnglandMinList is the smallest registered list of a practice taken from
// England's table: the 38 practices of 2022/23 with fewer patients (1,014 in
// all: special allocation schemes, safe havens, practices closing) are left
// out, since a list of a few patients empties by chance, and an empty list
// has no budget to measure against.
const EnglandMinList = 100

// englandRefList is the size of the list that stands for England's age-sex
// mix when need indices are set: large enough that rounding to whole
// patients does not matter.
const englandRefList = 10_000_000

// UseEngland makes s's population England's real practices in area (a
// code or a unique part of a name; "" for all of England) with
// EnglandMinList patients or more, as population.england records: each
// practice's registered list, its PCN,
// place, ICB and region as its units at the four levels (their common
// shocks; holders by pcn, place, icb or region), and its need. The lists'
// age-sex mix is imputed: England's structure (population.synthetic's
// age_share, the defaults' where the scenario has none) scaled to each
// list; the need index then gives each practice the expected cost per head
// its need-weighted populations say (general and acute for the hospital
// streams, prescribing for prescribing: UseWeightedPopulations). The
// lists are today's, so they are those at the start of budget year 1.
func (s *Scenario) UseEngland(area string) (england.Area, error) {
	a, _, err := s.useEngland(area, nil)
	return a, err
}

// UseEnglandLists is UseEngland with real age-sex lists: the practices of
// a list-size file (ReadPopulationFile) within area, each given its units
// and need from England's table (matched by code); the file's lists win
// over the imputed ones. Practices of the file outside the area, or not in
// the table, are left out (returned as missing when not in the table); the
// area's practices the file lacks are left out too. The scenario then
// lists its practices (a file's lists are not built in).
func (s *Scenario) UseEnglandLists(area string, file []PracticeSpec) (england.Area, []string, error) {
	return s.useEngland(area, file)
}

func (s *Scenario) useEngland(area string, file []PracticeSpec) (england.Area, []string, error) {
	t, err := england.Load()
	if err != nil {
		return england.Area{}, nil, err
	}
	a := t.England()
	if area != "" {
		if a, err = t.Lookup(area); err != nil {
			return england.Area{}, nil, err
		}
	}
	share := Default().Population.Synthetic.AgeShare
	if sy := s.Population.Synthetic; sy != nil && len(sy.AgeShare.Male) == 20 && len(sy.AgeShare.Female) == 20 {
		share = sy.AgeShare
	}
	lists := map[string]PracticeSpec{}
	var missing []string
	if file != nil {
		in := map[string]bool{}
		for _, p := range t.Practices {
			in[p.Code] = true
		}
		for _, f := range file {
			lists[strings.ToUpper(f.ID)] = f
			if !in[strings.ToUpper(f.ID)] {
				missing = append(missing, f.ID)
			}
		}
	}
	var ps []england.Practice
	for _, p := range t.Select(a) {
		if _, ok := lists[p.Code]; (file == nil && p.Patients >= EnglandMinList) || ok {
			ps = append(ps, p)
		}
	}
	// Neighbours next to each other: by region, ICB, place and PCN, then
	// code, so consecutive practices (consortium.by: population) and
	// consecutive PCNs (pcn_groups) lie together.
	sort.SliceStable(ps, func(i, j int) bool {
		for l := england.Region; l >= england.PCN; l-- {
			if ps[i].Geo[l] != ps[j].Geo[l] {
				return ps[i].Geo[l] < ps[j].Geo[l]
			}
		}
		return ps[i].Code < ps[j].Code
	})
	switch {
	case len(ps) == 0 && file != nil:
		return a, missing, fmt.Errorf("none of the list-size file's practices is in %s %s (%s)", a.Level, a.Code, a.Name)
	case len(ps) == 0:
		return a, nil, fmt.Errorf("%s %s (%s) has no practice of %d patients or more", a.Level, a.Code, a.Name, EnglandMinList)
	}
	specs := make([]PracticeSpec, len(ps))
	ws := make([]nhsdata.WeightedPopulation, len(ps))
	for i, p := range ps {
		sp := &specs[i]
		sp.ID, sp.Need = p.Code, 1
		sp.Neighbourhood, sp.Area, sp.ICB, sp.Region = p.Geo[england.PCN], p.Geo[england.Place], p.Geo[england.ICB], p.Geo[england.Region]
		sp.List.Male, sp.List.Female = apportion(share, p.Patients)
		if f, ok := lists[p.Code]; ok {
			sp.List, sp.Style = f.List, f.Style
		}
		w := &ws[i]
		w.Practice, w.Pop = p.Code, float64(p.Patients)
		for _, c := range []struct{ from, to int }{{england.NeedGeneralAcute, nhsdata.GeneralAcute}, {england.NeedPrescribing, nhsdata.Prescribing}} {
			if v := p.Need[c.from]; !math.IsNaN(v) {
				w.WP[c.to], w.Has[c.to] = v*w.Pop, true
			}
		}
	}
	var ref PracticeSpec
	ref.List.Male, ref.List.Female = apportion(share, englandRefList)
	sy := s.Population.Synthetic
	s.UsePractices(specs)
	// Kept (unused while practices are listed) for its age_share, which
	// imputes the lists again when the scenario is read back.
	s.Population.Synthetic = sy
	s.UseWeightedPopulations(ws, []PracticeSpec{ref})
	s.Population.England = &EnglandPopulation{Table: england.Year, Area: a.Code}
	if file != nil {
		// The lists are the file's: the scenario lists its practices.
		s.Population.England = nil
	}
	return a, missing, nil
}

// apportion splits n patients over the 40 sex-band cells in proportion to
// share, by largest remainder (so they sum to n exactly; ties to the
// earlier cell).
func apportion(share BySexBand, n int) (male, female []int) {
	w := append(append([]float64(nil), share.Male...), share.Female...)
	tot := 0.0
	for _, x := range w {
		tot += x
	}
	c := sim.Apportion(n, w, tot)
	return c[:20], c[20:]
}

// expandEngland fills in population.england's practices after a scenario
// is read (a file's or a manifest's): the table is built in, so a
// scenario names it rather than listing 6,554 practices.
func (s *Scenario) expandEngland() error {
	e := s.Population.England
	if e == nil {
		return nil
	}
	if e.Table != england.Year {
		return s.errorf("population.england.table", "%q is not a table: accepted %s", e.Table, england.Year)
	}
	if _, err := s.UseEngland(e.Area); err != nil {
		return s.errorf("population.england.area", "%v", err)
	}
	return nil
}

// ForLevel returns a copy of s whose budget holders are its practices'
// real units at level (pcn, place, icb or region), everyone taking part,
// for measuring the risk real holders face (package riskcurve); a
// contract's truncation at a percentile becomes the amount it is in s's
// own area (threshold), as in ForHolders. The HolderArea gives their
// number and mean size.
func (s *Scenario) ForLevel(level string, threshold float64) (*Scenario, HolderArea, error) {
	l, ok := holderLevels[level]
	if !ok {
		return nil, HolderArea{}, fmt.Errorf("holders by %q: accepted pcn, place, icb, region", level)
	}
	units := map[string]bool{}
	people := 0
	for _, p := range s.Population.Practices {
		code := [...]string{p.Neighbourhood, p.Area, p.ICB, p.Region}[l]
		if code == "" {
			return nil, HolderArea{}, fmt.Errorf("holders by %s: practice %s has none (accepted with England's real practices: --area or population.england)", level, p.ID)
		}
		units[code] = true
		for b := range 20 {
			people += p.List.Male[b] + p.List.Female[b]
		}
	}
	if len(units) == 0 {
		return nil, HolderArea{}, fmt.Errorf("holders by %s: the scenario lists no practices (accepted with England's real practices: --area or population.england)", level)
	}
	n := len(s.Population.Practices)
	a := HolderArea{Size: people / len(units), Holders: len(units), PracticesPerHolder: (n + len(units)/2) / len(units), List: people / n}
	c := *s
	c.Rule.Participation, c.Rule.MinListSize = 1, 0
	c.Rule.Consortium = Consortium{By: level, NamePrefix: "H"}
	if ct := s.Contract; ct != nil && ct.Truncation != nil && ct.Truncation.Percentile > 0 {
		kc := *ct
		tr := *ct.Truncation
		tr.Amount, tr.Percentile = threshold, 0
		kc.Truncation = &tr
		c.Contract = &kc
	}
	return &c, a, nil
}

// pcnGroups forms consortium.by: pcn_groups: whole PCNs (neighbourhood
// units), taken in the practices' order, grouped within each place until a
// group reaches target_population; a place's last group smaller than half
// the target joins the one before it in that place. Groups are named
// name_prefix and a number. A PCN straddling two places goes with its first
// practice's.
func (s *Scenario) pcnGroups(ps []sim.Practice) error {
	target, prefix := s.Rule.Consortium.TargetPopulation, s.groupPrefix()
	people := map[string]int{}
	var places []string
	pcns := map[string][]string{} // place -> its PCNs in order
	for i := range ps {
		p := &ps[i]
		code, place := p.Geo[sim.LevelNeighbourhood], p.Geo[sim.LevelPlace]
		if code == "" {
			return s.errorf("rule.consortium.by", "is pcn_groups but practice %s has no PCN: accepted with practices that have one (population.england, practices' neighbourhood code, or population.synthetic.geography)", p.ID)
		}
		if _, ok := people[code]; !ok {
			if _, ok := pcns[place]; !ok {
				places = append(places, place)
			}
			pcns[place] = append(pcns[place], code)
		}
		people[code] += p.ListSize()
	}
	group := map[string]int{}
	g := 0
	for _, place := range places {
		first, n := g+1, 0
		for _, code := range pcns[place] {
			if n == 0 || n >= target {
				g, n = g+1, 0
			}
			group[code] = g
			n += people[code]
		}
		if n < target/2 && g > first {
			// The place's last group is small: it joins the one before.
			for _, code := range pcns[place] {
				if group[code] == g {
					group[code] = g - 1
				}
			}
			g--
		}
	}
	for i := range ps {
		ps[i].Group = fmt.Sprintf("%s%03d", prefix, group[ps[i].Geo[sim.LevelNeighbourhood]])
	}
	return nil
}
