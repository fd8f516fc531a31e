package output

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"time"
)

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
	Files          []string    `json:"files"`
	Chunks         []Chunk     `json:"chunks"` // complete files with their replication ranges and checksums
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
}

// ShardRun is a shard and its share of the replications.
type ShardRun struct {
	Shard
	FirstRep int `json:"first_rep"`
	LastRep  int `json:"last_rep"` // exclusive (unlike Chunk.LastRep)
}

// ManifestName is the manifest's file name in a run folder.
const ManifestName = "manifest.json"

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
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// ReadManifest reads DIR/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	return readManifestFile(filepath.Join(dir, ManifestName))
}

func readManifestFile(path string) (*Manifest, error) {
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

// WriteFileAtomic writes a file under a temporary name, syncs it and renames it into place.
func WriteFileAtomic(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func sortStrings(s []string) { sort.Strings(s) }

func runtimeVersion() string { return runtime.Version() }
