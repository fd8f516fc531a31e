// Package output writes the engine's results: practice-year rows as Parquet
// (zstd, row groups sized for scans) with a manifest that says how to
// reproduce them and whether the run completed.
package output

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gpbudget/gpbudget/sim"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// Row is one practice-year in the Parquet files. Money is in pounds (DOUBLE).
type Row struct {
	Scenario          string  `parquet:"scenario,dict"`
	Replication       int32   `parquet:"replication"`
	Year              int32   `parquet:"year"`
	PracticeID        string  `parquet:"practice_id,dict"`
	ListSize          int32   `parquet:"list_size"`
	Need              float64 `parquet:"need"`
	Budget            float64 `parquet:"budget"`
	CapitationTarget  float64 `parquet:"capitation_target"`
	SpendOutpatient   float64 `parquet:"spend_outpatient"`
	SpendPrescribing  float64 `parquet:"spend_prescribing"`
	SpendAE           float64 `parquet:"spend_ae"`
	SpendEmergency    float64 `parquet:"spend_emergency"`
	SpendElective     float64 `parquet:"spend_elective"`
	SpendTotal        float64 `parquet:"spend_total"`
	Variance          float64 `parquet:"variance"`
	SavingsRetained   float64 `parquet:"savings_retained"`
	DeficitCarried    float64 `parquet:"deficit_carried"`
	Regime            string  `parquet:"regime,dict"`
	BudgetHolder      string  `parquet:"budget_holder,dict"`
	StopLossPaid      float64 `parquet:"stop_loss_paid"`
	PoolTransfer      float64 `parquet:"pool_transfer"`
	CommissionerPaid  float64 `parquet:"commissioner_paid"`
	HolderPaid        float64 `parquet:"holder_paid"`
	Reinvested        float64 `parquet:"reinvested"`
	EventsOutpatient  int32   `parquet:"events_outpatient"`
	EventsPrescribing int32   `parquet:"events_prescribing"`
	EventsAE          int32   `parquet:"events_ae"`
	EventsEmergency   int32   `parquet:"events_emergency"`
	EventsElective    int32   `parquet:"events_elective"`
}

// RowGroupRows is the number of rows per row group: large enough for fast
// column scans, small enough to buffer comfortably.
const RowGroupRows = 128 * 1024

// FileRows is about the most rows one Parquet file takes before the writer
// starts another (files end at replication boundaries), so very large runs
// give files of manageable size.
const FileRows = 4 * RowGroupRows * 8

// Chunk is one complete, closed part file: which replications it holds and a
// checksum, so a resumed run can trust it without reading it.
type Chunk struct {
	File     string `json:"file"` // relative to the run folder
	FirstRep int    `json:"first_replication"`
	LastRep  int    `json:"last_replication"` // inclusive
	Rows     int64  `json:"rows"`
	SHA256   string `json:"sha256"`
}

// PracticeYears writes rows into DIR/practice_years/ as part files named
// PREFIX-NNNNN.parquet. Each file is written under a temporary name and
// renamed into place only when complete and closed.
type PracticeYears struct {
	dir      string
	prefix   string
	scenario string
	ids      []string
	needs    []float64
	meta     []parquet.WriterOption

	f        *os.File
	h        hash.Hash
	w        *parquet.GenericWriter[Row]
	opened   time.Time
	inFile   int
	firstRep int
	lastRep  int
	next     int
	buf      []Row
	Chunks   []Chunk // completed files
	Rows     int64

	// CheckpointEvery, if positive, also ends a file at the first replication
	// boundary this long after it was opened, so an interrupted long run
	// keeps most of its finished replications.
	CheckpointEvery time.Duration
	// OnChunk, if set, is called after each file is complete and in place
	// (e.g. to record it in the manifest).
	OnChunk func(Chunk) error
}

// Files lists the completed files relative to the run folder.
func (w *PracticeYears) Files() []string {
	out := make([]string, len(w.Chunks))
	for i, c := range w.Chunks {
		out[i] = c.File
	}
	return out
}

// StartAt numbers the next file n (a resumed run continues the numbering).
func (w *PracticeYears) StartAt(n int) { w.next = n }

