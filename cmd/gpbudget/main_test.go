package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets tests run the real main() in a child process, so exit
// statuses are checked as a user sees them.
func TestMain(m *testing.M) {
	if os.Getenv("GPBUDGET_TEST_MAIN") == "1" {
		os.Args = append([]string{"gpbudget"}, strings.Fields(os.Getenv("GPBUDGET_TEST_ARGS"))...)
		if argv := os.Getenv("GPBUDGET_TEST_ARGV"); argv != "" {
			// Exact arguments (an empty one included), as JSON.
			var args []string
			if err := json.Unmarshal([]byte(argv), &args); err != nil {
				panic(err)
			}
			os.Args = append([]string{"gpbudget"}, args...)
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// gpbudget runs the command in a child process and returns its status and output.
func gpbudget(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	return runMain(t, dir, "GPBUDGET_TEST_ARGS="+strings.Join(args, " "))
}

// gpbudgetArgv runs the command with exactly args (an empty one kept).
func gpbudgetArgv(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(args)
	return runMain(t, dir, "GPBUDGET_TEST_ARGV="+string(b))
}

// runMain runs main() in a child process with the arguments in env.
func runMain(t *testing.T, dir, env string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GPBUDGET_TEST_MAIN=1", env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String()
}

const smallScenario = `name: small
population:
  synthetic:
    practices: 4
`

func TestRunWritesResultsAndManifest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "small.yaml"), []byte(smallScenario), 0o644)
	code, out := gpbudget(t, dir, "run", "--scenario", "small.yaml", "--reps", "3", "--years", "2", "--seed", "7", "--out", "res")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	// The headline: overspend chances by band and the reserve, and where
	// the full tables and the report come from.
	for _, want := range []string{"by >5%", "by >10%", "reserve", "at 95%", "at 99%", "gpbudget summarize res", "gpbudget report res"} {
		if !strings.Contains(out, want) {
			t.Errorf("run's output lacks %q:\n%s", want, out)
		}
	}
	var man struct {
		Completed    bool     `json:"completed"`
		Seed         uint64   `json:"seed"`
		Replications int      `json:"replications"`
		Rows         int      `json:"rows"`
		Files        []string `json:"files"`
		Scenario     struct {
			Name  string `json:"name"`
			Years int    `json:"years"`
		} `json:"scenario"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "res", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	if !man.Completed || man.Seed != 7 || man.Replications != 3 || man.Rows != 3*2*4 || man.Scenario.Name != "small" || man.Scenario.Years != 2 || len(man.Files) == 0 {
		t.Errorf("manifest: %s", b)
	}
	for _, f := range man.Files {
		if _, err := os.Stat(filepath.Join(dir, "res", f)); err != nil {
			t.Error(err)
		}
	}
}

// Bad input exits with status 2, names what is wrong, and leaves no result.
func TestBadInputExitsTwoAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("name: x\nstreams:\n  ae:\n    dispersion: -2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "small.yaml"), []byte(smallScenario), 0o644)
	os.WriteFile(filepath.Join(dir, "afile"), []byte("x"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--scenario", "bad.yaml", "--out", "r1"}, "bad.yaml:4: streams.ae.dispersion"},
		{[]string{"run", "--scenario", "small.yaml", "--reps", "0", "--out", "r2"}, "--reps 0"},
		{[]string{"run", "--scenario", "small.yaml", "--workers", "0", "--out", "r3"}, "--workers 0"},
		{[]string{"run", "--scenario", "small.yaml", "--out", "afile/sub"}, "afile/sub"},
		{[]string{"run", "--scenario", "nope", "--out", "r4"}, "no built-in scenario"},
		{[]string{"run", "--no-such-flag"}, "no-such-flag"},
		{[]string{"validate", "bad.yaml"}, "accepted 0 to"},
	} {
		code, out := gpbudget(t, dir, c.args...)
		if code != 2 || !strings.Contains(out, c.want) {
			t.Errorf("%v: exit %d, output %q (want 2 and %q)", c.args, code, out, c.want)
		}
	}
	for _, d := range []string{"r1", "r2", "r3", "r4"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			t.Errorf("%s was created by a run with bad input", d)
		}
	}
}

func TestScenariosValidateSchema(t *testing.T) {
	dir := t.TempDir()
	code, out := gpbudget(t, dir, "scenarios")
	if code != 0 || !strings.Contains(out, "default") {
		t.Errorf("scenarios: %d %s", code, out)
	}
	code, out = gpbudget(t, dir, "validate", "default")
	if code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("validate: %d %s", code, out)
	}
	code, out = gpbudget(t, dir, "schema")
	var v map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Errorf("schema: %d %.200s", code, out)
	}
}

// --cohort runs, is recorded in the manifest (a resume keeps the mode), and
// refuses a scenario with a per-patient stop-loss.
func TestCohortFlag(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "small.yaml"), []byte(smallScenario), 0o644)
	code, out := gpbudget(t, dir, "run", "--cohort", "--scenario", "small.yaml", "--reps", "3", "--years", "2", "--out", "c", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "c", "manifest.json"))
	if !strings.Contains(string(b), `"cohort": true`) || !strings.Contains(string(b), `"completed": true`) {
		t.Errorf("manifest does not record a completed cohort run: %.300s", b)
	}
	if code, out := gpbudget(t, dir, "run", "--cohort", "--scenario", "fundholding-1996", "--reps", "1", "--out", "f"); code != 2 || !strings.Contains(out, "stop-loss") {
		t.Errorf("cohort with a stop-loss: exit %d, %s", code, out)
	}
}
