package report

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// sensitivityOutputs are the outputs a sensitivity page draws, in order;
// their labels and units are analysis.MetricOf's.
var sensitivityOutputs = []string{"p_overspend_5", "reserve_p95", "commissioner_outlay"}

// TornadoFigure draws one output's one-way sensitivity: for each parameter,
// largest swing at the top, a bar from the base to the output at the
// parameter's low value and one to its high value.
func TornadoFigure(id, title, unit string, scale float64, rows []analysis.SensitivityRow) (Figure, error) {
	f := Figure{ID: id, Title: title, XLabel: "Change from the base (" + unit + ")", YLabel: "Parameter"}
	n := len(rows)
	labels := make([]string, n)
	y := make([]float64, n)
	low, high := make(plotter.Values, n), make(plotter.Values, n)
	// The plot's y axis runs upwards: the largest swing goes last.
	for i, r := range rows {
		j := n - 1 - i
		labels[j] = r.Parameter
		y[j] = float64(j)
		low[j] = (r.AtLow - r.Base) * scale
		high[j] = (r.AtHigh - r.Base) * scale
	}
	f.Series = []Series{{Name: "at low value", Labels: labels, X: y, Y: low}, {Name: "at high value", Labels: labels, X: y, Y: high}}
	if n > 0 {
		top := rows[0]
		f.Reading = fmt.Sprintf("%s moves it most: from %s at %.4g to %s at %.4g (base %s; paired SE of the swing %s).",
			top.Parameter, num(top.AtLow*scale), top.LowValue, num(top.AtHigh*scale), top.HighValue, num(top.Base*scale), num(top.SE*scale))
	}
	p := newPlot(title, f.XLabel, "")
	w := min(vg.Points(14), (chartH-vg.Inch)/vg.Length(max(1, n))*0.8)
	for k, v := range []plotter.Values{low, high} {
		bars, err := plotter.NewBarChart(v, w)
		if err != nil {
			return f, fmt.Errorf("%s: %w", title, err)
		}
		bars.Horizontal = true
		bars.LineStyle.Width = 0
		bars.Color = blue
		if k == 1 {
			bars.Color = orange
		}
		p.Add(bars)
		p.Legend.Add(f.Series[k].Name, bars)
	}
	p.NominalY(labels...)
	// Bottom right: the smallest swings are at the bottom, so it covers least.
	p.Legend.Top = false
	h := max(chartH, vg.Length(n)*vg.Points(18)+vg.Inch)
	var err error
	f.SVG, err = svgOf(p, chartW, h)
	return f, err
}

// num formats a number for a reading.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// SensitivityPage builds the report of a one-way sensitivity folder: a
// tornado chart per output, and the whole table.
func SensitivityPage(dir string) (*Page, error) {
	rows, kv, err := analysis.ReadSensitivity(dir)
	if err != nil {
		return nil, err
	}
	meta := func(k string) string { return kv[k] }
	params := map[string]bool{}
	for _, r := range rows {
		params[r.Parameter] = true
	}
	p := &Page{Title: "GP practice budgets: one-way sensitivity of " + meta("gpbudget.scenario_name"), Generated: time.Now().UTC(), Version: meta("gpbudget.version")}
	p.Facts = []Fact{
		{"Scenario", meta("gpbudget.scenario_name")},
		{"Parameters", strconv.Itoa(len(params))},
		{"Seed", meta("gpbudget.seed")},
		{"Replications", strconv.Itoa(int(rows[0].Replications)) + " per run, " + meta("gpbudget.years") + " years"},
		{"Method", "each uncertain parameter at its prior's 10th and 90th percentile, the others at their values; every run with the same seed (common random numbers)"},
		{"Results", filepath.Join(dir, runfolder.SensitivityParquet)},
	}
	if cmd := runfolder.TypedCommand(meta("gpbudget.command")); cmd != "" {
		p.Reproduce = []string{cmd, "gpbudget report " + runfolder.ShellQuote(dir)}
	}
	sec := Section{Heading: "Tornado charts",
		Intro: "For each output, every uncertain parameter's effect: the blue bar is the change from the base with the parameter at its prior's 10th percentile, the orange at its 90th. " +
			"Parameters are sorted by how far the output moves across the range."}
	for _, name := range sensitivityOutputs {
		sel := analysis.TornadoRows(rows, name, analysis.AllBands)
		if len(sel) == 0 {
			continue
		}
		o := analysis.MetricOf(name)
		unit, scale := o.Shown()
		fig, err := TornadoFigure("tornado-"+strings.ReplaceAll(name, "_", "-"), o.Label+" (base "+num(sel[0].Base*scale)+" "+unit+")", unit, scale, sel)
		if err != nil {
			return nil, err
		}
		sec.Figures = append(sec.Figures, fig)
	}
	t := Table{Caption: "Every output and band (probabilities as fractions, money in £)", Folded: true,
		Columns: []string{"parameter", "prior", "low value", "high value", "output", "band", "base", "at low", "at high", "SE of swing"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.Parameter, r.Prior, num(r.LowValue), num(r.HighValue), r.Output, r.Band, num(r.Base), num(r.AtLow), num(r.AtHigh), num(r.SE)})
	}
	sec.Tables = []Table{t}
	p.Sections = []Section{sec}
	return p, nil
}