// NewPracticeYears prepares a writer for model m's rows; meta is written as
// key-value metadata into every file.
func NewPracticeYears(dir, prefix string, m *sim.Model, meta map[string]string) (*PracticeYears, error) {
	pdir := filepath.Join(dir, "practice_years")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	w := &PracticeYears{dir: dir, prefix: prefix, scenario: m.Name}
	for _, p := range m.Practices {
		w.ids = append(w.ids, p.ID)
		w.needs = append(w.needs, p.Need)
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		w.meta = append(w.meta, parquet.KeyValueMetadata(k, meta[k]))
	}
	return w, nil
}

func (w *PracticeYears) open() error {
	name := fmt.Sprintf("%s-%05d.parquet", w.prefix, w.next)
	tmp := filepath.Join(w.dir, "practice_years", "."+name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	opts := append([]parquet.WriterOption{
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
	}, w.meta...)
	w.h = sha256.New()
	w.f, w.w, w.inFile, w.opened = f, parquet.NewGenericWriter[Row](io.MultiWriter(f, w.h), opts...), 0, time.Now()
	return nil
}

// Write implements sim.Sink.
func (w *PracticeYears) Write(rep *sim.Replication) error {
	rows := rep.Rows
	w.buf = w.buf[:0]
	for i := range rows {
		r := &rows[i]
		w.buf = append(w.buf, Row{
			Scenario: w.scenario, Replication: int32(r.Replication), Year: int32(r.Year),
			PracticeID: w.ids[r.Practice], ListSize: int32(r.ListSize), Need: w.needs[r.Practice],
			Budget: r.Budget, CapitationTarget: r.Target,
			SpendOutpatient: r.Spend[sim.Outpatient], SpendPrescribing: r.Spend[sim.Prescribing],
			SpendAE: r.Spend[sim.AE], SpendEmergency: r.Spend[sim.Emergency], SpendElective: r.Spend[sim.Elective],
			SpendTotal: r.SpendTotal, Variance: r.Variance,
			SavingsRetained: r.SavingsRetained, DeficitCarried: r.DeficitCarried,
			Regime: r.Regime, BudgetHolder: r.Holder, StopLossPaid: r.StopLossPaid,
			PoolTransfer: r.PoolTransfer, CommissionerPaid: r.CommissionerPaid,
			HolderPaid: r.HolderPaid, Reinvested: r.Reinvested,
			EventsOutpatient: int32(r.Events[sim.Outpatient]), EventsPrescribing: int32(r.Events[sim.Prescribing]),
			EventsAE: int32(r.Events[sim.AE]), EventsEmergency: int32(r.Events[sim.Emergency]), EventsElective: int32(r.Events[sim.Elective]),
		})
	}
	if len(w.buf) == 0 {
		return nil
	}
	if w.w == nil {
		if err := w.open(); err != nil {
			return err
		}
		w.firstRep = rows[0].Replication
	}
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("writing %s: %w", w.f.Name(), err)
	}
	w.lastRep = rows[len(rows)-1].Replication
	w.inFile += len(w.buf)
	w.Rows += int64(len(w.buf))
	if w.inFile >= FileRows || (w.CheckpointEvery > 0 && time.Since(w.opened) >= w.CheckpointEvery) {
		return w.closeFile()
	}
	return nil
}

func (w *PracticeYears) closeFile() error {
	if w.w == nil {
		return nil
	}
	tmp := w.f.Name()
	err := w.w.Close()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.w = nil
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	name := fmt.Sprintf("%s-%05d.parquet", w.prefix, w.next)
	if err := os.Rename(tmp, filepath.Join(w.dir, "practice_years", name)); err != nil {
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	c := Chunk{File: filepath.Join("practice_years", name), FirstRep: w.firstRep, LastRep: w.lastRep,
		Rows: int64(w.inFile), SHA256: hex.EncodeToString(w.h.Sum(nil))}
	w.Chunks = append(w.Chunks, c)
	w.next++
	if w.OnChunk != nil {
		return w.OnChunk(c)
	}
	return nil
}

// Close finishes the last file.
func (w *PracticeYears) Close() error { return w.closeFile() }

// Abort removes any file still being written.
func (w *PracticeYears) Abort() {
	if w.w != nil {
		tmp := w.f.Name()
		w.f.Close()
		os.Remove(tmp)
		w.w = nil
	}
}
