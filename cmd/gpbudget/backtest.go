package main

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"

	"github.com/gpbudget/gpbudget/internal/forecast"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

func backtestCommand() *cli.Command {
	return &cli.Command{
		Name:  "backtest",
		Usage: "hold out the last year(s) of a spending history, forecast them and score the intervals",
		Description: "With no --history, scores forecasts on histories the engine generates from a\n" +
			"scenario (default: the built-in default), one per replication.\n\n" + forecast.HistoryColumns,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "history", Usage: "spending history `FILE` (.csv or .parquet, or a folder of .parquet)"},
			&cli.StringFlag{Name: "scenario", Value: "default", Usage: "without --history: scenario `FILE|NAME` to generate history from"},
			&cli.IntFlag{Name: "reps", Value: 8, Usage: "without --history: independent histories `N`"},
			&cli.IntFlag{Name: "years", Value: 6, Usage: "without --history: years of history `N` (the last --holdout are held out)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "without --history: random `SEED`"},
			&cli.IntFlag{Name: "holdout", Value: 1, Usage: "held-out years `N`"},
			&cli.Float64Flag{Name: "uplift", Value: math.NaN(), DefaultText: "the area's mean growth", Usage: "naive forecast's annual `UPLIFT` (fraction)"},
			&cli.IntFlag{Name: "workers", Value: runtime.NumCPU(), Usage: "worker goroutines `N` for generating history"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
		},
		Action: func(c *cli.Context) error {
			// Unset, the uplift is the area's mean growth (NaN says so).
			if up := c.Float64("uplift"); c.IsSet("uplift") && !(up > -1 && up <= 1) {
				return badInput("--uplift %v is out of range: accepted -1 (exclusive) to 1, a fraction (0.03 is 3%%)", up)
			}
			res, err := interruptible(c.Context, func() (*forecast.BacktestResult, error) {
				h, err := historyFrom(c)
				if err != nil {
					return nil, err
				}
				res, err := forecast.Backtest(h, c.Int("holdout"), c.Float64("uplift"))
				if err != nil {
					return nil, inputError{err}
				}
				return res, nil
			})
			if err != nil {
				return err
			}
			if c.Bool("json") {
				b, err := json.Marshal(res)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(c.App.Writer, string(b))
				return err
			}
			w := c.App.Writer
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
			return nil
		},
	}
}

// historyFrom reads --history, or generates history with the engine from
// --scenario (and --population, if the command has it).
func historyFrom(c *cli.Context) (*forecast.History, error) {
	if f := c.String("history"); f != "" {
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
	s, err := scenarios.Load(c.String("scenario"))
	if err != nil {
		return nil, inputError{err}
	}
	reps, years := c.Int("reps"), c.Int("years")
	if reps < 1 || years < 2 || years > 50 {
		return nil, badInput("--reps %d, --years %d: accepted reps 1 or more, years 2 to 50", reps, years)
	}
	m, err := s.Model(c.Uint64("seed"))
	if err == nil {
		err = s.CheckRun(m, reps, years)
	}
	if err != nil {
		return nil, inputError{err}
	}
	return forecast.Simulate(c.Context, m, c.Uint64("seed"), reps, years, c.Int("workers"))
}
