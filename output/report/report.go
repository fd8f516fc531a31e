package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	xfont "golang.org/x/image/font"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// A report is a Page: facts about the run, how to reproduce it, and sections
// of figures and tables. A run's page is built by RunPage; a comparison of
// runs builds its own sections (ComparisonFigure draws its bars) and renders
// through the same template, so every page looks and works alike.

// Page is one self-contained HTML report.
type Page struct {
	Title     string
	Facts     []Fact
	Reproduce []string // shell commands that reproduce the results and this page
	Sections  []Section
	Generated time.Time
	Version   string
}

// Fact is one line of the page's header table.
type Fact struct{ Name, Value string }

// Section is a heading with figures and tables.
type Section struct {
	Heading string
	Intro   string
	Figures []Figure
	Tables  []Table
}

// Figure is one chart: its SVG and the numbers it was drawn from, so a reader
// can check it and a test can compare it with the summary tables.
type Figure struct {
	ID      string // HTML id, unique in the page
	Title   string
	XLabel  string
	YLabel  string
	Reading string // one line saying what the chart shows
	SVG     template.HTML
	Series  []Series
}

// Series is a named list of points drawn in a figure. Labels, when set, name
// the x positions of a categorical axis.
type Series struct {
	Name   string
	Labels []string
	X, Y   []float64
}

// XHeader names the x positions of the figure's first series, for the table
// of the numbers drawn.
func (f Figure) XHeader() []string {
	if len(f.Series) == 0 {
		return nil
	}
	s := f.Series[0]
	if len(s.Labels) == len(s.X) {
		return s.Labels
	}
	h := make([]string, len(s.X))
	for i, x := range s.X {
		h[i] = strconv.FormatFloat(x, 'g', 6, 64)
	}
	return h
}

// Table is a small table shown in the page.
type Table struct {
	Caption string
	Columns []string
	Rows    [][]string
	Folded  bool // shown folded (long tables)
}

//go:embed report.html.tmpl
var reportTemplate string

var pageTmpl = template.Must(template.New("report").Parse(reportTemplate))

// HTML renders the page.
func (p *Page) HTML(w io.Writer) error {
	if err := pageTmpl.Execute(w, p); err != nil {
		return fmt.Errorf("rendering report: %w", err)
	}
	return nil
}

// Write renders the page into DIR/report.html atomically and returns the path.
func Write(dir string, p *Page) (string, error) {
	var b bytes.Buffer
	if err := p.HTML(&b); err != nil {
		return "", err
	}
	path := filepath.Join(dir, runfolder.ReportName)
	return path, runfolder.WriteFileAtomic(path, b.Bytes())
}

// Figures lists every figure of the page in order.
func (p *Page) Figures() []*Figure {
	var f []*Figure
	for i := range p.Sections {
		for j := range p.Sections[i].Figures {
			f = append(f, &p.Sections[i].Figures[j])
		}
	}
	return f
}

// Chart sizes: wide enough for a laptop screen, small enough for print.
const (
	chartW = 7 * vg.Inch
	chartH = 4 * vg.Inch
	fanW   = 5.2 * vg.Inch
	fanH   = 3.2 * vg.Inch
)

// Colours (Okabe-Ito, readable by colour-blind readers).
var (
	blue   = color.RGBA{0, 114, 178, 255}
	orange = color.RGBA{230, 159, 0, 255}
	vermil = color.RGBA{213, 94, 0, 255}
	grey   = color.RGBA{80, 80, 80, 255}
)

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	// Sans-serif text reads better on screen; the page's style sheet names
	// fallbacks for browsers without the Liberation fonts.
	for _, st := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		st.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Weight = xfont.WeightBold
	p.Add(plotter.NewGrid())
	p.Legend.Padding = vg.Points(2) // keeps legend entries from touching
	p.X.Tick.Marker, p.Y.Tick.Marker = naturalTicks{}, naturalTicks{}
	return p
}

// svgSize is an SVG root's fixed width and height.
var svgSize = regexp.MustCompile(`\s(width|height)="[^"]*"`)

