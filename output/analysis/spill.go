package analysis

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// spill holds each practice's exact (variance %, variance) values on disk
// when they would not fit the exact-memory budget: records of (practice
// index, both values as float32) in plain binary files, one per partition of
// the practices by index modulo the number of partitions. Each partition is
// read back alone, its values grouped by practice in the order they were
// written, so that a practice's exact statistics are computed by the same
// functions, from the same values in the same order, as in memory, while the
// memory held is one partition's, whatever the number of rows.
type spill struct {
	dir   string
	parts []spillPart
}

type spillPart struct {
	f   *os.File
	w   *bufio.Writer
	n   int // records
	err error
}

// spillRecord is a record's size: practice index, variance %, variance.
const spillRecord = 12

// spillParts is the number of partitions for rows under an exact-memory
// budget: each partition read back takes 20 bytes a row (the record, then
// its values grouped), and Shards are read at once, so a partition holds at
// most budget/(2·20·Shards) rows; a multiple of Shards, so that each
// partition's practices belong to one shard (which alone writes to it), and
// at most maxSpillParts open files.
func spillParts(rows, budget int64) int {
	n := rows * 20 * 2 * Shards / max(budget, 1)
	n = min(max(n+1, Shards), maxSpillParts)
	return int((n + Shards - 1) / Shards * Shards)
}

const maxSpillParts = 256

// newSpill makes n partitions in a new temporary folder under parent ("":
// the OS temp folder); remove deletes it.
func newSpill(parent string, n int) (*spill, error) {
	dir, err := os.MkdirTemp(parent, "gpbudget-spill-")
	if err != nil {
		return nil, fmt.Errorf("spilling exact quantiles: %w", err)
	}
	sp := &spill{dir: dir, parts: make([]spillPart, n)}
	for i := range sp.parts {
		f, err := os.Create(sp.path(i))
		if err != nil {
			sp.remove()
			return nil, fmt.Errorf("spilling exact quantiles: %w", err)
		}
		sp.parts[i] = spillPart{f: f, w: bufio.NewWriterSize(f, 32<<10)}
	}
	return sp, nil
}

func (sp *spill) path(i int) string { return filepath.Join(sp.dir, fmt.Sprintf("part-%04d.bin", i)) }

// write appends practice p's values; the first error is kept for finish.
func (sp *spill) write(p int, vals [][2]float32) {
	part := &sp.parts[p%len(sp.parts)]
	if part.err != nil {
		return
	}
	var b [spillRecord]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(p))
	for _, v := range vals {
		binary.LittleEndian.PutUint32(b[4:], math.Float32bits(v[0]))
		binary.LittleEndian.PutUint32(b[8:], math.Float32bits(v[1]))
		if _, err := part.w.Write(b[:]); err != nil {
			part.err = err
			return
		}
	}
	part.n += len(vals)
}

// finish flushes and closes every partition, after the last write.
func (sp *spill) finish() error {
	var errs []error
	for i := range sp.parts {
		part := &sp.parts[i]
		if part.err == nil {
			part.err = part.w.Flush()
		}
		if err := part.f.Close(); part.err == nil {
			part.err = err
		}
		part.w = nil
		if part.err != nil {
			errs = append(errs, part.err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("spilling exact quantiles to %s: %w", sp.dir, err)
	}
	return nil
}

// read is partition i's values grouped by practice: each practice in it
// with its values, in the order written, to f (practices in ascending index).
func (sp *spill) read(i int, f func(p int, vals [][2]float32)) error {
	b, err := os.ReadFile(sp.path(i))
	if err != nil {
		return fmt.Errorf("reading spilled values: %w", err)
	}
	if len(b) != sp.parts[i].n*spillRecord {
		return fmt.Errorf("reading spilled values: %s holds %d bytes, want %d", sp.path(i), len(b), sp.parts[i].n*spillRecord)
	}
	// A counting sort by practice, stable: the partition's practices are
	// i, i+P, i+2P, ..., so p/P indexes them.
	np := len(sp.parts)
	var start []int
	for r := 0; r < len(b); r += spillRecord {
		j := int(binary.LittleEndian.Uint32(b[r:])) / np
		for j+1 >= len(start) {
			start = append(start, 0)
		}
		start[j+1]++
	}
	for j := 1; j < len(start); j++ {
		start[j] += start[j-1]
	}
	vals := make([][2]float32, len(b)/spillRecord)
	at := append([]int(nil), start...)
	for r := 0; r < len(b); r += spillRecord {
		j := int(binary.LittleEndian.Uint32(b[r:])) / np
		vals[at[j]] = [2]float32{math.Float32frombits(binary.LittleEndian.Uint32(b[r+4:])), math.Float32frombits(binary.LittleEndian.Uint32(b[r+8:]))}
		at[j]++
	}
	for j := 0; j+1 < len(start); j++ {
		if start[j+1] > start[j] {
			f(j*np+i, vals[start[j]:start[j+1]])
		}
	}
	return nil
}

// remove deletes the spill's files, whatever happened.
func (sp *spill) remove() {
	for i := range sp.parts {
		if sp.parts[i].f != nil && sp.parts[i].w != nil {
			_ = sp.parts[i].f.Close()
		}
	}
	_ = os.RemoveAll(sp.dir)
}

// spillStats computes the statistics of the practices in order (by index)
// into stats, exactly, from the spill: one partition at a time on each of
// Shards goroutines, each practice's values read back into an exact
// distribution as in memory (addExact), so its statistics are the in-memory
// exact ones, bit for bit.
func (s *Summarizer) spillStats(order []int, stats []Stats) error {
	if err := s.spill.finish(); err != nil {
		return err
	}
	pos := make([]int, len(s.ps))
	for i := range pos {
		pos[i] = -1
	}
	for j, i := range order {
		pos[i] = j
	}
	errs := make([]error, len(s.spill.parts))
	done := make([]bool, len(order))
	parallel(len(s.spill.parts), func(k int) {
		errs[k] = s.spill.read(k, func(p int, vals [][2]float32) {
			j := pos[p]
			if j < 0 {
				return
			}
			d := accDists{&Dist{}, &Dist{}} // the practice keeps its band's sketches for pooling
			d.pct.Reserve(len(vals))
			d.loss.Reserve(len(vals))
			d.pct.addExact(vals, 0)
			d.loss.addExact(vals, 1)
			stats[j] = s.statsOf(&s.ps[p], d, 1)
			stats[j].QuantileRelError = 0
			done[j] = true
		})
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for j, ok := range done {
		if !ok {
			return fmt.Errorf("practice %s has no spilled values", s.IDs[order[j]])
		}
	}
	return nil
}
