package runfolder

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// handRun writes a complete run of reps replications of handModel into a
// new folder, a part per replication, with its manifest.
func handRun(t testing.TB, reps int) (string, *Manifest) {
	t.Helper()
	dir := t.TempDir()
	w, err := NewWriter(dir, SinglePrefix, 0, handModel(), map[string]string{"gpbudget.seed": "1"})
	if err != nil {
		t.Fatal(err)
	}
	w.CheckpointEvery = time.Nanosecond
	for r := range reps {
		if err := w.Write(handRep(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m := &Manifest{ScenarioName: "hand", Replications: reps, Years: 2, Practices: 2, Completed: true}
	m.SetChunks(w.Chunks)
	if err := m.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

var handColumns = []Column{{"practice_id", String}, {"replication", Int}, {"year", Int}, {"list_size", Int}, {"budget", Float}, {"deficit_repaid", Float}}

func scanAll(dir string, m *Manifest) (int64, error) {
	files, err := m.TableFiles(PracticeYears)
	if err != nil {
		return 0, err
	}
	return Scan(context.Background(), dir, files, handColumns, 2, func(*Batch) error { return nil })
}

// Scan checks every file against the manifest before it decodes any: a
// truncated file, a damaged one, one swapped in from another run, a missing
// one and one the manifest does not list are each refused with a
// *CorruptError that names the file; never a panic. (Issue 13: a truncated
// part made summarize panic, and a swapped one gave a silently wrong
// summary.)
func TestScanRefusesDamagedFiles(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"truncated", func(t *testing.T, dir string) {
			os.Truncate(filepath.Join(dir, "practice_years/part-00001.parquet"), 100)
		}, "practice_years/part-00001.parquet is truncated: 100 bytes"},
		{"damaged", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "practice_years/part-00001.parquet")
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0xff
			os.WriteFile(p, b, 0o644)
		}, "practice_years/part-00001.parquet does not match its checksum"},
		{"swapped", func(t *testing.T, dir string) {
			// Another replication's part, as a file from another seed would be.
			b, _ := os.ReadFile(filepath.Join(dir, "practice_years/part-00002.parquet"))
			os.WriteFile(filepath.Join(dir, "practice_years/part-00001.parquet"), b, 0o644)
		}, "practice_years/part-00001.parquet"},
		{"missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "practice_years/part-00000.parquet"))
		}, "practice_years/part-00000.parquet is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, m := handRun(t, 3)
			if n, err := scanAll(dir, m); err != nil || n != 12 {
				t.Fatalf("undamaged: %d rows, %v", n, err)
			}
			c.damage(t, dir)
			_, err := scanAll(dir, m)
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("scan of a %s file: %v (want a CorruptError saying %q)", c.name, err, c.want)
			}
			if !strings.Contains(err.Error(), "--recompute") {
				t.Errorf("the error does not say how to recompute: %v", err)
			}
		})
	}
	// A file the manifest does not list is not read, and a folder holding
	// one is refused by CheckListed.
	dir, m := handRun(t, 2)
	b, _ := os.ReadFile(filepath.Join(dir, "practice_years/part-00000.parquet"))
	os.WriteFile(filepath.Join(dir, "practice_years/part-00009.parquet"), b, 0o644)
	if _, err := Scan(context.Background(), dir, []string{"practice_years/part-00009.parquet"}, handColumns, 1, func(*Batch) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("an unlisted file was read: %v", err)
	}
	if err := m.CheckListed(dir, PracticeYears); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "part-00009.parquet is not listed") {
		t.Errorf("CheckListed: %v", err)
	}
}

// A file that matched is not hashed again while unchanged, and is hashed
// again once it changes (a write changes its identity).
func TestVerifiedFileIsRecheckedWhenChanged(t *testing.T) {
	dir, m := handRun(t, 2)
	if _, err := scanAll(dir, m); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "practice_years/part-00001.parquet")
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0xff
	time.Sleep(10 * time.Millisecond) // a coarse clock still moves on
	os.WriteFile(p, b, 0o644)         // same size: only the hash tells
	if _, err := scanAll(dir, m); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a file damaged after it was verified was read: %v", err)
	}
}

// A manifest that names a file outside the run's table folders is not
// followed (a server must never open a path a manifest from elsewhere names).
func TestManifestPathsStayInTheFolder(t *testing.T) {
	dir, m := handRun(t, 1)
	outside := filepath.Join(filepath.Dir(dir), "secret.parquet")
	b, _ := os.ReadFile(filepath.Join(dir, m.Chunks[0].File))
	os.WriteFile(outside, b, 0o644)
	for _, p := range []string{"../secret.parquet", outside, "practice_years/../../secret.parquet", "manifest.json"} {
		m.Chunks[0].File = p
		m.SetChunks(m.Chunks)
		m.Write(dir)
		if _, err := scanAll(dir, m); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "is not a part file's name") {
			t.Errorf("manifest naming %s: %v", p, err)
		}
	}
}

// A file whose checksum the manifest records but that cannot be decoded
// (a manifest made to match it) is an error naming the file, not a panic.
func TestUndecodableFileIsAnError(t *testing.T) {
	dir, m := handRun(t, 1)
	p := filepath.Join(dir, "practice_years/part-00000.parquet")
	b, _ := os.ReadFile(p)
	for _, cut := range []int{len(b) - 8, len(b) / 2, 4} {
		os.WriteFile(p, b[:cut], 0o644)
		sum, _ := FileSHA256(p)
		m.Chunks[0].SHA256, m.Chunks[0].Bytes = sum, int64(cut)
		m.Write(dir)
		_, err := scanAll(dir, m)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "part-00000.parquet") {
			t.Errorf("a part cut to %d bytes with a matching checksum: %v", cut, err)
		}
	}
}