// svgOf draws a plot as an SVG element for inlining (no XML prolog).
func svgOf(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", fmt.Errorf("drawing %q: %w", p.Title.Text, err)
	}
	s := b.String()
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", fmt.Errorf("drawing %q: no <svg> element", p.Title.Text)
	}
	// Sized by its container: the drawing scales to the width it is given
	// (its viewBox keeps the proportions), no wider than twice its own.
	s = s[i:]
	if j := strings.Index(s, ">"); j > 0 {
		root := svgSize.ReplaceAllString(s[:j], "")
		root += fmt.Sprintf(` width="100%%" style="max-width: %.1fpt; height: auto"`, 2*w.Points())
		s = root + s[j:]
	}
	// The SVG is made by gonum/plot from numbers and fixed labels: trusted.
	return template.HTML(s), nil
}

func xys(x, y []float64) plotter.XYs {
	p := make(plotter.XYs, len(x))
	for i := range x {
		p[i].X, p[i].Y = x[i], y[i]
	}
	return p
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// RunPage builds the report of the completed run in dir from its manifest
// and summary.
func RunPage(dir string, m *runfolder.Manifest, sum *analysis.Summary) (*Page, error) {
	p := &Page{
		Title:     fmt.Sprintf("GP practice budgets: %s", sum.Scenario),
		Generated: time.Now().UTC(),
	}
	if m != nil {
		p.Version = m.Version
		p.Facts = []Fact{
			{"Scenario", m.ScenarioName},
			{"Seed", strconv.FormatUint(m.Seed, 10)},
			{"Replications", strconv.Itoa(m.Replications)},
			{"Years", strconv.Itoa(m.Years)},
			{"Practices", strconv.Itoa(m.Practices)},
			{"Practice-years", strconv.FormatInt(m.Rows, 10)},
			{"Program", fmt.Sprintf("%s %s (%s, gonum %s, parquet-go %s)", m.Program, m.Version, m.GoVersion, m.GonumVersion, m.ParquetVersion)},
			{"Run", fmt.Sprintf("%s to %s", m.Started.Format(time.RFC3339), m.Ended.Format(time.RFC3339))},
			{"Results", filepath.Join(dir, runfolder.PracticeYears) + "/*.parquet and " + filepath.Join(dir, runfolder.Ledger) + "/*.parquet; tables in " + filepath.Join(dir, runfolder.SummaryDir) + "/"},
			{"Percentiles", sum.QuantileNote},
		}
		cmd := runfolder.TypedCommand(m.Command)
		if cmd == "" {
			cmd = fmt.Sprintf("gpbudget run --scenario %s --seed %d --reps %d --years %d --out %s", m.ScenarioName, m.Seed, m.Replications, m.Years, runfolder.ShellQuote(dir))
			if m.Cohort {
				cmd += " --cohort"
			}
		}
		p.Reproduce = []string{cmd,
			"gpbudget summarize " + runfolder.ShellQuote(dir),
			"gpbudget report " + runfolder.ShellQuote(dir),
		}
	}
	risk, err := overspendFigure(sum)
	if err != nil {
		return nil, err
	}
	box, err := varianceFigure(sum)
	if err != nil {
		return nil, err
	}
	p.Sections = append(p.Sections, Section{
		Heading: "Practice risk",
		Intro: "Variance is budget minus spend, so a negative variance is an overspend. Each practice-year " +
			"of every replication counts once; a practice's band is that of its mean list size.",
		Figures: []Figure{risk, box},
		Tables:  []Table{bandTable(sum), practiceTable(sum)},
	})
	var fans []Figure
	for _, b := range append([]string{analysis.AllBands}, bandNames()...) {
		f, ok, err := fanFigure(sum, b)
		if err != nil {
			return nil, err
		}
		if ok {
			fans = append(fans, f)
		}
	}
	p.Sections = append(p.Sections, Section{
		Heading: "Spend per head over the years",
		Intro: "Spend per registered patient of practices in each band, across practices and replications: " +
			"the line is the median, the dark band holds the middle 50% and the light band the middle 90%.",
		Figures: fans,
	})
	comm, err := commissionerFigure(sum)
	if err != nil {
		return nil, err
	}
	p.Sections = append(p.Sections, Section{
		Heading: "Commissioner",
		Intro: "The area's totals in each year, then over the run, across replications. The reserve is the " + analysis.ReserveNote +
			" (what the commissioner paid for care, stop-loss and retained savings beyond the budgets it set).",
		Figures: []Figure{comm},
		Tables:  []Table{commissionerTable(sum)},
	})
	if sec, ok, err := contractSection(sum); err != nil {
		return nil, err
	} else if ok {
		p.Sections = append(p.Sections, sec)
	}
	return p, nil
}

// overspendFigure plots each practice's probability of overspending by more
// than 5% and 10% of budget against its mean list size.
func overspendFigure(sum *analysis.Summary) (Figure, error) {
	f := Figure{ID: "overspend-vs-list", Title: "Probability of overspend against list size",
		XLabel: "Mean list size (patients)", YLabel: "Practice-years overspent (%)"}
	var x, y5, y10 []float64
	for _, ps := range sum.Practices {
		x = append(x, ps.ListSizeMean)
		y5 = append(y5, 100*ps.ProbOver5)
		y10 = append(y10, 100*ps.ProbOver10)
	}
	f.Series = []Series{{Name: "overspend > 5% of budget", X: x, Y: y5}, {Name: "overspend > 10% of budget", X: x, Y: y10}}
	p := newPlot(f.Title, f.XLabel, f.YLabel)
	for i, s := range f.Series {
		sc, err := plotter.NewScatter(xys(s.X, s.Y))
		if err != nil {
			return f, fmt.Errorf("%s: %w", f.Title, err)
		}
		sc.GlyphStyle.Color = []color.Color{blue, vermil}[i]
		sc.GlyphStyle.Shape = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}}[i]
		sc.GlyphStyle.Radius = vg.Points(3)
		p.Add(sc)
		p.Legend.Add(s.Name, sc)
	}
	p.Legend.Top = true
	p.Y.Min = 0
	// Headroom above the highest point keeps the legend off the data.
	top := 0.0
	for _, v := range y5 {
		top = math.Max(top, v)
	}
	p.Y.Max = legendRoom(0, math.Max(1, top), len(f.Series), chartH)
	// List sizes span a few hundred to tens of thousands: a log scale.
	if spansDecades(x) {
		p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, logTicks{}
		f.XLabel += ", log scale"
		p.X.Label.Text = f.XLabel
	}
	var err error
	f.SVG, err = svgOf(p, chartW, chartH)
	var first, last *analysis.BandStats
	for i := range sum.Bands {
		if sum.Bands[i].Band == "all" {
			continue
		}
		if first == nil {
			first = &sum.Bands[i]
		}
		last = &sum.Bands[i]
	}
	if first != nil && first != last {
		f.Reading = fmt.Sprintf("Practices of %s patients overspent by more than 5%% of budget in %s of their years, those of %s in %s: smaller lists carry more risk per pound of budget.",
			first.Band, pct(first.ProbOver5), last.Band, pct(last.ProbOver5))
		if first.ProbOver5 <= last.ProbOver5 {
			f.Reading = fmt.Sprintf("Practices of %s patients overspent by more than 5%% of budget in %s of their years, those of %s in %s.",
				first.Band, pct(first.ProbOver5), last.Band, pct(last.ProbOver5))
		}
	} else if first != nil {
		f.Reading = fmt.Sprintf("Practices overspent by more than 5%% of budget in %s of their years.", pct(first.ProbOver5))
	}
	return f, err
}

