package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: any input either loads into a scenario whose model builds, or
// fails with a scenarios.Error naming the file; never a panic or a silent
// default. Seed corpus: the built-in scenarios and testdata/scenarios/*.yaml.
func FuzzParse(f *testing.F) {
	for _, n := range Names() {
		b, _ := Builtin(n)
		f.Add(b)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "scenarios", "*.yaml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz.yaml" {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		// Keep the model small: the fuzzer's job is the loader, not the engine.
		if sy := s.Population.Synthetic; sy != nil && len(s.Population.Practices) == 0 {
			sy.Practices = min(sy.Practices, 3)
			sy.ListSizeMean = min(sy.ListSizeMean, 1000)
			sy.MaxList = min(sy.MaxList, 5000)
			sy.MinList = min(sy.MinList, sy.MaxList)
		}
		if _, err := s.Model(1); err != nil {
			t.Fatalf("scenario validated but its model does not build: %v", err)
		}
	})
}
