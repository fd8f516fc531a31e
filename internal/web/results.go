package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// checkedMerge makes dst from a completed run's parts of one table, or
// keeps it when it was made before and still matches its checksum
// (dst.sha256). The parts are checked against the manifest either way.
func checkedMerge(ctx context.Context, runDir, table, dst string) error {
	_, files, err := runfolder.OpenTable(ctx, runDir, table)
	if err != nil {
		return err
	}
	if want, err := os.ReadFile(dst + ".sha256"); err == nil {
		if got, err := runfolder.FileSHA256(dst); err == nil && got == strings.TrimSpace(string(want)) {
			return nil
		}
	}
	return mergeParts(runDir, files, dst)
}

// mergeParts writes a completed run's parts of one table (practice_years
// or ledger) into one Parquet file at dst, in order, with the parts'
// key-value metadata (the scenario, seed and versions), so the file alone
// says how to reproduce it, and its checksum beside it. Row groups are
// copied one at a time (verbatim where the encoding allows), so memory
// stays flat in the number of rows.
func mergeParts(runDir string, files []string, dst string) error {
	if len(files) == 0 {
		return errors.New("the run has no files of this table")
	}
	out, err := runfolder.CreateAtomic(dst)
	if err != nil {
		return err
	}
	if err := copyParts(out, runDir, files); err != nil {
		out.Abort()
		return fmt.Errorf("writing %s: %w", filepath.Base(dst), err)
	}
	sum := out.SHA256()
	if err := out.Commit(); err != nil {
		return err
	}
	return runfolder.WriteFileAtomic(dst+".sha256", []byte(sum+"\n"))
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
