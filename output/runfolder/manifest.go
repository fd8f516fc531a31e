package runfolder

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gpbudget/gpbudget/sim"
)

// Chunk is one complete, closed part: which replications it holds, its
// practice-year file and its ledger file (same name, in ledger/), each with
// its row count, size and checksum, so a resumed run or a reader can trust
// them.
type Chunk struct {
	File     string `json:"file"` // the practice-year file, relative to the run folder
	FirstRep int    `json:"first_replication"`
	LastRep  int    `json:"last_replication"` // inclusive
	Rows     int64  `json:"rows"`
	SHA256   string `json:"sha256"`
	Bytes    int64  `json:"bytes,omitempty"` // absent in manifests of earlier versions

	LedgerFile   string `json:"ledger_file,omitempty"`
	LedgerRows   int64  `json:"ledger_rows"`
	LedgerSHA256 string `json:"ledger_sha256,omitempty"`
	LedgerBytes  int64  `json:"ledger_bytes,omitempty"`
}

// Files are the chunk's files, relative to the run folder, with their checksums.
func (c Chunk) Files() []FileSum {
	out := []FileSum{{c.File, c.SHA256, c.Bytes}}
	if c.LedgerFile != "" {
		out = append(out, FileSum{c.LedgerFile, c.LedgerSHA256, c.LedgerBytes})
	}
	return out
}

// FileSum is a file relative to the run folder, its hex SHA-256 and its
// size in bytes (0: not recorded).
type FileSum struct {
	Path, SHA256 string
	Bytes        int64
}

// Verify says whether every file of the chunk in dir has its recorded size
// and checksum.
func (c Chunk) Verify(dir string) error {
	if p := VerifyChunk(dir, c); len(p) > 0 {
		return &CorruptError{Dir: dir, Problems: p}
	}
	return nil
}

// Manifest describes a run: what was run, how to reproduce it and whether it
// finished. It is replaced atomically, so a reader never sees half of one.
type Manifest struct {
	Program        string      `json:"program"`
	Version        string      `json:"version"`
	GoVersion      string      `json:"go_version"`
	GonumVersion   string      `json:"gonum_version"`
	Cohort         bool        `json:"cohort,omitempty"` // practices simulated from group counts, not patient by patient
	ParquetVersion string      `json:"parquet_go_version"`
	Scenario       any         `json:"scenario"` // resolved, every default filled in
	ScenarioName   string      `json:"scenario_name"`
	Seed           uint64      `json:"seed"`
	Replications   int         `json:"replications"`
	Years          int         `json:"years"`
	Practices      int         `json:"practices"`
	Workers        int         `json:"workers"`
	Command        string      `json:"command"`
	Started        time.Time   `json:"started"`
	Ended          time.Time   `json:"ended,omitzero"`
	Completed      bool        `json:"completed"`
	Resumed        []time.Time `json:"resumed,omitempty"` // when the run was resumed after an interruption
	Rows           int64       `json:"rows"`
	Files          []string    `json:"files"`  // every complete part file, practice-year and ledger
	Chunks         []Chunk     `json:"chunks"` // complete parts with their replication ranges and checksums
	Error          string      `json:"error,omitempty"`

	// Shard, in a shard's manifest (DIR/manifests/shard-IIII-of-NNNN.json),
	// says which shard it is and which replications [first_rep, last_rep) of
	// Replications it runs; Files, Chunks and Rows are then that shard's
	// alone. Each shard resumes on its own (see Resume).
	Shard *ShardRun `json:"shard,omitempty"`
	// Merged, in DIR/manifest.json after 'gpbudget merge', names the shard
	// manifests the run was assembled from; Files, Chunks and Rows are then
	// the whole run's.
	Merged []string `json:"merged_from,omitempty"`

	// Uncertain lists the parameters that varied across replications, with
	// their priors; RiskAdjustment is the estimated capitation formula's fit
	// (none with the perfect formula). See RecordRisk.
	Uncertain      []UncertainParam `json:"uncertain_parameters"`
	RiskAdjustment *RiskAdjustment  `json:"risk_adjustment,omitempty"`
}

// RiskAdjustment is an estimated capitation formula's fit (sim.FormulaFit),
// against PBRA's (Dixon et al., BMJ 2011): person-level R² about 0.12,
// practice-level 0.77 (0.34 for age and sex alone), about a third of
// practices 10% or more from target.
type RiskAdjustment struct {
	SampleSize        int     `json:"sample_size"`
	NeedCoefficient   float64 `json:"need_coefficient"` // pounds a year per unit of log need proxy
	NeedCoefficientSE float64 `json:"need_coefficient_se"`
	PersonR2          float64 `json:"person_r2"`
	PracticeR2        float64 `json:"practice_r2"`
	AgeSexPracticeR2  float64 `json:"age_sex_practice_r2"`
	PerfectPracticeR2 float64 `json:"perfect_practice_r2"`
	ShareOff10        float64 `json:"share_10pct_from_target"`
}

// UncertainParam is a parameter that varied across a run's replications:
// its prior, centred on Point.
type UncertainParam struct {
	Name  string  `json:"name"`
	Dist  string  `json:"dist"`
	Point float64 `json:"point"`
	SD    float64 `json:"sd"`
}

