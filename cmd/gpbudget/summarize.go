package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/gpbudget/gpbudget/output"
	"github.com/urfave/cli/v2"
)

func summarizeCommand() *cli.Command {
	return &cli.Command{
		Name:      "summarize",
		Usage:     "summary tables of a run: by list-size band, by practice, by year, commissioner",
		ArgsUsage: "DIR",
		Description: "Reads a completed run's Parquet results and writes DIR/summary/{by_band,by_practice,\n" +
			"by_year,commissioner}.{csv,parquet}, then prints the main tables as text. List-size bands:\n" +
			"<3000, 3000-5999, 6000-9999 and 10000+ patients (a practice's band is that of its mean list size).",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "practices", Value: 20, Usage: "list at most `N` practices in the printed table (0: all)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "write the tables, print nothing"},
		},
		Action: func(c *cli.Context) error {
			dir, err := runDirArg(c, "summarize")
			if err != nil {
				return err
			}
			_, sum, err := loadSummary(dir)
			if err != nil {
				return err
			}
			files, err := sum.Write(dir)
			if err != nil {
				return err
			}
			if c.Bool("quiet") {
				return nil
			}
			if err := sum.Print(c.App.Writer, c.Int("practices")); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "\nwrote %d files to %s/%s/\n", len(files), dir, output.SummaryDir)
			return nil
		},
	}
}

// runDirArg is the single DIR argument of summarize and report.
func runDirArg(c *cli.Context, cmd string) (string, error) {
	if c.NArg() != 1 {
		return "", badInput("%s: want one argument, the run folder DIR (got %d)", cmd, c.NArg())
	}
	dir := c.Args().First()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", badInput("%s: %s is not a folder", cmd, dir)
	}
	return dir, nil
}

// loadSummary reads a completed run and summarises it; a folder that is not
// a completed run is bad input.
func loadSummary(dir string) (*output.Results, *output.Summary, error) {
	res, err := output.ReadResults(dir)
	if err != nil {
		if errors.Is(err, output.ErrIncomplete) || errors.Is(err, os.ErrNotExist) {
			return nil, nil, inputError{err}
		}
		return nil, nil, err
	}
	sum, err := output.Summarize(res)
	return res, sum, err
}
