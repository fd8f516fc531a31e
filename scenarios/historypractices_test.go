package scenarios

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHistoryPractices: a history's practices take their lists from a
// population file, matched by code whatever its case, else their last list
// size spread by age; with neither, ErrNoListSize; a practice the file lacks
// is named.
func TestHistoryPractices(t *testing.T) {
	s := Default()
	got, err := s.HistoryPractices([]string{"p1", "P2"}, []float64{1000.4, 2}, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1000, 2} {
		n := 0
		for _, v := range append(append([]int(nil), got[i].List.Male...), got[i].List.Female...) {
			n += v
		}
		if n != want || got[i].Need != 1 {
			t.Errorf("practice %s: %d patients, need %v; want %d, 1", got[i].ID, n, got[i].Need, want)
		}
	}
	if _, err := s.HistoryPractices([]string{"p1"}, nil, ""); !errors.Is(err, ErrNoListSize) {
		t.Errorf("no lists: %v", err)
	}
	if _, err := s.HistoryPractices([]string{"p1"}, []float64{0.2}, ""); !errors.Is(err, ErrNoListSize) {
		t.Errorf("a list that rounds to 0: %v", err)
	}
	spec := ApportionList("A81001", 3000, s.AreaAgeShare())
	var buf bytes.Buffer
	if err := WritePopulation(&buf, []PracticeSpec{spec}, "99Z", "01APR2020"); err != nil {
		t.Fatal(err)
	}
	pop := filepath.Join(t.TempDir(), "pop.csv")
	if err := os.WriteFile(pop, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = s.HistoryPractices([]string{"a81001"}, nil, pop)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].ID != "a81001" || got[0].List.Female[3] != spec.List.Female[3] || got[0].List.Male[10] != spec.List.Male[10] {
		t.Errorf("from the file: %+v, want the lists of %+v", got[0], spec)
	}
	if _, err := s.HistoryPractices([]string{"A81001", "B1"}, nil, pop); err == nil || !strings.Contains(err.Error(), "has no practice B1") {
		t.Errorf("a practice the file lacks: %v", err)
	}
}