// RecordRisk records m's uncertain parameters and its estimated formula's
// fit.
func (m *Manifest) RecordRisk(model *sim.Model) {
	m.Uncertain = []UncertainParam{}
	for _, pr := range model.Uncertain() {
		m.Uncertain = append(m.Uncertain, UncertainParam{Name: pr.Param.String(), Dist: sim.DistNames[pr.Dist], Point: model.Point(pr.Param), SD: pr.SD})
	}
	if f := model.Budget.Formula; f != nil {
		x := f.Fit
		m.RiskAdjustment = &RiskAdjustment{SampleSize: x.SampleSize, NeedCoefficient: f.NeedCoef, NeedCoefficientSE: x.NeedCoefSE,
			PersonR2: x.PersonR2, PracticeR2: x.PracticeR2, AgeSexPracticeR2: x.AgeSexPracticeR2, PerfectPracticeR2: x.PerfectPracticeR2, ShareOff10: x.ShareOff10}
	}
}

// ShardRun is a shard and its share of the replications.
type ShardRun struct {
	Shard
	FirstRep int `json:"first_rep"`
	LastRep  int `json:"last_rep"` // exclusive (unlike Chunk.LastRep)
}

// Versions fills the program, Go and library versions from the build.
func (m *Manifest) Versions(version string) {
	m.Program, m.Version, m.GoVersion = "gpbudget", version, runtime.Version()
	m.GonumVersion, m.ParquetVersion = DepVersion("gonum.org/v1/gonum"), DepVersion("github.com/parquet-go/parquet-go")
}

// DepVersion is a dependency's module version in this binary ("unknown" in tests).
func DepVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

// Write replaces the run's manifest atomically: DIR/manifest.json, or for a
// shard DIR/manifests/shard-IIII-of-NNNN.json.
func (m *Manifest) Write(dir string) error {
	path := filepath.Join(dir, ManifestName)
	if m.Shard != nil {
		path = filepath.Join(dir, m.Shard.ManifestPath())
	}
	return WriteManifestFile(path, m)
}

// WriteManifestFile replaces the manifest at path atomically.
func WriteManifestFile(path string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// SetChunks records chunks as the run's complete parts: Chunks, Files and Rows.
func (m *Manifest) SetChunks(chunks []Chunk) {
	m.Chunks, m.Files, m.Rows = chunks, []string{}, 0
	for _, c := range chunks {
		for _, f := range c.Files() {
			m.Files = append(m.Files, f.Path)
		}
		m.Rows += c.Rows
	}
}

// DoneReps is the number of replications the manifest's chunks cover
// from the first (for a shard, from its first replication).
func (m *Manifest) DoneReps() int {
	if n := len(m.Chunks); n > 0 {
		first := 0
		if m.Shard != nil {
			first = m.Shard.FirstRep
		}
		return m.Chunks[n-1].LastRep + 1 - first
	}
	return 0
}

// ReadManifest reads DIR/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	return ReadManifestFile(filepath.Join(dir, ManifestName))
}

// ReadManifestFile reads a manifest (a run's or a shard's) from path.
func ReadManifestFile(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// ErrIncomplete is returned (wrapped) for a run folder whose manifest does
// not say the run completed.
var ErrIncomplete = errors.New("run is incomplete")

// RequireComplete checks that DIR holds a completed run; otherwise it says
// what is missing and how to finish it.
func RequireComplete(dir string) (*Manifest, error) {
	man, err := ReadManifest(dir)
	if err != nil {
		if shards, _ := ShardManifests(dir); len(shards) > 0 {
			return nil, fmt.Errorf("%w: %s holds shards of a run that are not merged: check and merge them with: gpbudget merge %s", ErrIncomplete, dir, dir)
		}
		return nil, fmt.Errorf("%s holds no finished run: %w", dir, err)
	}
	if !man.Completed {
		why := "it was interrupted or is still running"
		if man.Error != "" {
			why = "it stopped: " + man.Error
		}
		return man, fmt.Errorf("%w: %s/%s says completed: false (%s); %d of %d replications are complete; finish it with: gpbudget run --resume %s",
			ErrIncomplete, dir, ManifestName, why, man.DoneReps(), man.Replications, dir)
	}
	return man, nil
}

// CommandLine is the command line as a user types it, for a manifest's
// Command: the program as "gpbudget" (not the path of the binary, which
// after 'go run' is a temporary file), then the arguments, each quoted for
// a POSIX shell where it needs it.
func CommandLine(args []string) string {
	if len(args) == 0 {
		return ""
	}
	out := []string{"gpbudget"}
	for _, a := range args[1:] {
		out = append(out, ShellQuote(a))
	}
	return strings.Join(out, " ")
}

// TypedCommand is a recorded command line as a user types it: one recorded
// with the binary's path (by an earlier version) gets "gpbudget" instead.
func TypedCommand(cmd string) string {
	prog, rest, _ := strings.Cut(strings.TrimSpace(cmd), " ")
	if prog == "" {
		return ""
	}
	if filepath.Base(prog) == "gpbudget" || strings.Contains(prog, "/") {
		prog = "gpbudget"
	}
	return strings.TrimSpace(prog + " " + rest)
}

// ShellQuote quotes s for a POSIX shell if it holds anything but letters,
// digits and -_./:=,+@%.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=,+@%", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
