// Package riskcurve answers the question users bring to a risk-sharing
// contract: how large must a budget holder be before chance stops
// dominating? For each holder size it simulates many holders of that size
// under a scenario's benchmark and rules, with no real change in how they
// work, and measures how much their spend varies by chance, how often the
// contract rewards luck or punishes bad luck, how often it rewards a real
// 2% saving, and the minimum savings rate that would hold false rewards to
// 5% (DeLia et al., Health Services and Outcomes Research Methodology 2013;
// the Medicare sliding scale, 42 CFR 425.604(b), is its regulatory
// answer). Every figure has its Monte Carlo standard error.
//
// Risk is a surprise: every figure is measured against the scenario's
// benchmark, built from what the commissioner could know in that world,
// and at the priors' point values. What the modeller does not know (the
// priors) is not the holder's risk: it is shown as an interval, false
// reward's 10th and 90th percentiles across draws of the priors.
package riskcurve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// DefaultSizes are the holder sizes measured by default (people): a small
// practice, a large one, Bachmann & Bevan's 30,000, a neighbourhood
// (50,000), Jones's 100,000, a multi-neighbourhood provider (250,000) and
// whole populations ([ref §5, §8]).
var DefaultSizes = []int{5000, 10000, 30000, 50000, 100000, 250000, 500000, 1000000}

// Holders per size when Options.Holders is 0: enough for AutoPatients
// people, and at least MinHolders.
const (
	AutoPatients = 2_000_000
	MinHolders   = 10
)

// TrueCut is the real saving whose detection power_2pct measures: every
// stream's rate 2% lower from the first contract year.
const TrueCut = 0.02

// Options sets what Run simulates.
type Options struct {
	Sizes   []int  // holder sizes (people); nil: DefaultSizes
	Holders int    // holders of each size; 0: AutoPatients people's worth, at least MinHolders
	Reps    int    // replications (chance worlds) of each size
	Years   int    // contract years per replication; 0: 1
	Seed    uint64 // the run's seed (also fixes each size's holders)
	Workers int    // 0: all cores
	// PatientLevel simulates patient by patient; otherwise cohort mode is
	// used wherever the scenario allows it (not with per-patient truncation
	// or a stop-loss).
	PatientLevel bool
	// PriorDraws is how many draws of the priors give false reward's
	// interval (0: DefaultPriorDraws; negative: none), each run over
	// PriorReps replications (0: a fifth of Reps, at least 10).
	PriorDraws, PriorReps int
	Progress              *sim.Progress
}

// DefaultPriorDraws is how many draws of the priors give false reward's
// interval by default: ten draws place its 10th and 90th percentiles
// between the first and second, and ninth and tenth, of them.
const DefaultPriorDraws = 10

// priorKey keys the prior draws (apart from any run's replications).
const priorKey = 0x7072696f72 // "prior"

