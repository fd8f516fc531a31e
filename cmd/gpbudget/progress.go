package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gpbudget/gpbudget/sim"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

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
