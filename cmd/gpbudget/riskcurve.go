package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/internal/england"
	"github.com/gpbudget/gpbudget/internal/riskcurve"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
)

func riskCurveCommand() *cli.Command {
	o := &riskCurveOptions{}
	return &cli.Command{
		Name:  "risk-curve",
		Usage: "how budget risk and a contract's chance of rewarding luck fall with a holder's size",
		Description: "For each holder size, simulates holders of that size (practices of the scenario's\n" +
			"kind grouped into one holder, everyone taking part) under the scenario's benchmark\n" +
			"and rules, with no real change and, paired, with a true 2% cut in spend. Writes\n" +
			"DIR/risk_curve.csv and DIR/risk_curve.parquet: sd_vs_benchmark (the SD of\n" +
			"(benchmark - spend) / benchmark, split into sd_own and sd_shared), p_over_5,\n" +
			"p_under_5, reserve_95, false_reward, false_penalty, power_2pct and\n" +
			"msr_for_5pct_false_reward by size, each with its Monte Carlo standard error (_se),\n" +
			"at the priors' point values; false_reward_p10 and _p90 across draws of the priors;\n" +
			"and Medicare's sliding minimum savings rate beside the simulated one. Holders are\n" +
			"consecutive practices of the scenario's geography, so a large holder averages the\n" +
			"shocks of its neighbourhoods and places. Cohort mode where the scenario allows it (not with\n" +
			"per-patient truncation or a stop-loss). See README, \"How large must a holder be?\".\n\n" +
			"With --area CODE (England's real practices of an ICB, place, PCN or region) and\n" +
			"--holders pcn,place,icb, it also measures the area's real holders, one row per\n" +
			"level (column level; holders: the real units; holder_size: their mean), beside\n" +
			"synthetic holders of the same mean sizes (unless --sizes).",
		Flags: []cli.Flag{
			scenarioFlag(&o.scenario, "neighbourhood-shared-savings-2026", "scenario `FILE|NAME`"),
			&cli.StringFlag{Name: "sizes", Destination: &o.sizes, Usage: "holder sizes in people, `N,N,...` (default 5000,10000,30000,50000,100000,250000,500000,1000000)"},
			repsFlag(&o.reps, 200, "replications `N` of each size"),
			yearsFlag(&o.years, 1, "contract years `N` per replication (a glide path's later years need more)"),
			&cli.StringFlag{Name: "holders", Destination: &o.holders, Usage: "holders `N` of each size (default: 2,000,000 people's worth, at least 10); or, with --area, " +
				"real holders by level, `pcn,place,icb,region` (each unit at the level one holder; one row per level, beside synthetic holders of the same mean sizes unless --sizes)"},
			seedFlag(&o.seed, 0, "random `SEED` (default: the scenario's)"),
			workersFlag(&o.workers, allCores, "worker goroutines `N`"),
			outFlag(&o.out, "risk-curve", "output `DIR`"),
			areaFlag(&o.area),
			&cli.BoolFlag{Name: "patient-level", Destination: &o.patientLevel, Usage: "simulate patient by patient even where cohort mode would do"},
			quietFlag(&o.quiet, "print nothing but errors"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return badInput("risk-curve: unexpected argument %q (use --scenario)", c.Args().First())
			}
			o.set = givenOf(c)
			return runRiskCurve(c.Context, o, streamsOf(c))
		},
	}
}

// riskCurveOptions are risk-curve's flags.
type riskCurveOptions struct {
	scenario, sizes, holders, out, area string
	reps, years, workers                int
	seed                                uint64
	patientLevel, quiet                 bool
	set                                 given
}

