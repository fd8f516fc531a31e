package scenarios

import (
	"fmt"
	"math"

	"github.com/gpbudget/gpbudget/sim"
)

// Lists is list dynamics beyond births, deaths and turnover (sim.ListDynamics):
// a drift that persists, rare jumps, closures and mergers, all measured on
// NHS Payments to General Practice 2014/15-2018/19 (docs/parameters.md,
// "Real-data calibration"; `gpbudget history --calibration` prints every
// figure). Off unless dynamics is true, so that scenarios written before it
// keep their results.
type Lists struct {
	Dynamics          bool       `yaml:"dynamics" json:"dynamics" jsonschema_description:"Switch: true moves lists as measured (the fields below); false (the default) keeps lists to births, deaths and turnover, as before list dynamics existed."`
	Drift             float64    `yaml:"drift" json:"drift" jsonschema:"minimum=-0.5,maximum=0.5" jsonschema_description:"Mean annual log change of a practice's list outside jumps, mergers and closures, from all causes: the engine adds what its demography and closures do not already supply in expectation."`
	DriftYearSD       float64    `yaml:"drift_year_sd" json:"drift_year_sd" jsonschema:"minimum=0,maximum=1" jsonschema_description:"SD of the year's drift about the mean, common to every practice of the area."`
	DriftSD           float64    `yaml:"drift_sd" json:"drift_sd" jsonschema:"minimum=0,maximum=1" jsonschema_description:"SD of a practice's annual log change about the drift, at a list of drift_sd_list (less the spread the engine's demography already gives)."`
	DriftSDList       float64    `yaml:"drift_sd_list" json:"drift_sd_list" jsonschema:"minimum=1" jsonschema_description:"The list at which drift_sd is measured (patients)."`
	DriftSDExponent   float64    `yaml:"drift_sd_exponent" json:"drift_sd_exponent" jsonschema:"minimum=0,maximum=2" jsonschema_description:"The drift's variance scales as (drift_sd_list / list)^exponent."`
	Persistence       float64    `yaml:"persistence" json:"persistence" jsonschema:"minimum=-0.99,maximum=0.99" jsonschema_description:"Share of a practice's last annual change (winsorised at ±persistence_limit, less persistence_centre) carried into this year's drift."`
	PersistenceLimit  float64    `yaml:"persistence_limit" json:"persistence_limit" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Last year's change is winsorised at ± this log change before it carries over."`
	PersistenceCentre float64    `yaml:"persistence_centre" json:"persistence_centre" jsonschema:"minimum=-0.5,maximum=0.5" jsonschema_description:"The winsorised last change that carries nothing over (its mean in the data)."`
	Jumps             []ListJump `yaml:"jumps" json:"jumps" jsonschema_description:"Jump components of the annual log change: in a year a practice jumps with probability, by a normal log change of mean and sd, instead of drifting."`
	JumpLimit         float64    `yaml:"jump_limit" json:"jump_limit" jsonschema:"minimum=0,maximum=2.302585" jsonschema_description:"Every annual log change drawn is kept within ± this (mergers and closures are events of their own)."`
	Leaving           []Leaving  `yaml:"leaving" json:"leaving" jsonschema_description:"Yearly probabilities that a practice closes (patients dispersed to its neighbours) or merges (absorbed by one neighbour), by the band of its starting list; the last band has no list_below."`
	Neighbours        int        `yaml:"neighbours" json:"neighbours" jsonschema:"minimum=1,maximum=50" jsonschema_description:"A closed practice's patients go to this many nearest open practices (in practice order, standing in for geography), in proportion to their lists; a merged practice is absorbed by one of them."`
}

// ListJump is one jump component of the annual list change.
type ListJump struct {
	Probability float64 `yaml:"probability" json:"probability" jsonschema:"minimum=0,maximum=1"`
	Mean        float64 `yaml:"mean" json:"mean" jsonschema:"minimum=-5,maximum=5" jsonschema_description:"Mean log change."`
	SD          float64 `yaml:"sd" json:"sd" jsonschema:"minimum=0,maximum=5" jsonschema_description:"SD of the log change."`
}

