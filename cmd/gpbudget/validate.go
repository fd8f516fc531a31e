package main

import (
	"fmt"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check scenario files without running them",
		ArgsUsage: "FILE|NAME...",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return badInput("validate: name at least one scenario file")
			}
			for _, ref := range c.Args().Slice() {
				s, err := scenarios.Load(ref)
				if err != nil {
					return inputError{err}
				}
				m, err := s.Model(s.Seed)
				if err == nil { // the run the scenario's own replications and years make
					err = s.CheckRun(m, s.Replications, s.Years)
				}
				if err != nil {
					return inputError{err} // it names the file
				}
				n := 0
				for i := range m.Practices {
					n += m.Practices[i].ListSize()
				}
				fmt.Fprintf(c.App.Writer, "%s: ok (scenario %q, %d practices, %d patients)\n", ref, s.Name, len(m.Practices), n)
			}
			return nil
		},
	}
}