// quantileBoxes draws, for each category i at x = i, a box from the 25th to
// the 75th percentile, a line at the median and whiskers from the 5th to the
// 95th percentile. It draws given quantiles (those of the summary table), not
// ones it computes, so the chart and the table agree by construction.
type quantileBoxes struct {
	q     [][5]float64 // p05, p25, p50, p75, p95
	width vg.Length
}

func (b quantileBoxes) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	line := draw.LineStyle{Color: grey, Width: vg.Points(1)}
	med := draw.LineStyle{Color: vermil, Width: vg.Points(2)}
	for i, q := range b.q {
		x := trX(float64(i))
		lo, hi := x-b.width/2, x+b.width/2
		y := func(v float64) vg.Length { return trY(v) }
		c.FillPolygon(color.NRGBA{86, 180, 233, 160}, c.ClipPolygonY([]vg.Point{{X: lo, Y: y(q[1])}, {X: hi, Y: y(q[1])}, {X: hi, Y: y(q[3])}, {X: lo, Y: y(q[3])}}))
		c.StrokeLines(line, c.ClipLinesY([]vg.Point{{X: lo, Y: y(q[1])}, {X: hi, Y: y(q[1])}, {X: hi, Y: y(q[3])}, {X: lo, Y: y(q[3])}, {X: lo, Y: y(q[1])}})...)
		c.StrokeLines(line, c.ClipLinesY([]vg.Point{{X: x, Y: y(q[0])}, {X: x, Y: y(q[1])}}, []vg.Point{{X: x, Y: y(q[3])}, {X: x, Y: y(q[4])}})...)
		c.StrokeLines(line, c.ClipLinesY([]vg.Point{{X: x - b.width/4, Y: y(q[0])}, {X: x + b.width/4, Y: y(q[0])}}, []vg.Point{{X: x - b.width/4, Y: y(q[4])}, {X: x + b.width/4, Y: y(q[4])}})...)
		c.StrokeLines(med, c.ClipLinesY([]vg.Point{{X: lo, Y: y(q[2])}, {X: hi, Y: y(q[2])}})...)
	}
}

