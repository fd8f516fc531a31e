package runfolder

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"
)

// Kind is a column's type as a Scan delivers it.
type Kind int

// Column kinds.
const (
	Float  Kind = iota // DOUBLE, as []float64
	Int                // INT32, as []int32
	String             // BYTE_ARRAY, as dictionary indexes into a per-batch dictionary
)

// Column names a column to read and its kind.
type Column struct {
	Name string
	Kind Kind
}

// Batch is up to BatchRows consecutive rows of the columns a Scan asked
// for, in their order. Its slices are reused after the callback returns.
type Batch struct {
	File string // relative to the run folder
	N    int    // rows

	f    [][]float64
	i    [][]int32
	s    [][]int32
	dict [][]string // per String column: the row group's dictionary
	ids  []uint64   // per String column: the dictionary's identity
}

// dictIDs numbers dictionaries, so a caller can tell a batch's dictionary
// from one it has already seen.
var dictIDs atomic.Uint64

// BatchRows bounds a batch: memory is a few batches per reader however
// large the row groups.
const BatchRows = 4 * 1024

// jobBatches are the batches of each row group in flight (see scan): its
// reader can be all but one of them ahead of the callback. Many small
// batches let it run further ahead than a few large ones in the same
// memory (jobBatches·BatchRows rows a job): a callback that hands a batch
// to goroutines that finish it at different times leaves a core free at
// the end of each batch, which the reader then fills. The summary of an
// England cohort run (100 x 2, 2 cores) took 5-7% less time with 8 of 4K
// rows than with 2 of 16K, and reading alone the same (bench/README.md).
const jobBatches = 8

// Float is column c (a Float column, by its index in the Scan's columns).
func (b *Batch) Float(c int) []float64 { return b.f[c] }

// Int is column c (an Int column).
func (b *Batch) Int(c int) []int32 { return b.i[c] }

// String is column c (a String column): each row's index into dict.
func (b *Batch) String(c int) (idx []int32, dict []string) { return b.s[c], b.dict[c] }

// DictID identifies column c's dictionary: batches of one row group share it.
func (b *Batch) DictID(c int) uint64 { return b.ids[c] }

func (b *Batch) reset(n int) {
	for len(b.f) < n {
		b.f, b.i, b.s, b.dict, b.ids = append(b.f, nil), append(b.i, nil), append(b.s, nil), append(b.dict, nil), append(b.ids, 0)
	}
	for c := range n {
		b.f[c], b.i[c], b.s[c] = b.f[c][:0], b.i[c][:0], b.s[c][:0]
	}
	b.N = 0
}

// TableFiles lists the files of table (PracticeYears or Ledger) that the
// manifest's chunks name, in chunk order: replication order.
func (m *Manifest) TableFiles(table string) ([]string, error) {
	var out []string
	for _, c := range m.Chunks {
		f := c.File
		if table == Ledger {
			f = c.LedgerFile
		}
		if f == "" {
			return nil, fmt.Errorf("the manifest's part %s has no %s file (written by an earlier version of gpbudget?)", c.File, table)
		}
		out = append(out, f)
	}
	return out, nil
}

// CheckListed refuses a folder whose table holds part files the manifest
// does not list: any reader that globs the folder would mix them in.
func (m *Manifest) CheckListed(dir, table string) error {
	listed, err := m.TableFiles(table)
	if err != nil {
		return err
	}
	e := &CorruptError{Dir: dir, Fix: fmt.Sprintf("Move them out of %s (tools that read %s/*.parquet would mix them into this run's results).", dir, table)}
	parts, _ := PartFiles(dir, table, "")
	for _, p := range parts {
		if rel := filepath.Join(table, filepath.Base(p)); !slices.Contains(listed, rel) {
			e.Problems = append(e.Problems, fmt.Sprintf("%s is not listed in %s: the folder was changed after the run", rel, ManifestName))
		}
	}
	if len(e.Problems) > 0 {
		return e
	}
	return nil
}

