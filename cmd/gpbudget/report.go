package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/report"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/urfave/cli/v2"
)

func reportCommand() *cli.Command {
	o := &reportOptions{}
	return &cli.Command{
		Name:      "report",
		Usage:     "write DIR/report.html: a self-contained page of charts and tables for a run, a comparison, a risk curve or a sensitivity analysis",
		ArgsUsage: "DIR",
		Description: "Reads a completed run's results, writes its summary tables (as 'summarize' does)\n" +
			"and one HTML file with inline SVG charts that opens offline in any browser. For a\n" +
			"comparison folder (DIR/compare.parquet from 'gpbudget compare') it draws each\n" +
			"scenario's difference from the baseline with its 95% confidence interval; for a\n" +
			"risk curve (DIR/risk_curve.parquet from 'gpbudget risk-curve') the curves against\n" +
			"holder size, with Medicare's sliding minimum savings rate beside the simulated one;\n" +
			"for a sensitivity folder (DIR/sensitivity.parquet from 'gpbudget sensitivity'),\n" +
			"tornado charts.",
		Flags: []cli.Flag{
			quietFlag(&o.quiet, "print nothing but errors"),
			exactMemoryFlag(&o.exactMemory),
		},
		Action: func(c *cli.Context) error {
			dir, err := runDirArg(c, "report")
			if err != nil {
				return err
			}
			return runReport(c.Context, o, streamsOf(c), dir)
		},
	}
}

// reportOptions are report's flags.
type reportOptions struct {
	exactMemory int
	quiet       bool
}

// runReport writes dir's report page: a run's (with its summary tables), a
// comparison's, a risk curve's or a sensitivity analysis's.
func runReport(ctx context.Context, o *reportOptions, w streams, dir string) error {
	page, tables, err := reportPage(ctx, o, dir)
	if err != nil {
		return err
	}
	path, err := report.Write(dir, page)
	if err != nil {
		return err
	}
	if !o.quiet {
		fmt.Fprintf(w.out, "wrote %s (%d charts)%s\n", path, len(page.Figures()), tables)
	}
	return nil
}

// reportPage draws dir's page; for a run, it first writes the summary
// tables, and tables says where.
func reportPage(ctx context.Context, o *reportOptions, dir string) (page *report.Page, tables string, err error) {
	// A comparison folder (from compare), a risk curve (from risk-curve) or
	// a sensitivity folder (from sensitivity) has no manifest, only its table.
	_, noManifest := os.Stat(filepath.Join(dir, runfolder.ManifestName))
	if noManifest != nil && (analysis.IsComparison(dir) || analysis.IsRiskCurve(dir) || analysis.IsSensitivity(dir)) {
		pageOf := report.ComparisonPage
		switch {
		case analysis.IsRiskCurve(dir):
			pageOf = report.RiskCurvePage
		case analysis.IsSensitivity(dir):
			pageOf = report.SensitivityPage
		}
		page, err := pageOf(dir)
		return page, "", err
	}
	man, sum, err := loadSummary(ctx, dir, o.exactMemory)
	if err != nil {
		return nil, "", err
	}
	if _, err := sum.Write(dir); err != nil {
		return nil, "", err
	}
	page, err = report.RunPage(dir, man, sum)
	return page, fmt.Sprintf(" and the tables in %s/%s/", dir, runfolder.SummaryDir), err
}