func (b quantileBoxes) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, q := range b.q {
		ymin, ymax = math.Min(ymin, q[0]), math.Max(ymax, q[4])
	}
	return -0.5, float64(len(b.q)) - 0.5, ymin, ymax
}

// varianceFigure draws the distribution of the variance (% of budget) by band.
func varianceFigure(sum *analysis.Summary) (Figure, error) {
	f := Figure{ID: "variance-by-band", Title: "Budget variance by list-size band",
		XLabel: "List-size band (patients)", YLabel: "Variance (% of budget; below 0 = overspend)"}
	var labels []string
	var qs [][5]float64
	names := []string{"5th percentile", "25th percentile", "median", "75th percentile", "95th percentile"}
	f.Series = make([]Series, 5)
	for _, b := range sum.Bands {
		st := b.Stats
		q := [5]float64{st.VariancePctP05, st.VariancePctP25, st.VariancePctP50, st.VariancePctP75, st.VariancePctP95}
		labels = append(labels, b.Band)
		qs = append(qs, q)
		for k := range 5 {
			f.Series[k].X = append(f.Series[k].X, float64(len(labels)-1))
			f.Series[k].Y = append(f.Series[k].Y, q[k])
		}
	}
	for k := range 5 {
		f.Series[k].Name, f.Series[k].Labels = names[k], labels
	}
	p := newPlot(f.Title, f.XLabel, f.YLabel)
	p.Add(quantileBoxes{q: qs, width: vg.Points(36)})
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	zero.Color, zero.Dashes = grey, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(zero)
	p.NominalX(labels...)
	var err error
	f.SVG, err = svgOf(p, chartW, chartH)
	if n := len(sum.Bands); n >= 2 {
		a, z := sum.Bands[0], sum.Bands[n-1]
		if z.Band == "all" && n >= 3 {
			z = sum.Bands[n-2]
		}
		f.Reading = fmt.Sprintf("Boxes hold the middle 50%% of practice-years and whiskers the middle 90%%: from %.1f%% to %.1f%% of budget for %s, %.1f%% to %.1f%% for %s.",
			a.VariancePctP05, a.VariancePctP95, a.Band, z.VariancePctP05, z.VariancePctP95, z.Band)
	}
	return f, err
}

