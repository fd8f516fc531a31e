package runfolder

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// AtomicFile is a file written under a temporary name beside its final path
// (".NAME.tmp") and renamed into place only by Commit, after it is synced:
// a reader never sees half of it, and a crash leaves only a temporary file.
// It hashes what is written (SHA256), so a part file's checksum costs no
// second read.
type AtomicFile struct {
	path string
	f    *os.File
	h    hash.Hash
	n    int64
}

// CreateAtomic starts writing path.
func CreateAtomic(path string) (*AtomicFile, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &AtomicFile{path: path, f: f, h: sha256.New()}, nil
}

// Write implements io.Writer.
func (a *AtomicFile) Write(p []byte) (int, error) {
	n, err := a.f.Write(p)
	a.h.Write(p[:n])
	a.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("writing %s: %w", a.path, err)
	}
	return n, nil
}

// Path is the file's final path.
func (a *AtomicFile) Path() string { return a.path }

// Size is the number of bytes written so far.
func (a *AtomicFile) Size() int64 { return a.n }

// SHA256 is the hex SHA-256 of what was written so far.
func (a *AtomicFile) SHA256() string { return hex.EncodeToString(a.h.Sum(nil)) }

// Commit syncs and closes the file and renames it into place; on failure it
// removes the temporary file.
func (a *AtomicFile) Commit() error {
	tmp := a.f.Name()
	err := a.f.Sync()
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, a.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", a.path, err)
	}
	return nil
}

// Abort closes and removes the temporary file.
func (a *AtomicFile) Abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}

// WriteFileAtomic writes data to path through an AtomicFile.
func WriteFileAtomic(path string, data []byte) error {
	a, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	if _, err := a.Write(data); err != nil {
		a.Abort()
		return err
	}
	return a.Commit()
}

// FileSHA256 is the hex SHA-256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
