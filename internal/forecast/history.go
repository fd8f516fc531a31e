package forecast

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/sim"
	"github.com/parquet-go/parquet-go"
)

// Record is one practice-year of history: spend by stream in pounds and the
// registered list (0 if unknown). Group separates independent histories of
// the same practices (the engine's replications); real data has one group.
type Record struct {
	Group    int
	Practice string
	Year     int
	List     float64
	Spend    [sim.NStreams]float64
	// ListMean says the list is the mean of the year's quarterly counts (NHS
	// payments files from 2018/19; list_basis "mean of quarters") rather
	// than a count at one date (the last known quarter's).
	ListMean bool
}

// Total is the practice-year's spend over all streams.
func (r *Record) Total() float64 {
	t := 0.0
	for _, v := range r.Spend {
		t += v
	}
	return t
}

// History is practice x year x stream spend, sorted by group, practice, year.
type History struct{ Records []Record }

func (h *History) sort() {
	sort.SliceStable(h.Records, func(i, j int) bool {
		a, b := &h.Records[i], &h.Records[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Practice != b.Practice {
			return a.Practice < b.Practice
		}
		return a.Year < b.Year
	})
}

// HistoryColumns documents the accepted history layouts, for help texts.
const HistoryColumns = `History files (CSV, or Parquet with the same column names) have one row per
practice and year, either wide or long:
  wide: practice_id, year, spend_outpatient, spend_prescribing, spend_ae,
        spend_emergency, spend_elective [, list_size] [, replication]
        (the layout of 'gpbudget run' output, so its Parquet files are history)
  long: practice_id, year, stream, spend [, list_size] [, replication]
        with stream one of outpatient, prescribing, ae, emergency, elective,
        and one row per practice, year and stream.
year is an integer (e.g. 2009 for 2009-10); spend in pounds; list_size is the
registered list in the year (without it, spend is modelled per practice, not
per head). replication, if present, separates independent histories.
regime, if present (as in run output), "closed" marks a practice-year after
the practice closed or merged (list dynamics): such rows are left out.
list_basis, if present, is "last known" (a count at one date, the default)
or "mean of quarters" (the mean of the year's quarterly counts, as NHS
payments files give from 2018/19); 'gpbudget history' writes it. Other
columns are ignored.`

// ReadHistory reads a history file (.parquet, or CSV otherwise); a directory
// reads every .parquet file in it. Errors name the file and, for CSV, line.
//
// A run folder, its practice_years folder or one of its part files is read
// as the run's manifest lists them, each checked first against the
// manifest's size and SHA-256 (runfolder.OpenTable): a damaged or swapped
// file is refused, naming it.
func ReadHistory(path string) (*History, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	var tabs []table
	if dir, rel, ok := runfolder.RunOf(path); ok {
		files, err := runHistoryFiles(dir, rel)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			t, err := readParquet(filepath.Join(dir, f))
			if err != nil {
				return nil, err
			}
			tabs = append(tabs, t)
		}
	} else if st.IsDir() {
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".parquet") && !strings.HasPrefix(e.Name(), ".") {
				t, err := readParquet(path + "/" + e.Name())
				if err != nil {
					return nil, err
				}
				tabs = append(tabs, t)
			}
		}
		if len(tabs) == 0 {
			return nil, fmt.Errorf("history: %s has no .parquet files", path)
		}
	} else if strings.HasSuffix(strings.ToLower(path), ".parquet") {
		t, err := readParquet(path)
		if err != nil {
			return nil, err
		}
		tabs = append(tabs, t)
	} else {
		// CSV streams through the front door: no copy of its text is kept.
		h := &History{}
		if err := h.readCSV(path); err != nil {
			return nil, err
		}
		h.sort()
		return h, nil
	}
	h := &History{}
	for _, t := range tabs {
		if err := h.add(t); err != nil {
			return nil, err
		}
	}
	h.sort()
	return h, nil
}

// runHistoryFiles are the practice-year files of the run in dir that rel
// (".", a table folder or a part file) names, checked against the manifest.
func runHistoryFiles(dir, rel string) ([]string, error) {
	ctx := context.Background()
	if filepath.Base(filepath.Dir(rel)) == runfolder.Ledger || rel == runfolder.Ledger {
		return nil, fmt.Errorf("history: %s is a run's ledger, not its spending: give the run folder %s (or its %s folder)", filepath.Join(dir, rel), dir, runfolder.PracticeYears)
	}
	if rel == "." || rel == runfolder.PracticeYears {
		_, files, err := runfolder.OpenTable(ctx, dir, runfolder.PracticeYears)
		return files, err
	}
	// One part: it must be one that its run's (or shard's) manifest lists.
	man, err := runfolder.ReadManifest(dir)
	if sh, ok := runfolder.ShardOf(filepath.Base(rel)); ok && err != nil {
		man, err = runfolder.ReadManifestFile(filepath.Join(dir, sh.ManifestPath()))
	}
	if err != nil {
		return nil, fmt.Errorf("history %s: its run's manifest: %w", filepath.Join(dir, rel), err)
	}
	if err := man.VerifyFiles(ctx, dir, []string{rel}); err != nil {
		return nil, err
	}
	return []string{rel}, nil
}