// fanFigure draws spend per head over the years for one band (or "all").
func fanFigure(sum *analysis.Summary, band string) (Figure, bool, error) {
	var rows []analysis.YearStats
	for _, y := range sum.ByYear {
		if y.Band == band {
			rows = append(rows, y)
		}
	}
	if len(rows) == 0 {
		return Figure{}, false, nil
	}
	// By year: the summary need not list them in order (it lists "all"
	// after the bands, last year first), and the axis, the bands and the
	// reading all run from the first year to the last.
	slices.SortStableFunc(rows, func(a, b analysis.YearStats) int { return cmp.Compare(a.Year, b.Year) })
	who := "all practices"
	if band != "all" {
		who = "practices of " + band + " patients"
	}
	f := Figure{ID: "fan-" + strings.NewReplacer("<", "lt", "+", "plus").Replace(band),
		Title: "Spend per head, " + who, XLabel: "Budget year", YLabel: "Spend per registered patient (£)"}
	n := len(rows)
	x := make([]float64, n)
	q := make([][]float64, 5)
	for i, r := range rows {
		x[i] = float64(r.Year)
		for k, v := range []float64{r.P05, r.P25, r.P50, r.P75, r.P95} {
			q[k] = append(q[k], v)
		}
	}
	for k, name := range []string{"5th percentile", "25th percentile", "median", "75th percentile", "95th percentile"} {
		f.Series = append(f.Series, Series{Name: name, X: x, Y: q[k]})
	}
	p := newPlot(f.Title, f.XLabel, f.YLabel)
	// A single year is drawn as a short band around it, so it stays visible.
	qd, xd := q, x
	if n == 1 {
		xd = []float64{x[0] - 0.15, x[0] + 0.15}
		qd = make([][]float64, 5)
		for k := range q {
			qd[k] = []float64{q[k][0], q[k][0]}
		}
	}
	band90 := func(lo, hi []float64, c color.Color) (*plotter.Polygon, error) {
		pts := make(plotter.XYs, 0, 2*len(xd))
		for i := range xd {
			pts = append(pts, plotter.XY{X: xd[i], Y: lo[i]})
		}
		for i := len(xd) - 1; i >= 0; i-- {
			pts = append(pts, plotter.XY{X: xd[i], Y: hi[i]})
		}
		pg, err := plotter.NewPolygon(pts)
		if err != nil {
			return nil, err
		}
		pg.Color, pg.LineStyle.Width = c, 0
		return pg, nil
	}
	outer, err := band90(qd[0], qd[4], color.NRGBA{0, 114, 178, 55})
	if err != nil {
		return f, false, fmt.Errorf("%s: %w", f.Title, err)
	}
	inner, err := band90(qd[1], qd[3], color.NRGBA{0, 114, 178, 120})
	if err != nil {
		return f, false, fmt.Errorf("%s: %w", f.Title, err)
	}
	med, pts, err := plotter.NewLinePoints(xys(xd, qd[2]))
	if err != nil {
		return f, false, fmt.Errorf("%s: %w", f.Title, err)
	}
	med.Color, med.Width, pts.Color = blue, vg.Points(2), blue
	p.Add(outer, inner, med, pts)
	p.Legend.Add("median", med)
	p.Legend.Add("middle 50%", inner)
	p.Legend.Add("middle 90%", outer)
	p.Legend.Top, p.Legend.Left = true, true
	p.X.Tick.Marker = yearTicks{}
	p.X.Min, p.X.Max = x[0]-0.25, x[n-1]+0.25
	// Headroom above the 90% band keeps the legend off the data.
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range n {
		lo, hi = math.Min(lo, q[0][i]), math.Max(hi, q[4][i])
	}
	p.Y.Min = lo - 0.05*(hi-lo)
	p.Y.Max = legendRoom(p.Y.Min, hi, 3, fanH)
	f.SVG, err = svgOf(p, fanW, fanH)
	if n == 1 {
		f.Reading = fmt.Sprintf("Median spend per head of %s is £%.0f in year %d; 90%% of practice-years lie between £%.0f and £%.0f.",
			who, q[2][0], rows[0].Year, q[0][0], q[4][0])
		return f, true, err
	}
	f.Reading = fmt.Sprintf("Median spend per head of %s moves from £%.0f in year %d to £%.0f in year %d; 90%% of practice-years lie between £%.0f and £%.0f in the last year.",
		who, q[2][0], rows[0].Year, q[2][n-1], rows[n-1].Year, q[0][n-1], q[4][n-1])
	return f, true, err
}

