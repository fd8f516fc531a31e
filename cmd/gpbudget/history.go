package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gpbudget/gpbudget/internal/forecast"
	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/urfave/cli/v2"
)

func historyCommand() *cli.Command {
	o := &historyOptions{}
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
			"with a blank list are left out and counted. A summary goes to standard error:\n" +
			"each file's encoding and line ends, the values it held as missing (by column),\n" +
			"unusual values (small lists, high drug costs per head), and warnings about the\n" +
			"files together (codes that leave and come back, years without commissioners,\n" +
			"two years of the same content). A damaged file is refused (exit status 2).",
		Flags: []cli.Flag{
			paymentsFlag(&o.payments),
			outFlag(&o.out, "history.csv", "history `FILE` to write (- for standard output)"),
			&cli.StringSliceFlag{Name: "weighted-populations", Destination: &o.weighted, Usage: "also measure need per head from NHS England need-weighted population `FILE`s (printed)"},
			&cli.BoolFlag{Name: "calibration", Destination: &o.calibration, Usage: "print the list and drug-cost dynamics measured on the files (docs/parameters.md)"},
		},
		Action: func(c *cli.Context) error {
			paths, err := filesAndFlags(c, "payments")
			if err != nil {
				return err
			}
			return runHistory(c.Context, o, streamsOf(c), paths)
		},
	}
}

// historyOptions are history's flags.
type historyOptions struct {
	payments, weighted cli.StringSlice
	out                string
	calibration        bool
}

// runHistory builds a history from the payments files paths and writes it.
func runHistory(ctx context.Context, o *historyOptions, w streams, paths []string) error {
	weighted := o.weighted.Value()
	out, err := outFile("out", o.out, append(append([]string(nil), paths...), weighted...)...)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return badInput("--payments: give one or more payments files")
	}
	// Every input is read, and the history made, before it is written;
	// Ctrl-C or SIGTERM ends the command at once.
	type built struct {
		files    []*nhsdata.Payments
		rows     []nhsdata.PracticeYear
		rep      *nhsdata.BuildReport
		weighted [][]nhsdata.WeightedPopulation
		text     []byte
	}
	res, err := interruptible(ctx, func() (built, error) {
		var r built
		for _, p := range paths {
			f, err := nhsdata.ReadPaymentsFile(p, 0)
			if err != nil {
				return r, inputError{err}
			}
			r.files = append(r.files, f)
		}
		var err error
		if r.rows, r.rep, err = nhsdata.BuildHistory(r.files); err != nil {
			return r, inputError{err}
		}
		r.weighted = make([][]nhsdata.WeightedPopulation, len(weighted))
		for i, f := range weighted {
			if r.weighted[i], err = nhsdata.ReadWeightedFile(f); err != nil {
				return r, inputError{err}
			}
		}
		var buf bytes.Buffer
		if err := nhsdata.WriteHistory(&buf, r.rows); err != nil {
			return r, err
		}
		r.text = buf.Bytes()
		return r, nil
	})
	if err != nil {
		return err
	}
	rows, rep := res.rows, res.rep
	if err := notInterrupted(ctx, out); err != nil {
		return err
	}
	if err := writeOut(w.out, out, res.text); err != nil {
		return err
	}
	printBuildReport(w.err, rep)
	printFileReports(w.err, res.files)
	// With the history on standard output, the tables go to standard error.
	tw := w.out
	if out == "-" {
		tw = w.err
	}
	if o.calibration {
		if err := printCalibration(tw, rows, rep); err != nil {
			return err
		}
	}
	for i, f := range weighted {
		printNeed(tw, f, nhsdata.MeasureNeed(res.weighted[i], 1000))
	}
	if out == "-" {
		return nil
	}
	fmt.Fprintf(w.err, "wrote %s (%d practice-years)\n", out, rep.Rows)
	return nil
}

