package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/gpbudget/gpbudget/internal/forecast"
	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

func synthCommand() *cli.Command {
	o := &synthOptions{}
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
			scenarioFlag(&o.scenario, "default", "scenario `FILE|NAME` whose synthetic population is drawn"),
			&cli.IntFlag{Name: "practices", Destination: &o.practices, Usage: "number of practices `N` (default: the scenario's)"},
			seedFlag(&o.seed, 1, "random `SEED`"),
			&cli.StringFlag{Name: "commissioner", Value: "99Z", Destination: &o.commissioner, Usage: "commissioner `CODE` written in SUB_ICB_LOCATION_CODE"},
			outFlag(&o.out, "population.csv", "population `FILE` (- for standard output)"),
			&cli.StringFlag{Name: "history", Destination: &o.history, Usage: "also write a simulated spending history to `FILE.csv`"},
			yearsFlag(&o.years, 5, "with --history: years `N`"),
			&cli.StringFlag{Name: "weighted-populations", Destination: &o.weighted, Usage: "also write the practices' need as need-weighted populations to `FILE.csv`"},
		},
		Action: func(c *cli.Context) error {
			o.set = givenOf(c)
			return runSynth(c.Context, o, streamsOf(c))
		},
	}
}

// synthOptions are synth's flags.
type synthOptions struct {
	scenario, commissioner, out, history, weighted string
	practices, years                               int
	seed                                           uint64
	set                                            given
}

// runSynth draws the scenario's synthetic practices and writes them (and
// their history and need) in NHS files' layouts.
func runSynth(ctx context.Context, o *synthOptions, w streams) error {
	// Every flag and input is checked, and every file made, before any is
	// written.
	out, err := outFile("out", o.out, o.scenario)
	if err != nil {
		return err
	}
	hf := o.history
	if o.set["history"] {
		if _, err := outFile("history", hf, o.scenario); err != nil {
			return err
		}
	}
	if err := inRange("years", o.years, 1, maxYears); err != nil {
		return err
	}
	s, err := scenarios.Load(o.scenario)
	if err != nil {
		return inputError{err}
	}
	if n := o.practices; o.set["practices"] {
		if err := inRange("practices", n, 1, 20000); err != nil {
			return err
		}
		if s.Population.Synthetic == nil {
			return badInput("--practices: scenario %s lists its practices; it has no synthetic population to size", o.scenario)
		}
		s.Population.Synthetic.Practices = n
	}
	m, err := s.Model(o.seed)
	if err != nil {
		return inputError{err}
	}
	specs := scenarios.PracticeSpecs(m)
	var buf, hb, wb bytes.Buffer
	if err := scenarios.WritePopulation(&buf, specs, o.commissioner, "01APR2009"); err != nil {
		return err
	}
	wf := o.weighted
	if o.set["weighted-populations"] {
		if _, err := outFile("weighted-populations", wf, o.scenario); err != nil {
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
		if err := s.CheckRun(m, 1, o.years); err != nil {
			return inputError{err}
		}
		h, err := forecast.Simulate(ctx, m, o.seed, 1, o.years, 0)
		if err != nil {
			return err
		}
		if err := h.WriteCSV(&hb); err != nil {
			return err
		}
	}
	if err := writeOut(w.out, out, buf.Bytes()); err != nil {
		return err
	}
	if wf != "" {
		if err := writeOut(w.out, wf, wb.Bytes()); err != nil {
			return err
		}
	}
	if hf != "" {
		return writeOut(w.out, hf, hb.Bytes())
	}
	return nil
}

// useWeighted sets the population file pop's practices' need from the
// need-weighted populations file wf (--weighted-populations), if given, and
// says which practices it lacks.
func useWeighted(w streams, s *scenarios.Scenario, pop, wf string) error {
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
		fmt.Fprintf(w.err, "--weighted-populations %s has no usable row for %d of %d practices (e.g. %s): their need index is 1, England's average beyond age and sex\n",
			wf, n, n+rep.Matched, strings.Join(rep.Missing[:min(n, 5)], ", "))
	}
	if n := len(rep.Clamped); n > 0 {
		fmt.Fprintf(w.err, "--weighted-populations: %d practices' need was outside 1e-6 to 100 and was set to the nearer bound (e.g. %s)\n", n, rep.Clamped[0])
	}
	return nil
}
