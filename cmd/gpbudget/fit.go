package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/gpbudget/gpbudget/internal/forecast"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
)

func fitCommand() *cli.Command {
	return &cli.Command{
		Name:  "fit",
		Usage: "estimate practice effects and stream rates from a spending history and write a scenario",
		Description: "Fits, for each stream, log spend per head = area level + trend + practice effect\n" +
			"(shrunk towards the area mean) + a persistent (AR(1)) year effect, by REML. The\n" +
			"scenario written is --scenario with each stream's rates scaled to the area's\n" +
			"level, style_sd set to the fitted spread of practice effects, and the history's\n" +
			"practices listed with their fitted styles; 'gpbudget run --scenario OUT' runs it.\n" +
			"Without --history it fits history the engine generates (one replication).\n\n" + forecast.HistoryColumns,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "history", Usage: "spending history `FILE` (.csv or .parquet, or a folder of .parquet)"},
			&cli.IntFlag{Name: "replication", Value: -1, Usage: "fit this history `N` when the file has several (default: the first)"},
			&cli.StringFlag{Name: "scenario", Value: "default", Usage: "base scenario `FILE|NAME` (costs, frailty, demography; also generates history without --history)"},
			&cli.StringFlag{Name: "population", Usage: "NHS Digital list-size `FILE.csv` with the practices' age-sex lists (default: last list size spread by the area's age mix)"},
			&cli.IntFlag{Name: "reps", Value: 1, Hidden: true},
			&cli.IntFlag{Name: "years", Value: 5, Usage: "without --history: years of history `N`"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "without --history: random `SEED`"},
			&cli.IntFlag{Name: "workers", Value: 0, Hidden: true},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "fitted.yaml", Usage: "scenario `FILE` to write (- for standard output)"},
		},
		Action: func(c *cli.Context) error {
			out, err := outFile("out", c.String("out"), c.String("history"), c.String("scenario"), c.String("population"))
			if err != nil {
				return err
			}
			type fitResult struct {
				sum  string
				yaml []byte
			}
			res, err := interruptible(c.Context, func() (fitResult, error) {
				h, err := historyFrom(c)
				if err != nil {
					return fitResult{}, err
				}
				recs := pickGroup(h, c.Int("replication"))
				if len(recs) == 0 {
					return fitResult{}, badInput("--replication %d: no such history in the file", c.Int("replication"))
				}
				all := []int{0, 1, 2, 3, 4}
				g, err := forecast.FitHistory(recs, all)
				if err != nil {
					return fitResult{}, inputError{err}
				}
				base, err := scenarios.Load(c.String("scenario"))
				if err != nil {
					return fitResult{}, inputError{err}
				}
				specs, err := practiceSpecs(c.String("population"), g, base)
				if err != nil {
					return fitResult{}, err
				}
				base.UsePractices(specs)
				m, err := base.Model(base.Seed)
				if err != nil {
					return fitResult{}, inputError{err}
				}
				cal := forecast.Calibrate(g, m)
				styles := make([][sim.NStreams]float64, len(cal.Practices))
				for i, p := range cal.Practices {
					styles[i] = p.Style
				}
				var fitted [sim.NStreams]bool // streams the history lacks keep drawn styles
				for s := range sim.NStreams {
					fitted[s] = g.Fits[s] != nil
				}
				base.Calibrate(cal.RateScale, cal.StyleSD, styles, fitted)
				base.Name = "fitted"
				base.Description = fmt.Sprintf("Fitted by gpbudget fit to %d practices' history (years to %d) on base scenario %s.", len(g.Practices), g.LastYear, c.String("scenario"))
				b, err := base.YAML()
				if err != nil {
					return fitResult{}, err
				}
				if _, err := scenarios.Parse(b, "fitted scenario"); err != nil {
					return fitResult{}, fmt.Errorf("the fitted scenario does not validate: %w", err)
				}
				var sum strings.Builder
				fmt.Fprintf(&sum, "# %d practices, %d practice-years; log spend per head by stream (REML):\n", len(g.Practices), len(recs))
				if g.Basis() != "" {
					// Two years: a practice's lasting level and one year's chance
					// are not separable, so the styles and style_sd are uncertain.
					fmt.Fprintf(&sum, "# caution: two years of history (to %d) cannot show how much of a practice's difference lasts: practice SD and styles below are weakly determined; three or more years fit them properly\n", g.LastYear)
				}
				for s := range 5 {
					f := g.Fits[s]
					if f == nil {
						fmt.Fprintf(&sum, "#   %-11s not in the history: rates and style_sd kept from the base scenario\n", forecast.QuantityName(s))
						continue
					}
					fmt.Fprintf(&sum, "#   %-11s level %.4f ± %.4f  trend %+.4f/yr ± %.4f  practice SD %.3f ± %.3f  residual SD %.3f (%.0f%% falls with list size)  AR(1) %.2f  year SD %.3f\n",
						forecast.QuantityName(s), f.A, math.Sqrt(f.CovAB[0][0]), f.B, math.Sqrt(f.CovAB[1][1]), f.Tau, f.TauSE, f.Sigma, 100*f.W, f.Rho, f.Omega)
				}
				return fitResult{sum.String(), b}, nil
			})
			if err != nil {
				return err
			}
			text := append([]byte(res.sum), res.yaml...)
			if out == "-" {
				_, err = c.App.Writer.Write(text)
				return err
			}
			if err := notInterrupted(c.Context, out); err != nil {
				return err
			}
			if err := runfolder.WriteFileAtomic(out, text); err != nil {
				return inputError{fmt.Errorf("--out: %w", err)}
			}
			fmt.Fprint(c.App.ErrWriter, res.sum)
			fmt.Fprintf(c.App.ErrWriter, "wrote %s\n", out)
			return nil
		},
	}
}

// pickGroup returns the records of history group id (-1: the first).
func pickGroup(h *forecast.History, id int) []forecast.Record {
	if id < 0 && len(h.Records) > 0 {
		id = h.Records[0].Group
	}
	var out []forecast.Record
	for _, r := range h.Records {
		if r.Group == id {
			out = append(out, r)
		}
	}
	return out
}

// practiceSpecs gives each fitted practice its age-sex list: from a
// population file, or its last list size spread by the area's age mix.
func practiceSpecs(pop string, g *forecast.GroupFit, base *scenarios.Scenario) ([]scenarios.PracticeSpec, error) {
	var byID map[string]scenarios.PracticeSpec
	if pop != "" {
		ps, err := scenarios.ReadPopulationFile(pop, nil, base.Limits)
		if err != nil {
			return nil, inputError{err}
		}
		byID = map[string]scenarios.PracticeSpec{}
		for _, p := range ps {
			byID[p.ID] = p
		}
	}
	share := base.AreaAgeShare()
	out := make([]scenarios.PracticeSpec, len(g.Practices))
	for i, id := range g.Practices {
		if byID != nil {
			p, ok := byID[strings.ToUpper(id)]
			if !ok {
				return nil, badInput("--population %s has no practice %s (in the history)", pop, id)
			}
			p.ID = id
			out[i] = p
			continue
		}
		n := int(math.Round(g.LastList[i]))
		if !g.PerHead || n < 1 {
			return nil, badInput("the history has no list_size: give --population FILE.csv with the practices' lists")
		}
		out[i] = scenarios.ApportionList(id, n, share)
	}
	return out, nil
}
