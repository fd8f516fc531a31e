package main

import (
	"fmt"
	"strings"

	"github.com/gpbudget/gpbudget/internal/england"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

func scenariosCommand() *cli.Command {
	return &cli.Command{
		Name:  "scenarios",
		Usage: "list the built-in scenarios, or print one resolved with every default",
		Flags: []cli.Flag{&cli.StringFlag{Name: "show", Usage: "print scenario `NAME|FILE` with every default filled in"}},
		Action: func(c *cli.Context) error {
			if ref := c.String("show"); ref != "" {
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
					fmt.Fprintf(c.App.Writer, "# Practices (population.england, %d of them): %s.\n# %s.\n", len(s.Population.Practices), england.Provenance, england.Attribution)
				}
				_, err = c.App.Writer.Write(b)
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
				fmt.Fprintf(c.App.Writer, "%-32s %s\n", n, desc)
			}
			return nil
		},
	}
}
