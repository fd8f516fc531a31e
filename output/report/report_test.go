package report

import (
	"bytes"
	"cmp"
	"context"
	"html/template"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
)

// smallReport renders the report of a small run into its folder.
func smallReport(t *testing.T) (string, *analysis.Summary, *Page, string) {
	t.Helper()
	dir := testRun(t)
	sum, err := analysis.Summarize(context.Background(), dir, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	man, err := runfolder.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	page, err := RunPage(dir, man, sum)
	if err != nil {
		t.Fatal(err)
	}
	path, err := Write(dir, page)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, sum, page, string(b)
}

// testRun runs a small model (8 practices, 8 replications, 3 years) into a
// temporary folder, recorded as typed through 'go run' (a temporary binary).
func testRun(t *testing.T) string {
	t.Helper()
	s := scenarios.Default()
	s.Population.Synthetic.Practices = 8
	m, err := s.Model(11)
	if err != nil {
		t.Fatal(err)
	}
	sp := &rundir.Spec{Scenario: s, Model: m, Seed: 11, Reps: 8, Years: 3, Workers: 2, Dir: t.TempDir(), Version: "test",
		Command: runfolder.CommandLine([]string{"/tmp/go-build123/b001/exe/gpbudget", "run", "--reps", "8", "--out", "my results"})}
	if _, err := rundir.Execute(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	return sp.Dir
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

func series(t *testing.T, f *Figure, name string) Series {
	t.Helper()
	for _, s := range f.Series {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("figure %s has no series %q", f.ID, name)
	return Series{}
}

func same(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: plotted %v, table says %v", what, got, want)
	}
}

// Every chart is in the page, titled, labelled with units, read in one line,
// and drawn from the summary tables' numbers.
func TestReportChartsComeFromTheSummary(t *testing.T) {
	_, sum, page, html := smallReport(t)
	figs := map[string]*Figure{}
	for _, f := range page.Figures() {
		figs[f.ID] = f
		if f.Title == "" || f.Reading == "" || !strings.Contains(f.YLabel, "(") || !strings.Contains(f.XLabel+f.YLabel, "(") {
			t.Errorf("figure %s lacks a title, reading or units: %+v", f.ID, f)
		}
		// The figure element holds its SVG, whose text includes the title.
		re := regexp.MustCompile(`(?s)<figure id="` + regexp.QuoteMeta(f.ID) + `" class="chart">\s*<svg.*?</svg>`)
		svg := re.FindString(html)
		if svg == "" {
			t.Errorf("figure %s: no inline SVG in the page", f.ID)
			continue
		}
		for _, w := range strings.Fields(f.Title)[:2] {
			if !strings.Contains(svg, w) {
				t.Errorf("figure %s: title word %q not drawn", f.ID, w)
			}
		}
		if !strings.Contains(strings.ReplaceAll(html, "&#43;", "+"), template.HTMLEscapeString(f.Reading)) {
			t.Errorf("figure %s: reading not in the page", f.ID)
		}
	}
	for _, id := range []string{"overspend-vs-list", "variance-by-band", "fan-all", "area-overspend"} {
		if figs[id] == nil {
			t.Fatalf("no figure %s", id)
		}
	}

	// Overspend probability against list size: one point per practice.
	var x, p5, p10 []float64
	for _, p := range sum.Practices {
		x, p5, p10 = append(x, p.ListSizeMean), append(p5, 100*p.ProbOver5), append(p10, 100*p.ProbOver10)
	}
	f := figs["overspend-vs-list"]
	same(t, "list sizes", series(t, f, "overspend > 5% of budget").X, x)
	same(t, "P(over>5%)", series(t, f, "overspend > 5% of budget").Y, p5)
	same(t, "P(over>10%)", series(t, f, "overspend > 10% of budget").Y, p10)

	// Variance by band: the boxes are the table's quantiles.
	var med, lo, hi []float64
	for _, b := range sum.Bands {
		med, lo, hi = append(med, b.VariancePctP50), append(lo, b.VariancePctP05), append(hi, b.VariancePctP95)
	}
	f = figs["variance-by-band"]
	same(t, "band medians", series(t, f, "median").Y, med)
	same(t, "band p05", series(t, f, "5th percentile").Y, lo)
	same(t, "band p95", series(t, f, "95th percentile").Y, hi)
	if got := series(t, f, "median").Labels; len(got) != len(sum.Bands) || got[len(got)-1] != "all" {
		t.Errorf("band labels %v", got)
	}

	// Fan charts: one for all practices and one per band present.
	fans := 0
	for _, fg := range page.Figures() {
		if strings.HasPrefix(fg.ID, "fan-") {
			fans++
		}
	}
	if fans != len(sum.Bands) {
		t.Errorf("%d fan charts for %d bands (with all)", fans, len(sum.Bands))
	}
	var fmed, f05, f95 []float64
	// By year, as the chart runs (the summary lists "all" last year first).
	byYear := slices.Clone(sum.ByYear)
	slices.SortStableFunc(byYear, func(a, b analysis.YearStats) int { return cmp.Compare(a.Year, b.Year) })
	for _, y := range byYear {
		if y.Band == "all" {
			fmed, f05, f95 = append(fmed, y.P50), append(f05, y.P05), append(f95, y.P95)
		}
	}
	f = figs["fan-all"]
	if len(fmed) != 3 {
		t.Fatalf("%d years of spend per head, want 3", len(fmed))
	}
	same(t, "fan median", series(t, f, "median").Y, fmed)
	same(t, "fan p05", series(t, f, "5th percentile").Y, f05)
	same(t, "fan p95", series(t, f, "95th percentile").Y, f95)

	// Comparison bars: the area overspend by year with its interval.
	var bars []float64
	for _, c := range sum.Commissioner[:len(sum.Commissioner)-1] {
		bars = append(bars, c.OverspendMean/1e3)
	}
	f = figs["area-overspend"]
	same(t, "area overspend", series(t, f, "mean").Y, bars)
	for i, l := range series(t, f, "low").Y {
		if h := series(t, f, "high").Y[i]; !(l <= bars[i] && bars[i] <= h) {
			t.Errorf("bar %d: interval %g..%g misses the mean %g", i, l, h, bars[i])
		}
	}

	// The page says what was run and how to reproduce it, and loads nothing.
	// The command is shown as typed, not as the temporary binary of 'go run'.
	for _, want := range []string{"<th scope=\"row\">Seed</th><td>11</td>", "gpbudget run --reps 8 --out &#39;my results&#39;", "gpbudget report ", "default"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(html, "go-build") {
		t.Error("the page names the temporary binary of go run")
	}
	// Axis ticks read naturally: no "2500.00", and list sizes on a log scale
	// are labelled like 2,000 or 10k.
	for _, svg := range regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(html, -1) {
		for _, m := range regexp.MustCompile(`(?s)<text[^>]*>([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
			if regexp.MustCompile(`^-?\d{4,}(\.\d+)?$|\.\d*0$`).MatchString(strings.TrimSpace(m[1])) {
				t.Errorf("axis label %q: want thousands separated (2,500 or 10k) without trailing zeros", m[1])
			}
		}
	}
	if regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).MatchString(html) || strings.Contains(html, "<script") ||
		strings.Contains(html, "<link") || regexp.MustCompile(`url\(`).MatchString(html) {
		t.Error("the page refers to outside assets or scripts")
	}
}

func TestComparisonFigureDrawsErrorBars(t *testing.T) {
	f, err := ComparisonFigure("cmp", "Models compared", "Policy model", "Overspend (£ thousand)", "A reads lower than B.",
		[]string{"A", "B"}, []float64{1, 2}, []float64{0.5, 1.5}, []float64{1.5, 2.5})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(f.SVG), "<svg") || !strings.Contains(string(f.SVG), "Models compared") {
		t.Fatalf("svg: %.200s", f.SVG)
	}
	if got := f.XHeader(); !slices.Equal(got, []string{"A", "B"}) {
		t.Errorf("header %v", got)
	}
}

// The page renders in a real browser: headless Chromium loads it offline and
// its DOM holds every chart; a screenshot is not blank.
func TestReportRendersInChromium(t *testing.T) {
	bin := chromium(t, "the report")
	path, _, page, _ := smallReport(t)
	inChromium(t, bin, path, page)
}

// chromium finds Debian's Chromium: absent, the test skips saying which page
// was not checked in a browser, or fails under CI, whose .ci/run installs it.
func chromium(t *testing.T, what string) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skipf("SKIPPED: chromium not found (apt-get install -y chromium); %s was not checked in a browser", what)
	return ""
}

// inChromium loads the page at path in headless Chromium (bin) offline and
// checks that its DOM holds every chart, nothing was reported, and a
// screenshot is not blank.
func inChromium(t *testing.T, bin, path string, page *Page) {
	t.Helper()
	url := "file://" + path
	tmp := t.TempDir()
	run := func(args ...string) (string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--enable-logging=stderr", "--v=0", "--user-data-dir=" + filepath.Join(tmp, "profile")}
		cmd := exec.CommandContext(ctx, bin, append(append(base, args...), url)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
		}
		return out.String(), errb.String()
	}
	dom, logs := run("--dump-dom")
	// Page errors reach the log as console messages; the page has no script,
	// so any is a fault. (Chromium's own D-Bus and GPU noise is not.)
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "CONSOLE") || strings.Contains(l, "Uncaught") || strings.Contains(l, "net::ERR") {
			t.Errorf("browser reported: %s", l)
		}
	}
	figs := page.Figures()
	if n := strings.Count(dom, "<svg"); n < len(figs) {
		t.Errorf("rendered DOM has %d SVG elements, want %d", n, len(figs))
	}
	for _, f := range figs {
		if !strings.Contains(dom, `id="`+f.ID+`"`) {
			t.Errorf("rendered DOM lacks figure %s", f.ID)
		}
	}
	shot := filepath.Join(tmp, "page.png")
	run("--window-size=1100,2400", "--screenshot="+shot)
	fh, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colours := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	// Text, grey grid lines and the blue and orange charts give many colours.
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: the page looks blank", len(colours))
	}
}

// A comparison folder's page draws each scenario's paired difference from
// the baseline with difference ± 1.96 paired SE, as the table says.
func TestComparisonPage(t *testing.T) {
	dir := t.TempDir()
	rows := []analysis.CompareRow{
		{Metric: "commissioner_cost", Band: "all", Baseline: "pbc", Scenario: "hard", BaselineValue: 5e6, ScenarioValue: 4.9e6, Difference: -1e5, SEPaired: 2e4, SEIndependent: 9e4, Replications: 50},
		{Metric: "commissioner_cost", Band: "all", Baseline: "pbc", Scenario: "fundholding", BaselineValue: 5e6, ScenarioValue: 5.05e6, Difference: 5e4, SEPaired: 3e4, SEIndependent: 9e4, Replications: 50},
		{Metric: "p_overspend_5", Band: "all", Baseline: "pbc", Scenario: "hard", BaselineValue: .2, ScenarioValue: .15, Difference: -.05, SEPaired: .01, Replications: 50},
		{Metric: "p_overspend_5", Band: "<3000", Baseline: "pbc", Scenario: "hard", BaselineValue: .3, ScenarioValue: .2, Difference: -.1, SEPaired: .02, Replications: 50},
	}
	err := analysis.WriteComparison(dir, rows, map[string]string{"gpbudget.seed": "9",
		"gpbudget.command": "/tmp/go-build9/exe/gpbudget compare pbc hard fundholding --seed 9"})
	if err != nil {
		t.Fatal(err)
	}
	if !analysis.IsComparison(dir) {
		t.Fatal("not recognised as a comparison folder")
	}
	page, err := ComparisonPage(dir)
	if err != nil {
		t.Fatal(err)
	}
	figs := page.Figures()
	if len(figs) != 2 {
		t.Fatalf("%d figures, want commissioner cost and overspend probability", len(figs))
	}
	cost := figs[0]
	same(t, "cost differences (£k)", series(t, cost, "mean").Y, []float64{-100, 50})
	near(t, "cost low", series(t, cost, "low").Y[0], -100-1.96*20)
	near(t, "cost high", series(t, cost, "high").Y[1], 50+1.96*30)
	if got := series(t, cost, "mean").Labels; !slices.Equal(got, []string{"hard", "fundholding"}) {
		t.Errorf("labels %v", got)
	}
	prob := figs[1]
	same(t, "overspend differences (points)", series(t, prob, "mean").Y, []float64{-5, -10})
	if got := series(t, prob, "mean").Labels; got[1] != "hard <3000" {
		t.Errorf("labels %v", got)
	}
	path, err := Write(dir, page)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	html := string(b)
	for _, want := range []string{"<th scope=\"row\">Seed</th><td>9</td>", "gpbudget compare pbc hard fundholding --seed 9", `id="cmp-commissioner-cost"`, "<svg"} {
		if !strings.Contains(html, want) {
			t.Errorf("comparison page lacks %q", want)
		}
	}
}
