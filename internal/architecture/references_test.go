package architecture

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The patterns are split so that this file matches none of them.
var (
	citation = regexp.MustCompile(`\[` + `ref ([^\]]*)\]`)
	section  = regexp.MustCompile(`§([0-9]+)`)
	heading  = regexp.MustCompile(`(?m)^## §([0-9]+) \S`)
	outside  = []string{"../" + "shared", "shared/" + "reference", "shared/" + "data", "shared " + "data/"}
)

// refSections reads docs/references.md: its sections (## §N Title) and, for
// each, its entries (lines "- " with their continuation lines).
func refSections(doc string) map[int][]string {
	secs := map[int][]string{}
	cur := 0
	for _, line := range strings.Split(doc, "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			cur, _ = strconv.Atoi(m[1])
			secs[cur] = nil
			continue
		}
		switch {
		case strings.HasPrefix(line, "## "):
			cur = 0
		case cur == 0:
		case strings.HasPrefix(line, "- "):
			secs[cur] = append(secs[cur], line[2:])
		case strings.HasPrefix(line, "  ") && len(secs[cur]) > 0:
			secs[cur][len(secs[cur])-1] += " " + strings.TrimSpace(line)
		}
	}
	return secs
}

// citationProblems checks the files' citations against the reference list:
// each citation names a section that exists, each section is cited and
// each of its entries says which figures the project uses ("Used:"), and no
// file points outside the project.
func citationProblems(refs string, files map[string]string) []string {
	var bad []string
	secs := refSections(refs)
	if len(secs) == 0 {
		bad = append(bad, "docs/references.md has no \"## §N\" section")
	}
	for n, entries := range secs {
		if len(entries) == 0 {
			bad = append(bad, fmt.Sprintf("docs/references.md §%d lists no source", n))
		}
		for _, e := range entries {
			if !strings.Contains(e, "Used:") {
				bad = append(bad, fmt.Sprintf("docs/references.md §%d: %.60q... does not say which figures the project uses (\"Used: ...\")", n, e))
			}
		}
	}
	cited := map[int]bool{}
	for name, text := range files {
		for _, p := range outside {
			if strings.Contains(text, p) {
				bad = append(bad, fmt.Sprintf("%s points outside the project (%s)", name, p))
			}
		}
		for _, m := range citation.FindAllStringSubmatch(text, -1) {
			ns := section.FindAllStringSubmatch(m[1], -1)
			if len(ns) == 0 {
				if m[1] != "§n" { // the convention's own description
					bad = append(bad, fmt.Sprintf("%s: %s names no section", name, m[0]))
				}
				continue
			}
			for _, s := range ns {
				n, _ := strconv.Atoi(s[1])
				cited[n] = true
				if _, ok := secs[n]; !ok {
					bad = append(bad, fmt.Sprintf("%s: %s: docs/references.md has no §%d", name, m[0], n))
				}
			}
		}
	}
	for n := range secs {
		if !cited[n] {
			bad = append(bad, fmt.Sprintf("docs/references.md §%d is cited nowhere", n))
		}
	}
	slices.Sort(bad)
	return slices.Compact(bad)
}

// projectTexts reads every text file under root (nested modules included,
// not .git), by path relative to root.
func projectTexts(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > 4<<20 {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.IndexByte(b[:min(len(b), 8000)], 0) >= 0 {
			return nil // binary
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestReferences: every citation in the project resolves to a section of
// docs/references.md, every section is cited and says which figures are
// used, and nothing points outside the project.
func TestReferences(t *testing.T) {
	_, root, _ := packages(t)
	refs, err := os.ReadFile(filepath.Join(root, "docs", "references.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := projectTexts(t, root)
	if len(files) < 100 {
		t.Fatalf("read %d files under %s", len(files), root)
	}
	for _, p := range citationProblems(string(refs), files) {
		t.Error(p)
	}
}

// TestReferencesCatchAProblem: each kind of problem is reported on a
// made-up reference list and tree (the sound one passes).
func TestReferencesCatchAProblem(t *testing.T) {
	ref := func(n int) string { return "[" + "ref §" + strconv.Itoa(n) + "]" }
	refs := "# References\n\n## §1 Practices\n- Author A. Title. Journal 2001;1:1. Used: 8,300\n  practices.\n\n" +
		"## §2 Costs\n- Author B. Title. 2002. Used: £9.64 an item.\n\n## Notes\n- not a source\n"
	good := map[string]string{"a.go": "// 8,300 " + ref(1), "b.md": "£9.64 [" + "ref §1, §2] and [" + "ref §n]"}
	if p := citationProblems(refs, good); len(p) != 0 {
		t.Fatalf("a sound tree reported: %v", p)
	}
	for _, c := range []struct {
		name  string
		refs  string
		files map[string]string
	}{
		{"a citation of a missing section", refs, map[string]string{"a.go": ref(1) + ref(2) + ref(3)}},
		{"a citation without a section", refs, map[string]string{"a.go": ref(1) + ref(2) + "[" + "ref Smith 1999]"}},
		{"a section cited nowhere", refs, map[string]string{"a.go": ref(1)}},
		{"an entry without the figure used", strings.Replace(refs, "Used: £9.64", "£9.64", 1), good},
		{"a section without entries", refs + "## §3 Empty\n", map[string]string{"a.go": ref(1) + ref(2) + ref(3)}},
		{"a path outside the project", refs, map[string]string{"a.go": ref(1) + ref(2), "c.py": "# see ../" + "shared/x"}},
	} {
		if p := citationProblems(c.refs, c.files); len(p) == 0 {
			t.Errorf("%s: not reported", c.name)
		}
	}
}
