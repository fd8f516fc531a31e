package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// Issue 13's inputs that were accepted, ran the default, hung or wrapped:
// each now exits 2, quickly, naming what is wrong and what is accepted.
func TestIssue13InputsExitTwo(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"small.yaml":    smallScenario,
		"zero.yaml":     "name: zero\nfrailty:\n  share: [0.62, 0.26, 0.10, 0.02]\n  level: [0, 0, 0, 0]\n",
		"zmort.yaml":    "name: zm\nfrailty:\n  mortality: [0, 0, 0, 0]\n",
		"empty.yaml":    "",
		"twodocs.yaml":  smallScenario + "---\nname: other\n",
		"manyreps.yaml": smallScenario + "replications: 1000000000000\n",
		"hist.csv": "practice_id,year,list_size,spend_outpatient,spend_prescribing,spend_ae,spend_emergency,spend_elective\n" +
			"A,2999999998,5000,1,1,1,1,1\nA,2999999999,5000,1,1,1,1,1\nA,3000000000,5000,1,1,1,1,1\n",
	}
	for name, text := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"validate", "zero.yaml"}, []string{"zero.yaml:4: frailty.level", "share-weighted mean"}},
		{[]string{"run", "--scenario", "zero.yaml", "--reps", "1", "--years", "1", "--out", "z", "-q"}, []string{"frailty.level"}},
		{[]string{"validate", "zmort.yaml"}, []string{"zmort.yaml:3: frailty.mortality"}},
		{[]string{"validate", "empty.yaml"}, []string{"empty.yaml: has no scenario"}},
		{[]string{"run", "--scenario", "empty.yaml", "--out", "e", "-q"}, []string{"has no scenario"}},
		{[]string{"validate", "twodocs.yaml"}, []string{"twodocs.yaml:5:", "second YAML document"}},
		{[]string{"validate", "manyreps.yaml"}, []string{"replications", "accepted 1 to 2147483647"}},
		{[]string{"run", "--scenario", "small.yaml", "--reps", "1000000000000", "--out", "r", "-q"}, []string{"replications", "accepted 1 to"}},
		{[]string{"run", "--scenario", "small.yaml", "--reps", "2000000000", "--years", "50", "--out", "r", "-q"}, []string{"limits.patient_years", "raise limits.patient_years"}},
		{[]string{"compare", "small.yaml", "default", "--reps", "2000000000", "--years", "50"}, []string{"limits.patient_years"}},
		{[]string{"run", "--scenario", "small.yaml", "--years", "3000000000", "--out", "r", "-q"}, []string{"--years 3000000000", "1 to 50"}},
		{[]string{"run", "--scenario", "small.yaml", "--checkpoint", "-1s", "--out", "r", "-q"}, []string{"--checkpoint -1s", "accepted 0"}},
		{[]string{"backtest", "--uplift", "Inf"}, []string{"--uplift +Inf", "accepted -1 (exclusive) to 1"}},
		{[]string{"backtest", "--uplift", "NaN"}, []string{"--uplift NaN"}},
		{[]string{"backtest", "--uplift", "-5"}, []string{"--uplift -5"}},
		{[]string{"forecast", "--history", "hist.csv", "--out", "fc"}, []string{"hist.csv: practice A, year 2999999998", "0 to 9999"}},
		{[]string{"no-such-command"}, []string{`"no-such-command" is not a command`, "run, compare"}},
		{[]string{"help", "no-such-command"}, []string{"No help topic"}},
	} {
		start := time.Now()
		code, out := gpbudget(t, dir, c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d (want 2): %s", c.args, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output %q lacks %q", c.args, out, w)
			}
		}
		if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic:") {
			t.Errorf("%v: a stack dump reached the user: %s", c.args, out)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%v: took %v", c.args, d)
		}
	}
	for _, d := range []string{"z", "e", "r", "fc"} {
		if _, err := os.Stat(filepath.Join(dir, d)); err == nil {
			t.Errorf("%s was created by a command with bad input", d)
		}
	}
}

// run's exit statuses: 0, 2 for bad input, 1 for another failure, and 70 for
// a panic, which is reported as a bug with the version and where it
// happened, without a stack dump.
func TestExitStatuses(t *testing.T) {
	app := newApp()
	var m map[string]int
	app.Commands = append(app.Commands,
		&cli.Command{Name: "ok", Action: func(*cli.Context) error { return nil }},
		&cli.Command{Name: "input", Action: func(*cli.Context) error { return badInput("--x 3 is out of range") }},
		&cli.Command{Name: "fail", Action: func(*cli.Context) error { return errors.New("disk full") }},
		&cli.Command{Name: "wrapped", Action: func(*cli.Context) error { return errors.Join(errors.New("run"), inputError{errors.New("bad file")}) }},
		&cli.Command{Name: "panic", Action: func(*cli.Context) error { m["x"] = 1; return nil }},
	)
	for _, c := range []struct {
		cmd  string
		code int
		want []string
	}{
		{"ok", 0, nil},
		{"input", 2, []string{"gpbudget: --x 3 is out of range"}},
		{"fail", 1, []string{"gpbudget: disk full"}},
		{"wrapped", 2, []string{"bad file"}},
		{"panic", 70, []string{"gpbudget " + version + ": internal error: assignment to entry in nil map", "exit_test.go", "This is a bug in gpbudget"}},
	} {
		var stderr bytes.Buffer
		app.Writer = &bytes.Buffer{}
		if code := run(context.Background(), app, []string{"gpbudget", c.cmd}, &stderr); code != c.code {
			t.Errorf("%s: exit %d, want %d (%s)", c.cmd, code, c.code, stderr.String())
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s: %q lacks %q", c.cmd, stderr.String(), w)
			}
		}
		if strings.Contains(stderr.String(), "goroutine ") {
			t.Errorf("%s: a stack dump: %s", c.cmd, stderr.String())
		}
	}
}