// Run measures each size in turn. Each size's holders are drawn once, from
// the scenario's practice distribution with a population seed of their
// own (fixed by Seed and the size), and simulated over Reps replications
// twice with common random numbers: with no real change (every behaviour
// effect 0), and with every stream's rate TrueCut lower from contract year
// 1 (power_2pct). Everyone takes part.
func Run(ctx context.Context, s *scenarios.Scenario, o Options) ([]analysis.RiskCurveRow, error) {
	if o.Reps < 1 {
		return nil, fmt.Errorf("replications %d: accepted 1 or more", o.Reps)
	}
	if o.Years == 0 {
		o.Years = 1
	}
	if o.Years < 1 {
		return nil, fmt.Errorf("years %d: accepted 1 or more", o.Years)
	}
	if o.Holders < 0 {
		return nil, fmt.Errorf("holders %d: accepted 0 (automatic) or more", o.Holders)
	}
	sizes := o.Sizes
	if len(sizes) == 0 {
		sizes = DefaultSizes
	}
	base, err := s.Model(o.Seed)
	if err != nil {
		return nil, err
	}
	threshold := 0.0
	if base.StopLoss.Active() {
		threshold = base.StopLoss.Threshold
	}
	var out []analysis.RiskCurveRow
	for _, size := range sizes {
		h := o.Holders
		if h == 0 {
			h = max(MinHolders, (AutoPatients+size-1)/size)
		}
		r, err := measure(ctx, s, o, size, h, threshold)
		if err != nil {
			return nil, fmt.Errorf("holders of %d people: %w", size, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// popKey keys each size's population seed.
const popKey = 0x72697363 // "risc"

// measure simulates holders of one size.
func measure(ctx context.Context, s *scenarios.Scenario, o Options, size, holders int, threshold float64) (analysis.RiskCurveRow, error) {
	var d sim.Draws
	d.Reseed(sim.Key{Seed: o.Seed ^ popKey, Rep: -1, Practice: size, Year: -3}, sim.PurposePopulation)
	hs, area, err := s.ForHolders(size, holders, d.Uint64(), threshold)
	if err != nil {
		return analysis.RiskCurveRow{}, err
	}
	return measureHolders(ctx, s, hs, o, area)
}

// measureHolders simulates the holders of scenario hs (made from s), as
// area describes them.
func measureHolders(ctx context.Context, s, hs *scenarios.Scenario, o Options, area scenarios.HolderArea) (analysis.RiskCurveRow, error) {
	holders := area.Holders
	prior, err := model(hs, o.Seed, sim.Effect{})
	if err != nil {
		return analysis.RiskCurveRow{}, err
	}
	// The headline figures at the priors' point values: the holder's risk
	// in the world the scenario describes, not the modeller's doubt about
	// which world it is.
	null := prior.Fixing()
	cm, err := model(hs, o.Seed, sim.Effect{Mean: -TrueCut})
	if err != nil {
		return analysis.RiskCurveRow{}, err
	}
	cut := cm.Fixing()
	cohort := !o.PatientLevel && !null.StopLoss.Active()
	run := sim.Options{Seed: o.Seed, FirstRep: 0, LastRep: o.Reps, Years: o.Years, Workers: o.Workers, Progress: o.Progress, Cohort: cohort}
	acc, err := newAccumulator(null, holders, o.Years, o.Reps)
	if err != nil {
		return analysis.RiskCurveRow{}, err
	}
	if err := sim.Run(ctx, null, run, acc); err != nil {
		return analysis.RiskCurveRow{}, err
	}
	pw := &powerSink{a: acc}
	if err := sim.Run(ctx, cut, run, pw); err != nil {
		return analysis.RiskCurveRow{}, err
	}
	row := acc.row()
	row.HolderSize, row.Holders, row.PracticesPerHolder = int64(area.Size), int64(area.Holders), int64(area.PracticesPerHolder)
	row.Replications, row.Years, row.HolderYears = int64(o.Reps), int64(o.Years), int64(o.Reps*o.Years*holders)
	row.Mode = "patient"
	if cohort {
		row.Mode = "cohort"
	}
	row.Power2pct, row.Power2pctSE = pw.power.Mean(), pw.power.SE()
	row.FalseRewardP10, row.FalseRewardP90, row.PriorDraws = math.NaN(), math.NaN(), 0
	if fr, err := priorRewards(ctx, prior, acc, o, cohort); err != nil {
		return analysis.RiskCurveRow{}, err
	} else if len(fr) > 0 {
		slices.Sort(fr)
		row.FalseRewardP10, row.FalseRewardP90 = analysis.Quantile(fr, 0.1), analysis.Quantile(fr, 0.9)
		row.PriorDraws = int64(len(fr))
	}
	row.ScenarioMSR = math.NaN()
	if m, ok := s.MinSavingsRate(1, float64(area.Size)); ok {
		row.ScenarioMSR = m
	}
	row.MedicareMSR = sim.MedicareMSR.At(float64(area.Size))
	return row, nil
}

// priorRewards runs the no-change model at each of o.PriorDraws draws of
// its priors (every uncertain parameter held at the draw's value; draw k is
// replication k of the priors' own seed) over the same replications of
// chance (common random numbers), and returns false reward in each.
func priorRewards(ctx context.Context, m *sim.Model, a *accumulator, o Options, cohort bool) ([]float64, error) {
	draws := o.PriorDraws
	if draws == 0 {
		draws = DefaultPriorDraws
	}
	uncertain := m.Uncertain()
	if draws < 0 || len(uncertain) == 0 {
		return nil, nil
	}
	reps := o.PriorReps
	if reps == 0 {
		reps = max(10, o.Reps/5)
	}
	run := sim.Options{Seed: o.Seed, FirstRep: 0, LastRep: reps, Years: o.Years, Workers: o.Workers, Cohort: cohort}
	var out []float64
	for k := range draws {
		vals, err := sim.ReplicationParams(m, o.Seed^priorKey, k)
		if err != nil {
			return nil, err
		}
		fix := make([]sim.Fixed, len(uncertain))
		for i, pr := range uncertain {
			fix[i] = sim.Fixed{Param: pr.Param, Value: vals[i]}
		}
		pw := &powerSink{a: a}
		if err := sim.Run(ctx, m.Fixing(fix...), run, pw); err != nil {
			return nil, fmt.Errorf("prior draw %d: %w", k+1, err)
		}
		out = append(out, pw.power.Mean())
	}
	return out, nil
}

// model builds the model of holders with every regime's behaviour effects
// set to e on every stream, acting for the whole year (budgets issued in
// week 0), and no substitution between streams: a real change of e and
// nothing else.
func model(s *scenarios.Scenario, seed uint64, e sim.Effect) (*sim.Model, error) {
	m, err := s.Model(seed)
	if err != nil {
		return nil, err
	}
	p := m.Policy
	p.SubstitutionAE, p.SubstitutionEmergency = 0, 0
	m.Budget.IssueWeek = 0
	regs := []sim.Regime{p.Start}
	if p.Autonomy != nil {
		regs = append(regs, p.Autonomy.Then)
	}
	for _, r := range regs {
		if eff := r.Effects(); eff != nil {
			for st := range eff {
				eff[st] = e
			}
		}
	}
	if len(m.Groups()) == 0 {
		return nil, errors.New("the scenario's holders did not form")
	}
	return m, nil
}
