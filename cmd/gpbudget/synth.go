package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gpbudget/gpbudget/internal/forecast"
	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
)

func synthCommand() *cli.Command {
	return &cli.Command{
		Name:  "synth",
		Usage: "write a synthetic population in NHS Digital's list-size layout (and optionally its spending history)",
		Description: "Draws a scenario's synthetic practices and writes them as NHS Digital's\n" +
			"\"Patients Registered at a GP Practice\" five-year-band CSV (newer column names,\n" +
			"with the ALL total rows), for 'gpbudget run --population'. With --history, also\n" +
			"writes one engine-simulated spending history of those practices (long layout).\n" +
			"With --weighted-populations, also writes their need as NHS England's need-weighted\n" +
			"populations, for 'gpbudget run --population FILE --weighted-populations WP'.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "scenario", Value: "default", Usage: "scenario `FILE|NAME` whose synthetic population is drawn"},
			&cli.IntFlag{Name: "practices", Usage: "number of practices `N` (default: the scenario's)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random `SEED`"},
			&cli.StringFlag{Name: "commissioner", Value: "99Z", Usage: "commissioner `CODE` written in SUB_ICB_LOCATION_CODE"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "population.csv", Usage: "population `FILE` (- for standard output)"},
			&cli.StringFlag{Name: "history", Usage: "also write a simulated spending history to `FILE.csv`"},
			&cli.IntFlag{Name: "years", Value: 5, Usage: "with --history: years `N`"},
			&cli.StringFlag{Name: "weighted-populations", Usage: "also write the practices' need as need-weighted populations to `FILE.csv`"},
		},
		Action: func(c *cli.Context) error {
			// Every flag and input is checked, and both files made, before
			// either is written.
			scen := c.String("scenario")
			out, err := outFile("out", c.String("out"), scen)
			if err != nil {
				return err
			}
			hf := c.String("history")
			if c.IsSet("history") {
				if _, err := outFile("history", hf, scen); err != nil {
					return err
				}
			}
			y := c.Int("years")
			if err := inRange("years", y, 1, maxYears); err != nil {
				return err
			}
			s, err := scenarios.Load(c.String("scenario"))
			if err != nil {
				return inputError{err}
			}
			if n := c.Int("practices"); c.IsSet("practices") {
				if err := inRange("practices", n, 1, 20000); err != nil {
					return err
				}
				if s.Population.Synthetic == nil {
					return badInput("--practices: scenario %s lists its practices; it has no synthetic population to size", c.String("scenario"))
				}
				s.Population.Synthetic.Practices = n
			}
			seed := c.Uint64("seed")
			m, err := s.Model(seed)
			if err != nil {
				return inputError{err}
			}
			specs := make([]scenarios.PracticeSpec, len(m.Practices))
			for i := range m.Practices {
				p := &m.Practices[i]
				specs[i] = scenarios.PracticeSpec{ID: p.ID, Need: p.Need}
				specs[i].List.Male = append([]int(nil), p.Count[sim.Male][:]...)
				specs[i].List.Female = append([]int(nil), p.Count[sim.Female][:]...)
			}
			var buf, hb bytes.Buffer
			if err := scenarios.WritePopulation(&buf, specs, c.String("commissioner"), "01APR2009"); err != nil {
				return err
			}
			var wb bytes.Buffer
			wf := c.String("weighted-populations")
			if c.IsSet("weighted-populations") {
				if _, err := outFile("weighted-populations", wf, scen); err != nil {
					return err
				}
			}
			if err := distinctOuts(map[string]string{"out": out, "history": hf, "weighted-populations": wf}); err != nil {
				return err
			}
			if wf != "" {
				if err := s.WriteWeightedPopulations(&wb, specs); err != nil {
					return err
				}
			}
			if hf != "" {
				if err := s.CheckRun(m, 1, y); err != nil {
					return inputError{err}
				}
				h, err := forecast.Simulate(c.Context, m, seed, 1, y, 0)
				if err != nil {
					return err
				}
				if err := h.WriteCSV(&hb); err != nil {
					return err
				}
			}
			if err := writeOut(c, out, buf.Bytes()); err != nil {
				return err
			}
			if wf != "" {
				if err := writeOut(c, wf, wb.Bytes()); err != nil {
					return err
				}
			}
			if hf != "" {
				return writeOut(c, hf, hb.Bytes())
			}
			return nil
		},
	}
}

// useWeighted sets the population file's practices' need from
// --weighted-populations, if given, and says which practices it lacks.
func useWeighted(c *cli.Context, s *scenarios.Scenario, pop string) error {
	wf := c.String("weighted-populations")
	if wf == "" {
		return nil
	}
	ws, err := nhsdata.ReadWeightedFile(wf)
	if err != nil {
		return inputError{err}
	}
	england, err := scenarios.ReadPopulationFile(pop, nil, s.Limits)
	if err != nil {
		return inputError{err}
	}
	rep := s.UseWeightedPopulations(ws, england)
	if n := len(rep.Missing); n > 0 {
		fmt.Fprintf(c.App.ErrWriter, "--weighted-populations %s has no usable row for %d of %d practices (e.g. %s): their need index is 1, England's average beyond age and sex\n",
			wf, n, n+rep.Matched, strings.Join(rep.Missing[:min(n, 5)], ", "))
	}
	if n := len(rep.Clamped); n > 0 {
		fmt.Fprintf(c.App.ErrWriter, "--weighted-populations: %d practices' need was outside 1e-6 to 100 and was set to the nearer bound (e.g. %s)\n", n, rep.Clamped[0])
	}
	return nil
}
