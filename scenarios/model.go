package scenarios

import (
	"errors"
	"fmt"

	"github.com/gpbudget/gpbudget/sim"
	"go.yaml.in/yaml/v3"
)

// budgetMethods are the budget.method values.
var budgetMethods = []string{"capitation", "historic", "blend"}

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
//
// The population is checked against s.Limits before anything is built from
// it (practices and lists may have changed since Parse: a population file,
// a command-line override), and the model is checked as the engine will use
// it (sim.Model.Validate), so a model Model returns does not fail at run time
// on anything the scenario says.
func (s *Scenario) Model(seed uint64) (*sim.Model, error) {
	if s.ChanceOnly {
		s = s.chanceOnly()
	}
	c := &checker{file: s.source()}
	c.checkExplicit(s.Population.Practices, s.Limits)
	if sy := s.Population.Synthetic; len(s.Population.Practices) == 0 && sy != nil && sy.Practices > s.Limits.Practices {
		c.fail("population.synthetic.practices", "%d is more than the limit of %d: "+limitsHelp, sy.Practices, s.Limits.Practices, "practices")
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
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
	m.ListsAtYearOne = s.Population.ListsAtYearOne
	styleCorr := sim.Exchangeable(s.Population.StyleCorr)
	if s.Population.StyleCorr == 0 {
		styleCorr = sim.Corr{}
	}
	m.Lists = s.Lists.model()
	popSeed := seed
	if s.Population.Seed != nil {
		popSeed = *s.Population.Seed
	}
	if len(s.Population.Practices) > 0 {
		for i, ps := range s.Population.Practices {
			p := sim.Practice{ID: ps.ID, Need: ps.Need, Group: ps.Group}
			p.Geo = [sim.NLevels]string{ps.Neighbourhood, ps.Area, ps.ICB, ps.Region}
			copy(p.Count[sim.Male][:], ps.List.Male)
			copy(p.Count[sim.Female][:], ps.List.Female)
			// Styles not given are drawn, fixed per scenario and seed.
			var d sim.Draws
			d.Reseed(sim.Key{Seed: popSeed, Rep: -1, Practice: i, Year: -2}, sim.PurposePopulation)
			var zs [sim.NStreams]float64
			if err := sim.Correlate(&d, &styleCorr, &zs); err != nil {
				return nil, s.errorf("population.style_correlation", "%v", err)
			}
			for st := range sim.NStreams {
				z := zs[st]
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
			MinList: sy.MinList, MaxList: sy.MaxList, Lists: sy.Lists, AgeShare: bySexBand(sy.AgeShare),
			AgeTiltSD: sy.AgeTiltSD, NeedSD: sy.NeedSD, NeedOwn: 1 - sy.NeedCorr, IDPrefix: sy.IDPrefix,
			StyleCorr: styleCorr,
		}
		ps, err := syn.Generate(popSeed, styleSD)
		if err != nil {
			return nil, s.errorf("population.synthetic", "%v", err)
		}
		m.Practices = ps
	}
	m.Budget = sim.Budget{Setter: s.Budget.setter(), TopSlice: s.Budget.TopSlice, IssueWeek: s.Budget.IssueWeek, Project: s.Budget.Project}
	if s.Budget.Trend == "realised" {
		m.Budget.Trend = sim.TrendRealised
	}
	if k := s.contract(); s.Rule.Type == "shared_savings" && k.Benchmark != nil {
		m.Budget.Setter, m.Budget.Project = k.Benchmark.setter(), false
	}
	if s.Budget.Weights != nil {
		w := bySexBand(*s.Budget.Weights)
		m.Budget.Weights = &w
	}
	m.Policy = s.policy()
	if err := s.checkBuilt(m.Practices); err != nil {
		return nil, err
	}
	if err := s.group(m.Practices); err != nil {
		return nil, err
	}
	if sl := s.StopLoss; sl != nil {
		x := &sim.StopLoss{Threshold: sl.Threshold, Uprating: sl.Uprating}
		for _, n := range sl.Streams {
			if i := streamIndex(n); i >= 0 {
				x.Streams[i] = true
			}
		}
		m.StopLoss = x
	}
	if err := s.buildRisk(m, popSeed); err != nil {
		return nil, err
	}
	if s.Rule.Consortium.By == "pcn_groups" {
		if err := s.pcnGroups(m.Practices); err != nil {
			return nil, err
		}
	}
	if l, ok := holderLevels[s.Rule.Consortium.By]; ok {
		// The real structure, once the geography is known: each
		// practice's unit at the level holds the budget (a PCN a
		// neighbourhood, a place or an ICB a larger provider), named by
		// its code.
		for i := range m.Practices {
			p := &m.Practices[i]
			if p.Geo[l] == "" {
				return nil, s.errorf("rule.consortium.by", "is %s but practice %s has no %s: accepted with practices that have one (population.england, practices' %s code, or population.synthetic.geography)",
					s.Rule.Consortium.By, p.ID, s.Rule.Consortium.By, sim.LevelNames[l])
			}
			p.Group = p.Geo[l]
		}
	}
	if k := s.contract(); s.Rule.Type == "shared_savings" && k.Truncation != nil {
		x, err := k.truncation(m, popSeed)
		if err != nil {
			return nil, s.errorf("contract.truncation", "%v", err)
		}
		m.StopLoss = x
	}
	if err := m.Validate(); err != nil {
		return nil, &Error{File: s.source(), Msg: err.Error()}
	}
	return m, nil
}

// YAML renders the resolved scenario (every default filled in; the
// contract section only for a contract).
func (s *Scenario) YAML() ([]byte, error) {
	c := *s
	if c.Rule.Type != "shared_savings" {
		c.Contract = nil
	}
	if c.Population.England != nil {
		// The practices come from the built-in table (expandEngland).
		c.Population.Practices = nil
	}
	return yaml.Marshal(&c)
}

// setter is the engine's budget-setting step for budget.method.
func (b *Budget) setter() sim.BudgetSetter {
	hist := sim.HistoricBudget{Years: b.HistoricYears, Uplift: b.Uplift, Lag: b.Lag}
	switch b.Method {
	case "historic":
		return hist
	case "blend":
		return sim.BlendBudget{HistoricBudget: hist, Pace: b.Pace}
	}
	return sim.CapitationBudget{}
}

// policy builds the engine's budget policy from the rule and behaviour
// sections: the regime engaged practices start in (rule.type), its deficit
// policy, and earned autonomy's hard budget.
func (s *Scenario) policy() *sim.Policy {
	r := &s.Rule
	eff := func(e RegimeEffects) (out [sim.NStreams]sim.Effect) {
		out[sim.Outpatient] = sim.Effect{Mean: e.Outpatient.Mean, SD: e.Outpatient.SD}
		out[sim.Prescribing] = sim.Effect{Mean: e.Prescribing.Mean, SD: e.Prescribing.SD}
		out[sim.Elective] = sim.Effect{Mean: e.Elective.Mean, SD: e.Elective.SD}
		return out
	}
	p := &sim.Policy{
		Participation:         r.Participation,
		MinList:               r.MinListSize,
		SubstitutionAE:        s.Behaviour.SubstitutionAE,
		SubstitutionEmergency: s.Behaviour.SubstitutionEmergency,
	}
	hard := &sim.Hard{RetentionShare: r.RetentionShare, Deficits: r.deficits(), Behaviour: eff(s.Behaviour.Hard)}
	p.Incentive = s.Incentive.engine()
	switch r.Type {
	case "shared_savings":
		p.Start = s.contract().regime()
	case "hard":
		p.Start = hard
	case "fundholding":
		f := &sim.Fundholding{Hard: *hard}
		for _, n := range r.CoveredStreams {
			if i := streamIndex(n); i >= 0 {
				f.Cover[i] = true
			}
		}
		p.Start = f
	default:
		ind := &sim.Indicative{
			RetentionShare:   r.RetentionShare,
			MakeUpOverspends: r.MakeUpOverspends,
			RefuseInDeficit:  r.RefuseInDeficit,
			Behaviour:        eff(s.Behaviour.Indicative),
		}
		if bc := r.BusinessCase; bc.Required {
			ind.BusinessCase = &sim.BusinessCase{ApprovalProb: bc.ApprovalProb, TurnaroundWeeks: bc.TurnaroundWeeks, LapseWeeks: bc.LapseWeeks}
		}
		p.Start = ind
		if a := r.EarnedAutonomy; a.Years > 0 {
			p.Autonomy = &sim.EarnedAutonomy{Years: a.Years, Band: a.Band, Then: hard}
		}
	}
	return p
}

// deficits is the hard budgets' deficit policy: a risk pool (pool_share),
// or deficits repaid over repay_years or from later underspends; with a
// deficit_cap, what lies beyond the cap is written off.
func (r *Rule) deficits() sim.DeficitPolicy {
	if r.PoolShare > 0 {
		return sim.RiskPool{Share: r.PoolShare}
	}
	var d sim.DeficitPolicy = sim.RepayFromUnderspends{}
	if r.RepayYears > 0 {
		d = sim.RepayOverYears{Years: r.RepayYears}
	}
	if r.DeficitCap > 0 {
		d = sim.WriteOffAbove{Cap: r.DeficitCap, Then: d}
	}
	return d
}

// holderLevels are the geographic levels consortia can be formed by.
var holderLevels = map[string]sim.Level{"pcn": sim.LevelNeighbourhood, "place": sim.LevelPlace, "icb": sim.LevelICB, "region": sim.LevelRegion}

// group sets the practices' budget-holding groups for consortia: "supplied"
// keeps the population's group fields, "population" groups consecutive
// practices (in list order, standing in for neighbours) until each group
// reaches the target population; a remainder smaller than half the target
// joins the last group.
func (s *Scenario) group(ps []sim.Practice) error {
	switch s.Rule.Consortium.By {
	case "none":
		for i := range ps {
			ps[i].Group = ""
		}
	case "all":
		for i := range ps {
			ps[i].Group = s.groupPrefix() + "001"
		}
	case "population":
		target := s.Rule.Consortium.TargetPopulation
		prefix := s.groupPrefix()
		g, n := 1, 0
		start := 0
		for i := range ps {
			ps[i].Group = fmt.Sprintf("%s%03d", prefix, g)
			n += ps[i].ListSize()
			if n >= target {
				g, n, start = g+1, 0, i+1
			}
		}
		if n > 0 && n < target/2 && g > 1 {
			for i := start; i < len(ps); i++ {
				ps[i].Group = fmt.Sprintf("%s%03d", prefix, g-1)
			}
		}
	case "supplied":
		for i := range ps {
			if ps[i].Group == "" {
				return s.errorf("rule.consortium.by", "is supplied but practice %s has no group: accepted a group for every practice", ps[i].ID)
			}
		}
	}
	return nil
}
