package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/gpbudget/gpbudget/internal/realrisk"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
)

func validateRiskCommand() *cli.Command {
	o := &validateRiskOptions{}
	return &cli.Command{
		Name:  "validate-risk",
		Usage: "compare the spread of spend against a benchmark in real NHS payments files and in the model, by holder size",
		Description: "Reads NHS Digital's annual payments files and, for each pair of consecutive years,\n" +
			"takes dispensing practices open in both with at least 1,000 patients, a list that\n" +
			"changed by at most 0.2 in logs and at least £5 a head of drugs reimbursed in both.\n" +
			"Holders of 5,000 to 1,000,000 people are built from them: single practices of\n" +
			"0.7-1.4 times the size up to 10,000; above, random groupings (the practices\n" +
			"shuffled and cut into consecutive holders) and geographic ones (sorted by region,\n" +
			"CCG and postcode; inside one CCG up to 50,000 people, one region above). For each\n" +
			"holder x = (benchmark - spend) / benchmark, the benchmark being last year's spend\n" +
			"per head x national growth x this year's list. The model's side simulates the\n" +
			"scenario on the same practices (their lists, CCGs as places, regions) over the\n" +
			"same years, at its priors' point values, in cohort mode, and measures its\n" +
			"prescribing spend the same way. Prints SD, robust SD (1.4826 x MAD) and\n" +
			"P(x > 2%) of each, side by side (docs/validation.md).",
		Flags: []cli.Flag{
			paymentsFlag(&o.payments),
			scenarioFlag(&o.scenario, "default", "scenario `FILE|NAME` whose model is compared"),
			jsonFlag(&o.json, "print {\"rows\": [...]} as JSON rather than a table"),
			seedFlag(&o.seed, 1, "random `SEED` of the model's run and of the random groupings"),
			repsFlag(&o.reps, 20, "model replications `N`"),
			&cli.IntFlag{Name: "shuffles", Value: 300, Destination: &o.shuffles, Usage: "random groupings `N` of each real pair of years (the model's: N / reps, at least 1, per replication)"},
			workersFlag(&o.workers, allCores, "worker goroutines `N`"),
		},
		Action: func(c *cli.Context) error {
			paths, err := filesAndFlags(c, "payments")
			if err != nil {
				return err
			}
			return runValidateRisk(c.Context, o, streamsOf(c), paths)
		},
	}
}

// validateRiskOptions are validate-risk's flags.
type validateRiskOptions struct {
	payments                cli.StringSlice
	scenario                string
	json                    bool
	seed                    uint64
	reps, shuffles, workers int
}

// runValidateRisk measures the payments files paths and the scenario's
// model on the same practices, side by side.
func runValidateRisk(ctx context.Context, o *validateRiskOptions, w streams, paths []string) error {
	if len(paths) < 2 {
		return badInput("--payments: give payments files of at least two consecutive years")
	}
	if err := firstError(inRange("reps", o.reps, 1, 10_000), inRange("shuffles", o.shuffles, 1, 100_000), inRange("workers", o.workers, 1, maxWorkers)); err != nil {
		return err
	}
	s, err := scenarios.Load(o.scenario)
	if err != nil {
		return inputError{err}
	}
	_, pairs, err := readPairs(paths)
	if err != nil {
		return err
	}
	rows, err := validateRisk(ctx, o, s, pairs)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(w.out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Rows []validationRow `json:"rows"`
		}{rows})
	}
	printValidation(w.out, rows, pairs)
	fmt.Fprintf(w.out, "model: scenario %s, %d replications, seed %d, priors at their point values; holders: holder-years (random: over every shuffle)\n", s.Name, o.reps, o.seed)
	return nil
}

// validationRow is one holder size and grouping, real and model.
type validationRow struct {
	HolderSize    int       `json:"holder_size"`
	Grouping      string    `json:"grouping"`
	RealSD        jsonFloat `json:"real_sd"`
	RealRobustSD  jsonFloat `json:"real_robust_sd"`
	RealPOver2    jsonFloat `json:"real_p_over_2"`
	RealHolders   int       `json:"real_holders"`
	RealMeanSize  jsonFloat `json:"real_mean_size"`
	ModelSD       jsonFloat `json:"model_sd"`
	ModelRobustSD jsonFloat `json:"model_robust_sd"`
	ModelPOver2   jsonFloat `json:"model_p_over_2"`
	ModelHolders  int       `json:"model_holders"`
}

