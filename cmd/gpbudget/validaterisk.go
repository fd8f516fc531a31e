package main

import "github.com/urfave/cli/v2"

func validateRiskCommand() *cli.Command { return &cli.Command{Name: "validate-risk"} }
