package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/urfave/cli/v2"
)

func summarizeCommand() *cli.Command {
	o := &summarizeOptions{}
	return &cli.Command{
		Name:      "summarize",
		Usage:     "summary tables of a run: by list-size band, by practice, by year, commissioner",
		ArgsUsage: "DIR",
		Description: "Streams a completed run's Parquet results and writes DIR/summary/{by_band,by_practice,\n" +
			"by_year,commissioner,ledger,ledger_flows}.{csv,parquet}, then prints the main tables as text.\n" +
			"List-size bands: <3000, 3000-5999, 6000-9999 and 10000+ patients (a practice's band is that of\n" +
			"its mean list size). Memory stays flat in the number of rows: percentiles are exact while every\n" +
			"practice's values fit --exact-memory as float32; beyond, each practice's stay exact (its values\n" +
			"spilled to temporary files in TMPDIR, removed afterwards) and the bands' and years' come from\n" +
			"DDSketch quantile sketches within 1% (the output says which). The ledger tables give the commissioner's outlay and each party's net\n" +
			"position, summed from DIR/ledger/.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "practices", Value: 20, Destination: &o.practices, Usage: "list at most `N` practices in the printed table (0: all)"},
			quietFlag(&o.quiet, "write the tables, print nothing"),
			exactMemoryFlag(&o.exactMemory),
		},
		Action: func(c *cli.Context) error {
			dir, err := runDirArg(c, "summarize")
			if err != nil {
				return err
			}
			return runSummarize(c.Context, o, streamsOf(c), dir)
		},
	}
}

// summarizeOptions are summarize's flags.
type summarizeOptions struct {
	practices, exactMemory int
	quiet                  bool
}

// runSummarize writes the summary tables of the completed run in dir and
// prints the main ones.
func runSummarize(ctx context.Context, o *summarizeOptions, w streams, dir string) error {
	_, sum, err := loadSummary(ctx, dir, o.exactMemory)
	if err != nil {
		return err
	}
	files, err := sum.Write(dir)
	if err != nil {
		return err
	}
	if o.quiet {
		return nil
	}
	if err := sum.Print(w.out, o.practices); err != nil {
		return err
	}
	fmt.Fprintf(w.out, "\nwrote %d files to %s/%s/\n", len(files), dir, runfolder.SummaryDir)
	return nil
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

// loadSummary streams a completed run's summary; a folder that is not a
// completed run is bad input.
func loadSummary(ctx context.Context, dir string, exactMB int) (*runfolder.Manifest, *analysis.Summary, error) {
	man, err := runfolder.RequireComplete(dir)
	if err != nil {
		if errors.Is(err, runfolder.ErrIncomplete) || errors.Is(err, os.ErrNotExist) {
			return nil, nil, inputError{err}
		}
		return nil, nil, err
	}
	if err := inRange("exact-memory", exactMB, 0, 1<<20); err != nil {
		return nil, nil, err
	}
	streamingGC()
	sum, err := analysis.Summarize(ctx, dir, analysis.Options{ExactBytes: int64(exactMB) << 20})
	return man, sum, err
}
