package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestAreasAndRunOnAnArea: areas lists the 42 ICBs of 2022/23 with every
// registered patient (61,194,033 in the source file); a run on one ICB
// writes its real practices with their units; an unknown or ambiguous
// area is bad input naming the nearest.
func TestAreasAndRunOnAnArea(t *testing.T) {
	dir := t.TempDir()
	code, out := gpbudget(t, dir, "areas", "--level", "icb", "--json")
	if code != 0 {
		t.Fatalf("areas: exit %d: %s", code, out)
	}
	var as []struct {
		Code, Name, Level   string
		Practices, Patients int
	}
	if err := json.Unmarshal([]byte(out), &as); err != nil {
		t.Fatalf("areas --json: %v: %.200s", err, out)
	}
	n := 0
	for _, a := range as {
		n += a.Patients
	}
	if len(as) != 42 || n != 61_194_033 || as[0].Level != "icb" {
		t.Errorf("areas: %d ICBs, %d patients; want 42, 61194033", len(as), n)
	}
	code, out = gpbudget(t, dir, "areas", "--level", "pcn", "--in", "QOC", "--json")
	if err := json.Unmarshal([]byte(out), &as); code != 0 || err != nil || len(as) != 9 {
		t.Errorf("areas --level pcn --in QOC: exit %d, %d PCNs (want 9): %.200s", code, len(as), out)
	}
	code, out = gpbudget(t, dir, "run", "--scenario", "england-2023", "--area", "QOC", "--cohort", "--reps", "2", "--years", "1", "--seed", "1", "--out", "r", "--quiet")
	if code != 0 {
		t.Fatalf("run --area QOC: exit %d: %s", code, out)
	}
	ids := map[string]bool{}
	for _, r := range readRows(t, filepath.Join(dir, "r")) {
		ids[r.PracticeID] = true
		if r.ICB != "QOC" || r.Region != "Y60" || r.Place == "" || !strings.HasPrefix(r.PCN, "U") {
			t.Fatalf("row of %s: pcn %q place %q icb %q region %q; want QOC's", r.PracticeID, r.PCN, r.Place, r.ICB, r.Region)
		}
	}
	if len(ids) != 52 || !ids["M82046"] {
		t.Errorf("%d practices, want QOC's 52 (M82046 among them)", len(ids))
	}
	for _, c := range []struct{ area, want string }{
		{"no-such-area-xyz", "nearest"},
		{"North", "ambiguous"},
	} {
		code, out = gpbudget(t, dir, "run", "--scenario", "england-2023", "--area", c.area, "--cohort", "--reps", "2", "--years", "1", "--out", "x", "--quiet")
		if code != exitInput || !strings.Contains(out, c.want) {
			t.Errorf("run --area %s: exit %d (want %d), output %q lacks %q", c.area, code, exitInput, out, c.want)
		}
	}
}
