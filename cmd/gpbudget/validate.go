package main

import (
	"context"
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
			return runValidate(c.Context, streamsOf(c), c.Args().Slice())
		},
	}
}

// runValidate checks the scenarios refs: each builds its model and its own
// run fits its limits.
func runValidate(_ context.Context, w streams, refs []string) error {
	for _, ref := range refs {
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
		fmt.Fprintf(w.out, "%s: ok (scenario %q, %d practices, %d patients)\n", ref, s.Name, len(m.Practices), n)
	}
	return nil
}
