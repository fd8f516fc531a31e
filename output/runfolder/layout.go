// Package runfolder is the run folder's format: the Parquet sink the engine
// writes through (practice-year rows and the ledger), the streaming reader,
// the manifest, the folder's layout and the one helper that writes a file
// atomically. It imports no project package but sim, so anything that reads
// or writes a run folder can use it without the engine's callers.
//
// A run folder DIR holds:
//
//	DIR/manifest.json                     what ran, how to reproduce it, whether it completed
//	DIR/practice_years/PREFIX-NNNNN.parquet  one row per replication, year and practice
//	DIR/ledger/PREFIX-NNNNN.parquet          one row per replication, year, party, counterparty and reason
//	DIR/manifests/shard-IIII-of-NNNN.json a shard's manifest (sharded runs)
//	DIR/summary/NAME.{csv,parquet}        tables written by 'gpbudget summarize'
//	DIR/report.html                       the page written by 'gpbudget report'
//
// PREFIX is "part" for a single process and "shard-IIII-of-NNNN-part" for a
// shard; the ledger file of a part has the same name as its practice-year
// file and holds the same replications.
package runfolder

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Tables of a run folder: each is a folder of part files.
const (
	PracticeYears = "practice_years"
	Ledger        = "ledger"
)

// Tables lists the part-file folders of a run, in the order a chunk names them.
var Tables = []string{PracticeYears, Ledger}

// Other names in a run folder.
const (
	ManifestName = "manifest.json"
	ManifestsDir = "manifests" // shards' manifests
	SummaryDir   = "summary"
	ReportName   = "report.html"
)

// Names in a comparison folder (written by 'gpbudget compare').
const (
	CompareParquet = "compare.parquet"
	CompareCSV     = "compare.csv"
)

// Names in a sensitivity folder (written by 'gpbudget sensitivity').
const (
	SensitivityParquet = "sensitivity.parquet"
	SensitivityCSV     = "sensitivity.csv"
)

// Names in a risk-curve folder (written by 'gpbudget risk-curve').
const (
	RiskCurveParquet = "risk_curve.parquet"
	RiskCurveCSV     = "risk_curve.csv"
)

// SinglePrefix is the part-file prefix of a single-process run.
const SinglePrefix = "part"

// PartName is the file name of part n with the given prefix.
func PartName(prefix string, n int) string { return fmt.Sprintf("%s-%05d.parquet", prefix, n) }

// PartPath is part n of table (PracticeYears or Ledger), relative to the run folder.
func PartPath(table, prefix string, n int) string {
	return filepath.Join(table, PartName(prefix, n))
}

// ParsePart reads a part file's name (PartName): its prefix and number.
func ParsePart(name string) (prefix string, n int, ok bool) {
	stem, found := strings.CutSuffix(filepath.Base(name), ".parquet")
	i := strings.LastIndexByte(stem, '-')
	if !found || i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(stem[i+1:])
	if err != nil || n < 0 || PartName(stem[:i], n) != filepath.Base(name) {
		return "", 0, false
	}
	return stem[:i], n, true
}

// PartFiles lists table's part files in dir whose names start with prefix
// ("" for all), sorted by name, and the temporary files of parts still being
// written.
func PartFiles(dir, table, prefix string) (parts, temporary []string) {
	parts, _ = filepath.Glob(filepath.Join(dir, table, prefix+"*.parquet"))
	temporary, _ = filepath.Glob(filepath.Join(dir, table, "."+prefix+"*.tmp"))
	return parts, temporary
}

// RemoveParts removes every part and temporary file of every table in dir
// whose name starts with prefix ("" for all) and that keep does not name
// (paths relative to dir, as a manifest lists them).
func RemoveParts(dir, prefix string, keep map[string]bool) error {
	for _, t := range Tables {
		parts, tmp := PartFiles(dir, t, prefix)
		for _, f := range append(parts, tmp...) {
			if keep[filepath.Join(t, filepath.Base(f))] {
				continue
			}
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("removing earlier result %s: %w", f, err)
			}
		}
	}
	return nil
}

// Shard is one of Count processes that together make a run: shard Index runs
// replications [Index*R/Count, (Index+1)*R/Count) of R. Every replication's
// random streams are keyed by the replication number alone, so the shards'
// rows together equal, row for row, a single process's.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// MaxShards bounds the shard count so names stay four digits wide and sort.
const MaxShards = 9999

// ParseShard reads "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want I/N, e.g. 0/4 for the first of four shards", s)
	}
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N with whole numbers, e.g. 0/4", s)
	}
	sh := Shard{Index: idx, Count: cnt}
	return sh, sh.Valid()
}

// Valid says whether 0 <= Index < Count <= MaxShards.
func (s Shard) Valid() error {
	if s.Count < 1 || s.Count > MaxShards {
		return fmt.Errorf("shard count %d is out of range: accepted 1 to %d", s.Count, MaxShards)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard index %d is out of range: accepted 0 to %d for %d shards", s.Index, s.Count-1, s.Count)
	}
	return nil
}

// String is "I/N", as the --shard flag takes it.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Name is the shard's file-name stem, "shard-IIII-of-NNNN"; zero-padded so
// that names sort in shard order.
func (s Shard) Name() string { return fmt.Sprintf("shard-%04d-of-%04d", s.Index, s.Count) }

// Range is the shard's replications [first, last) of reps. Shards differ in
// size by at most one replication.
func (s Shard) Range(reps int) (first, last int) {
	return s.Index * reps / s.Count, (s.Index + 1) * reps / s.Count
}

// ManifestPath is the shard's manifest, relative to the run folder.
func (s Shard) ManifestPath() string {
	return filepath.Join(ManifestsDir, s.Name()+".json")
}

// PartPrefix is the prefix of the shard's part files in every table.
func (s Shard) PartPrefix() string { return s.Name() + "-part" }

// shardName matches the shard stem at the start of a file name; a shard
// manifest is the stem and ".json".
var shardName = regexp.MustCompile(`^shard-(\d{4})-of-(\d{4})`)

// ShardOf reads the shard from a file name that starts "shard-IIII-of-NNNN"
// (a shard's part file or manifest).
func ShardOf(name string) (Shard, bool) {
	m := shardName.FindStringSubmatch(name)
	if m == nil {
		return Shard{}, false
	}
	i, _ := strconv.Atoi(m[1])
	n, _ := strconv.Atoi(m[2])
	sh := Shard{Index: i, Count: n}
	return sh, sh.Valid() == nil
}

// ShardManifests lists the shard manifests in dir/manifests (file names).
func ShardManifests(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, ManifestsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, ManifestsDir), err)
	}
	var out []string
	for _, e := range entries {
		if sh, ok := ShardOf(e.Name()); ok && e.Name() == sh.Name()+".json" {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
