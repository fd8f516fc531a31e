// Package readback reads gpbudget's Parquet output back with DuckDB, a reader
// independent of the parquet-go library that wrote it. It is a separate
// module so that the main module, and the gpbudget binary, stay free of cgo.
package readback

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/gpbudget/gpbudget/internal/rundir"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/scenarios"
)

// Small runs keep the module's tests to seconds: 8 practices of the default
// area, a few replications and years.
const (
	practices = 8
	version   = "readback-test"
)

// indicativeYAML is the built-in default (indicative budgets) cut to 8 practices.
const indicativeYAML = `
name: readback-indicative
population:
  synthetic:
    practices: 8
`

// hardYAML adds a hard budget and a per-patient stop-loss, so that the holder
// pays, carries deficits and is relieved of high-cost patients: every money
// column is exercised by the conservation check. Chance only: with the
// default trends and two-year budget lag every one of these few budgets is
// overspent, and the checks need both signs.
const hardYAML = `
name: readback-hard
chance_only: true
population:
  synthetic:
    practices: 8
rule:
  type: hard
  retention_share: 0.5
stop_loss:
  threshold: 5000
  streams: [emergency, elective]
`

func parse(t *testing.T, text string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse([]byte(text), "readback_test.go")
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	return s
}

// execute runs s through the library into a fresh folder, as `gpbudget run` does.
func execute(t *testing.T, s *scenarios.Scenario, seed uint64, reps, years, workers int) (string, *runfolder.Manifest) {
	t.Helper()
	m, err := s.Model(seed)
	if err != nil {
		t.Fatalf("model: %v", err)
	}
	if len(m.Practices) != practices {
		t.Fatalf("model has %d practices, want %d", len(m.Practices), practices)
	}
	dir := t.TempDir()
	man, err := rundir.Execute(context.Background(), &rundir.Spec{
		Scenario: s, Model: m, Seed: seed, Reps: reps, Years: years, Workers: workers,
		Dir: dir, Version: version, Command: "readback test",
	})
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	return dir, man
}

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatalf("duckdb: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// files is a SQL string literal globbing a run's part files.
func files(dir string) string {
	g := filepath.Join(dir, "practice_years", "*.parquet")
	return "'" + strings.ReplaceAll(g, "'", "''") + "'"
}

// query returns every row of q as values, in the order DuckDB gives them.
func query(t *testing.T, db *sql.DB, q string) [][]any {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// one returns the single row of q.
func one(t *testing.T, db *sql.DB, q string) []any {
	t.Helper()
	r := query(t, db, q)
	if len(r) != 1 {
		t.Fatalf("%s: %d rows, want 1", q, len(r))
	}
	return r[0]
}

func toInt(t *testing.T, v any) int64 {
	t.Helper()
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case uint64:
		return int64(x)
	case nil:
		return 0
	}
	t.Fatalf("%v (%T) is not an integer", v, v)
	return 0
}

var required = []string{
	"scenario", "replication", "year", "practice_id", "list_size", "budget",
	"spend_outpatient", "spend_prescribing", "spend_ae", "spend_emergency", "spend_elective",
	"spend_total", "variance", "savings_retained", "deficit_carried",
	"regime", "budget_holder", "stop_loss_paid", "pool_transfer", "commissioner_paid",
	"holder_paid", "reinvested",
}

var money = []string{
	"budget", "spend_outpatient", "spend_prescribing", "spend_ae", "spend_emergency",
	"spend_elective", "spend_total", "variance", "savings_retained", "deficit_carried",
	"stop_loss_paid", "pool_transfer", "commissioner_paid", "holder_paid", "reinvested",
}

// TestColumnsAndRows checks the schema DuckDB sees, the shape of the table
// (one row per replication x year x practice) and the accounting identities
// on every row, under both budget rules.
func TestColumnsAndRows(t *testing.T) {
	const seed, reps, years = 11, 3, 3
	for _, tc := range []struct{ yaml, regime string }{
		{indicativeYAML, "indicative"},
		{hardYAML, "hard"},
	} {
		t.Run(tc.regime, func(t *testing.T) {
			s := parse(t, tc.yaml)
			dir, _ := execute(t, s, seed, reps, years, 2)
			db := openDB(t)
			src := "read_parquet(" + files(dir) + ")"

			types := map[string]string{}
			for _, r := range query(t, db, "DESCRIBE SELECT * FROM "+src) {
				types[r[0].(string)] = r[1].(string)
			}
			for _, c := range required {
				if _, ok := types[c]; !ok {
					t.Errorf("column %s missing; have %v", c, types)
				}
			}
			for _, c := range money {
				if types[c] != "DOUBLE" {
					t.Errorf("money column %s is %q, want DOUBLE", c, types[c])
				}
			}
			for _, c := range []string{"replication", "year", "list_size"} {
				if !strings.Contains(types[c], "INT") {
					t.Errorf("column %s is %q, want an integer type", c, types[c])
				}
			}
			for _, c := range []string{"scenario", "practice_id", "regime", "budget_holder"} {
				if types[c] != "VARCHAR" {
					t.Errorf("column %s is %q, want VARCHAR", c, types[c])
				}
			}

			// Shape: every (replication, year, practice) once, and nothing else.
			r := one(t, db, `SELECT count(*), count(DISTINCT (replication, year, practice_id)),
				count(DISTINCT replication), min(replication), max(replication),
				count(DISTINCT year), min(year), max(year), count(DISTINCT practice_id),
				count(DISTINCT scenario), min(scenario), count(DISTINCT regime), min(regime),
				count(*) FILTER (WHERE budget_holder IS NULL OR budget_holder = ''),
				count(*) FILTER (WHERE list_size <= 0)
				FROM `+src)
			want := []any{int64(reps * years * practices), int64(reps * years * practices),
				int64(reps), int64(0), int64(reps - 1),
				int64(years), int64(1), int64(years), int64(practices),
				int64(1), s.Name, int64(1), tc.regime, int64(0), int64(0)}
			names := []string{"rows", "distinct (replication, year, practice_id)",
				"replications", "first replication", "last replication",
				"years", "first year", "last year", "practices",
				"scenarios", "scenario", "regimes", "regime", "rows without a budget holder",
				"rows with list_size <= 0"}
			for i := range want {
				got := r[i]
				if n, ok := got.(int32); ok {
					got = int64(n)
				}
				if fmt.Sprint(got) != fmt.Sprint(want[i]) {
					t.Errorf("%s = %v, want %v", names[i], r[i], want[i])
				}
			}

			// Identities, checked on every row; tolerance is rounding in sums
			// of a few numbers of about £1m (1e-9 relative, plus a millipenny).
			const tol = "(1e-9 * greatest(abs(spend_total), abs(budget)) + 1e-5)"
			checks := []struct{ name, bad string }{
				{"streams sum to spend_total", "abs(spend_outpatient + spend_prescribing + spend_ae + spend_emergency + spend_elective - spend_total) > " + tol},
				{"variance = budget - spend_total", "abs(variance - (budget - spend_total)) > " + tol},
				{"spend_total = commissioner_paid + holder_paid - savings_retained", "abs(spend_total - (commissioner_paid + holder_paid - savings_retained)) > " + tol},
				{"spend streams are non-negative", "least(spend_outpatient, spend_prescribing, spend_ae, spend_emergency, spend_elective) < 0"},
				{"money is finite", "NOT isfinite(budget + spend_total + variance + savings_retained + deficit_carried + stop_loss_paid + pool_transfer + commissioner_paid + holder_paid + reinvested)"},
				{"savings_retained and deficit_carried are non-negative", "savings_retained < 0 OR deficit_carried < 0"},
			}
			for _, c := range checks {
				bad := query(t, db, "SELECT replication, year, practice_id FROM "+src+" WHERE "+c.bad+" ORDER BY ALL LIMIT 3")
				if len(bad) > 0 {
					t.Errorf("%s fails, e.g. at (replication, year, practice) %v", c.name, bad)
				}
			}

			// The checks above mean something only if budgets are both under-
			// and overspent and the rule moved money.
			r = one(t, db, `SELECT count(*) FILTER (WHERE variance > 0), count(*) FILTER (WHERE variance < 0),
				count(*) FILTER (WHERE savings_retained > 0) FROM `+src)
			for i, n := range []string{"underspent rows", "overspent rows", "rows with savings retained"} {
				if toInt(t, r[i]) == 0 {
					t.Errorf("no %s among %d: the identities were not exercised", n, reps*years*practices)
				}
			}
			if tc.regime == "hard" {
				r = one(t, db, `SELECT count(*) FILTER (WHERE deficit_carried > 0), count(*) FILTER (WHERE stop_loss_paid > 0) FROM `+src)
				for i, n := range []string{"rows with a deficit carried", "rows with stop-loss paid"} {
					if toInt(t, r[i]) == 0 {
						t.Errorf("no %s under the hard rule", n)
					}
				}
			}
		})
	}
}

// TestMetadata checks that every file carries, in its key-value metadata,
// what is needed to reproduce it, and that it is zstd-compressed.
func TestMetadata(t *testing.T) {
	const seed, reps, years = 20250101, 2, 2
	s := parse(t, indicativeYAML)
	dir, man := execute(t, s, seed, reps, years, 2)
	db := openDB(t)

	wantYAML, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"gpbudget.scenario":      string(wantYAML),
		"gpbudget.scenario_name": s.Name,
		"gpbudget.seed":          strconv.FormatUint(seed, 10),
		"gpbudget.replications":  strconv.Itoa(reps),
		"gpbudget.years":         strconv.Itoa(years),
		"gpbudget.version":       version,
		"gpbudget.go_version":    runtime.Version(),
		// The library reports the gonum it was built with; in a test binary
		// that may be "unknown", but the key must be there and agree.
		"gpbudget.gonum_version": runfolder.DepVersion("gonum.org/v1/gonum"),
	}
	got := map[string]map[string]string{} // file -> key -> value
	for _, r := range query(t, db, "SELECT file_name, decode(key), decode(value) FROM parquet_kv_metadata("+files(dir)+")") {
		f := filepath.Base(r[0].(string))
		if got[f] == nil {
			got[f] = map[string]string{}
		}
		got[f][r[1].(string)] = r[2].(string)
	}
	if len(got) != len(man.Chunks) || len(got) == 0 {
		t.Fatalf("metadata found in %d practice-year files, manifest lists %d parts", len(got), len(man.Chunks))
	}
	if v := want["gpbudget.gonum_version"]; v == "unknown" {
		t.Logf("gonum version is %q: no package in this build links gonum", v)
	}
	for f, kv := range got {
		for k, v := range want {
			if kv[k] != v {
				t.Errorf("%s: metadata %s = %q, want %q", f, k, kv[k], v)
			}
			if kv[k] == "" {
				t.Errorf("%s: metadata %s is empty", f, k)
			}
		}
		// A file alone says how to reproduce it: its scenario parses back to
		// the same resolved scenario.
		back, err := scenarios.Parse([]byte(kv["gpbudget.scenario"]), f)
		if err != nil {
			t.Errorf("%s: scenario in metadata does not parse: %v", f, err)
			continue
		}
		if y, _ := back.YAML(); !bytes.Equal(y, wantYAML) {
			t.Errorf("%s: scenario in metadata resolves differently:\n%s", f, y)
		}
	}

	// Compression of every column chunk, as DuckDB reads it from the footer.
	codecs := query(t, db, "SELECT DISTINCT compression FROM parquet_metadata("+files(dir)+")")
	if len(codecs) != 1 || fmt.Sprint(codecs[0][0]) != "ZSTD" {
		t.Errorf("column chunk compression %v, want only ZSTD", codecs)
	}
	r := one(t, db, "SELECT sum(num_rows)::BIGINT FROM (SELECT DISTINCT file_name, row_group_id, row_group_num_rows AS num_rows FROM parquet_metadata("+files(dir)+"))")
	if toInt(t, r[0]) != int64(reps*years*practices) {
		t.Errorf("row groups hold %v rows, want %d", r[0], reps*years*practices)
	}
}

