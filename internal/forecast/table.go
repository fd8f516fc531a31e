package forecast

import (
	"fmt"
	"io"
	"math"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// TableRow is one practice, quantity and year ahead of a forecast table
// (forecast.parquet and forecast.csv). Money in pounds.
type TableRow struct {
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

// TableProbs are the predictive quantiles of a TableRow, in column order.
var TableProbs = []float64{0.025, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.975}

// Ageing is a factor per practice, year ahead (0: one year) and quantity.
type Ageing [][][NQuantities]float64

// NoAgeing is all ones: the area's trend alone.
func NoAgeing(practices, horizon int) Ageing {
	out := make(Ageing, practices)
	for i := range out {
		out[i] = make([][NQuantities]float64, horizon)
		for k := range horizon {
			for q := range NQuantities {
				out[i][k][q] = 1
			}
		}
	}
	return out
}

// RelativeAgeing divides each practice's ageing factor (AgeingFactors) by
// the practices' geometric mean for the same year and quantity: the fitted
// trend already carries the area's average ageing, so only a practice's
// departure from it adjusts its forecast.
func RelativeAgeing(f [][][NQuantities]float64) Ageing {
	out := make(Ageing, len(f))
	if len(f) == 0 {
		return out
	}
	hz := len(f[0])
	np := float64(len(f))
	for i := range out {
		out[i] = make([][NQuantities]float64, hz)
	}
	for k := range hz {
		for q := range NQuantities {
			lm := 0.0
			for i := range f {
				lm += math.Log(f[i][k][q]) / np
			}
			for i := range f {
				out[i][k][q] = f[i][k][q] / math.Exp(lm)
			}
		}
	}
	return out
}

// Table is the forecast of every practice of g, quantity (those g forecasts
// for it: GroupFit.Forecasts) and year ahead to horizon: the lognormal predictive distribution of g, shifted by each
// practice's ageing and an annual price uplift (a fraction).
func Table(g *GroupFit, ageing Ageing, horizon int, uplift float64) []TableRow {
	var rows []TableRow
	for i, id := range g.Practices {
		for q := range NQuantities {
			if !g.Forecasts(i, q) {
				continue // not in the history, or no spend on it in the practice's last year
			}
			for k := 1; k <= horizon; k++ {
				mu, sd := g.Predictive(i, q, k)
				mu += math.Log(ageing[i][k-1][q]) + float64(k)*math.Log1p(uplift)
				r := TableRow{PracticeID: id, Stream: QuantityName(q), Year: int32(g.LastYear + k), Horizon: int32(k),
					Mean: math.Exp(mu + sd*sd/2), LogMean: mu, LogSD: sd}
				if g.PerHead {
					r.ListSize = math.Round(g.LastList[i] * math.Exp(float64(k)*g.ListGrowth))
				}
				qs := []*float64{&r.Q025, &r.Q05, &r.Q10, &r.Q25, &r.Q50, &r.Q75, &r.Q90, &r.Q95, &r.Q975}
				for j, p := range TableProbs {
					*qs[j] = LogNormalQuantile(mu, sd, p)
				}
				rows = append(rows, r)
			}
		}
	}
	return rows
}

// tableFormat is the forecast table's format: zstd pages, and in the CSV
// money to the penny and log quantities to six decimals.
var tableFormat = analysis.TableOptions{
	Compression: &zstd.Codec{},
	Decimals: map[string]int{"list_size": 2, "mean": 2, "q025": 2, "q05": 2, "q10": 2, "q25": 2, "q50": 2,
		"q75": 2, "q90": 2, "q95": 2, "q975": 2, "log_mean": 6, "log_sd": 6},
}

// WriteTableParquet writes rows as Parquet (zstd), with meta as the file's
// key-value metadata, by the one table writer (analysis.Parquet).
func WriteTableParquet(w io.Writer, rows []TableRow, meta map[string]string) error {
	o := tableFormat
	o.Meta = meta
	return writeTable(w, rows, o, analysis.Parquet[TableRow])
}

// WriteTableCSV writes rows as CSV with a header, by the one table writer
// (analysis.CSV): money to the penny.
func WriteTableCSV(w io.Writer, rows []TableRow) error {
	return writeTable(w, rows, tableFormat, analysis.CSV[TableRow])
}

func writeTable(w io.Writer, rows []TableRow, o analysis.TableOptions, format func([]TableRow, analysis.TableOptions) ([]byte, error)) error {
	b, err := format(rows, o)
	if err == nil {
		_, err = w.Write(b)
	}
	if err != nil {
		return fmt.Errorf("forecast table: %w", err)
	}
	return nil
}
