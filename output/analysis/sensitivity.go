package analysis

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/sim"
)

// One-way sensitivity analysis: each uncertain parameter at its prior's
// 10th and 90th percentiles, every other at its point value, all runs with
// one seed (common random numbers), so the differences measure the
// parameter rather than chance (Briggs, Claxton & Sculpher 2006, ch. 4).

// SensitivityRow is one output's values with one parameter at its point
// value (Base: every parameter at its point), its low and its high value.
// SE is the paired Monte Carlo SE of AtHigh − AtLow (the width of a
// tornado's bar), SELow and SEHigh those of AtLow − Base and AtHigh − Base.
type SensitivityRow struct {
	Parameter    string  `parquet:"parameter,dict"`
	Prior        string  `parquet:"prior,dict"`
	Point        float64 `parquet:"point"`
	LowValue     float64 `parquet:"low_value"`
	HighValue    float64 `parquet:"high_value"`
	Output       string  `parquet:"output,dict"`
	Band         string  `parquet:"band,dict"`
	Base         float64 `parquet:"base"`
	AtLow        float64 `parquet:"at_low"`
	AtHigh       float64 `parquet:"at_high"`
	SE           float64 `parquet:"se"`
	SELow        float64 `parquet:"se_low"`
	SEHigh       float64 `parquet:"se_high"`
	Replications int32   `parquet:"replications"`
}

// SensitivityOutputs are the headline outputs a one-way analysis reports
// (Compare's metric names): the chance a practice overspends by more than
// 5% (every band), the commissioner's 95% reserve need, and its outlay
// (from the ledger) and cost (from the rows).
var SensitivityOutputs = []string{"p_overspend_5", "reserve_p95", "commissioner_outlay", "commissioner_cost"}

// Sensitivity builds the table from a base run and, for each range, a run
// at its low and one at its high value (low[i], high[i] for ranges[i]),
// all of one seed; seed also fixes the bootstrap of the reserve's SEs.
func Sensitivity(ranges []sim.OneWay, base *Metrics, low, high []*Metrics, seed uint64) ([]SensitivityRow, error) {
	if len(low) != len(ranges) || len(high) != len(ranges) {
		return nil, fmt.Errorf("sensitivity: %d parameters, %d low and %d high runs", len(ranges), len(low), len(high))
	}
	want := map[string]bool{}
	for _, o := range SensitivityOutputs {
		want[o] = true
	}
	var out []SensitivityRow
	for i, r := range ranges {
		all, err := Compare([]string{"base", "low", "high"}, []*Metrics{base, low[i], high[i]}, seed)
		if err != nil {
			return nil, err
		}
		width, err := Compare([]string{"low", "high"}, []*Metrics{low[i], high[i]}, seed)
		if err != nil {
			return nil, err
		}
		type key struct{ metric, band string }
		se := map[key]float64{}
		for _, c := range width {
			se[key{c.Metric, c.Band}] = c.SEPaired
		}
		rows := map[key]*SensitivityRow{}
		var order []key
		for _, c := range all {
			if !want[c.Metric] {
				continue
			}
			k := key{c.Metric, c.Band}
			row := rows[k]
			if row == nil {
				row = &SensitivityRow{Parameter: r.Prior.Param.String(), Prior: fmt.Sprintf("%s, SD %g", sim.DistNames[r.Prior.Dist], r.Prior.SD),
					Point: r.Point, LowValue: r.Low, HighValue: r.High, Output: c.Metric, Band: c.Band,
					Base: c.BaselineValue, SE: se[k], Replications: c.Replications}
				rows[k] = row
				order = append(order, k)
			}
			if c.Scenario == "low" {
				row.AtLow, row.SELow = c.ScenarioValue, c.SEPaired
			} else {
				row.AtHigh, row.SEHigh = c.ScenarioValue, c.SEPaired
			}
		}
		for _, k := range order {
			out = append(out, *rows[k])
		}
	}
	return out, nil
}

// WriteSensitivity writes rows to DIR/sensitivity.parquet (with meta as
// key-value metadata) and DIR/sensitivity.csv, each atomically.
func WriteSensitivity(dir string, rows []SensitivityRow, meta map[string]string) error {
	return writeRows(dir, runfolder.SensitivityParquet, runfolder.SensitivityCSV, rows, meta)
}

// IsSensitivity says whether dir holds a one-way sensitivity analysis.
func IsSensitivity(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, runfolder.SensitivityParquet))
	return err == nil
}

// ReadSensitivity reads DIR/sensitivity.parquet: its rows and metadata.
func ReadSensitivity(dir string) ([]SensitivityRow, map[string]string, error) {
	return readTable[SensitivityRow](dir, runfolder.SensitivityParquet, "a sensitivity analysis", "gpbudget sensitivity ...")
}

// Swing is how far an output moves across a parameter's range, |AtHigh −
// AtLow|: a tornado's bars are sorted by it.
func (r SensitivityRow) Swing() float64 { return math.Abs(r.AtHigh - r.AtLow) }

// PrintSensitivity writes, for each output over all bands, the parameters
// by swing, largest first.
func PrintSensitivity(w io.Writer, rows []SensitivityRow) error {
	for _, o := range SensitivityOutputs {
		sel := TornadoRows(rows, o, AllBands)
		if len(sel) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (all practices): base %.6g\n", o, sel[0].Base)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "parameter\tlow value\thigh value\tat low\tat high\tswing\tse\t")
		for _, r := range sel {
			fmt.Fprintf(tw, "%s\t%.4g\t%.4g\t%.6g\t%.6g\t%.4g\t%.3g\t\n", r.Parameter, r.LowValue, r.HighValue, r.AtLow, r.AtHigh, r.Swing(), r.SE)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// TornadoRows are the rows of one output and band, by swing, largest
// first.
func TornadoRows(rows []SensitivityRow, output, band string) []SensitivityRow {
	var sel []SensitivityRow
	for _, r := range rows {
		if r.Output == output && r.Band == band {
			sel = append(sel, r)
		}
	}
	for i := 1; i < len(sel); i++ { // insertion sort: stable, and a few dozen rows
		for j := i; j > 0 && sel[j].Swing() > sel[j-1].Swing(); j-- {
			sel[j], sel[j-1] = sel[j-1], sel[j]
		}
	}
	return sel
}