// yearTicks marks whole years only.
type yearTicks struct{}

func (yearTicks) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	for y := math.Ceil(min); y <= max; y++ {
		t = append(t, plot.Tick{Value: y, Label: strconv.Itoa(int(y))})
	}
	return t
}

// errBars are bar tops with asymmetric error bars, for plotter.YErrorBars.
type errBars struct {
	x, y, lo, hi []float64
}

func (e errBars) Len() int                    { return len(e.x) }
func (e errBars) XY(i int) (float64, float64) { return e.x[i], e.y[i] }
func (e errBars) YError(i int) (float64, float64) {
	return e.y[i] - e.lo[i], e.hi[i] - e.y[i]
}

// ComparisonFigure draws side-by-side bars (one per label) with error bars
// from lo to hi: the chart used to compare years of one run, or the policy
// models of a comparison.
func ComparisonFigure(id, title, xlabel, ylabel, reading string, labels []string, mean, lo, hi []float64) (Figure, error) {
	f := Figure{ID: id, Title: title, XLabel: xlabel, YLabel: ylabel, Reading: reading}
	x := make([]float64, len(labels))
	for i := range x {
		x[i] = float64(i)
	}
	f.Series = []Series{{Name: "mean", Labels: labels, X: x, Y: mean}, {Name: "low", Labels: labels, X: x, Y: lo}, {Name: "high", Labels: labels, X: x, Y: hi}}
	p := newPlot(title, xlabel, ylabel)
	// Bars fill at most half their slot, so neighbours never touch.
	bw := min(vg.Points(40), 0.5*(chartW-vg.Inch)/vg.Length(max(1, len(labels))))
	bars, err := plotter.NewBarChart(plotter.Values(mean), bw)
	if err != nil {
		return f, fmt.Errorf("%s: %w", title, err)
	}
	bars.Color, bars.LineStyle.Width = orange, 0
	eb, err := plotter.NewYErrorBars(errBars{x, mean, lo, hi})
	if err != nil {
		return f, fmt.Errorf("%s: %w", title, err)
	}
	eb.LineStyle.Width, eb.CapWidth = vg.Points(1.5), vg.Points(10)
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	zero.Color = grey
	p.Add(bars, eb, zero)
	p.NominalX(labels...)
	// Many or long labels would overlap: slant them.
	chars := 0
	for _, l := range labels {
		chars += len(l)
	}
	if chars > 60 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	h := chartH
	if chars > 60 {
		h += 1.2 * vg.Inch
	}
	f.SVG, err = svgOf(p, chartW, h)
	return f, err
}

// commissionerFigure draws the area's mean overspend each year with a 95%
// confidence interval (mean ± 1.96 standard errors across replications).
func commissionerFigure(sum *analysis.Summary) (Figure, error) {
	var labels []string
	var mean, lo, hi []float64
	for _, c := range sum.Commissioner {
		if c.Year == "all" {
			continue
		}
		labels = append(labels, "year "+c.Year)
		mean = append(mean, c.OverspendMean/1e3)
		lo = append(lo, (c.OverspendMean-1.96*c.OverspendSE)/1e3)
		hi = append(hi, (c.OverspendMean+1.96*c.OverspendSE)/1e3)
	}
	reading := ""
	for _, c := range sum.Commissioner {
		if c.Year == "all" {
			way, v := "overspends", c.OverspendMean
			if v < 0 {
				way, v = "underspends", -v
			}
			reading = fmt.Sprintf("Over all years together the area %s its budgets by £%.0fk on average and overspends in %s of replications; a reserve of £%.0fk covers the commissioner's excess in its worst year in 95%% of them.",
				way, v/1e3, pct(c.ProbAreaOverspend), c.Reserve95/1e3)
		}
	}
	return ComparisonFigure("area-overspend", "Area overspend by year (mean, 95% confidence interval)",
		"Budget year", "Area spend minus budget (£ thousand)", reading, labels, mean, lo, hi)
}

