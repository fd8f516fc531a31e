// Package readback checks gpbudget's Parquet output with DuckDB, a reader
// that shares no code with the writer.
package readback

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/gpbudget/gpbudget/output"
	"github.com/gpbudget/gpbudget/scenarios"
)

const (
	practices = 8
	reps      = 6
	years     = 3
)

// runTo runs a small default-area scenario into a fresh folder.
func runTo(t *testing.T, workers int) string {
	t.Helper()
	s := scenarios.Default()
	s.Population.Synthetic.Practices = practices
	s.Seed, s.Replications, s.Years = 17, reps, years
	m, err := s.Model(s.Seed)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := output.Execute(context.Background(), &output.Spec{
		Scenario: s, Model: m, Seed: s.Seed, Reps: reps, Years: years, Workers: workers, Dir: dir, Version: "readback-test",
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func db(t *testing.T) *sql.DB {
	t.Helper()
	d, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func one[T any](t *testing.T, d *sql.DB, q string) T {
	t.Helper()
	var v T
	if err := d.QueryRow(q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

func files(dir string) string { return fmt.Sprintf("read_parquet('%s/practice_years/*.parquet')", dir) }

// TestDuckDBReadsColumnsRowsAndIdentities: every promised column is there
// with the promised type, one row per replication × year × practice, and the
// rows satisfy the accounting identities.
func TestDuckDBReadsColumnsRowsAndIdentities(t *testing.T) {
	dir := runTo(t, 2)
	d := db(t)
	rows, err := d.Query("select column_name, column_type from (describe select * from " + files(dir) + ")")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for rows.Next() {
		var n, ty string
		if err := rows.Scan(&n, &ty); err != nil {
			t.Fatal(err)
		}
		types[n] = ty
	}
	money := []string{"budget", "spend_outpatient", "spend_prescribing", "spend_ae", "spend_emergency", "spend_elective",
		"spend_total", "variance", "savings_retained", "deficit_carried", "stop_loss_paid", "pool_transfer", "commissioner_paid", "reinvested"}
	for _, c := range money {
		if types[c] != "DOUBLE" {
			t.Errorf("column %s: type %q, want DOUBLE", c, types[c])
		}
	}
	for _, c := range []string{"scenario", "replication", "year", "practice_id", "list_size", "regime", "budget_holder"} {
		if _, ok := types[c]; !ok {
			t.Errorf("missing column %s", c)
		}
	}
	if n := one[int64](t, d, "select count(*) from "+files(dir)); n != reps*years*practices {
		t.Errorf("%d rows, want %d", n, reps*years*practices)
	}
	if n := one[int64](t, d, "select count(*) from (select distinct replication, year, practice_id from "+files(dir)+")"); n != reps*years*practices {
		t.Errorf("%d distinct (replication, year, practice), want %d", n, reps*years*practices)
	}
	if n := one[int64](t, d, "select count(distinct year) from "+files(dir)+" where year between 1 and "+fmt.Sprint(years)); n != years {
		t.Errorf("years: %d", n)
	}
	bad := one[int64](t, d, `select count(*) from `+files(dir)+` where
		abs(spend_outpatient + spend_prescribing + spend_ae + spend_emergency + spend_elective - spend_total) > 1e-6 * greatest(1, spend_total)
		or abs(budget - spend_total - variance) > 1e-6 * greatest(1, budget)
		or abs(commissioner_paid + holder_paid - savings_retained - spend_total) > 1e-6 * greatest(1, spend_total)
		or spend_total <= 0 or budget <= 0 or list_size <= 0 or savings_retained < 0 or deficit_carried < 0`)
	if bad != 0 {
		t.Errorf("%d rows break the identities (streams sum to total, variance = budget - spend, money conserved)", bad)
	}
}

// TestFilesCarryMetadataAndCompression: a file alone says how to reproduce it,
// and it is compressed.
func TestFilesCarryMetadataAndCompression(t *testing.T) {
	dir := runTo(t, 2)
	d := db(t)
	rows, err := d.Query("select decode(key), decode(value) from parquet_kv_metadata('" + dir + "/practice_years/*.parquet')")
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		kv[k] = v
	}
	for k, want := range map[string]string{"gpbudget.seed": "17", "gpbudget.replications": fmt.Sprint(reps), "gpbudget.version": "readback-test", "gpbudget.scenario_name": "default"} {
		if kv[k] != want {
			t.Errorf("metadata %s = %q, want %q", k, kv[k], want)
		}
	}
	if !strings.Contains(kv["gpbudget.scenario"], "retention_share") || kv["gpbudget.go_version"] == "" || kv["gpbudget.gonum_version"] == "" {
		t.Errorf("metadata lacks the resolved scenario or versions: %v", kv)
	}
	if c := one[string](t, d, "select string_agg(distinct compression, ',') from parquet_metadata('"+dir+"/practice_years/*.parquet')"); c != "ZSTD" {
		t.Errorf("compression %q, want ZSTD", c)
	}
}

// TestWorkersGiveIdenticalRowsAndFiles: the same scenario and seed give the
// same rows, and byte-identical files, with 1 and 2 workers.
func TestWorkersGiveIdenticalRowsAndFiles(t *testing.T) {
	a, b := runTo(t, 1), runTo(t, 2)
	d := db(t)
	diff := one[int64](t, d, fmt.Sprintf("select count(*) from ((select * from %s except all select * from %s) union all (select * from %s except all select * from %s))", files(a), files(b), files(b), files(a)))
	if diff != 0 {
		t.Errorf("%d rows differ between 1 and 2 workers", diff)
	}
	fa, _ := filepath.Glob(filepath.Join(a, "practice_years", "*.parquet"))
	for _, f := range fa {
		x, _ := os.ReadFile(f)
		y, err := os.ReadFile(filepath.Join(b, "practice_years", filepath.Base(f)))
		if err != nil || sha256.Sum256(x) != sha256.Sum256(y) {
			t.Errorf("%s differs between 1 and 2 workers", filepath.Base(f))
		}
	}
}

// TestManifestSaysComplete: the manifest of a finished run lists its files
// with their checksums and says it completed.
func TestManifestSaysComplete(t *testing.T) {
	dir := runTo(t, 2)
	m, err := output.RequireComplete(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Seed != 17 || m.Replications != reps || m.Years != years || len(m.Files) == 0 || m.Rows != reps*years*practices {
		t.Errorf("manifest: %+v", m)
	}
	for _, c := range m.Chunks {
		b, err := os.ReadFile(filepath.Join(dir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != c.SHA256 {
			t.Errorf("%s: checksum differs from the manifest", c.File)
		}
	}
}
