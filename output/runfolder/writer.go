package runfolder

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
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
	DeficitRepaid     float64 `parquet:"deficit_repaid"`
	Reinvested        float64 `parquet:"reinvested"`
	SharedSavings     float64 `parquet:"shared_savings"`  // a contract's shared savings paid to the holder (in savings_retained)
	SharedLoss        float64 `parquet:"shared_loss"`     // a contract's shared losses the holder paid (in holder_paid)
	IncentivePaid     float64 `parquet:"incentive_paid"`  // incentive payments to the holder (in savings_retained)
	SpendTruncated    float64 `parquet:"spend_truncated"` // spend above a contract's per-patient truncation point, not measured against the benchmark
	EventsOutpatient  int32   `parquet:"events_outpatient"`
	EventsPrescribing int32   `parquet:"events_prescribing"`
	EventsAE          int32   `parquet:"events_ae"`
	EventsEmergency   int32   `parquet:"events_emergency"`
	EventsElective    int32   `parquet:"events_elective"`
	// Expected spend given the list at the start of the year, conditional
	// on the replication's parameters, then also the year's shocks, then
	// also the practice's drift: the parts of a variance decomposition
	// (sim.PracticeYear).
	ExpectedSpendParams float64 `parquet:"expected_spend_params"`
	ExpectedSpendShocks float64 `parquet:"expected_spend_shocks"`
	ExpectedSpend       float64 `parquet:"expected_spend"`
	// The practice's units: primary care network, place (sub-ICB
	// location), ICB and region codes (sim.Practice.Geo); empty where
	// the population has none.
	PCN    string `parquet:"pcn,dict"`
	Place  string `parquet:"place,dict"`
	ICB    string `parquet:"icb,dict"`
	Region string `parquet:"region,dict"`
}

// LedgerRow is one row of the ledger files: in one replication and year,
// what Party paid Counterparty for Reason, summed over the engine's entries
// (which are finer: attributed to practices). Parties are "commissioner",
// "providers", "pool", or a budget holder's id (a practice's, or its
// consortium's group name); reasons are sim.ReasonNames. Amount is in
// pounds, never negative.
type LedgerRow struct {
	Scenario     string  `parquet:"scenario,dict"`
	Replication  int32   `parquet:"replication"`
	Year         int32   `parquet:"year"`
	Party        string  `parquet:"party,dict"`
	Counterparty string  `parquet:"counterparty,dict"`
	Reason       string  `parquet:"reason,dict"`
	Amount       float64 `parquet:"amount"`
}

// RowGroupRows is the number of rows per row group: large enough for fast
// column scans, small enough to buffer comfortably.
const RowGroupRows = 128 * 1024

// FileRows is about the most practice-year rows one part takes before the
// writer starts another (parts end at replication boundaries), so very large
// runs give files of manageable size.
const FileRows = 4 * RowGroupRows * 8

// Writer is the engine's sink: it writes each replication's rows into
// DIR/practice_years/ and its ledger, summed, into DIR/ledger/, as parts
// PREFIX-NNNNN.parquet. A part's two files end at the same replication
// boundary; each is written under a temporary name and renamed into place
// only when complete and closed.
type Writer struct {
	dir      string
	prefix   string
	scenario string
	ids      []string
	needs    []float64
	geo      [][sim.NLevels]string
	parties  []string
	opts     []parquet.WriterOption

	rows   *part[Row]
	ledger *part[LedgerRow]

	opened   time.Time
	inFile   int
	firstRep int
	lastRep  int
	next     int
	rowBuf   []Row
	ledBuf   []LedgerRow
	entries  []sim.Entry

	Chunks []Chunk // completed parts

	// CheckpointEvery, if positive, also ends a part at the first replication
	// boundary this long after it was opened, so an interrupted long run
	// keeps most of its finished replications.
	CheckpointEvery time.Duration
	// OnChunk, if set, is called after each part is complete and in place
	// (e.g. to record it in the manifest).
	OnChunk func(Chunk) error
}

// part is one open Parquet file of a part.
type part[T any] struct {
	file *AtomicFile
	w    *parquet.GenericWriter[T]
	rows int64
}

