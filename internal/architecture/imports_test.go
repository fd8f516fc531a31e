// Package architecture holds the test that keeps the pipeline's layers
// apart: it reads the allowed imports from the package table in
// docs/architecture.md, lists every package's imports with 'go list', and
// fails on an import the table forbids, on a package the table omits and on
// a row naming no package, so the map and the code cannot drift apart; it
// also checks the engine's "no I/O, no file format" and that the top-level
// table names every top-level folder. references_test.go holds the
// citations to docs/references.md.
package architecture

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Imports    []string
	Dir        string
	GoFiles    []string
}

// rule is one row of the table: the project packages a package may import
// and the packages that may import it; a nil list allows any.
type rule struct {
	imports    []string
	importedBy []string
}

var ticked = regexp.MustCompile("`([^`]+)`")

// list reads one cell of the table: "any" (nil), "nothing" (empty) or
// backticked package paths.
func list(cell string) ([]string, error) {
	cell = strings.TrimSpace(cell)
	switch cell {
	case "any":
		return nil, nil
	case "nothing":
		return []string{}, nil
	}
	var ps []string
	for _, m := range ticked.FindAllStringSubmatch(cell, -1) {
		ps = append(ps, m[1])
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("cell %q: want any, nothing or `package` names", cell)
	}
	return ps, nil
}

// parseRules reads the table under "## Packages": columns package, holds,
// imports, imported by.
func parseRules(doc string) (map[string]rule, error) {
	_, sec, ok := strings.Cut(doc, "\n## Packages\n")
	if !ok {
		return nil, fmt.Errorf("no \"## Packages\" section")
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	rules := map[string]rule{}
	for _, line := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 {
			return nil, fmt.Errorf("row %.40q: %d columns, want 4", line, len(cells))
		}
		name := strings.Trim(cells[0], "` ")
		imps, err := list(cells[2])
		if err != nil {
			return nil, fmt.Errorf("%s imports: %w", name, err)
		}
		by, err := list(cells[3])
		if err != nil {
			return nil, fmt.Errorf("%s imported by: %w", name, err)
		}
		if _, dup := rules[name]; dup {
			return nil, fmt.Errorf("%s: two rows", name)
		}
		rules[name] = rule{imports: imps, importedBy: by}
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("no rows in the package table")
	}
	return rules, nil
}

// violations checks packages (paths relative to the module) against the
// rules.
func violations(mod string, ps []pkg, rules map[string]rule) []string {
	var bad []string
	seen := map[string]bool{}
	for _, p := range ps {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		seen[rel] = true
		r, ok := rules[rel]
		if !ok {
			bad = append(bad, fmt.Sprintf("package %s has no row in docs/architecture.md's table", rel))
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, mod+"/")
			if r.imports != nil && !slices.Contains(r.imports, dep) {
				bad = append(bad, fmt.Sprintf("%s imports %s: the table allows %s only %v", rel, dep, rel, r.imports))
			}
			if strings.HasPrefix(dep, "cmd/") && !strings.HasPrefix(rel, "cmd/") {
				bad = append(bad, fmt.Sprintf("%s imports %s: nothing imports a command", rel, dep))
			}
			if d, ok := rules[dep]; ok && d.importedBy != nil && !slices.Contains(d.importedBy, rel) {
				bad = append(bad, fmt.Sprintf("%s imports %s: the table lets only %v import %s", rel, dep, d.importedBy, dep))
			}
		}
	}
	for name := range rules {
		if !seen[name] {
			bad = append(bad, fmt.Sprintf("docs/architecture.md's table names %s, which is no package", name))
		}
	}
	slices.Sort(bad)
	return bad
}

// packages lists the module's packages (not their tests: a test may use
// any package to set up what it checks) and returns the module's path and
// root folder.
func packages(t *testing.T) (mod, root string, ps []pkg) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	mod, root, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(stdout)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	return mod, root, ps
}

