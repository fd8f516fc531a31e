package report

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
)

// A risk curve's page draws each column against holder size from the
// table's numbers (in per cent), with Medicare's sliding MSR beside the
// simulated one, and reads the curve in words with sizes as people write them.
func TestRiskCurvePage(t *testing.T) {
	page, path := riskCurvePage(t)
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "<svg") {
		t.Error("no charts in the page")
	}
	figs := map[string]*Figure{}
	for _, f := range page.Figures() {
		figs[f.ID] = f
		if f.SVG == "" || f.Reading == "" || !strings.Contains(f.XLabel, "log scale") {
			t.Errorf("figure %s: SVG %d bytes, reading %q, x label %q", f.ID, len(f.SVG), f.Reading, f.XLabel)
		}
	}
	same(t, "CV (%)", series(t, figs["rc-risk"], "SD of (benchmark - spend) / benchmark").Y, []float64{100 * 0.043, 100 * 0.006})
	same(t, "sizes", series(t, figs["rc-risk"], "SD of (benchmark - spend) / benchmark").X, []float64{5000, 250000})
	same(t, "false reward (%)", series(t, figs["rc-luck"], "false reward (no real change)").Y, []float64{40, 5})
	same(t, "Medicare MSR (%)", series(t, figs["rc-msr"], "Medicare's sliding MSR (42 CFR 425.604)").Y, []float64{100 * 0.039, 2})
	near(t, "simulated MSR at 250,000 (%)", series(t, figs["rc-msr"], "simulated MSR for 5% false reward").Y[1], 1.98)
	if r := figs["rc-luck"].Reading; !strings.Contains(r, "5,000 people") || !strings.Contains(r, "250,000") {
		t.Errorf("reading %q", r)
	}
	if len(page.Reproduce) == 0 || page.Reproduce[0] != "gpbudget risk-curve --seed 3" {
		t.Errorf("reproduce %v", page.Reproduce)
	}
}

// The risk curve's page renders in headless Chromium with every chart.
func TestRiskCurvePageInChromium(t *testing.T) {
	bin := chromium(t, "the risk curve's page")
	page, path := riskCurvePage(t)
	inChromium(t, bin, path, page)
}

// riskCurvePage writes a two-size risk curve table and its page to a
// temporary folder, returning the page and the HTML file's path.
func riskCurvePage(t *testing.T) (*Page, string) {
	t.Helper()
	dir := t.TempDir()
	rows := []analysis.RiskCurveRow{
		{HolderSize: 5000, Holders: 400, HolderYears: 8000, Mode: "cohort", SDVsBenchmark: 0.043, SDVsBenchmarkSE: 0.0002, Reserve95: 0.095, Reserve95SE: 0.0004,
			FalseReward: 0.40, FalseRewardSE: 0.002, Power2pct: 0.54, Power2pctSE: 0.002, MSRFor5pct: 0.095, MSRFor5pctSE: 0.0003, ScenarioMSR: 0.02, MedicareMSR: 0.039},
		{HolderSize: 250000, Holders: 10, HolderYears: 200, Mode: "cohort", SDVsBenchmark: 0.006, SDVsBenchmarkSE: 0.0001, Reserve95: 0.008, Reserve95SE: 0.0004,
			FalseReward: 0.05, FalseRewardSE: 0.005, Power2pct: 0.76, Power2pctSE: 0.009, MSRFor5pct: 0.0198, MSRFor5pctSE: 0.0002, ScenarioMSR: 0.02, MedicareMSR: 0.02},
	}
	if err := analysis.WriteRiskCurve(dir, rows, map[string]string{"gpbudget.scenario": "nb", "gpbudget.seed": "3", "gpbudget.version": "test",
		"gpbudget.command": "/tmp/go-build1/exe/gpbudget risk-curve --seed 3"}); err != nil {
		t.Fatal(err)
	}
	page, err := RiskCurvePage(dir)
	if err != nil {
		t.Fatal(err)
	}
	path, err := Write(dir, page)
	if err != nil {
		t.Fatal(err)
	}
	return page, path
}

// A contract run's page has a section of its payments, drawn from the
// summary's contract table; a run without contracts has none.
func TestContractSection(t *testing.T) {
	s, err := scenarios.Load("mnp-two-sided-2026")
	if err != nil {
		t.Fatal(err)
	}
	s.Population.Synthetic.Practices = 16
	s.Rule.Consortium.TargetPopulation = 30000
	m, err := s.Model(4)
	if err != nil {
		t.Fatal(err)
	}
	sp := &rundir.Spec{Scenario: s, Model: m, Seed: 4, Reps: 12, Years: 3, Workers: 2, Dir: t.TempDir(), Version: "test", Command: "gpbudget run"}
	if _, err := rundir.Execute(context.Background(), sp); err != nil {
		t.Fatal(err)
	}
	sum, err := analysis.Summarize(context.Background(), sp.Dir, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	man, err := runfolder.ReadManifest(sp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	page, err := RunPage(sp.Dir, man, sum)
	if err != nil {
		t.Fatal(err)
	}
	var sec *Section
	for i := range page.Sections {
		if page.Sections[i].Heading == "Contract payments" {
			sec = &page.Sections[i]
		}
	}
	if sec == nil || len(sec.Figures) == 0 || len(sec.Tables) != 1 || !strings.Contains(sec.Intro, "ICB") {
		t.Fatalf("contract section %+v", sec)
	}
	f := sec.Figures[0]
	y := series(t, &f, "mean").Y
	for i, c := range sum.Contract[:len(sum.Contract)-1] {
		if math.Abs(y[i]-c.SharedSavings/1e3) > 1e-9 {
			t.Errorf("year %s: drawn %v, table %v", c.Year, y[i], c.SharedSavings/1e3)
		}
	}
	_, _, plain, _ := smallReport(t)
	for _, s := range plain.Sections {
		if s.Heading == "Contract payments" {
			t.Error("an indicative run's page has a contract section")
		}
	}
}
