package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/gpbudget/gpbudget/internal/england"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

func scenariosCommand() *cli.Command {
	o := &scenariosOptions{}
	return &cli.Command{
		Name:   "scenarios",
		Usage:  "list the built-in scenarios, or print one resolved with every default",
		Flags:  []cli.Flag{&cli.StringFlag{Name: "show", Destination: &o.show, Usage: "print scenario `NAME|FILE` with every default filled in"}},
		Action: func(c *cli.Context) error { return runScenarios(c.Context, o, streamsOf(c)) },
	}
}

// scenariosOptions are scenarios' flags.
type scenariosOptions struct{ show string }

// runScenarios lists the built-in scenarios, or prints one resolved.
func runScenarios(_ context.Context, o *scenariosOptions, w streams) error {
	if ref := o.show; ref != "" {
		s, err := scenarios.Load(ref)
		if err != nil {
			return inputError{err}
		}
		b, err := s.YAML()
		if err != nil {
			return err
		}
		if s.Population.England != nil {
			// The built-in table's source and licence, as YAML comments.
			fmt.Fprintf(w.out, "# Practices (population.england, %d of them): %s.\n# %s.\n", len(s.Population.Practices), england.Provenance, england.Attribution)
		}
		_, err = w.out.Write(b)
		return err
	}
	for _, n := range scenarios.Names() {
		s, err := scenarios.Load(n)
		desc := ""
		if err != nil {
			desc = "(invalid: " + err.Error() + ")"
		} else {
			desc = strings.TrimSpace(s.Description)
		}
		fmt.Fprintf(w.out, "%-32s %s\n", n, desc)
	}
	return nil
}