// printFileReports says, per file, what it was found to be and what it
// holds that is missing or unusual (counts and examples): nothing read as
// missing or implausible passes in silence.
func printFileReports(w io.Writer, files []*nhsdata.Payments) {
	for _, f := range files {
		fmt.Fprintf(w, "%s: %d practices; %s\n", f.File, len(f.Rows), f.Format)
		for _, m := range f.Missing {
			fmt.Fprintf(w, "  column %s\n", m)
		}
		for _, l := range []struct {
			codes []string
			what  string
		}{
			{f.DispensingNoDrugs, "dispensing practices without a drug reimbursement (their prescribing spend is written as 0)"},
			{f.HighDrugsPerHead, fmt.Sprintf("dispensing practices with drugs above £%d a registered patient", nhsdata.MaxDrugsPerHead)},
			{f.SmallLists, fmt.Sprintf("practices with a list under %d", nhsdata.SmallList)},
		} {
			if n := len(l.codes); n > 0 {
				fmt.Fprintf(w, "  %d %s (e.g. %s)\n", n, l.what, strings.Join(l.codes[:min(n, 5)], ", "))
			}
		}
	}
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
	for _, x := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}

// printCalibration prints what docs/parameters.md cites: list sizes by
// year, closure and merger rates, annual list changes (by year and size
// band) and drug cost per head changes, and the fitted change models.
func printCalibration(w io.Writer, rows []nhsdata.PracticeYear, rep *nhsdata.BuildReport) error {
	fmt.Fprintln(w, "list sizes:  year  practices  patients(m)  mean  under-3,000")
	for _, l := range nhsdata.MeasureLists(rows) {
		fmt.Fprintf(w, "             %d  %9d  %11.2f  %4.0f  %.3f\n", l.Year, l.Practices, l.Patients/1e6, l.Mean, l.SmallShare)
	}
	fmt.Fprintln(w, "leavers:     years      closed-rate  merged-rate  opened-rate")
	for _, ch := range rep.Changes {
		n := float64(ch.Practices)
		fmt.Fprintf(w, "             %d->%d  %.4f       %.4f       %.4f\n", ch.From, ch.To, float64(ch.Closed)/n, float64(ch.Merged)/n, float64(ch.Opened)/n)
	}
	list, perHead := forecast.AnnualChanges(forecast.RecordsOf(rows))
	for _, what := range []struct {
		name string
		cs   []forecast.Change
	}{{"log list change", list}, {"log drug cost per head change (dispensing)", perHead}} {
		fmt.Fprintf(w, "%s:  to-year band         n  median  robust-SD  SD     beyond-20%%\n", what.name)
		for _, b := range forecast.ChangesByBand(what.cs, bandCuts()) {
			fmt.Fprintf(w, "    %d %-9s %6d  %+.4f  %.4f     %.4f %.4f\n", b.Year, bandName(b.Band), b.N, b.Median, b.RobustSD, b.SD, b.Beyond20)
		}
		m, err := forecast.FitChanges(what.cs, forecast.ChangeOptions{SizeScaled: true, Persistent: true})
		if err != nil {
			return inputError{fmt.Errorf("%s: %w", what.name, err)}
		}
		fmt.Fprintf(w, "  mixture (EM, all years): drift %+.4f (year SD %.4f; by year %v), persistence %.3f, SD %.4f at list %.0f x (list/%.0f)^-%.2f/2\n",
			m.Mu, m.Tau, roundMap(m.YearMu), m.Phi, m.Sigma, m.NRef, m.NRef, m.Gamma)
		for _, j := range m.Jumps {
			fmt.Fprintf(w, "    jump: probability %.4f, mean %+.4f, SD %.4f\n", j.P, j.Mu, j.SD)
		}
	}
	printDrugChanges(w, nhsdata.MeasureDrugChanges(rows, 1000))
	return printEngineLists(w, rows)
}

