package rundir

import (
	"errors"

	"github.com/gpbudget/gpbudget/sim"
)

// OneWay sets p's models to a one-way sensitivity analysis of m: first the
// base (every uncertain parameter held at its point value), then, for each
// uncertain parameter (m.Uncertain), m with it held at its prior's lo
// quantile and at its hi quantile, every other at its point value. Run with
// one seed (p.Run), the models share their chance draws, so each
// difference from the base is the parameter's. It returns the parameters'
// ranges, in the order of the models after the base (low, high, low, ...).
func (p *Paired) OneWay(m *sim.Model, lo, hi float64) ([]sim.OneWay, error) {
	ranges := m.OneWays(lo, hi)
	if len(ranges) == 0 {
		return nil, errors.New("the model has no uncertain parameter: give parameters priors (uncertainty.priors) for a sensitivity analysis")
	}
	p.Names, p.Models = []string{"base"}, []*sim.Model{m.Fixing()}
	for _, r := range ranges {
		name := r.Prior.Param.String()
		p.Names = append(p.Names, name+" low", name+" high")
		p.Models = append(p.Models, m.Fixing(sim.Fixed{Param: r.Prior.Param, Value: r.Low}), m.Fixing(sim.Fixed{Param: r.Prior.Param, Value: r.High}))
	}
	return ranges, nil
}
