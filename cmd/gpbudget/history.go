package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/gpbudget/gpbudget/nhsdata"
	"github.com/gpbudget/gpbudget/output"
	"github.com/urfave/cli/v2"
)

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:  "history",
		Usage: "turn NHS Payments to General Practice files into a history for fit, forecast and backtest",
		Description: "Reads NHS Digital's annual practice-level payments files (one per financial year,\n" +
			"named e.g. payments_17-18.csv for 2017/18) and writes one row per practice and\n" +
			"year: list_size (registered patients), spend_prescribing (drugs reimbursed to\n" +
			"dispensing practices; 0 for the others and for the streams the files do not\n" +
			"carry), and the columns dispensing, commissioner, list_basis and event. A practice\n" +
			"that leaves the files is reported as merged into the practice of its commissioner\n" +
			"whose list took up at least half its patients, or as closed; practice-years\n" +
			"with a blank list are left out and counted. A summary goes to standard error.",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "payments", Usage: "payments `FILE`s (repeat the flag, or list files after it)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "history.csv", Usage: "history `FILE` to write"},
		},
		Action: func(c *cli.Context) error {
			paths, out, err := historyArgs(c)
			if err != nil {
				return err
			}
			if len(paths) == 0 {
				return badInput("--payments: give one or more payments files")
			}
			var files []*nhsdata.Payments
			for _, p := range paths {
				f, err := nhsdata.ReadPaymentsFile(p, 0)
				if err != nil {
					return inputError{err}
				}
				files = append(files, f)
			}
			rows, rep, err := nhsdata.BuildHistory(files)
			if err != nil {
				return inputError{err}
			}
			var buf bytes.Buffer
			if err := nhsdata.WriteHistory(&buf, rows); err != nil {
				return err
			}
			if err := output.WriteFileAtomic(out, buf.Bytes()); err != nil {
				return inputError{fmt.Errorf("--out: %w", err)}
			}
			printBuildReport(c.App.ErrWriter, rep)
			fmt.Fprintf(c.App.ErrWriter, "wrote %s (%d practice-years)\n", out, rep.Rows)
			return nil
		},
	}
}

// historyArgs returns the payments files and the output file. The shell
// expands --payments DIR/payments_*.csv into one flag value and positional
// arguments, after which the flag parser stops: --out among them is read
// here.
func historyArgs(c *cli.Context) (paths []string, out string, err error) {
	paths, out = c.StringSlice("payments"), c.String("out")
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--out" || a == "-out" || a == "-o":
			if i+1 >= len(args) {
				return nil, "", badInput("%s needs a FILE", a)
			}
			out = args[i+1]
			i++
		case strings.HasPrefix(a, "--out="):
			out = strings.TrimPrefix(a, "--out=")
		case strings.HasPrefix(a, "-"):
			return nil, "", badInput("%s: unknown flag after the payments files", a)
		default:
			paths = append(paths, a)
		}
	}
	return paths, out, nil
}

func printBuildReport(w io.Writer, rep *nhsdata.BuildReport) {
	fmt.Fprintf(w, "%-9s %9s %7s %7s %7s   %s\n", "years", "practices", "closed", "merged", "opened", "list")
	for _, ch := range rep.Changes {
		fmt.Fprintf(w, "%d->%d %9d %7d %7d %7d   %s -> %s\n", ch.From, ch.To, ch.Practices, ch.Closed, ch.Merged, ch.Opened, rep.Basis[ch.From], rep.Basis[ch.To])
	}
	if n := len(rep.NoList); n > 0 {
		ex := rep.NoList[:min(n, 5)]
		fmt.Fprintf(w, "left out %d practice-years with a blank or zero list (e.g. %v)\n", n, ex)
	}
}