// dump returns every row of a run's files, all columns, in file order.
func dump(t *testing.T, db *sql.DB, dir string) []string {
	t.Helper()
	var out []string
	for _, r := range query(t, db, "SELECT * FROM read_parquet("+files(dir)+", filename = true, file_row_number = true) ORDER BY filename, file_row_number") {
		// %v prints float64 in the shortest form that round-trips, so equal
		// strings mean bit-identical values.
		var b strings.Builder
		for i, v := range r {
			if i > 0 {
				b.WriteByte('\t')
			}
			if s, ok := v.(string); ok {
				v = filepath.Base(s) // the filename column differs by folder
			}
			fmt.Fprintf(&b, "%v", v)
		}
		out = append(out, b.String())
	}
	return out
}

// TestWorkersIdentical checks that the number of workers changes nothing:
// the same rows, and byte-identical part files.
func TestWorkersIdentical(t *testing.T) {
	const seed, reps, years = 7, 6, 2
	s := parse(t, hardYAML)
	dir1, man1 := execute(t, s, seed, reps, years, 1)
	dir2, man2 := execute(t, s, seed, reps, years, 2)
	dir3, _ := execute(t, s, seed+1, reps, years, 2)
	db := openDB(t)

	d1, d2, d3 := dump(t, db, dir1), dump(t, db, dir2), dump(t, db, dir3)
	if len(d1) != reps*years*practices {
		t.Fatalf("workers=1 gave %d rows, want %d", len(d1), reps*years*practices)
	}
	if len(d1) != len(d2) {
		t.Fatalf("workers=1 gave %d rows, workers=2 %d", len(d1), len(d2))
	}
	for i := range d1 {
		if d1[i] != d2[i] {
			t.Fatalf("row %d differs:\nworkers=1: %s\nworkers=2: %s", i, d1[i], d2[i])
		}
	}
	// The comparison is not of constants: another seed gives other rows.
	if slices.Equal(d1, d3) {
		t.Errorf("seed %d and %d gave identical rows", seed, seed+1)
	}

	if !slices.Equal(man1.Files, man2.Files) || len(man1.Files) == 0 {
		t.Fatalf("files differ: %v vs %v", man1.Files, man2.Files)
	}
	for _, f := range man1.Files {
		b1, err1 := os.ReadFile(filepath.Join(dir1, f))
		b2, err2 := os.ReadFile(filepath.Join(dir2, f))
		if err1 != nil || err2 != nil {
			t.Fatalf("reading %s: %v, %v", f, err1, err2)
		}
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s differs between workers=1 and workers=2 (%d vs %d bytes)", f, len(b1), len(b2))
		}
	}
}

