package riskcurve

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/output"
	"github.com/parquet-go/parquet-go"
)

// Files Write writes into its folder.
const (
	CSVName     = "risk_curve.csv"
	ParquetName = "risk_curve.parquet"
)

// Write writes rows to DIR/risk_curve.csv and DIR/risk_curve.parquet (with
// meta as the Parquet file's key-value metadata), each atomically.
func Write(dir string, rows []Row, meta map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("risk curve folder: %w", err)
	}
	c, err := csvBytes(rows)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var opts []parquet.WriterOption
	for _, k := range keys {
		opts = append(opts, parquet.KeyValueMetadata(k, meta[k]))
	}
	w := parquet.NewGenericWriter[Row](&buf, opts...)
	if _, err := w.Write(rows); err != nil {
		return fmt.Errorf("risk curve: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("risk curve: %w", err)
	}
	if err := output.WriteFileAtomic(filepath.Join(dir, CSVName), c); err != nil {
		return err
	}
	return output.WriteFileAtomic(filepath.Join(dir, ParquetName), buf.Bytes())
}

// csvBytes renders rows with the Parquet column names as header; NaN is an
// empty cell.
func csvBytes(rows []Row) ([]byte, error) {
	var b strings.Builder
	w := csv.NewWriter(&b)
	t := reflect.TypeFor[Row]()
	var names []string
	for i := range t.NumField() {
		names = append(names, t.Field(i).Tag.Get("parquet"))
	}
	if err := w.Write(names); err != nil {
		return nil, err
	}
	rec := make([]string, len(names))
	for i := range rows {
		v := reflect.ValueOf(rows[i])
		for j := range names {
			f := v.Field(j)
			switch f.Kind() {
			case reflect.Float64:
				if x := f.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
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
