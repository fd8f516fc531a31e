// Command gpbudget simulates GP practice budgets: a concurrent Monte Carlo
// engine over practice populations, budget-setting rules and savings-retention
// rules, writing Parquet results. Each subcommand lives in its own file and is
// a thin layer over the sim, scenarios and output packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// version is the program version written into every result.
var version = "0.3.0"

// inputError marks bad input (flags, scenario or population files, output
// folder): the program exits with status 2.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

func badInput(format string, a ...any) error { return inputError{fmt.Errorf(format, a...)} }

func newApp() *cli.App {
	app := &cli.App{
		Name:    "gpbudget",
		Usage:   "simulate and forecast GP practice budgets in the English NHS",
		Version: version,
		Commands: []*cli.Command{
			runCommand(),
			compareCommand(),
			summarizeCommand(),
			reportCommand(),
			scenariosCommand(),
			validateCommand(),
			schemaCommand(),
			benchCommand(),
			mergeCommand(),
			synthCommand(),
			fitCommand(),
			forecastCommand(),
			backtestCommand(),
			historyCommand(),
		},
		OnUsageError:   func(_ *cli.Context, err error, _ bool) error { return inputError{err} },
		ExitErrHandler: func(*cli.Context, error) {},
	}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	return app
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newApp().RunContext(ctx, os.Args)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "gpbudget:", err)
	var ie inputError
	if errors.As(err, &ie) {
		os.Exit(2)
	}
	os.Exit(1)
}
