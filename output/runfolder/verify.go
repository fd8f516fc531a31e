package runfolder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// ErrCorrupt is returned (wrapped, as a *CorruptError) for a run folder
// whose files do not match its manifest: a part file missing, truncated,
// damaged or replaced by another run's, or one that cannot be decoded. Its
// results cannot be trusted.
var ErrCorrupt = errors.New("results cannot be trusted")

// CorruptError names each file of a run folder that cannot be trusted and
// what is wrong with it, and says how to recompute them.
type CorruptError struct {
	Dir      string
	Problems []string // one per file: "practice_years/part-00003.parquet is truncated (...)"
	// Fix is what to do about it, a command to run ("" for the default:
	// recompute them with a resume).
	Fix string
}

func (e *CorruptError) Error() string {
	fix := e.Fix
	if fix == "" {
		fix = "recompute them from the manifest (same scenario and seed, so the same results) with: gpbudget run --resume " + ShellQuote(e.Dir) + " --recompute"
	}
	what := "a file"
	if len(e.Problems) > 1 {
		what = fmt.Sprintf("%d files", len(e.Problems))
	}
	return fmt.Sprintf("%s: %s of the run cannot be trusted:\n  - %s\n%s",
		e.Dir, what, strings.Join(e.Problems, "\n  - "), fix)
}

// Is makes errors.Is(err, ErrCorrupt) true for a *CorruptError.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Sums maps every file the manifest's chunks list (relative to the run
// folder) to its recorded checksum and size (0: not recorded, by an earlier
// version).
func (m *Manifest) Sums() map[string]FileSum {
	out := map[string]FileSum{}
	for _, c := range m.Chunks {
		for _, f := range c.Files() {
			out[filepath.Clean(f.Path)] = f
		}
	}
	return out
}

// VerifyFiles checks that each of files (relative to dir) is one the
// manifest lists and has its recorded size and SHA-256, hashing several at
// once. Every file that does not is named in the *CorruptError returned.
// A file that matched once in this process is not hashed again while its
// identity (device, inode, size, modification and change times) is
// unchanged, so a reader that makes several passes pays for one.
func (m *Manifest) VerifyFiles(ctx context.Context, dir string, files []string) error {
	sums := m.Sums()
	problems := make([]string, len(files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(files), 1)) {
		wg.Go(func() {
			for i := range jobs {
				want, ok := sums[filepath.Clean(files[i])]
				if !ok {
					problems[i] = fmt.Sprintf("%s is not listed in %s, so it cannot be checked", files[i], ManifestName)
					continue
				}
				problems[i] = checkFile(dir, want)
			}
		})
	}
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	e := &CorruptError{Dir: dir}
	for _, p := range problems {
		if p != "" {
			e.Problems = append(e.Problems, p)
		}
	}
	if len(e.Problems) > 0 {
		return e
	}
	return nil
}

// VerifyChunk checks every file of chunk c in dir against its recorded size
// and checksum; it returns one problem per file that does not match.
func VerifyChunk(dir string, c Chunk) []string {
	var out []string
	for _, f := range c.Files() {
		if p := checkFile(dir, f); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkFile says what is wrong with dir/f.Path against its recorded size
// and checksum ("" if nothing).
func checkFile(dir string, f FileSum) string {
	// A manifest names part files in the run's table folders only: one
	// that names anything else (../elsewhere) is not followed.
	if t, base := filepath.Split(filepath.Clean(f.Path)); !filepath.IsLocal(f.Path) || !slices.Contains(Tables, filepath.Clean(t)) || !strings.HasSuffix(base, ".parquet") {
		return fmt.Sprintf("%q is not a part file's name (a manifest lists files in %s only)", f.Path, strings.Join(Tables, "/ and ")+"/")
	}
	path := filepath.Join(dir, f.Path)
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("%s is missing", f.Path)
	}
	if err != nil {
		return fmt.Sprintf("%s cannot be read: %v", f.Path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Sprintf("%s is not a regular file", f.Path)
	}
	if f.Bytes > 0 && st.Size() != f.Bytes {
		if st.Size() < f.Bytes {
			return fmt.Sprintf("%s is truncated: %d bytes, the manifest records %d", f.Path, st.Size(), f.Bytes)
		}
		return fmt.Sprintf("%s has %d bytes, the manifest records %d: it was changed or replaced after the run", f.Path, st.Size(), f.Bytes)
	}
	id, idOK := identity(st)
	if idOK {
		if v, ok := matched.Load(path); ok && v.(matchedFile) == (matchedFile{id, f.SHA256}) {
			return ""
		}
	}
	got, err := FileSHA256(path)
	if err != nil {
		return fmt.Sprintf("%s cannot be read: %v", f.Path, err)
	}
	if got != f.SHA256 {
		return fmt.Sprintf("%s does not match its checksum in the manifest (SHA-256 %.12s..., recorded %.12s...): it was damaged, truncated or replaced after the run", f.Path, got, f.SHA256)
	}
	if idOK {
		matched.Store(path, matchedFile{id, f.SHA256})
	}
	return ""
}

// matched remembers, by path, the identity of each file whose checksum
// matched in this process, with that checksum. Any write to a file, or a
// file renamed over it, changes its identity (at least its change time and
// often its inode), so only an unchanged file skips the hash.
var matched sync.Map // string -> matchedFile

type matchedFile struct {
	id     fileIdentity
	sha256 string
}

// fileIdentity is what tells one version of a file from another without
// reading it.
type fileIdentity struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // nanoseconds
}

// OpenTable is how a reader opens one table of a run folder: it checks
// that dir holds a complete run, that the table's folder holds no part the
// manifest does not list, and that every listed file has its recorded size
// and checksum. It returns the manifest and the table's files (relative to
// dir) in replication order.
func OpenTable(ctx context.Context, dir, table string) (*Manifest, []string, error) {
	man, err := RequireComplete(dir)
	if err != nil {
		return nil, nil, err
	}
	files, err := man.TableFiles(table)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	if err := man.CheckListed(dir, table); err != nil {
		return nil, nil, err
	}
	if err := man.VerifyFiles(ctx, dir, files); err != nil {
		return nil, nil, err
	}
	return man, files, nil
}

// RunOf finds the run folder that path lies in when path is a run folder,
// one of its table folders or a part file in one: the folder that holds a
// manifest (or shard manifests). rel is path relative to it ("." for the
// folder itself).
func RunOf(path string) (dir, rel string, ok bool) {
	p := filepath.Clean(path)
	for range 3 {
		_, err1 := os.Stat(filepath.Join(p, ManifestName))
		_, err2 := os.Stat(filepath.Join(p, ManifestsDir))
		if err1 == nil || err2 == nil {
			r, err := filepath.Rel(p, filepath.Clean(path))
			t, base := filepath.Split(r)
			t = filepath.Clean(t)
			table := slices.Contains(Tables, r) || slices.Contains(Tables, t) && strings.HasSuffix(base, ".parquet")
			return p, r, err == nil && (r == "." || table)
		}
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	return "", "", false
}