// Scan reads cols from files (relative to dir) and calls fn with batches
// of consecutive rows, in file and row order. Row groups are decoded on up to
// readers goroutines at once (0: one per CPU), each a page of every column
// at a time, so memory stays a few batches per reader whatever the number of
// rows or the size of a row group. It returns the number of rows read.
//
// Before it decodes anything it checks every file against dir's manifest
// (Manifest.VerifyFiles): a file the manifest does not list, or whose size
// or SHA-256 differs from the manifest's, is refused with a *CorruptError
// naming it, as is a file that cannot be decoded. A damaged file is an
// error, never a panic.
func Scan(ctx context.Context, dir string, files []string, cols []Column, readers int, fn func(*Batch) error) (int64, error) {
	man, err := ReadManifest(dir)
	if err != nil {
		return 0, fmt.Errorf("%s: its files cannot be checked: %w", dir, err)
	}
	if err := man.VerifyFiles(ctx, dir, files); err != nil {
		return 0, err
	}
	return scan(ctx, dir, files, cols, readers, fn)
}

// scan is Scan on files already verified.
func scan(ctx context.Context, dir string, files []string, cols []Column, readers int, fn func(*Batch) error) (int64, error) {
	if readers <= 0 {
		readers = runtime.GOMAXPROCS(0)
	}
	// A job is one row group; its reader fills the job's batches in turn
	// and sends them, in order, on out; the caller hands each back on back.
	// A job's batches are its own, so an early job never waits on a later
	// one's.
	type job struct {
		file, group int
		out, back   chan *Batch
		err         error
	}
	var jobs []*job
	for i, f := range files {
		n, err := rowGroups(filepath.Join(dir, f))
		if err != nil {
			return 0, unreadable(dir, f, err)
		}
		for g := range n {
			jobs = append(jobs, &job{file: i, group: g})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A set of jobBatches batches for each job in flight: readers at work
	// and one being read.
	sets := make(chan []*Batch, readers+1)
	for range readers + 1 {
		set := make([]*Batch, jobBatches)
		for i := range set {
			set[i] = &Batch{}
		}
		sets <- set
	}
	queue := make(chan *job, readers+1)
	work := make(chan *job, readers+1)
	go func() {
		defer close(queue)
		defer close(work)
		for _, j := range jobs {
			var set []*Batch
			select {
			case set = <-sets:
			case <-ctx.Done():
				return
			}
			j.out, j.back = make(chan *Batch, jobBatches), make(chan *Batch, jobBatches)
			for _, b := range set {
				j.back <- b
			}
			queue <- j // never blocks: at most readers+1 jobs hold sets
			work <- j
		}
	}()
	for range readers {
		go func() {
			var open *os.File
			var pf *parquet.File
			openIdx := -1
			defer func() {
				if open != nil {
					open.Close()
				}
			}()
			for j := range work {
				var err error
				if openIdx != j.file {
					if open != nil {
						open.Close()
					}
					open, pf, err = openParquet(filepath.Join(dir, files[j.file]))
					openIdx = j.file
					if err != nil {
						open, openIdx = nil, -1
					}
				}
				if err == nil {
					err = Guard(func() error { return readGroup(ctx, pf, j.group, cols, files[j.file], j.back, j.out) })
				}
				if err != nil && ctx.Err() == nil {
					j.err = unreadable(dir, files[j.file], err)
				} else if err != nil {
					j.err = err
				}
				close(j.out)
			}
		}()
	}
	var rows int64
	for j := range queue {
		for b := range j.out {
			rows += int64(b.N)
			err := fn(b)
			j.back <- b
			if err != nil {
				return rows, err
			}
		}
		if j.err != nil {
			return rows, j.err
		}
		set := make([]*Batch, jobBatches)
		for i := range set {
			set[i] = <-j.back
		}
		sets <- set
	}
	if err := ctx.Err(); err != nil {
		return rows, err
	}
	return rows, nil
}

// unreadable is the error for a file of dir that cannot be decoded.
func unreadable(dir, file string, err error) error {
	return &CorruptError{Dir: dir, Problems: []string{fmt.Sprintf("%s cannot be read as gpbudget's Parquet: %v", file, err)}}
}

// Guard runs f, turning a panic into an error: the Parquet decoder panics
// on some damaged data (a corrupt footer or page header) rather than
// returning an error, and a damaged file must be reported, never crash.
func Guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("damaged data: %v", r)
		}
	}()
	return f()
}

