package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gpbudget/gpbudget/internal/forecast"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
)

func fitCommand() *cli.Command {
	o := &fitOptions{historySource: historySource{reps: 1}}
	return &cli.Command{
		Name:  "fit",
		Usage: "estimate practice effects and stream rates from a spending history and write a scenario",
		Description: "Fits, for each stream, log spend per head = area level + trend + practice effect\n" +
			"(shrunk towards the area mean) + a persistent (AR(1)) year effect, by REML. The\n" +
			"scenario written is --scenario with each stream's rates scaled to the area's\n" +
			"level, style_sd set to the fitted spread of practice effects, and the history's\n" +
			"practices listed with their fitted styles; 'gpbudget run --scenario OUT' runs it.\n" +
			"Without --history it fits history the engine generates (one replication).\n\n" + forecast.HistoryColumns,
		Flags: []cli.Flag{
			historyFlag(&o.history),
			replicationFlag(&o.replication, "fit this history `N` when the file has several (default: the first)"),
			scenarioFlag(&o.scenario, "default", "base scenario `FILE|NAME` (costs, frailty, demography; also generates history without --history)"),
			populationFlag(&o.population, "NHS Digital list-size `FILE.csv` with the practices' age-sex lists (default: last list size spread by the area's age mix)"),
			yearsFlag(&o.years, 5, "without --history: years of history `N`"),
			seedFlag(&o.seed, 1, "without --history: random `SEED`"),
			outFlag(&o.out, "fitted.yaml", "scenario `FILE` to write (- for standard output)"),
		},
		Action: func(c *cli.Context) error { return runFit(c.Context, o, streamsOf(c)) },
	}
}

// fitOptions are fit's flags.
type fitOptions struct {
	historySource
	replication     int
	population, out string
}

// runFit fits the history and writes the fitted scenario.
func runFit(ctx context.Context, o *fitOptions, w streams) error {
	out, err := outFile("out", o.out, o.history, o.scenario, o.population)
	if err != nil {
		return err
	}
	type fitResult struct {
		sum  string
		yaml []byte
	}
	res, err := interruptible(ctx, func() (fitResult, error) {
		recs, err := o.group(ctx, o.replication)
		if err != nil {
			return fitResult{}, err
		}
		g, err := forecast.FitHistory(recs, []int{0, 1, 2, 3, 4})
		if err != nil {
			return fitResult{}, inputError{err}
		}
		b, err := fittedScenario(g, o.scenario, o.population)
		if err != nil {
			return fitResult{}, err
		}
		var sum strings.Builder
		g.WriteSummary(&sum, len(recs))
		return fitResult{sum.String(), b}, nil
	})
	if err != nil {
		return err
	}
	text := append([]byte(res.sum), res.yaml...)
	if out == "-" {
		_, err = w.out.Write(text)
		return err
	}
	if err := notInterrupted(ctx, out); err != nil {
		return err
	}
	if err := runfolder.WriteFileAtomic(out, text); err != nil {
		return inputError{fmt.Errorf("--out: %w", err)}
	}
	fmt.Fprint(w.err, res.sum)
	fmt.Fprintf(w.err, "wrote %s\n", out)
	return nil
}

// fittedScenario is scenario ref calibrated to the fit g (forecast.Calibrate,
// scenarios.Scenario.Calibrate) on the history's practices, as YAML that
// validates.
func fittedScenario(g *forecast.GroupFit, ref, population string) ([]byte, error) {
	base, m, err := onHistoryPractices(ref, population, g)
	if err != nil {
		return nil, err
	}
	cal := forecast.Calibrate(g, m)
	// Streams the history lacks keep drawn styles.
	base.Calibrate(cal.RateScale, cal.StyleSD, cal.Styles(), g.Fitted())
	base.Name = "fitted"
	base.Description = fmt.Sprintf("Fitted by gpbudget fit to %d practices' history (years to %d) on base scenario %s.", len(g.Practices), g.LastYear, ref)
	b, err := base.YAML()
	if err != nil {
		return nil, err
	}
	if _, err := scenarios.Parse(b, "fitted scenario"); err != nil {
		return nil, fmt.Errorf("the fitted scenario does not validate: %w", err)
	}
	return b, nil
}

// onHistoryPractices is scenario ref with the fitted history's practices
// as its population (scenarios.HistoryPractices: their lists from the file
// population, or their last list sizes), and its model.
func onHistoryPractices(ref, population string, g *forecast.GroupFit) (*scenarios.Scenario, *sim.Model, error) {
	s, err := scenarios.Load(ref)
	if err != nil {
		return nil, nil, inputError{err}
	}
	var lists []float64
	if g.PerHead {
		lists = g.LastList
	}
	specs, err := s.HistoryPractices(g.Practices, lists, population)
	if errors.Is(err, scenarios.ErrNoListSize) {
		return nil, nil, badInput("the history has no list_size: give --population FILE.csv with the practices' lists")
	}
	if err != nil {
		return nil, nil, inputError{err}
	}
	s.UsePractices(specs)
	m, err := s.Model(s.Seed)
	if err != nil {
		return nil, nil, inputError{err}
	}
	return s, m, nil
}
