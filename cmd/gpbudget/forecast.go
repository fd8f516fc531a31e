package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/gpbudget/gpbudget/internal/forecast"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/urfave/cli/v2"
)

func forecastCommand() *cli.Command {
	o := &forecastOptions{historySource: historySource{reps: 1}}
	return &cli.Command{
		Name:  "forecast",
		Usage: "forecast each practice's spend 1-5 years ahead with predictive quantiles (Parquet and CSV)",
		Description: "Fits the history as 'gpbudget fit' does and writes OUT/forecast.parquet and\n" +
			"OUT/forecast.csv: per practice, stream (and total) and year ahead, the predictive\n" +
			"mean and quantiles (lognormal predictive distribution). The area's trend carries\n" +
			"its average ageing; with --population each practice's own ageing (its age-sex\n" +
			"mix projected on under --scenario's demography and rates) adjusts it. --uplift\n" +
			"applies an annual price uplift to the constant-price forecast.\n\n" + forecast.HistoryColumns,
		Flags: []cli.Flag{
			historyFlag(&o.history),
			replicationFlag(&o.replication, "forecast history `N` when the file has several (default: the first)"),
			scenarioFlag(&o.scenario, "default", "scenario `FILE|NAME` for ageing (and to generate history without --history)"),
			populationFlag(&o.population, "NHS Digital list-size `FILE.csv`: each practice's age-sex mix, for its own ageing"),
			&cli.IntFlag{Name: "horizon", Value: 5, Destination: &o.horizon, Usage: "years ahead `N` (1 to 10)"},
			&cli.Float64Flag{Name: "uplift", Destination: &o.uplift, Usage: "annual price `UPLIFT` (fraction) applied to the forecasts"},
			yearsFlag(&o.years, 5, "without --history: years of history `N`"),
			seedFlag(&o.seed, 1, "without --history: random `SEED`"),
			outFlag(&o.out, "forecast", "output `DIR`"),
		},
		Action: func(c *cli.Context) error { return runForecast(c.Context, o, streamsOf(c)) },
	}
}

// forecastOptions are forecast's flags.
type forecastOptions struct {
	historySource
	replication, horizon int
	uplift               float64
	population, out      string
}

// runForecast fits the history and writes the forecast tables.
func runForecast(ctx context.Context, o *forecastOptions, w streams) error {
	dir, err := outPath("out", o.out)
	if err != nil {
		return err
	}
	hz, up := o.horizon, o.uplift
	if err := inRange("horizon", hz, 1, 10); err != nil {
		return err
	}
	if err := inRange("uplift", up, math.Nextafter(-1, 0), 1); err != nil {
		return err
	}
	type fcResult struct {
		g    *forecast.GroupFit
		rows []forecast.TableRow
	}
	res, err := interruptible(ctx, func() (fcResult, error) {
		recs, err := o.group(ctx, o.replication)
		if err != nil {
			return fcResult{}, err
		}
		g, err := forecast.FitHistory(recs, []int{0, 1, 2, 3, 4, forecast.Total})
		if err != nil {
			return fcResult{}, inputError{err}
		}
		ageing, err := practiceAgeing(o.scenario, o.population, g, hz)
		if err != nil {
			return fcResult{}, err
		}
		return fcResult{g, forecast.Table(g, ageing, hz, up)}, nil
	})
	if err != nil {
		return err
	}
	g, rows := res.g, res.rows
	if err := notInterrupted(ctx, dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return inputError{fmt.Errorf("--out: %w", err)}
	}
	var pq, cs bytes.Buffer
	// A history too short for the full model widens the intervals; the file
	// and the output say so.
	basis := g.Basis()
	meta := map[string]string{"gpbudget.version": version, "gpbudget.interval_basis": "full model"}
	if basis != "" {
		meta["gpbudget.interval_basis"] = basis
	}
	if err := forecast.WriteTableParquet(&pq, rows, meta); err != nil {
		return err
	}
	if err := forecast.WriteTableCSV(&cs, rows); err != nil {
		return err
	}
	for name, b := range map[string][]byte{"forecast.parquet": pq.Bytes(), "forecast.csv": cs.Bytes()} {
		if err := runfolder.WriteFileAtomic(filepath.Join(dir, name), b); err != nil {
			return inputError{fmt.Errorf("--out: %w", err)}
		}
	}
	fmt.Fprintf(w.out, "forecast %d practices x %d quantities x %d years (to %d): %s/forecast.parquet, %s/forecast.csv\n",
		len(g.Practices), forecast.NQuantities, hz, g.LastYear+hz, dir, dir)
	if basis != "" {
		fmt.Fprintf(w.out, "intervals %s\n", basis)
	}
	return nil
}

// practiceAgeing returns each practice's ageing factor relative to the
// area's average ageing (which the fitted trend already carries); all ones
// without --population.
func practiceAgeing(scenario, pop string, g *forecast.GroupFit, hz int) (forecast.Ageing, error) {
	if pop == "" {
		return forecast.NoAgeing(len(g.Practices), hz), nil
	}
	_, m, err := onHistoryPractices(scenario, pop, g)
	if err != nil {
		return nil, err
	}
	return forecast.RelativeAgeing(forecast.AgeingFactors(m, hz)), nil
}