// Leaving is one list-size band's yearly closure and merger probabilities.
type Leaving struct {
	ListBelow int     `yaml:"list_below,omitempty" json:"list_below,omitempty" jsonschema:"minimum=0" jsonschema_description:"The band holds starting lists below this (patients) and at or above the previous band's; omitted (0) in the last band."`
	Closure   float64 `yaml:"closure" json:"closure" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Yearly probability of closing, patients dispersed."`
	Merger    float64 `yaml:"merger" json:"merger" jsonschema:"minimum=0,maximum=1" jsonschema_description:"Yearly probability of being absorbed by another practice."`
}

// defaultLists are the measured list dynamics, switched off. Each figure is
// printed by
//
//	gpbudget history --payments payments_1[4-8]-*.csv --out h.csv --calibration
//
// on NHS Digital's NHS Payments to General Practice 2014/15-2018/19 (the
// published files; docs/parameters.md, "Real-data calibration").
func defaultLists() Lists {
	return Lists{
		Dynamics: false,
		// The change mixture (forecast.FitChanges: EM, size exponent
		// profiled, jump components by BIC; persistent and size-scaled form)
		// fitted to the 21,683 annual changes between lists counted at one
		// date (2014/15 to 2017/18), leaving out the changes the engine
		// draws as events of their own: a practice's change in a year it
		// absorbed another (a merger) and the change into a leaver's last
		// year (its list draining away).
		Drift:             0.0113, // mean of the years' drifts (+0.71%, +1.66%, +1.03%)
		DriftYearSD:       0.0048, // SD of the years' drifts beyond sampling error (method of moments; national, so at most a lower bound for one area)
		DriftSD:           0.0193,
		DriftSDList:       6332, // geometric mean list of the changes fitted
		DriftSDExponent:   0.75, // variance ∝ list^-0.75 (profiled on 0, ¼, ..., 1)
		Persistence:       0.565,
		PersistenceLimit:  0.0622, // 2.5 robust SDs of the changes
		PersistenceCentre: 0.0146, // mean of the winsorised last changes
		Jumps: []ListJump{
			{Probability: 0.181, Mean: 0.0391, SD: 0.0645},
			{Probability: 0.0229, Mean: 0.1898, SD: 0.2462},
			// The fit's third, widest component (probability 0.0017, mean
			// -0.82, SD 2.11: lists briefly misreported, mergers and closures
			// the history did not match) is left out, and jump_limit caps
			// what is left.
		},
		// A list halving or doubling in a year outside a merger or
		// closure: 45 of the 21,683 changes (0.21%), about the dropped
		// component's share; in the files these are data errors and
		// unmatched mergers, which the engine draws as mergers.
		JumpLimit: math.Round(math.Log(2)*1e4) / 1e4,
		// Closures (no practice of the commissioner took half the list) and
		// mergers (one did) per practice-year, all four pairs of years, by
		// the list in the year last seen (4,280, 9,196, 9,382 and 7,865
		// practice-years; binomial SEs 0.0024/0.0041, 0.0010/0.0015,
		// 0.0008/0.0008, 0.0006/0.0005).
		Leaving: []Leaving{
			{ListBelow: 3000, Closure: 0.0255, Merger: 0.0778},
			{ListBelow: 6000, Closure: 0.0086, Merger: 0.0199},
			{ListBelow: 10000, Closure: 0.0063, Merger: 0.0054},
			{Closure: 0.0024, Merger: 0.0017},
		},
		// The five practices of a closed practice's commissioner that
		// gained most took (medians) 30%, 12%, 9%, 6% and 5% of its list
		// beyond the year's median growth (266 closures): most of a list
		// goes to about five practices.
		Neighbours: 5,
	}
}

