package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gpbudget/gpbudget/forecast"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/urfave/cli/v2"
)

// forecastRow is one practice, quantity and year ahead. Money in pounds.
type forecastRow struct {
	PracticeID string  `parquet:"practice_id,dict"`
	Stream     string  `parquet:"stream,dict"`
	Year       int32   `parquet:"year"`
	Horizon    int32   `parquet:"horizon"`
	ListSize   float64 `parquet:"list_size"`
	Mean       float64 `parquet:"mean"`
	Q025       float64 `parquet:"q025"`
	Q05        float64 `parquet:"q05"`
	Q10        float64 `parquet:"q10"`
	Q25        float64 `parquet:"q25"`
	Q50        float64 `parquet:"q50"`
	Q75        float64 `parquet:"q75"`
	Q90        float64 `parquet:"q90"`
	Q95        float64 `parquet:"q95"`
	Q975       float64 `parquet:"q975"`
	LogMean    float64 `parquet:"log_mean"`
	LogSD      float64 `parquet:"log_sd"`
}

var forecastProbs = []float64{0.025, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.975}

func forecastCommand() *cli.Command {
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
			&cli.StringFlag{Name: "history", Usage: "spending history `FILE` (.csv or .parquet, or a folder of .parquet)"},
			&cli.IntFlag{Name: "replication", Value: -1, Usage: "forecast history `N` when the file has several (default: the first)"},
			&cli.StringFlag{Name: "scenario", Value: "default", Usage: "scenario `FILE|NAME` for ageing (and to generate history without --history)"},
			&cli.StringFlag{Name: "population", Usage: "NHS Digital list-size `FILE.csv`: each practice's age-sex mix, for its own ageing"},
			&cli.IntFlag{Name: "horizon", Value: 5, Usage: "years ahead `N` (1 to 10)"},
			&cli.Float64Flag{Name: "uplift", Usage: "annual price `UPLIFT` (fraction) applied to the forecasts"},
			&cli.IntFlag{Name: "reps", Value: 1, Hidden: true},
			&cli.IntFlag{Name: "years", Value: 5, Usage: "without --history: years of history `N`"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "without --history: random `SEED`"},
			&cli.IntFlag{Name: "workers", Value: 0, Hidden: true},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "forecast", Usage: "output `DIR`"},
		},
		Action: func(c *cli.Context) error {
			hz := c.Int("horizon")
			if hz < 1 || hz > 10 {
				return badInput("--horizon %d is out of range: accepted 1 to 10", hz)
			}
			up := c.Float64("uplift")
			if up <= -1 || up > 1 || math.IsNaN(up) {
				return badInput("--uplift %v is out of range: accepted -1 (exclusive) to 1", up)
			}
			h, err := historyFrom(c)
			if err != nil {
				return err
			}
			recs := pickGroup(h, c.Int("replication"))
			if len(recs) == 0 {
				return badInput("--replication %d: no such history in the file", c.Int("replication"))
			}
			g, err := forecast.FitHistory(recs, []int{0, 1, 2, 3, 4, forecast.Total})
			if err != nil {
				return inputError{err}
			}
			ageing, err := practiceAgeing(c, g, hz)
			if err != nil {
				return err
			}
			var rows []forecastRow
			for i, id := range g.Practices {
				for q := range forecast.NQuantities {
					if !g.Forecasts(i, q) {
						continue // not in the history, or no spend on it in the practice's last year
					}
					for k := 1; k <= hz; k++ {
						mu, sd := g.Predictive(i, q, k)
						mu += math.Log(ageing[i][k-1][q]) + float64(k)*math.Log1p(up)
						r := forecastRow{PracticeID: id, Stream: forecast.QuantityName(q), Year: int32(g.LastYear + k), Horizon: int32(k),
							Mean: math.Exp(mu + sd*sd/2), LogMean: mu, LogSD: sd}
						if g.PerHead {
							r.ListSize = math.Round(g.LastList[i] * math.Exp(float64(k)*g.ListGrowth))
						}
						qs := []*float64{&r.Q025, &r.Q05, &r.Q10, &r.Q25, &r.Q50, &r.Q75, &r.Q90, &r.Q95, &r.Q975}
						for j, p := range forecastProbs {
							*qs[j] = forecast.LogNormalQuantile(mu, sd, p)
						}
						rows = append(rows, r)
					}
				}
			}
			dir := c.String("out")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return inputError{fmt.Errorf("--out: %w", err)}
			}
			if err := writeForecastParquet(filepath.Join(dir, "forecast.parquet"), rows); err != nil {
				return err
			}
			if err := writeForecastCSV(filepath.Join(dir, "forecast.csv"), rows); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "forecast %d practices x %d quantities x %d years (to %d): %s/forecast.parquet, %s/forecast.csv\n",
				len(g.Practices), forecast.NQuantities, hz, g.LastYear+hz, dir, dir)
			return nil
		},
	}
}

// practiceAgeing returns each practice's ageing factor relative to the
// area's average ageing (which the fitted trend already carries); all ones
// without --population.
func practiceAgeing(c *cli.Context, g *forecast.GroupFit, hz int) ([][][forecast.NQuantities]float64, error) {
	out := make([][][forecast.NQuantities]float64, len(g.Practices))
	for i := range out {
		out[i] = make([][forecast.NQuantities]float64, hz)
		for k := range hz {
			for q := range forecast.NQuantities {
				out[i][k][q] = 1
			}
		}
	}
	pop := c.String("population")
	if pop == "" {
		return out, nil
	}
	s, err := scenarios.Load(c.String("scenario"))
	if err != nil {
		return nil, inputError{err}
	}
	specs, err := practiceSpecs(pop, g, s)
	if err != nil {
		return nil, err
	}
	s.UsePractices(specs)
	m, err := s.Model(s.Seed)
	if err != nil {
		return nil, inputError{err}
	}
	f := forecast.AgeingFactors(m, hz)
	np := float64(len(f))
	for k := range hz {
		for q := range forecast.NQuantities {
			lm := 0.0
			for i := range f {
				lm += math.Log(f[i][k][q]) / np
			}
			for i := range f {
				out[i][k][q] = f[i][k][q] / math.Exp(lm)
			}
		}
	}
	return out, nil
}

// writeForecastParquet writes under a temporary name and renames when
// complete, so a partial file never looks like a result.
func writeForecastParquet(path string, rows []forecastRow) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return inputError{fmt.Errorf("--out: %w", err)}
	}
	w := parquet.NewGenericWriter[forecastRow](f, parquet.Compression(&zstd.Codec{}))
	if _, err := w.Write(rows); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := w.Close(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func writeForecastCSV(path string, rows []forecastRow) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return inputError{fmt.Errorf("--out: %w", err)}
	}
	cw := csv.NewWriter(f)
	_ = cw.Write([]string{"practice_id", "stream", "year", "horizon", "list_size", "mean", "q025", "q05", "q10", "q25", "q50", "q75", "q90", "q95", "q975", "log_mean", "log_sd"})
	ff := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	for _, r := range rows {
		_ = cw.Write([]string{r.PracticeID, r.Stream, strconv.Itoa(int(r.Year)), strconv.Itoa(int(r.Horizon)), ff(r.ListSize), ff(r.Mean),
			ff(r.Q025), ff(r.Q05), ff(r.Q10), ff(r.Q25), ff(r.Q50), ff(r.Q75), ff(r.Q90), ff(r.Q95), ff(r.Q975),
			strconv.FormatFloat(r.LogMean, 'f', 6, 64), strconv.FormatFloat(r.LogSD, 'f', 6, 64)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