// OpenParquet opens the Parquet file f of size bytes after checking its
// frame ("PAR1" at both ends and a footer length that fits in the file)
// and, once the footer is decoded, every page header (see checkPages).
// The decoder allocates the footer's stated length before it compares it
// with the file's size, so four damaged bytes would ask for up to 4 GiB.
// Panics of the decoder are returned as errors (see Guard).
func OpenParquet(f io.ReaderAt, size int64, opts ...parquet.FileOption) (*parquet.File, error) {
	return openChecked(f, size, true, opts...)
}

// openChecked is OpenParquet, with the page headers' check left out where
// pages is false (the file passed it unchanged before in this process).
func openChecked(f io.ReaderAt, size int64, pages bool, opts ...parquet.FileOption) (*parquet.File, error) {
	const magic = "PAR1"
	if size < 12 {
		return nil, fmt.Errorf("%d bytes is too short for a Parquet file", size)
	}
	var head, tail [8]byte
	if _, err := f.ReadAt(head[:4], 0); err != nil {
		return nil, err
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return nil, err
	}
	if string(head[:4]) != magic || string(tail[4:]) != magic {
		return nil, errors.New(`not a Parquet file: "PAR1" missing at the start or end`)
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return nil, fmt.Errorf("the footer claims %d bytes, more than the file's %d", n, size)
	}
	var pf *parquet.File
	err := Guard(func() (err error) {
		if pf, err = parquet.OpenFile(f, size, opts...); err != nil || !pages {
			return err
		}
		return checkPages(f, size, pf.Metadata())
	})
	if err != nil {
		return nil, err
	}
	return pf, nil
}