func f0(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func bandTable(sum *analysis.Summary) Table {
	t := Table{Caption: "By list-size band, per practice-year pooled over replications and years (money in £ per practice-year; VaR and ES of overspend; deficit carried at the year's end). P(over>5%), P(over>10%): the " + analysis.ChanceOverNote,
		Columns: []string{"band", "practices", "list mean", "spend/head", "CV", "variance mean", "variance SD", "P(over>5%)", "P(over>10%)", "P(under>5%)", "P(under>10%)", "VaR95", "ES95", "VaR99", "ES99", "savings kept", "deficit carried"}}
	for _, b := range sum.Bands {
		s := b.Stats
		t.Rows = append(t.Rows, []string{b.Band, strconv.Itoa(s.Practices), f0(s.ListSizeMean), f2(s.SpendPerHeadMean), f3(s.SpendPerHeadCV),
			f0(s.VarianceMean), f0(s.VarianceSD), f3(s.ProbOver5), f3(s.ProbOver10), f3(s.ProbUnder5), f3(s.ProbUnder10),
			f0(s.VaR95), f0(s.ES95), f0(s.VaR99), f0(s.ES99), f0(s.SavingsRetainedMean), f0(s.DeficitCarriedMean)})
	}
	return t
}

func practiceTable(sum *analysis.Summary) Table {
	t := Table{Caption: "By practice", Folded: true,
		Columns: []string{"practice", "band", "list mean", "spend/head", "CV", "variance mean", "variance SD", "P(over>5%)", "P(over>10%)", "P(under>5%)", "VaR95", "ES95", "savings kept", "deficit carried"}}
	for _, p := range sum.Practices {
		s := p.Stats
		t.Rows = append(t.Rows, []string{p.PracticeID, p.Band, f0(s.ListSizeMean), f2(s.SpendPerHeadMean), f3(s.SpendPerHeadCV),
			f0(s.VarianceMean), f0(s.VarianceSD), f3(s.ProbOver5), f3(s.ProbOver10), f3(s.ProbUnder5),
			f0(s.VaR95), f0(s.ES95), f0(s.SavingsRetainedMean), f0(s.DeficitCarriedMean)})
	}
	return t
}

func commissionerTable(sum *analysis.Summary) Table {
	t := Table{Caption: "Commissioner: " + analysis.CommissionerNote + " (£)",
		Columns: []string{"year", "budget", "spend", "commissioner paid", "holder paid", "savings kept", "deficit carried", "stop-loss paid", "overspend mean", "overspend P95", "P(area over)", "reserve 95%", "reserve 99%"}}
	for _, c := range sum.CommissionerAsStated() {
		t.Rows = append(t.Rows, []string{c.Year, f0(c.BudgetMean), f0(c.SpendMean), f0(c.CommissionerPaid), f0(c.HolderPaid), f0(c.SavingsRetained),
			f0(c.DeficitCarried), f0(c.StopLossPaid), f0(c.OverspendMean), f0(c.OverspendP95), f3(c.ProbAreaOverspend), f0(c.Reserve95), f0(c.Reserve99)})
	}
	return t
}

// comparisonMetrics are the metrics drawn, in order; their labels and
// units are analysis.MetricOf's.
var comparisonMetrics = []string{"commissioner_cost", "commissioner_outlay", "reserve_p95", "reserve_p99",
	"savings_retained", "shared_savings_paid", "shared_losses_received", "incentives_paid", "spend_truncated",
	"deficit_carried", "p_overspend_5", "p_overspend_10"}

// ComparisonPage builds the report of a comparison folder: for each metric,
// bars of each scenario's paired difference from the baseline with 95%
// confidence intervals (difference ± 1.96 paired standard errors).
func ComparisonPage(dir string) (*Page, error) {
	rows, kv, err := analysis.ReadComparison(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, runfolder.CompareParquet)
	meta := func(k string) string { return kv[k] }
	var scen []string
	for _, row := range rows {
		if !slices.Contains(scen, row.Scenario) {
			scen = append(scen, row.Scenario)
		}
	}
	p := &Page{Title: "GP practice budgets: " + strings.Join(scen, ", ") + " against " + rows[0].Baseline,
		Generated: time.Now().UTC(), Version: meta("gpbudget.version")}
	p.Facts = []Fact{
		{"Baseline", rows[0].Baseline},
		{"Compared", strings.Join(scen, ", ")},
		{"Seed", meta("gpbudget.seed")},
		{"Replications", strconv.Itoa(int(rows[0].Replications))},
		{"Method", "paired: every scenario run with the same seed (common random numbers); intervals are difference ± 1.96 paired standard errors"},
		{"Results", path},
	}
	if cmd := runfolder.TypedCommand(meta("gpbudget.command")); cmd != "" {
		p.Reproduce = []string{cmd, "gpbudget report " + runfolder.ShellQuote(dir)}
	}
	sec := Section{Heading: "Differences from " + rows[0].Baseline,
		Intro: "Each bar is a scenario's value minus the baseline's; the error bar is its 95% confidence interval. " +
			"An interval that crosses zero means the run cannot tell the two apart."}
	for _, name := range comparisonMetrics {
		m := analysis.MetricOf(name)
		unit, scale := m.Shown()
		var labels []string
		var mean, lo, hi []float64
		var read []string
		for _, row := range rows {
			if row.Metric != m.Name {
				continue
			}
			label := row.Scenario
			if row.Band != analysis.AllBands {
				label += " " + row.Band
			}
			d, h := row.Difference*scale, 1.96*row.SEPaired*scale
			labels, mean, lo, hi = append(labels, label), append(mean, d), append(lo, d-h), append(hi, d+h)
			if row.Band == analysis.AllBands {
				read = append(read, fmt.Sprintf("%s %+.1f (%.1f to %.1f)", row.Scenario, d, d-h, d+h))
			}
		}
		if len(labels) == 0 {
			continue
		}
		reading := fmt.Sprintf("Change against %s in %s: %s.", rows[0].Baseline, unit, strings.Join(read, "; "))
		fig, err := ComparisonFigure("cmp-"+strings.ReplaceAll(m.Name, "_", "-"), m.Label+": difference from "+rows[0].Baseline,
			"Scenario (and list-size band)", "Scenario minus baseline ("+unit+")", reading, labels, mean, lo, hi)
		if err != nil {
			return nil, err
		}
		sec.Figures = append(sec.Figures, fig)
	}
	t := Table{Caption: "All compared metrics (probabilities as fractions, money in £)",
		Columns: []string{"metric", "band", "scenario", rows[0].Baseline, "scenario value", "difference", "SE paired", "SE independent"}}
	for _, row := range rows {
		t.Rows = append(t.Rows, []string{row.Metric, row.Band, row.Scenario, strconv.FormatFloat(row.BaselineValue, 'g', 6, 64),
			strconv.FormatFloat(row.ScenarioValue, 'g', 6, 64), strconv.FormatFloat(row.Difference, 'g', 4, 64),
			strconv.FormatFloat(row.SEPaired, 'g', 3, 64), strconv.FormatFloat(row.SEIndependent, 'g', 3, 64)})
	}
	sec.Tables = []Table{t}
	p.Sections = []Section{sec}
	return p, nil
}

func bandNames() []string {
	n := make([]string, len(analysis.Bands))
	for i, b := range analysis.Bands {
		n[i] = b.Name
	}
	return n
}