func TestOwnerOf(t *testing.T) {
	for _, c := range []struct {
		rel   string
		whose Whose
		shard string
	}{
		{"manifest.json", RunManifest, ""},
		{".manifest.json.tmp", RunManifest, ""},
		{"practice_years/part-00003.parquet", SinglePart, ""},
		{"ledger/.part-00003.parquet.tmp", SinglePart, ""},
		{"practice_years/shard-0001-of-0004-part-00000.parquet", ShardFile, "1/4"},
		{"manifests/shard-0001-of-0004.json", ShardFile, "1/4"},
		{"manifests/.shard-0001-of-0004.json.tmp", ShardFile, "1/4"},
		{"manifests/.shard-0001-of-0004.write-test", Probe, "1/4"},
		{".gpbudget-write-test", Probe, ""},
		{"practice_years/mine.parquet", Nobody, ""},
		{"practice_years/part-00003.csv", Nobody, ""},
		{"part-00003.parquet", Nobody, ""},
		{"notes.txt", Nobody, ""},
		{"summary/by_band.csv", Nobody, ""},
	} {
		whose, sh := OwnerOf(c.rel)
		if whose != c.whose || c.shard != "" && sh.String() != c.shard {
			t.Errorf("OwnerOf(%s) = %v %v, want %v %s", c.rel, whose, sh, c.whose, c.shard)
		}
	}
}

func TestParsePart(t *testing.T) {
	for _, name := range []string{"part-00000.parquet", "shard-0002-of-0004-part-00017.parquet", "part-123456.parquet"} {
		prefix, n, ok := ParsePart(name)
		if !ok || PartName(prefix, n) != name {
			t.Errorf("ParsePart(%s) = %q %d %v", name, prefix, n, ok)
		}
	}
	for _, name := range []string{"part-0.parquet", "part-00000.csv", "part00000.parquet", "part--0001.parquet"} {
		if _, _, ok := ParsePart(name); ok {
			t.Errorf("ParsePart(%s) accepted", name)
		}
	}
}

// FuzzReadRunFolder: a run folder whose manifest and part files are
// anything at all is read or refused with an error; never a panic. With
// fixSums the manifest (when it parses) is made to record the files' real
// checksums, so that damaged Parquet reaches the decoder.
func FuzzReadRunFolder(f *testing.F) {
	dir, _ := handRun(f, 1)
	man, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	part, _ := os.ReadFile(filepath.Join(dir, "practice_years/part-00000.parquet"))
	led, _ := os.ReadFile(filepath.Join(dir, "ledger/part-00000.parquet"))
	f.Add(man, part, led, false)
	f.Add(man, part, led, true)
	f.Add(man, part[:len(part)-3], led, true)
	f.Add(man[:len(man)/2], part, led, false)
	f.Add([]byte(`{"completed": true, "chunks": [{"file": "../../etc/passwd", "ledger_file": "ledger/part-00000.parquet", "rows": 1}]}`), part, led, true)
	// One folder, rewritten by each input (a worker runs one at a time).
	dir = f.TempDir()
	for _, d := range Tables {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	f.Fuzz(func(t *testing.T, man, part, led []byte, fixSums bool) {
		os.WriteFile(filepath.Join(dir, "practice_years/part-00000.parquet"), part, 0o644)
		os.WriteFile(filepath.Join(dir, "ledger/part-00000.parquet"), led, 0o644)
		if fixSums {
			var m Manifest
			if json.Unmarshal(man, &m) == nil {
				// Only the two files written here: a fuzzed name may be
				// anything (a device, a pipe), which the reader refuses
				// unread but this harness must not read either.
				sums := map[string]string{}
				for _, f := range []string{"practice_years/part-00000.parquet", "ledger/part-00000.parquet"} {
					sums[f], _ = FileSHA256(filepath.Join(dir, f))
				}
				for i := range m.Chunks {
					m.Chunks[i].SHA256 = sums[filepath.Clean(m.Chunks[i].File)]
					m.Chunks[i].LedgerSHA256 = sums[filepath.Clean(m.Chunks[i].LedgerFile)]
					m.Chunks[i].Bytes, m.Chunks[i].LedgerBytes = 0, 0
				}
				man, _ = json.Marshal(&m)
			}
		}
		os.WriteFile(filepath.Join(dir, ManifestName), man, 0o644)
		ctx := context.Background()
		for _, table := range Tables {
			m, files, err := OpenTable(ctx, dir, table)
			if err != nil {
				continue
			}
			cols := handColumns
			if table == Ledger {
				cols = []Column{{"replication", Int}, {"year", Int}, {"party", String}, {"counterparty", String}, {"reason", String}, {"amount", Float}}
			}
			n, err := Scan(ctx, dir, files, cols, 2, func(b *Batch) error {
				for c, col := range cols {
					switch col.Kind {
					case Float:
						_ = b.Float(c)[:b.N]
					case Int:
						_ = b.Int(c)[:b.N]
					case String:
						idx, dict := b.String(c)
						for _, x := range idx[:b.N] {
							_ = dict[x]
						}
					}
				}
				return nil
			})
			if err == nil && table == PracticeYears && n != m.Rows && m.Rows != 0 {
				t.Logf("%d rows read, manifest says %d (summarize refuses this)", n, m.Rows)
			}
		}
	})
}
