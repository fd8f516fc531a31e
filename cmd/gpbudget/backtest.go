package main

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/gpbudget/gpbudget/internal/forecast"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

func backtestCommand() *cli.Command {
	o := &backtestOptions{}
	return &cli.Command{
		Name:  "backtest",
		Usage: "hold out the last year(s) of a spending history, forecast them and score the intervals",
		Description: "With no --history, scores forecasts on histories the engine generates from a\n" +
			"scenario (default: the built-in default), one per replication.\n\n" + forecast.HistoryColumns,
		Flags: []cli.Flag{
			historyFlag(&o.history),
			scenarioFlag(&o.scenario, "default", "without --history: scenario `FILE|NAME` to generate history from"),
			repsFlag(&o.reps, 8, "without --history: independent histories `N`"),
			yearsFlag(&o.years, 6, "without --history: years of history `N` (the last --holdout are held out)"),
			seedFlag(&o.seed, 1, "without --history: random `SEED`"),
			&cli.IntFlag{Name: "holdout", Value: 1, Destination: &o.holdout, Usage: "held-out years `N`"},
			&cli.Float64Flag{Name: "uplift", Value: math.NaN(), Destination: &o.uplift, DefaultText: "the area's mean growth", Usage: "naive forecast's annual `UPLIFT` (fraction)"},
			workersFlag(&o.workers, allCores, "worker goroutines `N` for generating history"),
			jsonFlag(&o.json, "print one JSON object"),
		},
		Action: func(c *cli.Context) error {
			o.set = givenOf(c)
			return runBacktest(c.Context, o, streamsOf(c))
		},
	}
}

// backtestOptions are backtest's flags.
type backtestOptions struct {
	historySource
	holdout int
	uplift  float64 // NaN unless given: the area's mean growth
	json    bool
	set     given
}

// runBacktest holds out the history's last years, forecasts them and
// scores the intervals.
func runBacktest(ctx context.Context, o *backtestOptions, w streams) error {
	if up := o.uplift; o.set["uplift"] && !(up > -1 && up <= 1) {
		return badInput("--uplift %v is out of range: accepted -1 (exclusive) to 1, a fraction (0.03 is 3%%)", up)
	}
	res, err := interruptible(ctx, func() (*forecast.BacktestResult, error) {
		h, err := o.load(ctx)
		if err != nil {
			return nil, err
		}
		res, err := forecast.Backtest(h, o.holdout, o.uplift)
		if err != nil {
			return nil, inputError{err}
		}
		return res, nil
	})
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(w.out, res)
	}
	printBacktest(w.out, res)
	return nil
}

func printBacktest(w io.Writer, res *forecast.BacktestResult) {
	fmt.Fprintf(w, "%d forecasts of practices' total spend (%d histories, %d held-out year(s); mean spend £%.0f)\n", res.Forecasts, res.Groups, res.Holdout, res.MeanSpend)
	fmt.Fprintf(w, "interval coverage: 50%% %.3f   80%% %.3f   95%% %.3f  (binomial SE %.3f, %.3f, %.3f)\n", res.Coverage50, res.Coverage80, res.Coverage95, res.Coverage50SE, res.Coverage80SE, res.Coverage95SE)
	fmt.Fprintf(w, "model forms (histories): spend %v, list %v\n", res.SpendModel, res.ListModel)
	fmt.Fprintf(w, "model:  MAE £%.0f   CRPS £%.0f\n", res.MAE, res.CRPS)
	fmt.Fprintf(w, "naive (last year + %.2f%% uplift):  MAE £%.0f   CRPS £%.0f\n", 100*res.NaiveUplift, res.NaiveMAE, res.NaiveCRPS)
	if res.ListForecasts > 0 {
		fmt.Fprintf(w, "%d forecasts of practices' list size (mean %.0f)\n", res.ListForecasts, res.MeanList)
		fmt.Fprintf(w, "interval coverage: 50%% %.3f   80%% %.3f   95%% %.3f  (binomial SE %.3f, %.3f, %.3f)\n", res.ListCoverage50, res.ListCoverage80, res.ListCoverage95, res.ListCoverage50SE, res.ListCoverage80SE, res.ListCoverage95SE)
		fmt.Fprintf(w, "model:  MAE %.0f   CRPS %.0f patients\n", res.ListMAE, res.ListCRPS)
		fmt.Fprintf(w, "naive (last year + %.2f%% uplift):  MAE %.0f   CRPS %.0f patients\n", 100*res.ListNaiveUplift, res.ListNaiveMAE, res.ListNaiveCRPS)
	}
}

// historySource is where fit, forecast and backtest get a history: the
// file --history, or history the engine generates from --scenario (reps
// independent histories of years; fit and forecast take one).
type historySource struct {
	history, scenario string
	reps, years       int
	seed              uint64
	workers           int // 0: forecast.Simulate's default
}

// load reads --history, or generates history with the engine.
func (o *historySource) load(ctx context.Context) (*forecast.History, error) {
	if f := o.history; f != "" {
		h, err := forecast.ReadHistory(f)
		if err != nil {
			return nil, inputError{err}
		}
		// Years are written as 32-bit integers (forecasts add up to 10).
		for _, r := range h.Records {
			if r.Year < 0 || r.Year > 9999 {
				return nil, badInput("%s: practice %s, year %d is out of range: accepted 0 to 9999 (a calendar year such as 2009, or a run's budget year)", f, r.Practice, r.Year)
			}
		}
		return h, nil
	}
	s, err := scenarios.Load(o.scenario)
	if err != nil {
		return nil, inputError{err}
	}
	if o.reps < 1 || o.years < 2 || o.years > maxYears {
		return nil, badInput("--reps %d, --years %d: accepted reps 1 or more, years 2 to %d", o.reps, o.years, maxYears)
	}
	m, err := s.Model(o.seed)
	if err == nil {
		err = s.CheckRun(m, o.reps, o.years)
	}
	if err != nil {
		return nil, inputError{err}
	}
	return forecast.Simulate(ctx, m, o.seed, o.reps, o.years, o.workers)
}

// group loads the history and returns its group id (-1: the first).
func (o *historySource) group(ctx context.Context, id int) ([]forecast.Record, error) {
	h, err := o.load(ctx)
	if err != nil {
		return nil, err
	}
	recs := h.Group(id)
	if len(recs) == 0 {
		return nil, badInput("--replication %d: no such history in the file", id)
	}
	return recs, nil
}
