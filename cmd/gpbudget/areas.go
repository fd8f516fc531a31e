package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gpbudget/gpbudget/internal/england"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

func areasCommand() *cli.Command {
	o := &areasOptions{}
	return &cli.Command{
		Name:  "areas",
		Usage: "list England's ICBs, places, PCNs or regions (2022/23) with their practices and patients",
		Description: "The areas --area takes (run, compare, risk-curve, scenario england-2023): every\n" +
			"ICB, place (sub-ICB location), primary care network or region of England's\n" +
			"built-in table of practices, 2022/23. " + england.Attribution + ".",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "level", Value: "icb", Destination: &o.level, Usage: "`LEVEL`: icb, place, pcn or region"},
			&cli.StringFlag{Name: "in", Destination: &o.in, Usage: "only the areas within area `CODE|NAME`"},
			jsonFlag(&o.json, "print a JSON array of {code, name, level, practices, patients}"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return badInput("areas: unexpected argument %q (use --in)", c.Args().First())
			}
			return runAreas(c.Context, o, streamsOf(c))
		},
	}
}

// areasOptions are areas' flags.
type areasOptions struct {
	level, in string
	json      bool
}

// runAreas lists the areas of a level, within an area or all England.
func runAreas(_ context.Context, o *areasOptions, w streams) error {
	l := england.LevelOf(o.level)
	if l < 0 {
		return badInput("--level %q is not a level: accepted %s", o.level, strings.Join(england.LevelNames[:], ", "))
	}
	t, err := england.Load()
	if err != nil {
		return err
	}
	in := t.England()
	if o.in != "" {
		if in, err = t.Lookup(o.in); err != nil {
			return inputError{fmt.Errorf("--in: %w", err)}
		}
	}
	as := t.Areas(l, in)
	if o.json {
		b, err := json.MarshalIndent(as, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w.out, "%s\n", b)
		return err
	}
	n, p := 0, 0
	fmt.Fprintf(w.out, "%-8s %-70s %9s %10s\n", "code", england.LevelNames[l]+" ("+england.Year+")", "practices", "patients")
	for _, a := range as {
		fmt.Fprintf(w.out, "%-8s %-70s %9d %10d\n", a.Code, a.Name, a.Practices, a.Patients)
		n += a.Practices
		p += a.Patients
	}
	fmt.Fprintf(w.out, "%d areas in %s: %d practices, %d patients\nSource: %s. %s.\n", len(as), in.Name, n, p, england.Provenance, england.Attribution)
	return nil
}

// areaOptions are --area and the population flags it goes with.
type areaOptions struct {
	area, population, practices, weighted string
	set                                   given // an empty --area is refused, not ignored
}

// useArea applies --area: the scenario's population becomes the area's
// real practices (scenarios.UseEngland), with the real age-sex lists of
// --population's file where given (scenarios.UseEnglandLists). An unknown
// or ambiguous area is bad input, naming the nearest.
func useArea(w streams, s *scenarios.Scenario, o areaOptions) error {
	if !o.set["area"] {
		return nil
	}
	if strings.TrimSpace(o.area) == "" {
		return badInput("--area is empty: name an ICB, place, PCN or region code or a unique part of a name (see 'gpbudget areas')")
	}
	if o.set["weighted-populations"] {
		return badInput("--area takes each practice's need from England's built-in table: --weighted-populations is not accepted with it")
	}
	if pf := o.population; pf != "" {
		// The file's real age-sex lists win over the imputed ones.
		file, err := scenarios.ReadPopulationFile(pf, strings.Split(o.practices, ","), s.Limits)
		if err != nil {
			return inputError{err}
		}
		_, missing, err := s.UseEnglandLists(o.area, file)
		if err != nil {
			return inputError{fmt.Errorf("--area with --population %s: %w", pf, err)}
		}
		if n := len(missing); n > 0 {
			fmt.Fprintf(w.err, "--population %s: %d practices are not in England's %s table (e.g. %s): left out\n", pf, n, england.Year, strings.Join(missing[:min(n, 5)], ", "))
		}
		return nil
	}
	if _, err := s.UseEngland(o.area); err != nil {
		return inputError{fmt.Errorf("--area: %w", err)}
	}
	return nil
}
