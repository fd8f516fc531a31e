package analysis

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// DerivedFiles are the files, relative to a run folder, that summarize and
// report derive from its run: stale once the run is replaced (see
// rundir.Spec.Derived), and the only ones a new run removes from summary/.
func DerivedFiles() []string {
	var out []string
	for _, name := range SummaryTables {
		out = append(out, filepath.Join(runfolder.SummaryDir, name+".csv"), filepath.Join(runfolder.SummaryDir, name+".parquet"))
	}
	return append(out, runfolder.ReportName)
}

// SummaryTables names the tables Write writes, each as NAME.csv and
// NAME.parquet; a run with contracts' payments also gets ContractTable.
var SummaryTables = []string{"by_band", "by_practice", "by_year", "commissioner", "ledger", "ledger_flows", "variance_decomposition", "risk_adjustment"}

// ContractTable is the summary table of contracts' payments (contract.go).
const ContractTable = "contract"

// Write writes the tables into DIR/summary/ as CSV and Parquet, each file
// atomically. It returns the files written, relative to dir.
func (s *Summary) Write(dir string) ([]string, error) {
	sdir := filepath.Join(dir, runfolder.SummaryDir)
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return nil, fmt.Errorf("summary folder: %w", err)
	}
	var files []string
	add := func(name string, csvb, pq []byte, err error) error {
		if err != nil {
			return fmt.Errorf("summary table %s: %w", name, err)
		}
		for _, f := range []struct {
			ext string
			b   []byte
		}{{".csv", csvb}, {".parquet", pq}} {
			ext, b := f.ext, f.b
			if err := runfolder.WriteFileAtomic(filepath.Join(sdir, name+ext), b); err != nil {
				return err
			}
		}
		files = append(files, filepath.Join(runfolder.SummaryDir, name+".csv"), filepath.Join(runfolder.SummaryDir, name+".parquet"))
		return nil
	}
	if err := add(table(s.Bands, "by_band")); err != nil {
		return files, err
	}
	if err := add(table(s.Practices, "by_practice")); err != nil {
		return files, err
	}
	if err := add(table(s.ByYear, "by_year")); err != nil {
		return files, err
	}
	if err := add(table(s.Commissioner, "commissioner")); err != nil {
		return files, err
	}
	if err := add(table(s.Ledger, "ledger")); err != nil {
		return files, err
	}
	if err := add(table(s.Flows, "ledger_flows")); err != nil {
		return files, err
	}
	if err := add(table(s.Decomposition, "variance_decomposition")); err != nil {
		return files, err
	}
	if err := add(table(s.RiskAdjustment, "risk_adjustment")); err != nil {
		return files, err
	}
	if len(s.Contract) > 0 {
		if err := add(table(s.Contract, ContractTable)); err != nil {
			return files, err
		}
	}
	return files, nil
}

// writeRows writes rows to DIR/parquetName (with meta as key-value
// metadata) and DIR/csvName, each atomically: a comparison's or a
// sensitivity analysis's table.
func writeRows[T any](dir, parquetName, csvName string, rows []T, meta map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder %s cannot be created: %w", dir, err)
	}
	pq, err := Parquet(rows, TableOptions{Meta: meta})
	if err != nil {
		return fmt.Errorf("writing %s: %w", parquetName, err)
	}
	cb, err := CSV(rows, TableOptions{})
	if err != nil {
		return fmt.Errorf("writing %s: %w", csvName, err)
	}
	if err := runfolder.WriteFileAtomic(filepath.Join(dir, csvName), cb); err != nil {
		return err
	}
	return runfolder.WriteFileAtomic(filepath.Join(dir, parquetName), pq)
}

func table[T any](rows []T, name string) (string, []byte, []byte, error) {
	c, err := CSV(rows, TableOptions{})
	if err != nil {
		return name, nil, nil, err
	}
	p, err := Parquet(rows, TableOptions{})
	return name, c, p, err
}

// TableOptions say how CSV and Parquet write a table. The zero value is the
// summary's, comparison's, sensitivity's and risk curve's format: CSV
// numbers in their shortest exact form, Parquet with parquet-go's default
// codec and no metadata. The forecast table (internal/forecast) asks for
// zstd and money to the penny.
type TableOptions struct {
	// Meta is the Parquet file's key-value metadata, written sorted by key.
	Meta map[string]string
	// Compression is the Parquet pages' codec (nil: parquet-go's default).
	Compression compress.Codec
	// Decimals writes these CSV columns (by Parquet name) with this many
	// digits after the point ('f' format) rather than the shortest exact
	// form.
	Decimals map[string]int
}

// CSV renders rows of a struct type as CSV with the Parquet column names as
// header (embedded structs flattened); NaN and infinities are written as
// empty cells.
func CSV[T any](rows []T, o TableOptions) ([]byte, error) {
	var b strings.Builder
	w := csv.NewWriter(&b)
	var names []string
	var idx [][]int
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			path := append(slices.Clone(prefix), i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, path)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
			if name == "" || name == "-" {
				continue
			}
			names, idx = append(names, name), append(idx, path)
		}
	}
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("CSV of %s: not a struct", t)
	}
	walk(t, nil)
	decimals := make([]int, len(names))
	for j, name := range names {
		decimals[j] = -1
		if d, ok := o.Decimals[name]; ok {
			decimals[j] = d
		}
	}
	if err := w.Write(names); err != nil {
		return nil, err
	}
	rec := make([]string, len(names))
	for i := range rows {
		v := reflect.ValueOf(&rows[i]).Elem()
		for j, path := range idx {
			f := v.FieldByIndex(path)
			switch f.Kind() {
			case reflect.Float64, reflect.Float32:
				x := f.Float()
				switch {
				case math.IsNaN(x) || math.IsInf(x, 0):
					rec[j] = ""
				case decimals[j] >= 0:
					rec[j] = strconv.FormatFloat(x, 'f', decimals[j], 64)
				default:
					rec[j] = strconv.FormatFloat(x, 'g', -1, 64)
				}
			default:
				rec[j] = fmt.Sprint(f.Interface())
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return []byte(b.String()), w.Error()
}

// Parquet renders rows of a struct type with `parquet` tags as a Parquet
// file, with o's codec and key-value metadata.
func Parquet[T any](rows []T, o TableOptions) ([]byte, error) {
	var buf bytes.Buffer
	var opts []parquet.WriterOption
	if o.Compression != nil {
		opts = append(opts, parquet.Compression(o.Compression))
	}
	for _, k := range slices.Sorted(maps.Keys(o.Meta)) {
		opts = append(opts, parquet.KeyValueMetadata(k, o.Meta[k]))
	}
	w := parquet.NewGenericWriter[T](&buf, opts...)
	if _, err := w.Write(rows); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