func openPart[T any](path string, opts []parquet.WriterOption) (*part[T], error) {
	f, err := CreateAtomic(path)
	if err != nil {
		return nil, err
	}
	return &part[T]{file: f, w: parquet.NewGenericWriter[T](f, opts...)}, nil
}

func (p *part[T]) write(rows []T) error {
	if _, err := p.w.Write(rows); err != nil {
		return fmt.Errorf("writing %s: %w", p.file.Path(), err)
	}
	p.rows += int64(len(rows))
	return nil
}

func (p *part[T]) commit() error {
	if err := p.w.Close(); err != nil {
		p.file.Abort()
		return fmt.Errorf("closing %s: %w", p.file.Path(), err)
	}
	return p.file.Commit()
}

// NewWriter prepares a sink for model m's results in dir, its parts named
// PREFIX-NNNNN.parquet from number first on (a resumed run continues the
// numbering); meta is written as key-value metadata into every file.
func NewWriter(dir, prefix string, first int, m *sim.Model, meta map[string]string) (*Writer, error) {
	for _, t := range Tables {
		if err := os.MkdirAll(filepath.Join(dir, t), 0o755); err != nil {
			return nil, fmt.Errorf("output folder: %w", err)
		}
	}
	w := &Writer{dir: dir, prefix: prefix, next: first, scenario: m.Name, parties: m.PartyNames()}
	for _, p := range m.Practices {
		w.ids = append(w.ids, p.ID)
		w.needs = append(w.needs, p.Need)
		w.geo = append(w.geo, p.Geo)
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.opts = []parquet.WriterOption{
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
	}
	for _, k := range keys {
		w.opts = append(w.opts, parquet.KeyValueMetadata(k, meta[k]))
	}
	return w, nil
}

// Rows is the number of practice-year rows in completed parts.
func (w *Writer) Rows() int64 {
	n := int64(0)
	for _, c := range w.Chunks {
		n += c.Rows
	}
	return n
}

func (w *Writer) open() error {
	var err error
	if w.rows, err = openPart[Row](filepath.Join(w.dir, PartPath(PracticeYears, w.prefix, w.next)), w.opts); err != nil {
		return err
	}
	if w.ledger, err = openPart[LedgerRow](filepath.Join(w.dir, PartPath(Ledger, w.prefix, w.next)), w.opts); err != nil {
		w.rows.file.Abort()
		w.rows = nil
		return err
	}
	w.inFile, w.opened = 0, time.Now()
	return nil
}

// Write implements sim.Sink.
func (w *Writer) Write(rep *sim.Replication) error {
	rows := rep.Rows
	if len(rows) == 0 {
		return nil
	}
	w.rowBuf = w.rowBuf[:0]
	for i := range rows {
		r := &rows[i]
		w.rowBuf = append(w.rowBuf, Row{
			Scenario: w.scenario, Replication: int32(r.Replication), Year: int32(r.Year),
			PracticeID: w.ids[r.Practice], ListSize: int32(r.ListSize), Need: w.needs[r.Practice],
			Budget: r.Budget, CapitationTarget: r.Target,
			SpendOutpatient: r.Spend[sim.Outpatient], SpendPrescribing: r.Spend[sim.Prescribing],
			SpendAE: r.Spend[sim.AE], SpendEmergency: r.Spend[sim.Emergency], SpendElective: r.Spend[sim.Elective],
			SpendTotal: r.SpendTotal, Variance: r.Variance,
			SavingsRetained: r.SavingsRetained, DeficitCarried: r.DeficitCarried,
			Regime: r.Regime, BudgetHolder: r.Holder, StopLossPaid: r.StopLossPaid,
			PoolTransfer: r.PoolTransfer, CommissionerPaid: r.CommissionerPaid,
			HolderPaid: r.HolderPaid, DeficitRepaid: r.DeficitRepaid, Reinvested: r.Reinvested,
			SharedSavings: r.SharedSavings, SharedLoss: r.SharedLoss, IncentivePaid: r.IncentivePaid, SpendTruncated: r.Truncated,
			EventsOutpatient: int32(r.Events[sim.Outpatient]), EventsPrescribing: int32(r.Events[sim.Prescribing]),
			EventsAE: int32(r.Events[sim.AE]), EventsEmergency: int32(r.Events[sim.Emergency]), EventsElective: int32(r.Events[sim.Elective]),
			ExpectedSpendParams: r.ExpectedSpendParams, ExpectedSpendShocks: r.ExpectedSpendShocks, ExpectedSpend: r.ExpectedSpend,
			PCN: w.geo[r.Practice][sim.LevelNeighbourhood], Place: w.geo[r.Practice][sim.LevelPlace],
			ICB: w.geo[r.Practice][sim.LevelICB], Region: w.geo[r.Practice][sim.LevelRegion],
		})
	}
	if err := w.sumLedger(rows[0].Replication, rep.Ledger); err != nil {
		return err
	}
	if w.rows == nil {
		if err := w.open(); err != nil {
			return err
		}
		w.firstRep = rows[0].Replication
	}
	if err := w.rows.write(w.rowBuf); err != nil {
		return err
	}
	if err := w.ledger.write(w.ledBuf); err != nil {
		return err
	}
	w.lastRep = rows[len(rows)-1].Replication
	w.inFile += len(w.rowBuf)
	if w.inFile >= FileRows || (w.CheckpointEvery > 0 && time.Since(w.opened) >= w.CheckpointEvery) {
		return w.closePart()
	}
	return nil
}

// sumLedger fills ledBuf with one row per (year, party, counterparty,
// reason) of the replication's entries between two parties, in that order (parties in
// Model.PartyNames order), each amount summed in the engine's entry order so
// that files are identical whatever the worker count.
func (w *Writer) sumLedger(rep int, entries []sim.Entry) error {
	w.ledBuf = w.ledBuf[:0]
	// An entry from a party to itself (a consortium pooling its members'
	// results) moves no money between parties: the files leave it out.
	e := w.entries[:0]
	for _, x := range entries {
		if x.From != x.To {
			e = append(e, x)
		}
	}
	w.entries = e
	slices.SortStableFunc(e, func(a, b sim.Entry) int {
		return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), cmp.Compare(a.Reason, b.Reason))
	})
	for i := 0; i < len(e); {
		j, sum := i, 0.0
		for ; j < len(e) && e[j].Year == e[i].Year && e[j].From == e[i].From && e[j].To == e[i].To && e[j].Reason == e[i].Reason; j++ {
			sum += e[j].Amount
		}
		from, to := w.party(e[i].From), w.party(e[i].To)
		if from == "" || to == "" || e[i].Reason == 0 || int(e[i].Reason) >= len(sim.ReasonNames) {
			return fmt.Errorf("replication %d year %d: ledger entry %v pays %v for %v: unknown party or reason", rep, e[i].Year, e[i].From, e[i].To, e[i].Reason)
		}
		w.ledBuf = append(w.ledBuf, LedgerRow{Scenario: w.scenario, Replication: int32(rep), Year: e[i].Year,
			Party: from, Counterparty: to, Reason: sim.ReasonNames[e[i].Reason], Amount: sum})
		i = j
	}
	return nil
}