// printEngineLists prints what the engine's list dynamics are calibrated
// on (sim.ListDynamics, docs/parameters.md): the change mixture fitted to
// count-basis years without mergers and leavers' last years, which the
// engine draws as events of their own, the leaving rates by list-size band,
// and where closed practices' patients went.
func printEngineLists(w io.Writer, rows []nhsdata.PracticeYear) error {
	m, n, err := forecast.EngineListChanges(rows)
	if err != nil {
		return inputError{err}
	}
	fmt.Fprintf(w, "engine list change (%d changes between counts, without mergers and leavers' last years):\n", n)
	fmt.Fprintf(w, "  drift %+.4f (year SD %.4f; by year %v), persistence %.3f of the last change winsorised at ±%.4f about %+.4f, SD %.4f at list %.0f x (list/%.0f)^-%.2f/2\n",
		m.Mu, m.Tau, roundMap(m.YearMu), m.Phi, m.Winsor, m.XMean, m.Sigma, m.NRef, m.NRef, m.Gamma)
	for _, j := range m.Jumps {
		fmt.Fprintf(w, "    jump: probability %.4f, mean %+.4f, SD %.4f\n", j.P, j.Mu, j.SD)
	}
	fmt.Fprintln(w, "leaving by list in the last year seen (all years): band  practice-years  closed-rate (SE)  merged-rate (SE)")
	lo := 0.0
	for _, b := range nhsdata.LeavingRates(rows, bandCuts()) {
		fmt.Fprintf(w, "  %5.0f-%-6.0f %7d  %.4f (%.4f)  %.4f (%.4f)\n", lo, b.Below, b.Practices, b.ClosureRate, b.ClosureSE, b.MergerRate, b.MergSE)
		lo = b.Below
	}
	d := nhsdata.MeasureDispersal(rows)
	fmt.Fprintf(w, "dispersal: %d closures; the commissioner's practices gaining most took (median share of the closed list) %.3f %.3f %.3f %.3f %.3f\n",
		d.Closures, d.Top[0], d.Top[1], d.Top[2], d.Top[3], d.Top[4])
	return nil
}

// printDrugChanges prints what the drift and common-shock defaults come
// from (docs/parameters.md, "Risk beyond chance").
func printDrugChanges(w io.Writer, dcs []nhsdata.DrugChanges) {
	fmt.Fprintln(w, "drug cost per head, dispensing practices of 1,000+, by commissioner (trimmed at 4 robust SD):")
	fmt.Fprintln(w, "    years      n  median   robust-SD  areas  between-SD  within-SD  between-share  lag-1 corr (n)")
	for _, d := range dcs {
		fmt.Fprintf(w, "    %d->%d %5d  %+.4f  %.4f     %5d  %.4f      %.4f     %.3f          %+.3f (%d)\n",
			d.From, d.To, d.N, d.Median, d.RobustSD, d.Areas, d.BetweenSD, d.WithinSD, d.BetweenShare, d.Lag1, d.Lag1N)
	}
}

func roundMap(m map[int]float64) map[int]string {
	out := map[int]string{}
	for k, v := range m {
		out[k] = fmt.Sprintf("%+.4f", v)
	}
	return out
}

func printNeed(w io.Writer, file string, s nhsdata.NeedSpread) {
	fmt.Fprintf(w, "need per head, %s: %d practices of %.0f+ patients; under 3,000: %.3f of practices\n", file, s.Practices, s.MinPop, s.SmallShare)
	for c := range nhsdata.NComponents {
		fmt.Fprintf(w, "  %-21s log-SD %.3f  corr with general and acute %.3f  with prescribing %.3f\n",
			nhsdata.ComponentNames[c], s.LogSD[c], s.Corr[c][nhsdata.GeneralAcute], s.Corr[c][nhsdata.Prescribing])
	}
}

// bandCuts are the list-size bands of every table (analysis.Bands, the one
// band table) as the cut points the measuring functions take: each band's
// upper bound but the last's.
func bandCuts() []float64 {
	var cuts []float64
	for _, b := range analysis.Bands[:len(analysis.Bands)-1] {
		cuts = append(cuts, float64(b.Hi))
	}
	return cuts
}

// bandName names band k of bandCuts (-1: every practice).
func bandName(k int) string {
	if k < 0 {
		return analysis.AllBands
	}
	return analysis.Bands[k].Name
}