// jsonFloat is a number, or null where there is none (no holders of a
// size: NaN).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// validateRisk measures the real pairs and the scenario's model on the same
// practices.
func validateRisk(ctx context.Context, o *validateRiskOptions, s *scenarios.Scenario, pairs []realrisk.Pair) ([]validationRow, error) {
	seed, reps, shuffles := o.seed, o.reps, o.shuffles
	real := realrisk.Measure(pairs, realrisk.Options{Sizes: realrisk.Sizes, Shuffles: shuffles, Seed: seed})

	members := realrisk.Population(pairs)
	ps := make([]scenarios.SizedPractice, len(members))
	for i, mb := range members {
		ps[i] = scenarios.SizedPractice{ID: mb.Practice, List: int(math.Round(mb.List))}
		ps[i].Geo[sim.LevelPlace], ps[i].Geo[sim.LevelRegion] = mb.CCG, mb.Region
	}
	// Spend is measured before any per-patient stop-loss or truncation, so
	// they are dropped (cohort mode cannot apply them).
	s.StopLoss = nil
	if s.Contract != nil {
		k := *s.Contract
		k.Truncation = nil
		s.Contract = &k
	}
	if s.Limits.Practices < len(ps) {
		s.Limits.Practices = len(ps)
	}
	m, err := s.ModelOfPractices(ps, seed, seed)
	if err != nil {
		return nil, inputError{err}
	}
	// Risk at the priors' point values: parameter uncertainty is the
	// modeller's ignorance, not a holder's risk.
	mp, err := realrisk.Simulate(ctx, m.Fixing(), members, pairs, realrisk.DefaultFilter,
		sim.Options{Seed: seed, FirstRep: 0, LastRep: reps, Workers: o.workers, Cohort: true})
	if err != nil {
		return nil, err
	}
	model := realrisk.Measure(mp, realrisk.Options{Sizes: realrisk.Sizes, Shuffles: max(1, shuffles/reps), Seed: seed})
	out := make([]validationRow, len(real))
	for i, r := range real {
		md := model[i]
		out[i] = validationRow{HolderSize: r.Size, Grouping: r.Grouping,
			RealSD: jsonFloat(r.SD), RealRobustSD: jsonFloat(r.RobustSD), RealPOver2: jsonFloat(r.POver2), RealHolders: r.Holders, RealMeanSize: jsonFloat(r.MeanSize),
			ModelSD: jsonFloat(md.SD), ModelRobustSD: jsonFloat(md.RobustSD), ModelPOver2: jsonFloat(md.POver2), ModelHolders: md.Holders}
	}
	return out, nil
}

func printValidation(w io.Writer, rows []validationRow, pairs []realrisk.Pair) {
	n := 0
	for _, p := range pairs {
		n += len(p.Rows)
	}
	fmt.Fprintf(w, "x = (benchmark - spend) / benchmark, drug cost per head of dispensing practices, %d pairs of years (%d practice-pairs)\n", len(pairs), n)
	fmt.Fprintf(w, "%10s %-10s | %8s %8s %9s %7s | %8s %8s %9s\n", "size", "grouping", "real SD", "robust", "P(x>2%)", "holders", "model SD", "robust", "P(x>2%)")
	pct := func(f jsonFloat) string {
		v := float64(f)
		if math.IsNaN(v) {
			return "-"
		}
		return fmt.Sprintf("%.2f%%", 100*v)
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%10d %-10s | %8s %8s %9s %7d | %8s %8s %9s\n", r.HolderSize, r.Grouping,
			pct(r.RealSD), pct(r.RealRobustSD), pct(r.RealPOver2), r.RealHolders, pct(r.ModelSD), pct(r.ModelRobustSD), pct(r.ModelPOver2))
	}
}