func TestImportRules(t *testing.T) {
	mod, root, ps := packages(t)
	if len(ps) < 8 {
		t.Fatalf("go list found %d packages", len(ps))
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := parseRules(string(doc))
	if err != nil {
		t.Fatalf("docs/architecture.md: %v", err)
	}
	for _, v := range violations(mod, ps, rules) {
		t.Error(v)
	}
}

// TestRulesCatchAViolation: each kind of rule fails on a made-up package
// list that breaks it (the real one must pass).
func TestRulesCatchAViolation(t *testing.T) {
	const m = "example.org/m"
	doc := "# A\n\n## Packages\n\n| package | holds | imports | imported by |\n| --- | --- | --- | --- |\n" +
		"| `sim` | engine | nothing | any |\n" +
		"| `output/runfolder` | format | `sim` | any |\n" +
		"| `internal/web` | page | any | `cmd/gpbudget` |\n" +
		"| `cmd/gpbudget` | CLI | any | nothing |\n\n## Next\n\n| `ignored` | x | y | z |\n"
	rules, err := parseRules(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 4 {
		t.Fatalf("parsed %d rows, want 4 (the next section's table is not the package table)", len(rules))
	}
	good := []pkg{
		{ImportPath: m + "/sim"},
		{ImportPath: m + "/output/runfolder", Imports: []string{"fmt", m + "/sim"}},
		{ImportPath: m + "/internal/web", Imports: []string{m + "/output/runfolder", m + "/sim"}},
		{ImportPath: m + "/cmd/gpbudget", Imports: []string{m + "/internal/web", m + "/sim"}},
	}
	if v := violations(m, good, rules); len(v) != 0 {
		t.Fatalf("allowed imports reported: %v", v)
	}
	for _, c := range []struct {
		name string
		edit func([]pkg) []pkg
	}{
		{"sim imports a project package", func(p []pkg) []pkg { p[0].Imports = []string{m + "/output/runfolder"}; return p }},
		{"runfolder imports beyond its list", func(p []pkg) []pkg { p[1].Imports = append(p[1].Imports, m+"/internal/web"); return p }},
		{"a package imports a command", func(p []pkg) []pkg { p[2].Imports = append(p[2].Imports, m+"/cmd/gpbudget"); return p }},
		{"web imported by one the table does not name", func(p []pkg) []pkg {
			return append(p, pkg{ImportPath: m + "/bench", Imports: []string{m + "/internal/web"}})
		}},
		{"a package without a row", func(p []pkg) []pkg { return append(p, pkg{ImportPath: m + "/extra"}) }},
		{"a row without a package", func(p []pkg) []pkg { return p[1:] }},
	} {
		ps := slices.Clone(good)
		for i := range ps {
			ps[i].Imports = slices.Clone(ps[i].Imports)
		}
		if len(violations(m, c.edit(ps), rules)) == 0 {
			t.Errorf("%s: not reported", c.name)
		}
	}
	for _, bad := range []string{
		"# A\n",
		"## Packages\n\n| `sim` | engine | nothing |\n",
		"## Packages\n\n| `sim` | engine | some | any |\n",
	} {
		if _, err := parseRules("\n" + bad); err == nil {
			t.Errorf("table %q parsed without error", bad)
		}
	}
}

// The engine does no I/O and knows no file format (the table's row for
// sim): of the standard library it imports none of the packages that
// reach files, the network, processes or encodings, of other modules only
// gonum, and it calls none of fmt's printing or scanning functions.
var (
	ioPackages = []string{"os", "io", "bufio", "net", "encoding", "path", "log", "archive", "compress",
		"database", "html", "text/template", "image", "mime", "syscall", "plugin", "embed"}
	ioCalls = regexp.MustCompile(`^(Print|Fprint|Scan|Fscan|Sscan)`)
)

// engineIO lists what in the engine's imports and calls reaches I/O or a
// file format: imports (import paths) and, for each file (name to source),
// fmt's printing and scanning calls.
func engineIO(imports []string, files map[string]string) []string {
	var bad []string
	for _, imp := range imports {
		first, _, _ := strings.Cut(imp, "/")
		switch {
		case strings.Contains(first, "."):
			if !strings.HasPrefix(imp, "gonum.org/") && !strings.Contains(imp, "/gpbudget/") {
				bad = append(bad, fmt.Sprintf("sim imports %s: of other modules the engine uses gonum only", imp))
			}
		default:
			for _, p := range ioPackages {
				if imp == p || strings.HasPrefix(imp, p+"/") {
					bad = append(bad, fmt.Sprintf("sim imports %s: the engine does no I/O and knows no file format", imp))
				}
			}
		}
	}
	for name, src := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, src, 0)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "fmt" && ioCalls.MatchString(sel.Sel.Name) {
					bad = append(bad, fmt.Sprintf("%s calls fmt.%s: the engine does no I/O", name, sel.Sel.Name))
				}
			}
			return true
		})
	}
	slices.Sort(bad)
	return bad
}

