package main

import (
	"encoding/json"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/urfave/cli/v2"
)

func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of scenario files (for editors)",
		Action: func(c *cli.Context) error {
			b, err := json.MarshalIndent(scenarios.Schema(), "", "  ")
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(append(b, '\n'))
			return err
		},
	}
}
