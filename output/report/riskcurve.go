package report

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// curve is one line of a risk-curve chart: a column's values (as
// percentages) against holder size, and their standard errors (nil: none).
type curve struct {
	name   string
	y, se  []float64
	colour color.Color
	glyph  draw.GlyphDrawer
	dashed bool
}

// curveFigure draws curves against holder size (log scale), each point with
// an error bar of ±1.96 SE where it has one.
func curveFigure(id, title, ylabel, reading string, size []float64, cs []curve) (Figure, error) {
	f := Figure{ID: id, Title: title, XLabel: "Holder size (people), log scale", YLabel: ylabel, Reading: reading}
	p := newPlot(title, f.XLabel, ylabel)
	top := 0.0
	for _, c := range cs {
		f.Series = append(f.Series, Series{Name: c.name, X: size, Y: c.y})
		var pts plotter.XYs
		for i := range size {
			if !math.IsNaN(c.y[i]) {
				pts = append(pts, plotter.XY{X: size[i], Y: c.y[i]})
				top = math.Max(top, c.y[i])
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return f, fmt.Errorf("%s: %w", title, err)
		}
		l.Color, s.Color, s.Shape, s.Radius = c.colour, c.colour, c.glyph, vg.Points(3)
		if c.dashed {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		p.Add(l, s)
		p.Legend.Add(c.name, l, s)
		if c.se != nil {
			var lo, hi []float64
			for i := range size {
				lo, hi = append(lo, c.y[i]-1.96*c.se[i]), append(hi, c.y[i]+1.96*c.se[i])
				top = math.Max(top, hi[i])
			}
			eb, err := plotter.NewYErrorBars(errBars{size, c.y, lo, hi})
			if err != nil {
				return f, fmt.Errorf("%s: %w", title, err)
			}
			eb.Color, eb.CapWidth = c.colour, vg.Points(6)
			p.Add(eb)
		}
	}
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
	p.Legend.Top = true
	p.Y.Min = 0
	p.Y.Max = legendRoom(0, math.Max(top, 1e-9), len(cs), chartH)
	var err error
	f.SVG, err = svgOf(p, chartW, chartH)
	return f, err
}

// people writes a count with thousands separators: 250,000.
func people(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// RiskCurvePage builds the report of a risk-curve folder (written by
// 'gpbudget risk-curve'): how chance variation, the reserve, false rewards
// and penalties, the power to reward a real saving and the minimum savings
// rate that holds false reward to 5% change with holder size, beside
// Medicare's sliding minimum savings rate.
func RiskCurvePage(dir string) (*Page, error) {
	rows, kv, err := analysis.ReadRiskCurve(dir)
	if err != nil {
		return nil, err
	}
	meta := func(k string) string { return kv["gpbudget."+k] }
	p := &Page{Title: "How large must a budget holder be? " + meta("scenario"), Generated: time.Now().UTC(), Version: meta("version")}
	p.Facts = []Fact{
		{"Scenario", meta("scenario")},
		{"Seed", meta("seed")},
		{"Replications", meta("replications")},
		{"Contract years per replication", meta("years")},
		{"Method", "holders of each size drawn from the scenario's practices, everyone taking part, simulated with no real change and, paired (common random numbers), with a true 2% cut; error bars are ±1.96 Monte Carlo standard errors"},
		{"Results", filepath.Join(dir, runfolder.RiskCurveParquet) + " and " + runfolder.RiskCurveCSV},
	}
	if cmd := runfolder.TypedCommand(meta("command")); cmd != "" {
		p.Reproduce = []string{cmd, "gpbudget report " + runfolder.ShellQuote(dir)}
	}
	n := len(rows)
	size := make([]float64, n)
	col := func(f func(r *analysis.RiskCurveRow) float64) []float64 {
		out := make([]float64, n)
		for i := range rows {
			out[i] = 100 * f(&rows[i])
		}
		return out
	}
	for i := range rows {
		size[i] = float64(rows[i].HolderSize)
	}
	first, last := &rows[0], &rows[n-1]
	at := func(r *analysis.RiskCurveRow) string { return people(r.HolderSize) }
	risk, err := curveFigure("rc-risk", "Surprise against the benchmark and the reserve it needs", "Share of the benchmark (%)",
		fmt.Sprintf("A holder's spend differs from its benchmark with an SD of %.1f%% at %s people and %.1f%% at %s (of which %.1f%% is shared by every holder at %s); a reserve of %.1f%% and %.1f%% of the benchmark covers its overspend 19 years in 20.",
			100*first.SDVsBenchmark, at(first), 100*last.SDVsBenchmark, at(last), 100*last.SDShared, at(last), 100*first.Reserve95, 100*last.Reserve95),
		size, []curve{
			{name: "SD of (benchmark - spend) / benchmark", y: col(func(r *analysis.RiskCurveRow) float64 { return r.SDVsBenchmark }), se: col(func(r *analysis.RiskCurveRow) float64 { return r.SDVsBenchmarkSE }), colour: blue, glyph: draw.CircleGlyph{}},
			{name: "the holder's own part", y: col(func(r *analysis.RiskCurveRow) float64 { return r.SDOwn }), se: col(func(r *analysis.RiskCurveRow) float64 { return r.SDOwnSE }), colour: grey, glyph: draw.SquareGlyph{}},
			{name: "reserve: 95th percentile of overspend", y: col(func(r *analysis.RiskCurveRow) float64 { return r.Reserve95 }), se: col(func(r *analysis.RiskCurveRow) float64 { return r.Reserve95SE }), colour: vermil, glyph: draw.TriangleGlyph{}},
		})
	if err != nil {
		return nil, err
	}
	luck, err := curveFigure("rc-luck", "Rewarding luck, punishing bad luck, and rewarding a real 2% saving", "Holder-years (%)",
		fmt.Sprintf("With no real change a holder of %s people is rewarded in %.1f%% of years and one of %s in %.1f%%; a holder that truly cut spend by 2%% is rewarded in %.1f%% and %.1f%% of years.",
			at(first), 100*first.FalseReward, at(last), 100*last.FalseReward, 100*first.Power2pct, 100*last.Power2pct),
		size, []curve{
			{name: "false reward (no real change)", y: col(func(r *analysis.RiskCurveRow) float64 { return r.FalseReward }), se: col(func(r *analysis.RiskCurveRow) float64 { return r.FalseRewardSE }), colour: vermil, glyph: draw.CircleGlyph{}},
			{name: "false penalty (no real change)", y: col(func(r *analysis.RiskCurveRow) float64 { return r.FalsePenalty }), se: col(func(r *analysis.RiskCurveRow) float64 { return r.FalsePenaltySE }), colour: grey, glyph: draw.SquareGlyph{}},
			{name: "power: rewarded after a true 2% cut", y: col(func(r *analysis.RiskCurveRow) float64 { return r.Power2pct }), se: col(func(r *analysis.RiskCurveRow) float64 { return r.Power2pctSE }), colour: blue, glyph: draw.TriangleGlyph{}},
		})
	if err != nil {
		return nil, err
	}
	msrCurves := []curve{
		{name: "simulated MSR for 5% false reward", y: col(func(r *analysis.RiskCurveRow) float64 { return r.MSRFor5pct }), se: col(func(r *analysis.RiskCurveRow) float64 { return r.MSRFor5pctSE }), colour: vermil, glyph: draw.CircleGlyph{}},
		{name: "Medicare's sliding MSR (42 CFR 425.604)", y: col(func(r *analysis.RiskCurveRow) float64 { return r.MedicareMSR }), colour: grey, glyph: draw.SquareGlyph{}, dashed: true},
	}
	if sc := col(func(r *analysis.RiskCurveRow) float64 { return r.ScenarioMSR }); !math.IsNaN(sc[0]) {
		msrCurves = append(msrCurves, curve{name: "the scenario's MSR", y: sc, colour: blue, glyph: draw.TriangleGlyph{}, dashed: true})
	}
	msr, err := curveFigure("rc-msr", "Minimum savings rate that holds false reward to 5%", "Share of the benchmark (%)",
		fmt.Sprintf("To reward luck in no more than 1 year in 20 the corridor must be %.1f%% at %s people and %.1f%% at %s; Medicare's sliding scale sets %.1f%% and %.1f%%.",
			100*first.MSRFor5pct, at(first), 100*last.MSRFor5pct, at(last), 100*first.MedicareMSR, 100*last.MedicareMSR),
		size, msrCurves)
	if err != nil {
		return nil, err
	}
	t := Table{Caption: "The risk curve (per cent; ± one Monte Carlo standard error)",
		Columns: []string{"holder size", "holders", "holder-years", "mode", "SD vs benchmark", "own", "shared", "mean savings rate", "P(over 5%)", "P(under 5%)", "reserve 95", "false reward", "false reward, priors' 10-90%", "false penalty", "power 2%", "MSR for 5%", "scenario MSR", "Medicare MSR"}}
	pm := func(x, se float64) string {
		if math.IsNaN(x) {
			return "-"
		}
		return fmt.Sprintf("%.2f ± %.2f", 100*x, 100*se)
	}
	interval := func(lo, hi float64) string {
		if math.IsNaN(lo) {
			return "-"
		}
		return fmt.Sprintf("%.1f to %.1f", 100*lo, 100*hi)
	}
	for _, r := range rows {
		sc := "-"
		if !math.IsNaN(r.ScenarioMSR) {
			sc = f2(100 * r.ScenarioMSR)
		}
		t.Rows = append(t.Rows, []string{people(r.HolderSize), people(r.Holders), people(r.HolderYears), r.Mode,
			pm(r.SDVsBenchmark, r.SDVsBenchmarkSE), pm(r.SDOwn, r.SDOwnSE), pm(r.SDShared, r.SDSharedSE), pm(r.MeanSavingsRate, r.MeanSavingsRateSE), pm(r.POver5, r.POver5SE), pm(r.PUnder5, r.PUnder5SE), pm(r.Reserve95, r.Reserve95SE),
			pm(r.FalseReward, r.FalseRewardSE), interval(r.FalseRewardP10, r.FalseRewardP90), pm(r.FalsePenalty, r.FalsePenaltySE), pm(r.Power2pct, r.Power2pctSE), pm(r.MSRFor5pct, r.MSRFor5pctSE), sc, f2(100 * r.MedicareMSR)})
	}
	p.Sections = []Section{{
		Heading: "Luck against management, by holder size",
		Intro: "The benchmark is the scenario's budget; measured spend is spend less any per-patient truncation. " +
			"False reward is the chance a holder that changed nothing is paid shared savings (or keeps savings, under the older rules); " +
			"false penalty, that it pays shared losses or is lent a deficit. The mean savings rate shows any bias in the benchmark (docs/model.md, \"Luck versus management\").",
		Figures: []Figure{risk, luck, msr},
		Tables:  []Table{t},
	}}
	return p, nil
}

// contractSection is a run's contracts' payments by year, if it has any:
// shared savings paid and, where there are any, shared losses received,
// each with its 95% confidence interval (mean ± 1.96 SE across
// replications), and the table of every payment.
func contractSection(sum *analysis.Summary) (Section, bool, error) {
	if len(sum.Contract) == 0 {
		return Section{}, false, nil
	}
	t := Table{Caption: "Contract payments (area totals, £ per replication: mean ± SE)",
		Columns: []string{"year", "shared savings paid", "shared losses received", "incentives paid", "spend truncated"}}
	pm := func(m, se float64) string { return f0(m) + " ± " + f0(se) }
	var all analysis.ContractStats
	for _, c := range sum.Contract {
		t.Rows = append(t.Rows, []string{c.Year, pm(c.SharedSavings, c.SharedSavingsSE), pm(c.SharedLoss, c.SharedLossSE), pm(c.Incentive, c.IncentiveSE), pm(c.Truncated, c.TruncatedSE)})
		if c.Year == analysis.AllBands {
			all = c
		}
	}
	sec := Section{
		Heading: "Contract payments",
		Intro: "What the contract's settlement moved each year: shared savings and incentives the " + sum.Label() + " paid holders, " +
			"shared losses holders paid from their own money, and spend left out of what holders are measured on by per-patient truncation (not money).",
		Tables: []Table{t},
	}
	for _, k := range []struct {
		id, title string
		mean, se  func(c *analysis.ContractStats) float64
		total     float64
	}{
		{"contract-shared-savings", "Shared savings paid to holders by year (mean, 95% confidence interval)",
			func(c *analysis.ContractStats) float64 { return c.SharedSavings }, func(c *analysis.ContractStats) float64 { return c.SharedSavingsSE }, all.SharedSavings},
		{"contract-shared-losses", "Shared losses paid by holders by year (mean, 95% confidence interval)",
			func(c *analysis.ContractStats) float64 { return c.SharedLoss }, func(c *analysis.ContractStats) float64 { return c.SharedLossSE }, all.SharedLoss},
	} {
		if k.total == 0 {
			continue
		}
		var labels []string
		var mean, lo, hi []float64
		for i := range sum.Contract {
			c := &sum.Contract[i]
			if c.Year == analysis.AllBands {
				continue
			}
			m, h := k.mean(c)/1e3, 1.96*k.se(c)/1e3
			labels, mean, lo, hi = append(labels, "year "+c.Year), append(mean, m), append(lo, m-h), append(hi, m+h)
		}
		reading := fmt.Sprintf("Over the run the %s paid holders £%.0fk in shared savings and £%.0fk in incentives, and received £%.0fk in shared losses, per replication.",
			sum.Label(), all.SharedSavings/1e3, all.Incentive/1e3, all.SharedLoss/1e3)
		fig, err := ComparisonFigure(k.id, k.title, "Contract year", "£ thousand per replication", reading, labels, mean, lo, hi)
		if err != nil {
			return Section{}, false, err
		}
		sec.Figures = append(sec.Figures, fig)
	}
	return sec, true, nil
}
