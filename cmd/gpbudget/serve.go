package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gpbudget/gpbudget/internal/web"
	"github.com/urfave/cli/v2"
)

func serveCommand() *cli.Command {
	o := &serveOptions{}
	return &cli.Command{
		Name:  "serve",
		Usage: "start the what-if page (and its HTTP API) in a local web server",
		Description: "Serves a page where a scenario's levers (budget method and pace, rule, retention,\n" +
			"participation, holders, deficits, risk pool, stop-loss, a shared-savings contract's\n" +
			"corridor, run size and seed) are set and run, with the headline table and the report's\n" +
			"charts, two settings compared with common random numbers, and downloads of the\n" +
			"scenario, results and report. The page's\n" +
			"address holds its settings, to share a what-if as a link. The API is documented at\n" +
			"/api/openapi.json. Everything is embedded: it works offline.\n\n" +
			"It listens on 127.0.0.1 (this machine only) unless --addr says otherwise. Runs are\n" +
			"kept in --data and survive a restart; --max-runs run at once and up to --max-queue\n" +
			"wait. Every value goes through the validator 'gpbudget validate' uses, held to this\n" +
			"server's limits.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Destination: &o.addr, Usage: "listen on `HOST:PORT` (port 0: any free port)"},
			&cli.StringFlag{Name: "data", Value: "gpbudget-data", Destination: &o.data, Usage: "`DIR` where runs, comparisons and uploads are kept"},
			workersFlag(&o.workers, allCores, "worker goroutines `N` of each run"),
			&cli.IntFlag{Name: "max-runs", Value: web.DefaultMaxRuns, Destination: &o.maxRuns, Usage: "runs `N` at once (the rest wait)"},
			&cli.IntFlag{Name: "max-queue", Value: web.DefaultMaxQueue, Destination: &o.maxQueue, Usage: "runs `N` that may wait for a free slot (0: none; more are refused with 503)"},
			&cli.Float64Flag{Name: "max-patient-years", Value: web.DefaultMaxPatientYears, Destination: &o.maxPatientYears, Usage: "largest run: replications x (years + 1) x patients, `N` (a scenario file cannot raise it)"},
			&cli.Float64Flag{Name: "max-rows", Value: web.DefaultMaxRows, Destination: &o.maxRows, Usage: "largest run: result rows (replications x years x practices), `N`"},
			&cli.StringFlag{Name: "max-upload", Value: "64MiB", Destination: &o.maxUpload, Usage: "largest uploaded file or request `SIZE` (bytes, or with KiB, MiB, GiB, KB, MB, GB)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return badInput("serve: unexpected argument %q", c.Args().First())
			}
			return runServe(c.Context, o, streamsOf(c))
		},
	}
}

// serveOptions are serve's flags.
type serveOptions struct {
	addr, data, maxUpload    string
	workers                  int
	maxRuns, maxQueue        int
	maxPatientYears, maxRows float64
}

// runServe serves the what-if page until ctx ends (Ctrl-C, SIGTERM).
func runServe(ctx context.Context, o *serveOptions, w streams) error {
	if err := firstError(
		inRange("workers", o.workers, 1, maxWorkers),
		inRange("max-runs", o.maxRuns, 1, 1024),
		inRange("max-queue", o.maxQueue, 0, 100000),
		inRange("max-patient-years", o.maxPatientYears, 1, 1e18),
		inRange("max-rows", o.maxRows, 1, 1e15),
	); err != nil {
		return err
	}
	upload, err := parseSize(o.maxUpload)
	if err != nil {
		return badInput("--max-upload %q: %v", o.maxUpload, err)
	}
	if err := inRange("max-upload", upload, 1<<10, 1<<40); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return badInput("--addr %s: %v (accepted HOST:PORT, such as 127.0.0.1:8080, on a free port)", o.addr, err)
	}
	loopback := web.IsLoopback(ln.Addr().String())
	srv, err := web.New(web.Config{
		Data: o.data, Version: version, Workers: o.workers,
		MaxRuns: o.maxRuns, MaxQueue: o.maxQueue, MaxPatientYears: o.maxPatientYears,
		MaxRows: o.maxRows, MaxUpload: upload, Loopback: loopback, Log: w.err,
	})
	if err != nil {
		ln.Close()
		return inputError{err}
	}
	defer srv.Close()
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	url := "http://" + ln.Addr().String() + "/"
	if !loopback {
		fmt.Fprintf(w.err, "\nWARNING: gpbudget serve is listening on %s (--addr %s), which other machines can reach.\n"+
			"WARNING: it has no login: anyone who can reach it can run simulations, upload files and read every run in %s.\n"+
			"WARNING: to keep it on this machine, leave --addr out (127.0.0.1:8080).\n\n", ln.Addr(), o.addr, o.data)
		if host, port, err := net.SplitHostPort(ln.Addr().String()); err == nil && (host == "::" || host == "0.0.0.0") {
			url = "http://localhost:" + port + "/ (and this machine's other addresses)"
		}
	}
	fmt.Fprintf(w.out, "gpbudget serve: %s\nruns are kept in %s; Ctrl-C stops\n", url, o.data)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	case <-ctx.Done():
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx) // event streams are cut when it gives up
		hs.Close()
	}
	srv.Close() // runs still going stop; their folders say they did not complete
	fmt.Fprintln(w.out, "gpbudget serve: stopped")
	return nil
}

// parseSize reads a size in bytes, with an optional unit.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*mult > 1<<50 {
		return 0, errors.New("not a size: accepted a number of bytes, or with a unit such as 64MiB")
	}
	return int64(f * mult), nil
}