// table is a Parquet file's rows as text cells by column name, with row
// numbers; or, for CSV, the front door's reader, whose rows stream.
type table struct {
	file  string
	cols  map[string]int
	dups  map[string]int // column names given more than once: how often
	rows  [][]string
	lines []int
	csv   *nhsdata.Reader
}

// each calls fn on every row in turn.
func (t *table) each(fn func(row []string, line int) error) error {
	if t.csv == nil {
		for j, r := range t.rows {
			if err := fn(r, t.lines[j]); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		more, err := t.csv.Next()
		if err != nil || !more {
			return err
		}
		if err := fn(t.csv.Row(), t.csv.Line()); err != nil {
			return err
		}
	}
}

// readCSV adds a CSV history file's rows, read through the CSV front door
// (nhsdata.NewReader: encoding, line ends, separator, quotes, field counts
// and a cut-off last row checked there).
func (h *History) readCSV(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	rd, err := nhsdata.NewReader(f, path)
	if err != nil {
		return err
	}
	t := table{file: path, cols: map[string]int{}, dups: map[string]int{}, csv: rd}
	for i, n := range rd.Header.Names {
		k := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(n, "\ufeff")))
		if _, ok := t.cols[k]; ok {
			t.dups[k]++
			continue
		}
		t.cols[k] = i
	}
	return h.add(t)
}

func readParquet(path string) (table, error) {
	f, err := os.Open(path)
	if err != nil {
		return table{}, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return table{}, fmt.Errorf("history: %w", err)
	}
	var pf *parquet.File
	pf, err = runfolder.OpenParquet(f, st.Size())
	if err != nil {
		return table{}, fmt.Errorf("history %s: not a readable Parquet file: %w", path, err)
	}
	t := table{file: path, cols: map[string]int{}, dups: map[string]int{}}
	if err := runfolder.Guard(func() error { return readRows(pf, &t) }); err != nil {
		return t, fmt.Errorf("history %s: %w", path, err)
	}
	return t, nil
}

// readRows reads every row of pf into t as text cells.
func readRows(pf *parquet.File, t *table) error {
	fields := pf.Schema().Fields()
	for i, fl := range fields {
		t.cols[strings.ToLower(fl.Name())] = i
	}
	rowNo := 0
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		buf := make([]parquet.Row, 256)
		for {
			n, err := rr.ReadRows(buf)
			for _, row := range buf[:n] {
				cells := make([]string, len(fields))
				for _, v := range row {
					c := v.Column()
					if c >= 0 && c < len(cells) {
						cells[c] = valueText(v)
					}
				}
				rowNo++
				t.rows = append(t.rows, cells)
				t.lines = append(t.lines, rowNo)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rr.Close()
				return err
			}
		}
		rr.Close()
	}
	return nil
}

func valueText(v parquet.Value) string {
	switch v.Kind() {
	case parquet.Int32, parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	case parquet.Float:
		return strconv.FormatFloat(float64(v.Float()), 'g', -1, 64)
	case parquet.Double:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64)
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return string(v.ByteArray())
	default:
		return v.String()
	}
}

