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
package riskcurve

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// DefaultSizes are the holder sizes measured by default (people): a small
// practice, a large one, Bachmann & Bevan's 30,000, a neighbourhood
// (50,000), Jones's 100,000, a multi-neighbourhood provider (250,000) and
// whole populations (shared/reference/README.md sections 5 and 8).
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
	Progress     *sim.Progress
}

// Row is one holder size's figures. Proportions and rates are fractions;
// each has its Monte Carlo standard error beside it (_se).
type Row struct {
	HolderSize         int64   `parquet:"holder_size"`          // people per holder
	Holders            int64   `parquet:"holders"`              // holders of this size in each replication
	PracticesPerHolder int64   `parquet:"practices_per_holder"` // practices making up a holder
	Replications       int64   `parquet:"replications"`
	Years              int64   `parquet:"years"`
	HolderYears        int64   `parquet:"holder_years"` // holders x replications x years
	Mode               string  `parquet:"mode"`         // cohort or patient
	CV                 float64 `parquet:"cv"`           // SD of a holder's annual (measured) spend by chance / mean
	CVSE               float64 `parquet:"cv_se"`
	MeanSavingsRate    float64 `parquet:"mean_savings_rate"` // mean of (benchmark - spend) / benchmark: the benchmark's bias
	MeanSavingsRateSE  float64 `parquet:"mean_savings_rate_se"`
	POver5             float64 `parquet:"p_over_5"` // P(spend > 1.05 x benchmark)
	POver5SE           float64 `parquet:"p_over_5_se"`
	PUnder5            float64 `parquet:"p_under_5"` // P(spend < 0.95 x benchmark)
	PUnder5SE          float64 `parquet:"p_under_5_se"`
	Reserve95          float64 `parquet:"reserve_95"` // 95th percentile of (spend - benchmark) / benchmark
	Reserve95SE        float64 `parquet:"reserve_95_se"`
	FalseReward        float64 `parquet:"false_reward"` // P(rewarded | no real change)
	FalseRewardSE      float64 `parquet:"false_reward_se"`
	FalsePenalty       float64 `parquet:"false_penalty"` // P(penalised | no real change)
	FalsePenaltySE     float64 `parquet:"false_penalty_se"`
	Power2pct          float64 `parquet:"power_2pct"` // P(rewarded | a true 2% cut)
	Power2pctSE        float64 `parquet:"power_2pct_se"`
	MSRFor5pct         float64 `parquet:"msr_for_5pct_false_reward"` // 95th percentile of the savings rate
	MSRFor5pctSE       float64 `parquet:"msr_for_5pct_false_reward_se"`
	ScenarioMSR        float64 `parquet:"scenario_msr"` // the scenario's own MSR in contract year 1 at this size (NaN: not a contract)
	MedicareMSR        float64 `parquet:"medicare_msr"` // the Medicare sliding scale at this size
}

// Run measures each size in turn. Each size's holders are drawn once, from
// the scenario's practice distribution with a population seed of their
// own (fixed by Seed and the size), and simulated over Reps replications
// twice with common random numbers: with no real change (every behaviour
// effect 0), and with every stream's rate TrueCut lower from contract year
// 1 (power_2pct). Everyone takes part.
func Run(ctx context.Context, s *scenarios.Scenario, o Options) ([]Row, error) {
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
	var out []Row
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
func measure(ctx context.Context, s *scenarios.Scenario, o Options, size, holders int, threshold float64) (Row, error) {
	var d sim.Draws
	d.Reseed(sim.Key{Seed: o.Seed ^ popKey, Rep: -1, Practice: size, Year: -3}, sim.PurposePopulation)
	hs, area, err := s.ForHolders(size, holders, d.Uint64(), threshold)
	if err != nil {
		return Row{}, err
	}
	null, err := model(hs, o.Seed, sim.Effect{})
	if err != nil {
		return Row{}, err
	}
	cut, err := model(hs, o.Seed, sim.Effect{Mean: -TrueCut})
	if err != nil {
		return Row{}, err
	}
	cohort := !o.PatientLevel && !null.StopLoss.Active()
	run := sim.Options{Seed: o.Seed, FirstRep: 0, LastRep: o.Reps, Years: o.Years, Workers: o.Workers, Progress: o.Progress, Cohort: cohort}
	acc := newAccumulator(null, holders, o.Years, o.Reps)
	if err := sim.Run(ctx, null, run, acc); err != nil {
		return Row{}, err
	}
	pw := &powerSink{a: acc}
	if err := sim.Run(ctx, cut, run, pw); err != nil {
		return Row{}, err
	}
	row := acc.row()
	row.HolderSize, row.Holders, row.PracticesPerHolder = int64(area.Size), int64(area.Holders), int64(area.PracticesPerHolder)
	row.Replications, row.Years, row.HolderYears = int64(o.Reps), int64(o.Years), int64(o.Reps*o.Years*holders)
	row.Mode = "patient"
	if cohort {
		row.Mode = "cohort"
	}
	row.Power2pct, row.Power2pctSE = pw.power.mean(), pw.power.se()
	row.ScenarioMSR = math.NaN()
	if m, ok := s.MinSavingsRate(1, float64(area.Size)); ok {
		row.ScenarioMSR = m
	}
	row.MedicareMSR = sim.MedicareMSR.At(float64(area.Size))
	return row, nil
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