func TestEngineDoesNoIO(t *testing.T) {
	mod, _, ps := packages(t)
	for _, p := range ps {
		if p.ImportPath != mod+"/sim" {
			continue
		}
		files := map[string]string{}
		for _, f := range p.GoFiles {
			b, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			files["sim/"+f] = string(b)
		}
		if len(files) < 5 {
			t.Fatalf("sim has %d files", len(files))
		}
		for _, v := range engineIO(p.Imports, files) {
			t.Error(v)
		}
		return
	}
	t.Fatal("go list found no package sim")
}

func TestEngineIOCaught(t *testing.T) {
	good := map[string]string{"a.go": "package sim\nimport \"fmt\"\nfunc f() error { return fmt.Errorf(\"x %s\", fmt.Sprint(1)) }\n"}
	if v := engineIO([]string{"fmt", "math/rand/v2", "gonum.org/v1/gonum/mat"}, good); len(v) != 0 {
		t.Fatalf("sound engine reported: %v", v)
	}
	for _, c := range []struct {
		imports []string
		files   map[string]string
	}{
		{[]string{"os"}, good},
		{[]string{"encoding/json"}, good},
		{[]string{"path/filepath"}, good},
		{[]string{"github.com/parquet-go/parquet-go"}, good},
		{nil, map[string]string{"b.go": "package sim\nimport \"fmt\"\nfunc f() { fmt.Println(1) }\n"}},
		{nil, map[string]string{"b.go": "package sim\nimport \"fmt\"\nfunc f(s string) { var x int; fmt.Sscan(s, &x) }\n"}},
	} {
		if len(engineIO(c.imports, c.files)) == 0 {
			t.Errorf("%v %v: not reported", c.imports, c.files)
		}
	}
}

// TestTopLevel: the table under "## The top level" names each top-level
// folder of the repository (those git tracks, not hidden), each once, and
// no other.
func TestTopLevel(t *testing.T) {
	_, root, _ := packages(t)
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("SKIPPED: git ls-files: %v; the top-level table was not checked", err)
	}
	dirs := map[string]bool{}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if d, _, ok := strings.Cut(f, "/"); ok && !strings.HasPrefix(d, ".") {
			dirs[d] = true
		}
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range topLevelProblems(string(doc), dirs) {
		t.Error(v)
	}
}

func topLevelProblems(doc string, dirs map[string]bool) []string {
	_, sec, ok := strings.Cut(doc, "\n## The top level\n")
	if !ok {
		return []string{"docs/architecture.md has no \"## The top level\" section"}
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	var bad []string
	named := map[string]bool{}
	for _, line := range strings.Split(sec, "\n") {
		m := regexp.MustCompile("^\\| `([^`/]+)/` \\|").FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if named[m[1]] {
			bad = append(bad, fmt.Sprintf("the top-level table names %s/ twice", m[1]))
		}
		named[m[1]] = true
		if !dirs[m[1]] {
			bad = append(bad, fmt.Sprintf("the top-level table names %s/, which is no folder of the repository", m[1]))
		}
	}
	for d := range dirs {
		if !named[d] {
			bad = append(bad, fmt.Sprintf("top-level folder %s/ has no row in docs/architecture.md's \"The top level\" (say why it exists)", d))
		}
	}
	slices.Sort(bad)
	return bad
}

func TestTopLevelCaught(t *testing.T) {
	doc := "# A\n\n## The top level\n\n| folder | why |\n| --- | --- |\n| `cmd/` | CLI |\n| `sim/` | engine |\n\n## Packages\n| `x/` | y |\n"
	if v := topLevelProblems(doc, map[string]bool{"cmd": true, "sim": true}); len(v) != 0 {
		t.Fatalf("sound table reported: %v", v)
	}
	for _, dirs := range []map[string]bool{{"cmd": true}, {"cmd": true, "sim": true, "extra": true}} {
		if len(topLevelProblems(doc, dirs)) == 0 {
			t.Errorf("folders %v: not reported", dirs)
		}
	}
}