// add appends a table's rows in either layout.
func (h *History) add(t table) error {
	var dupErr error
	col := func(n string) int {
		if t.dups[n] > 0 && dupErr == nil {
			dupErr = fmt.Errorf("%s, line 1: column %s appears %d times: accepted one (which one is meant cannot be known)", t.file, n, t.dups[n]+1)
		}
		if i, ok := t.cols[n]; ok {
			return i
		}
		return -1
	}
	iP, iY, iL, iR := col("practice_id"), col("year"), col("list_size"), col("replication")
	iB, iRg := col("list_basis"), col("regime")
	if iP < 0 || iY < 0 {
		return fmt.Errorf("%s: needs columns practice_id and year\n%s", t.file, HistoryColumns)
	}
	var iS [sim.NStreams]int
	wide := true
	for s, n := range sim.StreamNames {
		iS[s] = col("spend_" + n)
		if iS[s] < 0 {
			wide = false
		}
	}
	iStream, iSpend := col("stream"), col("spend")
	if dupErr != nil {
		return dupErr
	}
	if !wide && (iStream < 0 || iSpend < 0) {
		return fmt.Errorf("%s: needs spend_<stream> columns for all five streams, or stream and spend columns\n%s", t.file, HistoryColumns)
	}
	type key struct {
		g    int
		p    string
		year int
	}
	idx := map[key]int{}
	seen := map[key]int{} // long layout: bit set of streams seen
	var row []string
	var line int
	where := func() string {
		if t.csv == nil {
			return fmt.Sprintf("%s, row %d", t.file, line)
		}
		return fmt.Sprintf("%s, line %d", t.file, line)
	}
	// CSV numbers are plain decimals (nhsdata.ParseNumber: no exponent, hex
	// or currency); Parquet's are typed, written as text by valueText.
	num := func(c int, name string, max float64) (float64, error) {
		s := strings.TrimSpace(row[c])
		var v float64
		var err error
		if t.csv != nil {
			var ok bool
			if v, ok, err = nhsdata.ParseNumber(s); err == nil && !ok {
				err = errors.New("missing")
			}
		} else {
			v, err = strconv.ParseFloat(s, 64)
		}
		if err != nil || v < 0 || v != v || v > max {
			return 0, fmt.Errorf("%s: %s %q: accepted a plain number 0 to %g", where(), name, row[c], max)
		}
		return v, nil
	}
	spendMax := 1e15
	if t.csv != nil {
		spendMax = nhsdata.MaxPracticeMoney
	}
	err := t.each(func(cells []string, ln int) error {
		row, line = cells, ln
		if iRg >= 0 && strings.TrimSpace(row[iRg]) == sim.RegimeClosed {
			return nil // a run's row after its practice closed or merged: no history
		}
		k := key{p: strings.TrimSpace(row[iP])}
		if k.p == "" {
			return fmt.Errorf("%s: practice_id is empty", where())
		}
		y, err := strconv.Atoi(strings.TrimSpace(row[iY]))
		if err != nil {
			return fmt.Errorf("%s: year %q: accepted a whole number", where(), row[iY])
		}
		k.year = y
		if iR >= 0 {
			g, err := strconv.Atoi(strings.TrimSpace(row[iR]))
			if err != nil {
				return fmt.Errorf("%s: replication %q: accepted a whole number", where(), row[iR])
			}
			k.g = g
		}
		list := 0.0
		if iL >= 0 {
			if list, err = num(iL, "list_size", nhsdata.MaxList); err != nil {
				return err
			}
			if list > 0 && list < 1 {
				return fmt.Errorf("%s: list_size %q: accepted 0 (unknown) or a list of 1 patient or more", where(), row[iL])
			}
		}
		ri, ok := idx[k]
		if !ok {
			ri = len(h.Records)
			idx[k] = ri
			h.Records = append(h.Records, Record{Group: k.g, Practice: k.p, Year: y, List: list})
			if iB >= 0 {
				switch b := strings.ToLower(strings.TrimSpace(row[iB])); b {
				case "mean of quarters":
					h.Records[ri].ListMean = true
				case "last known", "":
				default:
					return fmt.Errorf("%s: list_basis %q: accepted \"last known\" or \"mean of quarters\"", where(), row[iB])
				}
			}
		} else if wide {
			return fmt.Errorf("%s: practice %s, year %d appears twice", where(), k.p, y)
		}
		r := &h.Records[ri]
		if wide {
			for s := range sim.NStreams {
				if r.Spend[s], err = num(iS[s], "spend_"+sim.StreamNames[s], spendMax); err != nil {
					return err
				}
			}
			return nil
		}
		name := strings.ToLower(strings.TrimSpace(row[iStream]))
		s := -1
		for i, n := range sim.StreamNames {
			if n == name {
				s = i
			}
		}
		if s < 0 {
			return fmt.Errorf("%s: stream %q: accepted %s", where(), row[iStream], strings.Join(sim.StreamNames[:], ", "))
		}
		if seen[k]&(1<<s) != 0 {
			return fmt.Errorf("%s: practice %s, year %d, stream %s appears twice", where(), k.p, y, name)
		}
		seen[k] |= 1 << s
		if r.Spend[s], err = num(iSpend, "spend", spendMax); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !wide {
		for k, bits := range seen {
			if bits != 1<<sim.NStreams-1 {
				return fmt.Errorf("%s: practice %s, year %d lacks some streams: every practice-year needs all five", t.file, k.p, k.year)
			}
		}
	}
	return nil
}

// WriteCSV writes the history in the long layout.
func (h *History) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"replication", "practice_id", "year", "list_size", "stream", "spend"})
	for _, r := range h.Records {
		for s, n := range sim.StreamNames {
			_ = cw.Write([]string{strconv.Itoa(r.Group), r.Practice, strconv.Itoa(r.Year), strconv.FormatFloat(r.List, 'f', -1, 64), n, strconv.FormatFloat(r.Spend[s], 'f', 2, 64)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// Simulate runs the engine and returns its practice-years as history, one
// group per replication (years 1..years).
func Simulate(ctx context.Context, m *sim.Model, seed uint64, reps, years, workers int) (*History, error) {
	c := &collector{m: m}
	if err := sim.Run(ctx, m, sim.Options{Seed: seed, FirstRep: 0, LastRep: reps, Years: years, Workers: workers}, c); err != nil {
		return nil, err
	}
	c.h.sort()
	return &c.h, nil
}

type collector struct {
	mu sync.Mutex
	m  *sim.Model
	h  History
}

func (c *collector) Write(rep *sim.Replication) error {
	rows := rep.Rows
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rows {
		if r.Regime == sim.RegimeClosed {
			continue // the practice has closed or merged: no history
		}
		c.h.Records = append(c.h.Records, Record{Group: r.Replication, Practice: c.m.Practices[r.Practice].ID, Year: r.Year, List: float64(r.ListSize), Spend: r.Spend})
	}
	return nil
}