// check validates the lists section (whether or not dynamics is on, so a
// file that switches it on later is already valid).
func (l *Lists) check(c *checker) {
	c.num("lists.drift", l.Drift, -0.5, 0.5)
	c.num("lists.drift_year_sd", l.DriftYearSD, 0, 1)
	c.num("lists.drift_sd", l.DriftSD, 0, 1)
	c.num("lists.drift_sd_list", l.DriftSDList, 1, math.MaxInt32)
	c.num("lists.drift_sd_exponent", l.DriftSDExponent, 0, 2)
	c.num("lists.persistence", l.Persistence, -0.99, 0.99)
	c.num("lists.persistence_limit", l.PersistenceLimit, 0, 1)
	c.num("lists.persistence_centre", l.PersistenceCentre, -0.5, 0.5)
	c.num("lists.jump_limit", l.JumpLimit, 0, math.Log(10))
	p := 0.0
	for k, j := range l.Jumps {
		f := fmt.Sprintf("lists.jumps[%d]", k)
		c.num(f+".probability", j.Probability, 0, 1)
		c.num(f+".mean", j.Mean, -5, 5)
		c.num(f+".sd", j.SD, 0, 5)
		p += j.Probability
	}
	if p > 1 {
		c.fail("lists.jumps", "probabilities sum to %.4g: accepted at most 1", p)
	}
	if len(l.Leaving) == 0 {
		c.fail("lists.leaving", "is empty: accepted one or more bands, the last without list_below (closure: 0, merger: 0 for none)")
	}
	for k, b := range l.Leaving {
		f := fmt.Sprintf("lists.leaving[%d]", k)
		last := k == len(l.Leaving)-1
		switch {
		case last && b.ListBelow != 0:
			c.fail(f+".list_below", "%d in the last band: accepted none (leave it out), so that every list has a band", b.ListBelow)
		case !last && b.ListBelow <= 0:
			c.fail(f+".list_below", "%d: accepted a list size above 0 in every band but the last", b.ListBelow)
		case !last && k > 0 && b.ListBelow <= l.Leaving[k-1].ListBelow:
			c.fail(f+".list_below", "%d is not above the previous band's %d: accepted increasing bounds", b.ListBelow, l.Leaving[k-1].ListBelow)
		}
		c.num(f+".closure", b.Closure, 0, 1)
		c.num(f+".merger", b.Merger, 0, 1)
		if b.Closure+b.Merger > 1 {
			c.fail(f, "closure %v and merger %v sum to more than 1: accepted probabilities summing to at most 1", b.Closure, b.Merger)
		}
	}
	if l.Neighbours < 1 || l.Neighbours > sim.MaxNeighbours {
		c.fail("lists.neighbours", "%d is out of range: accepted 1 to %d", l.Neighbours, sim.MaxNeighbours)
	}
}

// model is the engine's list dynamics; nil when switched off.
func (l *Lists) model() *sim.ListDynamics {
	if !l.Dynamics {
		return nil
	}
	d := &sim.ListDynamics{
		Drift: l.Drift, DriftYearSD: l.DriftYearSD,
		DriftSD: l.DriftSD, DriftSDList: l.DriftSDList, DriftSDExponent: l.DriftSDExponent,
		Persistence: l.Persistence, PersistenceLimit: l.PersistenceLimit, PersistenceCentre: l.PersistenceCentre,
		JumpLimit: l.JumpLimit, Neighbours: l.Neighbours,
	}
	for _, j := range l.Jumps {
		d.Jumps = append(d.Jumps, sim.ListJump{P: j.Probability, Mean: j.Mean, SD: j.SD})
	}
	for _, b := range l.Leaving {
		d.Leaving = append(d.Leaving, sim.LeavingBand{Below: b.ListBelow, Closure: b.Closure, Merger: b.Merger})
	}
	return d
}
