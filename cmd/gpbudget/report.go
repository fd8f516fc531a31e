package main

import (
	"fmt"

	"github.com/gpbudget/gpbudget/output"
	"github.com/urfave/cli/v2"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write DIR/report.html: a self-contained page of charts and tables for a run",
		ArgsUsage: "DIR",
		Description: "Reads a completed run's results, writes its summary tables (as 'summarize' does)\n" +
			"and one HTML file with inline SVG charts that opens offline in any browser.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		},
		Action: func(c *cli.Context) error {
			dir, err := runDirArg(c, "report")
			if err != nil {
				return err
			}
			res, sum, err := loadSummary(dir)
			if err != nil {
				return err
			}
			if _, err := sum.Write(dir); err != nil {
				return err
			}
			page, err := output.RunPage(res, sum)
			if err != nil {
				return err
			}
			path, err := output.WriteReport(dir, page)
			if err != nil {
				return err
			}
			if !c.Bool("quiet") {
				fmt.Fprintf(c.App.Writer, "wrote %s (%d charts) and the tables in %s/%s/\n", path, len(page.Figures()), dir, output.SummaryDir)
			}
			return nil
		},
	}
}