// openParquet opens a Parquet file's footer; errors do not repeat the path.
func openParquet(path string) (*os.File, *parquet.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	var pf *parquet.File
	if err == nil {
		// A summary opens each file once a pass: its pages are checked
		// the first time, and again only if it changed.
		id, idOK := identity(st)
		v, seen := paged.Load(path)
		pages := !idOK || !seen || v.(fileIdentity) != id
		pf, err = openChecked(f, st.Size(), pages, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
		if err == nil && pages && idOK {
			paged.Store(path, id)
		}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, pf, nil
}

// paged remembers, by path, the identity of each file whose page headers
// passed checkPages in this process (see matched).
var paged sync.Map // string -> fileIdentity

func rowGroups(path string) (int, error) {
	f, pf, err := openParquet(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return len(pf.RowGroups()), nil
}

// cursor walks one column chunk a page at a time.
type cursor struct {
	pages parquet.Pages
	kind  Kind
	page  parquet.Page
	pos   int
	n     int // values in page
	f     []float64
	i     []int32 // Int values, or String dictionary indexes
	dict  parquet.Dictionary
	base  int32 // offset of dict's entries in the batch's dictionary
	local map[string]int32
}

// fill makes sure the cursor has values left in its page.
func (c *cursor) fill(names *[]string) error {
	for c.pos >= c.n {
		if c.page != nil {
			parquet.Release(c.page)
			c.page = nil
		}
		p, err := c.pages.ReadPage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		c.page, c.pos = p, 0
		v := p.Data()
		d := p.Dictionary()
		switch {
		case d != nil && c.kind == String:
			if d != c.dict {
				c.dict, c.base = d, int32(len(*names))
				for k := range d.Len() {
					*names = append(*names, d.Index(int32(k)).String())
				}
			}
			c.i = v.Int32()
		case d != nil:
			// A dictionary-encoded number column (not as gpbudget writes them).
			c.f, c.i = c.f[:0], c.i[:0]
			for _, x := range v.Int32() {
				if c.kind == Float {
					c.f = append(c.f, d.Index(x).Double())
				} else {
					c.i = append(c.i, d.Index(x).Int32())
				}
			}
		case c.kind == Float:
			c.f = v.Double()
		case c.kind == Int:
			c.i = v.Int32()
		default: // plain strings: a dictionary of their own
			data, off := v.ByteArray()
			c.i, c.dict, c.base = nil, nil, 0
			for k := 0; k+1 < len(off); k++ {
				s := string(data[off[k]:off[k+1]])
				x, ok := c.local[s]
				if !ok {
					x = int32(len(*names))
					c.local[s] = x
					*names = append(*names, s)
				}
				c.i = append(c.i, x)
			}
		}
		c.n = int(p.NumValues())
		if c.kind == Float {
			c.n = min(c.n, len(c.f))
		} else {
			c.n = min(c.n, len(c.i))
		}
	}
	return nil
}

func (c *cursor) close() {
	if c.page != nil {
		parquet.Release(c.page)
	}
	c.pages.Close()
}

// readGroup decodes row group g's columns a page at a time into batches of
// up to BatchRows rows, taken from back and sent on out.
func readGroup(ctx context.Context, pf *parquet.File, g int, cols []Column, file string, back <-chan *Batch, out chan<- *Batch) error {
	rg := pf.RowGroups()[g]
	n := int(rg.NumRows())
	cur := make([]*cursor, len(cols))
	defer func() {
		for _, c := range cur {
			if c != nil {
				c.close()
			}
		}
	}()
	for i, col := range cols {
		leaf, ok := pf.Schema().Lookup(col.Name)
		if !ok {
			return fmt.Errorf("no column %s", col.Name)
		}
		want := map[Kind]parquet.Kind{Float: parquet.Double, Int: parquet.Int32, String: parquet.ByteArray}[col.Kind]
		if k := leaf.Node.Type().Kind(); k != want {
			return fmt.Errorf("column %s is %s, want %s", col.Name, k, want)
		}
		if leaf.MaxDefinitionLevel > 0 || leaf.MaxRepetitionLevel > 0 {
			return fmt.Errorf("column %s is optional or repeated", col.Name)
		}
		cur[i] = &cursor{pages: rg.ColumnChunks()[leaf.ColumnIndex].Pages(), kind: col.Kind, local: map[string]int32{}}
	}
	// Each String column's dictionary for the row group, shared by its batches.
	names := make([][]string, len(cols))
	ids := make([]uint64, len(cols))
	for i := range ids {
		ids[i] = dictIDs.Add(1)
	}
	for done := 0; done < n; {
		var b *Batch
		select {
		case b = <-back:
		case <-ctx.Done():
			return ctx.Err()
		}
		b.reset(len(cols))
		b.File = file
		for b.N < BatchRows && done < n {
			// As many rows as every column's current page still holds.
			k := min(BatchRows-b.N, n-done)
			for i, c := range cur {
				if err := c.fill(&names[i]); err != nil {
					return fmt.Errorf("column %s: %w", cols[i].Name, err)
				}
				k = min(k, c.n-c.pos)
			}
			for i, c := range cur {
				switch c.kind {
				case Float:
					b.f[i] = append(b.f[i], c.f[c.pos:c.pos+k]...)
				case Int:
					b.i[i] = append(b.i[i], c.i[c.pos:c.pos+k]...)
				case String:
					for _, x := range c.i[c.pos : c.pos+k] {
						b.s[i] = append(b.s[i], c.base+x)
					}
				}
				c.pos += k
			}
			b.N += k
			done += k
		}
		for i := range cols {
			b.dict[i], b.ids[i] = names[i], ids[i]
		}
		out <- b
	}
	return nil
}

// HasColumns says whether the Parquet file path (a part of a run folder)
// has every one of the named columns: a folder written before a column
// existed lacks it.
func HasColumns(path string, names ...string) (bool, error) {
	f, pf, err := openParquet(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, n := range names {
		if _, ok := pf.Schema().Lookup(n); !ok {
			return false, nil
		}
	}
	return true, nil
}
