package web

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/gpbudget/gpbudget/runfolder"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// mergeParts writes a completed run's parts of one table (practice_years
// or ledger) into one Parquet file at dst, in order, with the parts'
// key-value metadata (the scenario, seed and versions), so the file alone
// says how to reproduce it. Row groups are copied one at a time (verbatim
// where the encoding allows), so memory stays flat in the number of rows.
func mergeParts(runDir, table, dst string) error {
	man, err := runfolder.RequireComplete(runDir)
	if err != nil {
		return err
	}
	files, err := man.TableFiles(table)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("the run has no %s files", table)
	}
	out, err := runfolder.CreateAtomic(dst)
	if err != nil {
		return err
	}
	if err := copyParts(out, runDir, files); err != nil {
		out.Abort()
		return fmt.Errorf("writing %s: %w", filepath.Base(dst), err)
	}
	return out.Commit()
}

func copyParts(out io.Writer, runDir string, files []string) error {
	var w *parquet.Writer
	for _, name := range files {
		path := filepath.Join(runDir, name)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		pf, err := runfolder.OpenParquet(f, st.Size())
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		if w == nil {
			opts := []parquet.WriterOption{parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}), parquet.MaxRowsPerRowGroup(runfolder.RowGroupRows)}
			kv := map[string]string{}
			for _, m := range pf.Metadata().KeyValueMetadata {
				kv[m.Key] = m.Value
			}
			for _, k := range slices.Sorted(maps.Keys(kv)) {
				opts = append(opts, parquet.KeyValueMetadata(k, kv[k]))
			}
			w = parquet.NewWriter(out, append(opts, pf.Schema())...)
		}
		for _, rg := range pf.RowGroups() {
			if _, err := w.WriteRowGroup(rg); err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		f.Close()
	}
	return w.Close()
}

// jsonEncoder writes JSON as the API does.
func jsonEncoder(w io.Writer) *json.Encoder { return json.NewEncoder(w) }
