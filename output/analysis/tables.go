package analysis

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/parquet-go/parquet-go"
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
	pq, err := Parquet(rows, meta)
	if err != nil {
		return fmt.Errorf("writing %s: %w", parquetName, err)
	}
	cb, err := CSV(rows)
	if err != nil {
		return fmt.Errorf("writing %s: %w", csvName, err)
	}
	if err := runfolder.WriteFileAtomic(filepath.Join(dir, csvName), cb); err != nil {
		return err
	}
	return runfolder.WriteFileAtomic(filepath.Join(dir, parquetName), pq)
}

func table[T any](rows []T, name string) (string, []byte, []byte, error) {
	c, err := CSV(rows)
	if err != nil {
		return name, nil, nil, err
	}
	p, err := Parquet(rows)
	return name, c, p, err
}

// CSV renders rows of a struct type as CSV with the Parquet column names as
// header (embedded structs flattened); NaN is written as an empty cell.
func CSV[T any](rows []T) ([]byte, error) {
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
				if math.IsNaN(x) || math.IsInf(x, 0) {
					rec[j] = ""
				} else {
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
// file with meta as key-value metadata (sorted by key).
func Parquet[T any](rows []T, meta ...map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	var opts []parquet.WriterOption
	for _, m := range meta {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			opts = append(opts, parquet.KeyValueMetadata(k, m[k]))
		}
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
