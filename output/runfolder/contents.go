package runfolder

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Contents is what a folder holds, read as a run folder: its manifests, and
// every file in the places a run writes (the folder itself, its table
// folders, manifests/ and summary/) with any other entry of the folder (a
// folder of someone else's, not looked into).
type Contents struct {
	Dir    string
	Exists bool
	// Run is DIR/manifest.json (nil: none, or unreadable: RunErr).
	Run    *Manifest
	RunErr error
	// Shards are the shard manifests in DIR/manifests that could be read;
	// one that could not is in ShardErrs.
	Shards    map[Shard]*Manifest
	ShardErrs map[Shard]error
	// Entries are the files found, relative to Dir, sorted; a folder that is
	// not one of a run's is one entry, ending in "/".
	Entries []string
}

// runDirs are the folders a run writes (or its later commands do).
var runDirs = append(append([]string{}, Tables...), ManifestsDir, SummaryDir)

// Inspect reads what dir holds. A folder that does not exist holds nothing.
func Inspect(dir string) (*Contents, error) {
	c := &Contents{Dir: dir, Shards: map[Shard]*Manifest{}, ShardErrs: map[Shard]error{}}
	st, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("output folder %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("output folder %s is a file, not a folder", dir)
	}
	c.Exists = true
	top, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("output folder %s: %w", dir, err)
	}
	for _, e := range top {
		name := e.Name()
		if !e.IsDir() {
			c.Entries = append(c.Entries, name)
			continue
		}
		known := false
		for _, d := range runDirs {
			known = known || name == d
		}
		if !known {
			c.Entries = append(c.Entries, name+"/")
			continue
		}
		inner, err := os.ReadDir(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("output folder %s: %w", dir, err)
		}
		for _, f := range inner {
			rel := filepath.Join(name, f.Name())
			if f.IsDir() {
				rel += "/"
			}
			c.Entries = append(c.Entries, rel)
		}
	}
	sort.Strings(c.Entries)
	if c.has(ManifestName) {
		c.Run, c.RunErr = ReadManifest(dir)
	}
	for _, rel := range c.Entries {
		if sh, ok := ShardOf(filepath.Base(rel)); ok && rel == sh.ManifestPath() {
			m, err := ReadManifestFile(filepath.Join(dir, rel))
			switch {
			case err != nil:
				c.ShardErrs[sh] = err
			case m.Shard == nil || m.Shard.Shard != sh:
				c.ShardErrs[sh] = fmt.Errorf("%s does not describe shard %s", rel, sh)
			default:
				c.Shards[sh] = m
			}
		}
	}
	return c, nil
}

func (c *Contents) has(rel string) bool {
	i := sort.SearchStrings(c.Entries, rel)
	return i < len(c.Entries) && c.Entries[i] == rel
}

// Whose says whose a file is, by its name alone (see OwnerOf).
type Whose int

// Owners of a run folder's files.
const (
	Nobody      Whose = iota // a name a run never writes
	RunManifest              // DIR/manifest.json (a single run's, or a merged run's)
	SinglePart               // a single-process run's part file (practice_years/part-NNNNN.parquet, ledger/...)
	ShardFile                // a shard's part file or manifest
	Probe                    // the file a run writes and removes to test that a folder is writable
)

// OwnerOf says whose file rel (relative to the run folder) is by its name:
// for ShardFile, also which shard's. A temporary file (".NAME.tmp", see
// AtomicFile) belongs to whoever NAME belongs to.
func OwnerOf(rel string) (Whose, Shard) {
	dir, base := filepath.Split(filepath.Clean(rel))
	dir = strings.TrimSuffix(dir, string(filepath.Separator))
	if base == probeName && dir == "" {
		return Probe, Shard{}
	}
	if strings.HasPrefix(base, ".") && strings.HasSuffix(base, ".write-test") && dir == ManifestsDir {
		if sh, ok := ShardOf(strings.TrimPrefix(base, ".")); ok && base == "."+sh.Name()+".write-test" {
			return Probe, sh
		}
	}
	if IsTemporary(base) {
		base = strings.TrimSuffix(strings.TrimPrefix(base, "."), ".tmp")
	}
	switch dir {
	case "":
		if base == ManifestName {
			return RunManifest, Shard{}
		}
	case ManifestsDir:
		if sh, ok := ShardOf(base); ok && base == sh.Name()+".json" {
			return ShardFile, sh
		}
	case PracticeYears, Ledger:
		if !strings.HasSuffix(base, ".parquet") {
			return Nobody, Shard{}
		}
		if sh, ok := ShardOf(base); ok && strings.HasPrefix(base, sh.PartPrefix()+"-") {
			return ShardFile, sh
		}
		if strings.HasPrefix(base, SinglePrefix+"-") {
			return SinglePart, Shard{}
		}
	}
	return Nobody, Shard{}
}

// probeName is the file a single-process run writes and removes in its
// folder to test that it can write there.
const probeName = ".gpbudget-write-test"

// ProbePath is the write test's path for a run into dir (shard: its own, so
// that shards starting together do not race).
func ProbePath(dir string, shard *Shard) string {
	if shard != nil {
		return filepath.Join(dir, ManifestsDir, "."+shard.Name()+".write-test")
	}
	return filepath.Join(dir, probeName)
}

// IsEmptyDir says whether rel (an entry ending in "/") is an empty folder.
func (c *Contents) IsEmptyDir(rel string) bool {
	if !strings.HasSuffix(rel, "/") {
		return false
	}
	entries, err := os.ReadDir(filepath.Join(c.Dir, rel))
	return err == nil && len(entries) == 0
}

// Remove removes the files rels (relative to dir) that exist.
func Remove(dir string, rels []string) error {
	for _, rel := range rels {
		if err := os.Remove(filepath.Join(dir, rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", filepath.Join(dir, rel), err)
		}
	}
	return nil
}

// IsTemporary says whether rel is a file being written by AtomicFile (or
// left by one that was killed): ".NAME.tmp".
func IsTemporary(rel string) bool {
	base := filepath.Base(rel)
	return strings.HasPrefix(base, ".") && strings.HasSuffix(base, ".tmp")
}
