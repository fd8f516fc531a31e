// Package architecture holds the test that keeps the pipeline's layers
// apart (docs/architecture.md): it lists every package's imports with
// 'go list' and fails on an import the rules forbid.
package architecture

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Imports    []string
	GoFiles    []string
	Dir        string
}

// packages lists the module's packages (not their tests: a test may use
// any package to set up what it checks).
func packages(t *testing.T) (string, []pkg) {
	t.Helper()
	mod, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	cmd := exec.Command("go", "list", "-json", "../...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ps []pkg
	dec := json.NewDecoder(out)
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
	return strings.TrimSpace(string(mod)), ps
}

// rule says which of the project's packages a package may import; nil
// allows any.
var rules = map[string]func(imp string) bool{
	// The engine knows no file format, flag or report.
	"sim": func(string) bool { return false },
	// The run-folder format is usable without the engine's callers.
	"runfolder": func(imp string) bool { return imp == "sim" },
}

func TestImportRules(t *testing.T) {
	mod, ps := packages(t)
	if len(ps) < 8 {
		t.Fatalf("go list found %d packages", len(ps))
	}
	seen := map[string]bool{}
	for _, p := range ps {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		seen[rel] = true
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, mod+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, mod+"/")
			if allowed, ok := rules[rel]; ok && !allowed(dep) {
				t.Errorf("%s imports %s: %s may import no project package%s", rel, dep, rel, map[bool]string{true: " but sim", false: ""}[rel == "runfolder"])
			}
			if strings.HasPrefix(dep, "cmd/") && !strings.HasPrefix(rel, "cmd/") {
				t.Errorf("%s imports %s: nothing imports a command", rel, dep)
			}
			// The report draws results; running the engine is run's job.
			if rel == "report" && (dep == "run" || dep == "sim") {
				t.Errorf("report imports %s: a page does not run the engine", dep)
			}
			if rel == "analysis" && dep == "run" {
				t.Errorf("analysis imports run: statistics do not run the engine")
			}
			// The page is a front end, as the command line is.
			if dep == "web" && !strings.HasPrefix(rel, "cmd/") && rel != "bench" {
				t.Errorf("%s imports web: only the command line (and benchmarks) use the page's server", rel)
			}
		}
	}
	for _, want := range []string{"sim", "runfolder", "run", "analysis", "report", "web", "cmd/gpbudget"} {
		if !seen[want] {
			t.Errorf("no package %s: update the rules with docs/architecture.md", want)
		}
	}
}

// TestRulesCatchAViolation: the rules fail on a forbidden import (checked
// on a made-up package list, since the real one must pass).
func TestRulesCatchAViolation(t *testing.T) {
	if rules["runfolder"]("run") || rules["sim"]("runfolder") || !rules["runfolder"]("sim") {
		t.Error("the rules allow what they should forbid")
	}
}