func (w *Writer) party(p sim.Party) string {
	if p < 0 || int(p) >= len(w.parties) {
		return ""
	}
	return w.parties[p]
}

func (w *Writer) closePart() error {
	if w.rows == nil {
		return nil
	}
	rows, ledger := w.rows, w.ledger
	w.rows, w.ledger = nil, nil
	if err := rows.commit(); err != nil {
		ledger.file.Abort()
		return err
	}
	if err := ledger.commit(); err != nil {
		return err
	}
	c := Chunk{File: PartPath(PracticeYears, w.prefix, w.next), FirstRep: w.firstRep, LastRep: w.lastRep,
		Rows: rows.rows, SHA256: rows.file.SHA256(), Bytes: rows.file.Size(),
		LedgerFile: PartPath(Ledger, w.prefix, w.next), LedgerRows: ledger.rows, LedgerSHA256: ledger.file.SHA256(), LedgerBytes: ledger.file.Size()}
	w.Chunks = append(w.Chunks, c)
	w.next++
	if w.OnChunk != nil {
		return w.OnChunk(c)
	}
	return nil
}

// Close finishes the last part.
func (w *Writer) Close() error { return w.closePart() }

// Abort removes any part still being written.
func (w *Writer) Abort() {
	if w.rows != nil {
		w.rows.file.Abort()
		w.ledger.file.Abort()
		w.rows, w.ledger = nil, nil
	}
}
