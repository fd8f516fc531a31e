package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/gpbudget/gpbudget/internal/realrisk"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/urfave/cli/v2"
)

func calibrateRiskCommand() *cli.Command {
	o := &calibrateRiskOptions{}
	return &cli.Command{
		Name:  "calibrate-risk",
		Usage: "estimate drift and shock SDs by geographic level from NHS payments files and print a scenario section",
		Description: "Reads NHS Digital's annual payments files (one per financial year, named e.g.\n" +
			"payments_17-18.csv) and, for each pair of consecutive years, takes dispensing\n" +
			"practices open in both with at least 1,000 patients, a list that changed by at\n" +
			"most 0.2 in logs and at least £5 a head of drugs reimbursed in both. Each\n" +
			"practice's change in log drug cost per head less national growth is split by\n" +
			"method of moments into components between regions, between CCGs within a region\n" +
			"and within CCGs (nested random effects). It prints the scenario section the\n" +
			"prescribing stream's defaults are taken from (docs/parameters.md, \"Calibrated on\n" +
			"real data\"): drift (AR(1) persistence from the lag-1 correlation of practices'\n" +
			"changes), shocks.place_sd (CCG), region_sd and national_sd.",
		Flags: []cli.Flag{
			paymentsFlag(&o.payments),
			outFlag(&o.out, "-", "`FILE` to write the section to (- for standard output)"),
		},
		Action: func(c *cli.Context) error {
			paths, err := filesAndFlags(c, "payments")
			if err != nil {
				return err
			}
			return runCalibrateRisk(c.Context, o, streamsOf(c), paths)
		},
	}
}

// calibrateRiskOptions are calibrate-risk's flags.
type calibrateRiskOptions struct {
	payments cli.StringSlice
	out      string
}

// runCalibrateRisk estimates the risk components from the payments files
// paths and writes them as a scenario section.
func runCalibrateRisk(_ context.Context, o *calibrateRiskOptions, w streams, paths []string) error {
	out, err := outPath("out", o.out)
	if err != nil {
		return err
	}
	if len(paths) < 2 {
		return badInput("--payments: give payments files of at least two consecutive years")
	}
	years, pairs, err := readPairs(paths)
	if err != nil {
		return err
	}
	text := riskSection(realrisk.Estimate(pairs), years, pairs)
	if out == "-" {
		_, err = fmt.Fprint(w.out, text)
		return err
	}
	if err := runfolder.WriteFileAtomic(out, []byte(text)); err != nil {
		return inputError{fmt.Errorf("--out: %w", err)}
	}
	fmt.Fprintf(w.err, "wrote %s\n", out)
	return nil
}

// readPairs reads the payments files paths and keeps, for each pair of
// consecutive years, the practices realrisk.DefaultFilter keeps.
func readPairs(paths []string) ([]realrisk.Year, []realrisk.Pair, error) {
	years, err := realrisk.ReadYears(paths)
	if err != nil {
		return nil, nil, inputError{err}
	}
	pairs, err := realrisk.Pairs(years, realrisk.DefaultFilter)
	if err != nil {
		return nil, nil, inputError{err}
	}
	return years, pairs, nil
}

// riskSection renders the estimates as a scenario section with comments
// saying what each number rests on.
func riskSection(e realrisk.Components, years []realrisk.Year, pairs []realrisk.Pair) string {
	var b strings.Builder
	var names []string
	for _, y := range years {
		names = append(names, filepath.Base(y.File))
	}
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return "n/a"
		}
		return fmt.Sprintf("%.2f%%", 100*v)
	}
	fmt.Fprintf(&b, "# gpbudget calibrate-risk --payments %s\n", strings.Join(names, " "))
	fmt.Fprintf(&b, "# Reimbursement of Drugs per head of dispensing practices, %d pairs of years %d/%02d-%d/%02d;\n",
		len(pairs), pairs[0].From, (pairs[0].From+1)%100, pairs[len(pairs)-1].To, (pairs[len(pairs)-1].To+1)%100)
	fmt.Fprintf(&b, "# %d practice-pairs (%d more beyond 4 robust SD of their pair's median left out),\n", e.Practices, e.Trimmed)
	fmt.Fprintf(&b, "# %.1f regions and %.1f CCGs a pair (%.0f and %.0f people of these practices each).\n", e.Regions, e.CCGs, e.RegionPeople, e.CCGPeople)
	fmt.Fprintf(&b, "# SD of the yearly change against national growth, by method of moments (nested\n")
	fmt.Fprintf(&b, "# random effects): between regions %s, between CCGs within a region %s, within CCGs\n", pct(e.RegionSD), pct(e.CCGSD))
	fmt.Fprintf(&b, "# %s (practice drift and chance together: drift below is a little too large by chance's share).\n", pct(e.PracticeSD))
	fmt.Fprintf(&b, "# By pair of years: between regions, CCGs, within CCGs (n/a: a negative estimate):\n")
	for _, q := range e.ByPair {
		fmt.Fprintf(&b, "#   %d/%02d -> %d/%02d  %s  %s  %s\n", q.From, (q.From+1)%100, q.To, (q.To+1)%100, pct(q.RegionSD), pct(q.CCGSD), pct(q.PracticeSD))
	}
	fmt.Fprintf(&b, "# Lag-1 correlation of a practice's yearly changes less its CCG's mean %.3f (%d practices): AR(1)\n# persistence", e.Lag1, e.Lag1N)
	fmt.Fprintf(&b, " 1 + 2 x %.3f = %.2f; drift SD = within-CCG SD / sqrt(2 (1 - persistence)).\n", e.Lag1, e.Persistence)
	fmt.Fprintf(&b, "# Shocks independent across years: SD of a level's yearly change / sqrt 2.\n")
	fmt.Fprintf(&b, "# National growth by pair:")
	for _, g := range e.NationalGrowth {
		fmt.Fprintf(&b, " %+.4f", g)
	}
	fmt.Fprintf(&b, "; national_sd = their SD / sqrt 2 (%d values only).\n", len(e.NationalGrowth))
	fmt.Fprintf(&b, "# Not identifiable in these files: neighbourhoods (no PCN codes before 2019/20) and ICBs\n")
	fmt.Fprintf(&b, "# (CCGs were grouped into ICBs in 2022; a region here is an NHS England local office).\n")
	fmt.Fprintf(&b, "# Whatever varies at those scales lies in the CCG and region components, so this section\n")
	fmt.Fprintf(&b, "# puts the CCG's at the place and sets neighbourhood_sd and icb_sd to 0: applied as it is,\n")
	fmt.Fprintf(&b, "# it reproduces the variance the files show. Splitting the CCG's between neighbourhood\n")
	fmt.Fprintf(&b, "# and place (keeping the sum of squares) is an assumption. Other streams are not in the files.\n")
	num := func(v float64) string {
		if math.IsNaN(v) {
			return "null  # not identifiable in these files"
		}
		return fmt.Sprintf("%.4f", v)
	}
	fmt.Fprintf(&b, "drift:\n  sd:\n    prescribing: %s\n  persistence: %s\n", num(e.DriftSD), num(e.Persistence))
	fmt.Fprintf(&b, "shocks:\n  neighbourhood_sd:\n    prescribing: 0\n  place_sd:\n    prescribing: %s\n  icb_sd:\n    prescribing: 0\n  region_sd:\n    prescribing: %s\n  national_sd:\n    prescribing: %s\n",
		num(e.PlaceShockSD), num(e.RegionShockSD), num(e.NationalShockSD))
	return b.String()
}