// runRiskCurve simulates holders of each size (and an area's real holders
// by level) and writes the curve.
func runRiskCurve(ctx context.Context, o *riskCurveOptions, w streams) error {
	if _, err := outPath("out", o.out); err != nil {
		return err
	}
	s, err := scenarios.Load(o.scenario)
	if err != nil {
		return inputError{err}
	}
	sizes, err := parseSizes(o.sizes)
	if err != nil {
		return inputError{err}
	}
	if err := useArea(w, s, areaOptions{area: o.area, set: o.set}); err != nil {
		return err
	}
	nHolders, levels, err := parseHolders(o.holders)
	if err != nil {
		return inputError{err}
	}
	if len(levels) > 0 && !o.set["area"] && s.Population.England == nil {
		return badInput("--holders %s: real holders need England's real practices: add --area CODE (see 'gpbudget areas')", o.holders)
	}
	if len(levels) > 0 && len(sizes) == 0 {
		// Synthetic holders beside the real ones, at their mean sizes.
		for _, l := range levels {
			_, a, err := s.ForLevel(l, 0)
			if err != nil {
				return inputError{err}
			}
			if a.Size >= 100 && !slices.Contains(sizes, a.Size) {
				sizes = append(sizes, a.Size)
			}
		}
	}
	ro := riskcurve.Options{Sizes: sizes, Reps: o.reps, Years: o.years, Holders: nHolders,
		Seed: s.Seed, Workers: o.workers, PatientLevel: o.patientLevel}
	if o.set["seed"] {
		ro.Seed = o.seed
	}
	switch {
	case ro.Reps < 2 || ro.Reps > 1_000_000:
		return badInput("--reps %d is out of range: accepted 2 to 1000000 (standard errors need two)", ro.Reps)
	case ro.Years < 1 || ro.Years > maxYears:
		return badInput("--years %d is out of range: accepted 1 to %d", ro.Years, maxYears)
	case ro.Holders < 0 || ro.Holders > 100_000:
		return badInput("--holders %d is out of range: accepted 0 (automatic) to 100000", ro.Holders)
	case ro.Workers < 1 || ro.Workers > maxWorkers:
		return badInput("--workers %d is out of range: accepted 1 to %d", ro.Workers, maxWorkers)
	}
	var prog sim.Progress
	ro.Progress = &prog
	finish := showProgress(w.err, progressModeFor(o.quiet, w.err), &prog, plainProgressEvery)
	rows, err := riskcurve.Run(ctx, s, ro)
	if err == nil && len(levels) > 0 {
		var real []analysis.RiskCurveRow
		real, err = riskcurve.RunLevels(ctx, s, ro, levels)
		rows = append(rows, real...)
	}
	finish(err == nil)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("risk-curve: interrupted; nothing was written")
		}
		var se *scenarios.Error
		if errors.As(err, &se) {
			return inputError{err}
		}
		return err
	}
	// The Parquet file alone says how to reproduce it: the command, seed,
	// version and the scenario as resolved.
	meta := map[string]string{"gpbudget.scenario": s.Name, "gpbudget.seed": strconv.FormatUint(ro.Seed, 10), "gpbudget.replications": strconv.Itoa(ro.Reps),
		"gpbudget.years": strconv.Itoa(ro.Years), "gpbudget.version": version, "gpbudget.command": runfolder.CommandLine(os.Args)}
	if y, err := s.YAML(); err == nil {
		meta["gpbudget.scenario_yaml"] = string(y)
	}
	if err := analysis.WriteRiskCurve(o.out, rows, meta); err != nil {
		return inputError{err}
	}
	if !o.quiet {
		printRiskCurve(w.out, s, rows)
		fmt.Fprintf(w.out, "wrote %s/%s and %s\n", o.out, runfolder.RiskCurveCSV, runfolder.RiskCurveParquet)
	}
	return nil
}

// parseHolders reads --holders: a number of holders of each size, or
// levels whose real units are the holders.
func parseHolders(v string) (int, []string, error) {
	if v == "" {
		return 0, nil, nil
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return n, nil, nil
	}
	var levels []string
	for _, f := range strings.Split(v, ",") {
		l := england.LevelOf(f)
		if l < 0 {
			return 0, nil, fmt.Errorf("--holders: %q is neither a number of holders nor a level: accepted a whole number, or levels %s separated by commas", f, strings.Join(england.LevelNames[:], ", "))
		}
		if !slices.Contains(levels, england.LevelNames[l]) {
			levels = append(levels, england.LevelNames[l])
		}
	}
	return 0, levels, nil
}

// parseSizes reads --sizes.
func parseSizes(v string) ([]int, error) {
	if v == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(f, "_", "")))
		if err != nil || n < 100 || n > 100_000_000 {
			return nil, fmt.Errorf("--sizes: %q is not accepted: accepted whole numbers of people from 100 to 100000000, separated by commas", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// printRiskCurve prints the curve as a table of percentages.
func printRiskCurve(w io.Writer, s *scenarios.Scenario, rows []analysis.RiskCurveRow) {
	fmt.Fprintf(w, "Risk curve for %s (%d replications; figures in %% with their Monte Carlo SE):\n", s.Name, rows[0].Replications)
	pct := func(x, se float64) string {
		if math.IsNaN(x) {
			return "-"
		}
		return fmt.Sprintf("%.2f±%.2f", 100*x, 100*se)
	}
	fmt.Fprintf(w, "%6s %10s %7s %11s %11s %11s %11s %11s %11s %13s %11s %11s %11s %7s %8s\n",
		"level", "holder", "holders", "sd_vs_bench", "sd_own", "sd_shared", "p_over_5", "reserve_95", "false_rew", "prior_10-90", "false_pen", "power_2pct", "msr_5pct", "msr", "medicare")
	for _, r := range rows {
		msr := "-"
		if !math.IsNaN(r.ScenarioMSR) {
			msr = fmt.Sprintf("%.2f", 100*r.ScenarioMSR)
		}
		iv := "-"
		if !math.IsNaN(r.FalseRewardP10) {
			iv = fmt.Sprintf("%.1f-%.1f", 100*r.FalseRewardP10, 100*r.FalseRewardP90)
		}
		lv := r.Level
		if lv == "" {
			lv = "-"
		}
		fmt.Fprintf(w, "%6s %10d %7d %11s %11s %11s %11s %11s %11s %13s %11s %11s %11s %7s %8.2f\n", lv, r.HolderSize, r.Holders,
			pct(r.SDVsBenchmark, r.SDVsBenchmarkSE), pct(r.SDOwn, r.SDOwnSE), pct(r.SDShared, r.SDSharedSE),
			pct(r.POver5, r.POver5SE), pct(r.Reserve95, r.Reserve95SE), pct(r.FalseReward, r.FalseRewardSE), iv,
			pct(r.FalsePenalty, r.FalsePenaltySE), pct(r.Power2pct, r.Power2pctSE), pct(r.MSRFor5pct, r.MSRFor5pctSE), msr, 100*r.MedicareMSR)
	}
}
