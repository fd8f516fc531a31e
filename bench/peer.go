package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	_ "embed"

	"github.com/gpbudget/gpbudget/sim"
)

// peerScript is the numpy peer (peer/peer.py), run with `python3 -c` so
// the binary needs no file beside it.
//
//go:embed peer/peer.py
var peerScript string

// Peer is the numpy peer's figures (peer/peer.py: the same per-patient
// model, vectorised over every patient on one thread; bench/README.md says
// what it does and does not model), timed on the kernel's workload in the
// same bench run. Absent figures (no python3 with numpy) leave the ratios
// out of the JSON and PeerNote says why.
type Peer struct {
	PeerPatientYears       int64    `json:"peer_patient_years,omitempty"`
	PeerPatientYearsPerSec *float64 `json:"peer_patient_years_per_sec,omitempty"`
	// PeerRatioPerCore: the Go kernel's patient-years per second on one
	// goroutine (KernelPatientYearsPerS) over the peer's on one thread,
	// both in thread CPU time, each step the fastest of identical repeats.
	PeerRatioPerCore *float64 `json:"peer_ratio_per_core,omitempty"`
	// The same with the peer's --totals: streams drawn by the gamma-Poisson
	// mixture (prescribing) get each patient's gamma mean but one Poisson
	// per practice, so no patient's own count (bench/README.md).
	PeerTotalsPatientYearsPerSec *float64 `json:"peer_totals_patient_years_per_sec,omitempty"`
	PeerTotalsRatioPerCore       *float64 `json:"peer_totals_ratio_per_core,omitempty"`
	// Whole runs are not compared: they are timed by the wall clock, with
	// set-up, rules and rows, and on a shared machine that moves them by 3x.
	PeerNumPy string `json:"peer_numpy,omitempty"`
	PeerNote  string `json:"peer_note,omitempty"`
}

// peerOut is what peer.py prints when timing.
type peerOut struct {
	PatientYears       int64    `json:"patient_years"`
	PatientYearsPerSec *float64 `json:"patient_years_per_sec"`
	NumPy              string   `json:"numpy"`
	Python             string   `json:"python"`
}

// ErrNoPeer is returned by PeerPython when no python3 with numpy is found.
var ErrNoPeer = errors.New("no python3 with numpy: set GPB_PYTHON or put one on PATH (Debian: apt-get install python3-numpy)")

// PeerPython finds the interpreter for the peer: $GPB_PYTHON if set, else
// the first python3 on PATH that imports numpy (a PATH may hold several:
// a version manager's ahead of the system's).
func PeerPython(ctx context.Context) (string, error) {
	if p := os.Getenv("GPB_PYTHON"); p != "" {
		if err := exec.CommandContext(ctx, p, "-c", "import numpy").Run(); err != nil {
			return "", fmt.Errorf("GPB_PYTHON=%s cannot import numpy: %w", p, err)
		}
		return p, nil
	}
	seen := map[string]bool{}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, "python3")
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			continue
		}
		if r, err := filepath.EvalSymlinks(p); err == nil {
			if seen[r] {
				continue
			}
			seen[r] = true
		}
		if exec.CommandContext(ctx, p, "-c", "import numpy").Run() == nil {
			return p, nil
		}
	}
	return "", ErrNoPeer
}

// RunPeer runs peer.py with python on spec and the given arguments and
// returns what it prints.
func RunPeer(ctx context.Context, python string, spec *sim.KernelSpec, args ...string) ([]byte, error) {
	in, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("peer: encoding the kernel's tables: %w", err)
	}
	cmd := exec.CommandContext(ctx, python, append([]string{"-c", peerScript}, args...)...)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("peer (%s): %w: %s", python, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// measurePeer times the peer on c's kernel workload (replications 1..Reps,
// every practice, the base year and Years years), as it is and with
// --totals, and sets their ratios to the kernel's. A missing or failing
// peer leaves the figures out and says why in PeerNote: bench still
// reports the rest.
func measurePeer(ctx context.Context, k *sim.Kernel, c Config, res *Result) Peer {
	if c.NoPeer {
		return Peer{PeerNote: "not measured (--peer=false)"}
	}
	py, err := PeerPython(ctx)
	if err != nil {
		return Peer{PeerNote: err.Error()}
	}
	reps := make([]int, c.Reps)
	for r := range reps {
		reps[r] = r + 1
	}
	spec := k.Spec(c.Seed, reps)
	var p Peer
	for _, totals := range []bool{false, true} {
		args := []string{"--seed", fmt.Sprint(c.Seed), "--repeats", "5"}
		if totals {
			args = append(args, "--totals")
		}
		out, err := RunPeer(ctx, py, spec, args...)
		if err != nil {
			return Peer{PeerNote: err.Error()}
		}
		var po peerOut
		if err := json.Unmarshal(out, &po); err != nil || po.PatientYearsPerSec == nil || !(*po.PatientYearsPerSec > 0) {
			return Peer{PeerNote: fmt.Sprintf("peer printed no rate (%v): %.200s", err, out)}
		}
		ps := *po.PatientYearsPerSec
		kr := res.KernelPatientYearsPerS / ps
		if totals {
			p.PeerTotalsPatientYearsPerSec, p.PeerTotalsRatioPerCore = &ps, &kr
			continue
		}
		p.PeerPatientYears, p.PeerPatientYearsPerSec, p.PeerRatioPerCore = po.PatientYears, &ps, &kr
		p.PeerNumPy = fmt.Sprintf("numpy %s, Python %s (%s)", po.NumPy, po.Python, py)
	}
	return p
}

// Text is the peer's line in bench's text output.
func (p *Peer) Text() string {
	if p.PeerRatioPerCore == nil {
		return "numpy peer: not measured: " + p.PeerNote
	}
	return fmt.Sprintf("numpy peer (1 thread, %s): %.3g patient-years/s; kernel (1 goroutine) / peer %.2f per core (goal >= 5); with practice totals of prescribing %.3g, ratio %.2f",
		p.PeerNumPy, *p.PeerPatientYearsPerSec, *p.PeerRatioPerCore, *p.PeerTotalsPatientYearsPerSec, *p.PeerTotalsRatioPerCore)
}