// TestManifest checks a finished run's manifest.json, read as plain JSON
// rather than through the library's own type.
func TestManifest(t *testing.T) {
	const seed, reps, years = 99, 2, 3
	s := parse(t, indicativeYAML)
	dir, _ := execute(t, s, seed, reps, years, 2)
	db := openDB(t)

	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Completed    *bool           `json:"completed"`
		Seed         *uint64         `json:"seed"`
		Replications *int            `json:"replications"`
		Years        *int            `json:"years"`
		Practices    *int            `json:"practices"`
		Rows         *int64          `json:"rows"`
		Files        []string        `json:"files"`
		Version      string          `json:"version"`
		GoVersion    string          `json:"go_version"`
		Scenario     json.RawMessage `json:"scenario"`
		Started      string          `json:"started"`
		Ended        string          `json:"ended"`
		Error        string          `json:"error"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if m.Completed == nil || !*m.Completed {
		t.Errorf("completed = %v, want true", m.Completed)
	}
	if m.Seed == nil || *m.Seed != seed {
		t.Errorf("seed = %v, want %d", m.Seed, seed)
	}
	if m.Replications == nil || *m.Replications != reps {
		t.Errorf("replications = %v, want %d", m.Replications, reps)
	}
	if m.Years == nil || *m.Years != years {
		t.Errorf("years = %v, want %d", m.Years, years)
	}
	if m.Practices == nil || *m.Practices != practices {
		t.Errorf("practices = %v, want %d", m.Practices, practices)
	}
	if m.Version != version || m.GoVersion != runtime.Version() {
		t.Errorf("version %q, go_version %q; want %q, %q", m.Version, m.GoVersion, version, runtime.Version())
	}
	if m.Started == "" || m.Ended == "" || m.Ended < m.Started {
		t.Errorf("started %q, ended %q", m.Started, m.Ended)
	}
	if m.Error != "" {
		t.Errorf("error = %q in a completed run", m.Error)
	}
	var sc struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(m.Scenario, &sc); err != nil || sc.Name != s.Name {
		t.Errorf("scenario in manifest: name %q (%v), want %q", sc.Name, err, s.Name)
	}

	// The files listed are exactly the part files on disk (practice-years
	// and ledger), nothing half-written.
	on, _ := filepath.Glob(filepath.Join(dir, "practice_years", "*.parquet"))
	led, _ := filepath.Glob(filepath.Join(dir, "ledger", "*.parquet"))
	on = slices.Sorted(slices.Values(append(on, led...)))
	var onDisk []string
	for _, f := range on {
		rel, _ := filepath.Rel(dir, f)
		onDisk = append(onDisk, rel)
	}
	listed := slices.Sorted(slices.Values(m.Files))
	if len(listed) == 0 || !slices.Equal(listed, onDisk) {
		t.Errorf("manifest lists %v, folder has %v", m.Files, onDisk)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "practice_years", ".*")); len(tmp) > 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
	r := one(t, db, "SELECT count(*) FROM read_parquet("+files(dir)+")")
	if m.Rows == nil || toInt(t, r[0]) != *m.Rows || *m.Rows != int64(reps*years*practices) {
		t.Errorf("manifest rows %v, DuckDB counts %v, want %d", m.Rows, r[0], reps*years*practices)
	}
}

// The ledger files DuckDB reads have the documented columns and types, one
// per part, beside the practice-year files and named like them.
func TestLedgerFilesReadBack(t *testing.T) {
	db := openDB(t)
	dir, man := execute(t, parse(t, hardYAML), 5, 3, 2, 2)
	if len(man.Chunks) == 0 {
		t.Fatal("no parts")
	}
	for _, c := range man.Chunks {
		if c.LedgerFile != filepath.Join("ledger", filepath.Base(c.File)) || c.LedgerSHA256 == "" {
			t.Errorf("part %s: ledger file %q, checksum %q", c.File, c.LedgerFile, c.LedgerSHA256)
		}
	}
	g := "'" + strings.ReplaceAll(filepath.Join(dir, "ledger", "*.parquet"), "'", "''") + "'"
	types := map[string]string{}
	for _, r := range query(t, db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet("+g+"))") {
		types[r[0].(string)] = r[1].(string)
	}
	for col, typ := range map[string]string{"scenario": "VARCHAR", "replication": "INTEGER", "year": "INTEGER", "party": "VARCHAR",
		"counterparty": "VARCHAR", "reason": "VARCHAR", "amount": "DOUBLE"} {
		if types[col] != typ {
			t.Errorf("ledger column %s is %q, want %s", col, types[col], typ)
		}
	}
	r := one(t, db, "SELECT count(*) FROM read_parquet("+g+")")
	n := int64(0)
	for _, c := range man.Chunks {
		n += c.LedgerRows
	}
	if toInt(t, r[0]) != n {
		t.Errorf("DuckDB counts %v ledger rows, the manifest %d", r[0], n)
	}
	// deficit_repaid is a practice-year column.
	r = one(t, db, "SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet("+files(dir)+")) WHERE column_name = 'deficit_repaid'")
	if toInt(t, r[0]) != 1 {
		t.Error("no deficit_repaid column")
	}
}

// contractYAML is a two-sided shared-savings contract with per-patient
// truncation and an incentive, on 8 practices held as two neighbourhoods:
// every contract column is exercised.
const contractYAML = `
name: readback-contract
population:
  synthetic:
    practices: 8
budget:
  method: historic
rule:
  type: shared_savings
  consortium:
    by: population
    target_population: 20000
    name_prefix: NP
contract:
  sides: two
  savings:
    min_rate: 0.005
    share: 0.5
  losses:
    min_rate: 0.005
    share: 0.5
    cap_benchmark: 0.05
  truncation:
    amount: 8000
incentive:
  per_patient: 1
  basis: taking_part
  against_savings: floor
`

// TestContractColumns reads a contract run back with DuckDB: the contract
// columns are there as DOUBLE; on every row the commissioner pays spend +
// what the holder keeps - its own money, variance is the benchmark less
// measured (truncated) spend, the holder's own money is its shared losses,
// and what it keeps includes its shared savings and incentives; and the
// ledger files' shared_savings, shared_loss and incentive entries sum to the
// columns' totals.
func TestContractColumns(t *testing.T) {
	s := parse(t, contractYAML)
	dir, _ := execute(t, s, 7, 6, 3, 2)
	db := openDB(t)
	src := "read_parquet(" + files(dir) + ")"
	types := map[string]string{}
	for _, r := range query(t, db, "DESCRIBE SELECT * FROM "+src) {
		types[r[0].(string)] = r[1].(string)
	}
	for _, c := range []string{"shared_savings", "shared_loss", "incentive_paid", "spend_truncated"} {
		if types[c] != "DOUBLE" {
			t.Errorf("contract column %s is %q, want DOUBLE", c, types[c])
		}
	}
	const tol = "(1e-9 * greatest(abs(spend_total), abs(budget)) + 1e-5)"
	for _, c := range []struct{ name, bad string }{
		{"commissioner_paid = spend_total + savings_retained - holder_paid", "abs(commissioner_paid - (spend_total + savings_retained - holder_paid)) > " + tol},
		{"variance = budget - (spend_total - spend_truncated)", "abs(variance - (budget - spend_total + spend_truncated)) > " + tol},
		{"holder_paid = shared_loss", "abs(holder_paid - shared_loss) > " + tol},
		{"savings_retained = shared_savings + incentive_paid", "abs(savings_retained - shared_savings - incentive_paid) > " + tol},
		{"contract columns are non-negative", "least(shared_savings, shared_loss, incentive_paid, spend_truncated) < 0"},
	} {
		if bad := query(t, db, "SELECT replication, year, practice_id FROM "+src+" WHERE "+c.bad+" ORDER BY ALL LIMIT 3"); len(bad) > 0 {
			t.Errorf("%s fails, e.g. at %v", c.name, bad)
		}
	}
	r := one(t, db, `SELECT sum(shared_savings), sum(shared_loss), sum(incentive_paid), count(*) FILTER (WHERE spend_truncated > 0),
		count(DISTINCT budget_holder), min(regime) FROM `+src)
	for i, n := range []string{"shared savings", "shared losses", "incentives", "rows with spend truncated"} {
		if v, ok := r[i].(float64); (ok && !(v > 0)) || (!ok && toInt(t, r[i]) == 0) {
			t.Errorf("no %s: the contract columns were not exercised", n)
		}
	}
	if toInt(t, r[4]) != 2 || r[5] != "shared_savings" {
		t.Errorf("holders %v, regime %v", r[4], r[5])
	}
	led := "read_parquet('" + strings.ReplaceAll(filepath.Join(dir, "ledger", "*.parquet"), "'", "''") + "')"
	l := one(t, db, `SELECT sum(amount) FILTER (WHERE reason = 'shared_savings' AND party = 'commissioner'),
		sum(amount) FILTER (WHERE reason = 'shared_loss' AND counterparty = 'commissioner'),
		sum(amount) FILTER (WHERE reason = 'incentive' AND party = 'commissioner') FROM `+led)
	for i, n := range []string{"shared savings", "shared losses", "incentives"} {
		col, ledger := r[i].(float64), l[i].(float64)
		if d := col - ledger; d > 1e-6*col || d < -1e-6*col {
			t.Errorf("%s: columns sum to %v, the ledger's entries to %v", n, col, ledger)
		}
	}
}
