package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gpbudget/gpbudget/output"
	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/urfave/cli/v2"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

func runCommand() *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "run a scenario's Monte Carlo simulation and write Parquet results",
		Description: "With no flags, runs the built-in default scenario (50 practices, about 300,000\n" +
			"patients) and writes ./results. Results are identical for the same scenario and\n" +
			"seed whatever the number of workers.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "scenario", Aliases: []string{"s"}, Value: "default", Usage: "scenario `FILE|NAME` (see 'gpbudget scenarios')"},
			&cli.IntFlag{Name: "reps", Usage: "replications `N` (default: the scenario's)"},
			&cli.IntFlag{Name: "years", Usage: "budget years `N` after the base year (default: the scenario's)"},
			&cli.Uint64Flag{Name: "seed", Usage: "random `SEED` (default: the scenario's)"},
			&cli.IntFlag{Name: "workers", Value: runtime.NumCPU(), Usage: "worker goroutines `N`"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "results", Usage: "output `DIR`"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return badInput("run: unexpected argument %q (use --scenario)", c.Args().First())
			}
			s, err := scenarios.Load(c.String("scenario"))
			if err != nil {
				return inputError{err}
			}
			reps, years, seed := s.Replications, s.Years, s.Seed
			if c.IsSet("reps") {
				reps = c.Int("reps")
			}
			if c.IsSet("years") {
				years = c.Int("years")
			}
			if c.IsSet("seed") {
				seed = c.Uint64("seed")
			}
			if reps < 1 {
				return badInput("--reps %d is out of range: accepted 1 or more", reps)
			}
			if years < 1 || years > 50 {
				return badInput("--years %d is out of range: accepted 1 to 50", years)
			}
			workers := c.Int("workers")
			if workers < 1 || workers > 4096 {
				return badInput("--workers %d is out of range: accepted 1 to 4096", workers)
			}
			// The manifest records the run as resolved.
			s.Replications, s.Years, s.Seed = reps, years, seed
			m, err := s.Model(seed)
			if err != nil {
				return inputError{err}
			}
			dir := c.String("out")
			if err := output.PrepareDir(dir); err != nil {
				return inputError{err}
			}
			// Tables and a report of an earlier run here would look like this run's.
			if err := output.RemoveDerived(dir); err != nil {
				return inputError{err}
			}
			start := time.Now()
			var prog sim.Progress
			finish := showProgress(c.App.ErrWriter, progressModeFor(c.Bool("quiet"), c.App.ErrWriter), &prog, plainProgressEvery)
			man, err := output.Execute(c.Context, &output.Spec{
				Scenario: s, Model: m, Seed: seed, Reps: reps, Years: years, Workers: workers,
				Dir: dir, Version: version, Command: strings.Join(os.Args, " "), Progress: &prog,
			})
			finish(err == nil)
			if err != nil {
				if c.Context.Err() != nil {
					kept := "no finished part files"
					if man != nil && len(man.Chunks) > 0 {
						rows := int64(0)
						for _, ch := range man.Chunks {
							rows += ch.Rows
						}
						kept = fmt.Sprintf("%d finished part files (%d rows, kept for inspection)", len(man.Chunks), rows)
					}
					return fmt.Errorf("interrupted after %d of %d practice simulations: %s/practice_years/ holds %s "+
						"and %s/%s says completed: false, so summarize and report refuse the folder; rerun the same command for complete results: %w",
						prog.Done.Load(), prog.Total.Load(), dir, kept, dir, output.ManifestName, err)
				}
				return err
			}
			if !c.Bool("quiet") {
				patients := 0
				for i := range m.Practices {
					patients += m.Practices[i].ListSize()
				}
				fmt.Fprintf(c.App.Writer, "%s: %d replications x %d years x %d practices (%d patients), seed %d\n",
					s.Name, reps, years, len(m.Practices), patients, seed)
				fmt.Fprintf(c.App.Writer, "wrote %d rows to %s/practice_years/ in %.1fs; manifest %s/%s\n",
					man.Rows, dir, time.Since(start).Seconds(), dir, output.ManifestName)
			}
			return nil
		},
	}
}

// Progress on long runs: a bar with rate and ETA when stderr is a terminal,
// a plain line every plainProgressEvery when it is not (logs, batch jobs),
// nothing with --quiet.
type progressMode int

const (
	progressOff progressMode = iota
	progressBar
	progressLines
)

// plainProgressEvery spaces the plain progress lines: often enough to show a
// batch job is alive, rarely enough to keep its log short.
const plainProgressEvery = 10 * time.Second

func progressModeFor(quiet bool, w io.Writer) progressMode {
	if quiet {
		return progressOff
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return progressBar
	}
	return progressLines
}

// showProgress reports pr on w until the returned finish is called with
// whether the run completed.
func showProgress(w io.Writer, mode progressMode, pr *sim.Progress, every time.Duration) (finish func(ok bool)) {
	if mode == progressOff {
		return func(bool) {}
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	start := time.Now()
	if mode == progressLines {
		go func() {
			defer close(stopped)
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					fmt.Fprintln(w, progressLine(pr.Done.Load(), pr.Total.Load(), time.Since(start)))
				}
			}
		}()
		return func(bool) { close(stop); <-stopped }
	}
	p := mpb.New(mpb.WithOutput(w), mpb.WithAutoRefresh(), mpb.WithWidth(72), mpb.WithRefreshRate(150*time.Millisecond))
	bar := p.New(0, mpb.BarStyle(),
		mpb.PrependDecorators(decor.Name("simulating "), decor.CountersNoUnit("%d/%d")),
		mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5}), decor.AverageSpeed(0, " %.0f/s"),
			decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)))
	go func() {
		defer close(stopped)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if tot := pr.Total.Load(); tot > 0 {
					bar.SetTotal(tot, false)
					bar.SetCurrent(pr.Done.Load())
				}
			}
		}
	}()
	return func(ok bool) {
		close(stop)
		<-stopped
		if ok {
			bar.SetTotal(pr.Total.Load(), false)
			bar.SetCurrent(pr.Done.Load())
			bar.SetTotal(-1, true)
		} else {
			bar.Abort(false)
		}
		p.Wait()
	}
}

// progressLine is one plain progress line: share done, rate and time left.
func progressLine(done, total int64, elapsed time.Duration) string {
	if total <= 0 {
		return fmt.Sprintf("progress: starting (%s elapsed)", elapsed.Round(time.Second))
	}
	rate := float64(done) / elapsed.Seconds()
	left := "unknown"
	if rate > 0 {
		left = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("progress: %d of %d practice simulations (%.0f%%), %.1f/s, %s elapsed, about %s left",
		done, total, 100*float64(done)/float64(total), rate, elapsed.Round(time.Second), left)
}
