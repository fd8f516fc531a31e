package scenarios

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadPopulation: any input either reads into practices that make a valid
// scenario, or fails with an error naming the file; never a panic, and never
// a half-loaded population. Seed corpus: testdata/population/*.csv (new and
// old commissioner columns, single-year ages, a malformed count).
func FuzzReadPopulation(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "population", "*.csv"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ReadPopulation(bytes.NewReader(data), "fuzz.csv", nil, DefaultLimits())
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			if ps != nil {
				t.Fatalf("practices returned with an error: %d", len(ps))
			}
			return
		}
		if len(ps) == 0 {
			t.Fatal("no practices and no error")
		}
		s := Default()
		s.UsePractices(ps)
		// Population files carry no need index; the scenario supplies it.
		if _, err := Parse(must(s.YAML()), "resolved.yaml"); err != nil {
			t.Fatalf("practices read from a file make an invalid scenario: %v", err)
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
