package bench

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/gpbudget/gpbudget/internal/stats"
	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/output/runfolder"
)

// SummaryResult is what MeasureSummary found on a run folder.
type SummaryResult struct {
	Dir        string `json:"dir"`
	Rows       int64  `json:"rows"`
	LedgerRows int64  `json:"ledger_rows"`
	// Bytes is the size of the run's part files, and VerifySec the time
	// every reader spends first checking them against the manifest
	// (SHA-256 of each, on every core), in wall and processor time: the
	// read and the summary below reuse that check and do not repeat it.
	Bytes        int64   `json:"bytes"`
	VerifySec    float64 `json:"verify_sec"`
	VerifyCPUSec float64 `json:"verify_cpu_sec"`
	// ReadSec and SummarySec are the medians of Repeats timings each,
	// taken in turn (read, summary, read, summary, ...): one timing of a
	// fraction of a second on a machine shared with other jobs moves by a
	// third from one to the next (ReadSecs and SummarySecs are them all).
	Repeats     int       `json:"repeats"`
	ReadSec     float64   `json:"read_sec"`      // reading the columns summarize reads, and nothing else
	SummarySec  float64   `json:"summarize_sec"` // analysis.Summarize, both passes and the ledger
	ReadSecs    []float64 `json:"read_secs"`
	SummarySecs []float64 `json:"summarize_secs"`
	// TimeRatio is the median over the repeats of each summary's time over
	// the read's just before it (two timings under the same load, where
	// the load moves over seconds). Target: at most 2.
	TimeRatio float64 `json:"time_ratio"`
	// The processor time (user and system, all threads) of each, medians
	// as above, and the median ratio as TimeRatio's: on a machine shared
	// with other jobs, the steadier figure.
	ReadCPUSec    float64 `json:"read_cpu_sec"`
	SummaryCPUSec float64 `json:"summarize_cpu_sec"`
	CPURatio      float64 `json:"cpu_ratio"`
	// PeakRSSBytes is the process's peak resident set after both, which is
	// the summary's (reading alone holds less). Target for England cohort
	// 1,000 x 5 years: under 300 MB.
	PeakRSSBytes  int64   `json:"peak_rss_bytes"`
	QuantileError float64 `json:"quantile_rel_error"` // 0: exact
	// PracticeQuantileError is that of the by-practice table: 0 also where
	// the practices' values were spilled to disk beyond the exact budget.
	PracticeQuantileError float64 `json:"practice_quantile_rel_error"`
}

// MeasureSummary times checking a completed run's files against its
// manifest, then reading their columns (practice-years and ledger) against
// summarising them, in one process: the check first (it reads every byte,
// so the files are then in the page cache for both), the read next, so that
// the peak resident set afterwards is the summary's. Both are timed in the
// same state: after a first, untimed read (which checks each file's page
// headers, done once a process, and fills the decoder's buffers, both of
// which the summary would otherwise find done and the read not), each from
// a collected heap, repeats times in turn (at least once), and the medians
// kept. o tunes the summary.
func MeasureSummary(ctx context.Context, dir string, o analysis.Options, repeats int) (*SummaryResult, error) {
	man, err := runfolder.RequireComplete(dir)
	if err != nil {
		return nil, err
	}
	r := &SummaryResult{Dir: dir}
	start, cpu := time.Now(), processCPU()
	if err := man.VerifyFiles(ctx, dir, man.Files); err != nil {
		return nil, err
	}
	r.VerifySec, r.VerifyCPUSec = time.Since(start).Seconds(), processCPU()-cpu
	for _, f := range man.Sums() {
		r.Bytes += f.Bytes
	}
	obs, err := analysis.SummaryColumns(dir)
	if err != nil {
		return nil, err
	}
	read := func() error {
		for _, t := range []struct {
			table string
			cols  []runfolder.Column
		}{{runfolder.PracticeYears, obs}, {runfolder.Ledger, analysis.LedgerColumns()}} {
			files, err := man.TableFiles(t.table)
			if err != nil {
				return err
			}
			n, err := runfolder.Scan(ctx, dir, files, t.cols, 0, func(*runfolder.Batch) error { return nil })
			if err != nil {
				return err
			}
			if t.table == runfolder.PracticeYears {
				r.Rows = n
			} else {
				r.LedgerRows = n
			}
		}
		return nil
	}
	if err := read(); err != nil {
		return nil, err
	}
	r.Repeats = max(repeats, 1)
	var readCPU, sumCPU []float64
	var sum *analysis.Summary
	for range r.Repeats {
		runtime.GC()
		start, cpu = time.Now(), processCPU()
		if err := read(); err != nil {
			return nil, err
		}
		r.ReadSecs, readCPU = append(r.ReadSecs, time.Since(start).Seconds()), append(readCPU, processCPU()-cpu)
		runtime.GC()
		start, cpu = time.Now(), processCPU()
		if sum, err = analysis.Summarize(ctx, dir, o); err != nil {
			return nil, err
		}
		r.SummarySecs, sumCPU = append(r.SummarySecs, time.Since(start).Seconds()), append(sumCPU, processCPU()-cpu)
		if sum.Rows != r.Rows {
			return nil, fmt.Errorf("summary saw %d rows, the read %d", sum.Rows, r.Rows)
		}
	}
	r.ReadSec, r.SummarySec = stats.Median(r.ReadSecs), stats.Median(r.SummarySecs)
	r.ReadCPUSec, r.SummaryCPUSec = stats.Median(readCPU), stats.Median(sumCPU)
	ratios := func(s, r []float64) []float64 {
		x := make([]float64, len(s))
		for i := range s {
			x[i] = s[i] / r[i]
		}
		return x
	}
	r.TimeRatio = stats.Median(ratios(r.SummarySecs, r.ReadSecs))
	r.CPURatio = stats.Median(ratios(sumCPU, readCPU))
	r.PeakRSSBytes = PeakRSS()
	r.QuantileError = sum.Quantiles.RelError
	if !sum.Quantiles.PracticesExact {
		r.PracticeQuantileError = r.QuantileError
	}
	return r, nil
}

// processCPU is the process's user and system time so far, in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
