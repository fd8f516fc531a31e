// Command gpbudget simulates GP practice budgets: a concurrent Monte Carlo
// engine over practice populations, budget-setting rules and savings-retention
// rules, writing Parquet results. Each subcommand lives in its own file and is
// a thin layer over the sim, scenarios, output and internal packages, as
// restic's cmd/restic is: an options struct its flags are bound to (the
// flags several commands share are defined once, in flags.go), and a runX
// that takes the context, the options and where to print.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
)

// version is the program version written into every result.
var version = "0.5.0"

// inputError marks bad input (flags, scenario or population files, output
// folder): the program exits with status 2.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

func badInput(format string, a ...any) error { return inputError{fmt.Errorf(format, a...)} }

// Exit statuses (README, "Exit status").
const (
	exitOK    = 0
	exitFail  = 1  // a run that failed for another reason (a disk error, an interruption)
	exitInput = 2  // bad input: arguments, scenario or population files, folders
	exitBug   = 70 // an internal error: a bug (EX_SOFTWARE in BSD's sysexits.h)
)

func newApp() *cli.App {
	app := &cli.App{
		Name:    "gpbudget",
		Usage:   "simulate and forecast GP practice budgets in the English NHS",
		Version: version,
		Commands: []*cli.Command{
			runCommand(),
			compareCommand(),
			sensitivityCommand(),
			riskCurveCommand(),
			summarizeCommand(),
			reportCommand(),
			scenariosCommand(),
			areasCommand(),
			validateCommand(),
			schemaCommand(),
			benchCommand(),
			mergeCommand(),
			synthCommand(),
			fitCommand(),
			forecastCommand(),
			backtestCommand(),
			historyCommand(),
			calibrateRiskCommand(),
			validateRiskCommand(),
			serveCommand(),
		},
		// With no command, help; with an unknown one, an input error (the
		// library's own answer exits 1 or 3).
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return badInput("%q is not a command: accepted %s (see gpbudget help)", c.Args().First(), strings.Join(commandNames(c.App), ", "))
			}
			return cli.ShowAppHelp(c)
		},
		OnUsageError:   func(_ *cli.Context, err error, _ bool) error { return inputError{err} },
		ExitErrHandler: func(*cli.Context, error) {},
	}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	return app
}

func commandNames(app *cli.App) []string {
	var out []string
	for _, c := range app.Commands {
		out = append(out, c.Name)
	}
	return out
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, newApp(), os.Args, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line and returns the exit status. A panic in the
// command's own goroutine is an internal error: it is reported as a bug,
// with the version and where it happened, and no stack dump (set
// GPBUDGET_TRACEBACK=1 to print one for a bug report).
func run(ctx context.Context, app *cli.App, args []string, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "gpbudget %s: internal error: %v%s\n"+
				"This is a bug in gpbudget, not a problem with your input. Please report it with the\n"+
				"command you ran and this message (GPBUDGET_TRACEBACK=1 adds the stack trace).\n",
				version, r, panicSite())
			if os.Getenv("GPBUDGET_TRACEBACK") == "1" {
				stderr.Write(debug.Stack())
			}
			code = exitBug
		}
	}()
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var pe *sim.PanicError
	if errors.As(err, &pe) { // a panic in the engine's own goroutines
		fmt.Fprintf(stderr, "gpbudget %s: %v\n"+
			"This is a bug in gpbudget, not a problem with your input. Please report it with the\n"+
			"command you ran and this message (GPBUDGET_TRACEBACK=1 adds the stack trace).\n", version, err)
		if os.Getenv("GPBUDGET_TRACEBACK") == "1" {
			stderr.Write(pe.Stack)
		}
		return exitBug
	}
	fmt.Fprintln(stderr, "gpbudget:", err)
	var ie inputError
	var ec cli.ExitCoder // the CLI library's own errors (an unknown help topic)
	// A run folder whose files do not match its manifest, or that holds no
	// finished run, is bad input whichever command read it.
	folder := errors.Is(err, runfolder.ErrCorrupt) || errors.Is(err, runfolder.ErrIncomplete)
	if errors.As(err, &ie) || errors.As(err, &ec) || folder {
		return exitInput
	}
	return exitFail
}

// panicSite names the function and line that panicked (called from the
// deferred recover: the first frame below the runtime's panic machinery).
func panicSite() string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") && f.Function != "" {
			return fmt.Sprintf(" (in %s, %s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}
