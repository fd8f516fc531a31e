package rundir

import (
	"context"
	"fmt"

	"github.com/gpbudget/gpbudget/sim"
)

// Paired is a paired comparison's runs: models run with one seed, so they
// share patients and chance events wherever their populations agree (common
// random numbers).
type Paired struct {
	Names   []string // labels, one per model; the first is the baseline
	Models  []*sim.Model
	Seed    uint64
	Reps    int
	Years   int
	Workers int
	// Progress, if set, counts the tasks of every model's run.
	Progress *sim.Progress
	// Cohort simulates practices from group counts (sim.Options.Cohort).
	Cohort bool
}

// Run runs every model in turn, each into its own sink (sinks[k] for
// Models[k]), replications 0 to Reps-1 with the same seed.
func (p *Paired) Run(ctx context.Context, sinks []sim.Sink) error {
	if len(p.Models) < 2 || len(p.Names) != len(p.Models) || len(sinks) != len(p.Models) {
		return fmt.Errorf("compare needs two or more scenarios, each named and with a sink")
	}
	if p.Reps < 2 {
		return fmt.Errorf("compare needs at least 2 replications for standard errors, got %d", p.Reps)
	}
	if p.Progress != nil {
		// Count every model's tasks from the start, so the rate and time
		// left cover the whole comparison.
		for _, m := range p.Models {
			p.Progress.Total.Add(int64(p.Reps * len(m.Practices)))
		}
	}
	for k, m := range p.Models {
		if p.Progress != nil {
			// Run adds its own tasks to Total: take them out of the count made above first.
			p.Progress.Total.Add(-int64(p.Reps * len(m.Practices)))
		}
		err := sim.Run(ctx, m, sim.Options{Seed: p.Seed, FirstRep: 0, LastRep: p.Reps, Years: p.Years, Workers: p.Workers, Progress: p.Progress, Cohort: p.Cohort}, sinks[k])
		if err != nil {
			return fmt.Errorf("scenario %s: %w", p.Names[k], err)
		}
	}
	return nil
}
