package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/sim"
)

// FuzzParse: any input either loads into a scenario whose model builds and
// runs, or fails with a scenarios.Error naming the file; never a panic, a
// silent default, a hang or a NaN. A scenario that validates is shrunk to at
// most two small practices and run for one replication of one year, at
// patient level and (without a stop-loss) in cohort mode, under a time
// limit; every number in its rows and ledger must be finite. Seed corpus:
// the built-in scenarios and testdata/scenarios/*.yaml.
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
		shrink(s)
		m, err := s.Model(1)
		if err == nil {
			err = s.CheckRun(m, 1, 1)
		}
		if err != nil {
			// Only what Parse cannot know: the drawn population against the
			// limits (the file's own, which may be tiny), and the engine's
			// count tables against the drawn need and style.
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz.yaml" || !(strings.HasPrefix(e.Field, "limits.") || strings.Contains(e.Msg, "does not fit in")) {
				t.Fatalf("scenario validated but its model does not build: %v", err)
			}
			return
		}
		runTiny(t, m, false)
		if !m.StopLoss.Active() {
			runTiny(t, m, true)
		}
	})
}

// shrink keeps a scenario's model small: the fuzzer's job is what the
// scenario says, not the engine's speed. At most two practices of at most
// about 50 patients a band, so every band with patients keeps some.
func shrink(s *Scenario) {
	// An estimated formula's sample, too: a few thousand patients.
	s.RiskAdjustment.SampleSize = min(s.RiskAdjustment.SampleSize, 2000)
	if ps := s.Population.Practices; len(ps) > 0 {
		ps = ps[:min(len(ps), 2)]
		for i := range ps {
			for _, v := range [][]int{ps[i].List.Male, ps[i].List.Female} {
				for b := range v {
					v[b] = min(v[b], 50)
				}
			}
		}
		s.Population.Practices = ps
		return
	}
	if sy := s.Population.Synthetic; sy != nil {
		sy.Practices = min(sy.Practices, 2)
		sy.ListSizeMean = min(sy.ListSizeMean, 1000)
		sy.MaxList = min(sy.MaxList, 2000)
		sy.MinList = min(sy.MinList, sy.MaxList)
	}
}

// runTiny runs one replication of one year and fails on a hang (5 s: the
// run takes milliseconds), an error or a number that is not finite.
func runTiny(t *testing.T, m *sim.Model, cohort bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sink finiteSink
	done := make(chan error, 1)
	go func() {
		done <- sim.Run(ctx, m, sim.Options{Seed: 1, FirstRep: 0, LastRep: 1, Years: 1, Workers: 1, Cohort: cohort}, &sink)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("cohort %v: a valid scenario's run failed: %v", cohort, err)
		}
		if sink.bad != "" {
			t.Fatalf("cohort %v: %s", cohort, sink.bad)
		}
		if sink.rows != len(m.Practices) {
			t.Fatalf("cohort %v: %d rows, want %d", cohort, sink.rows, len(m.Practices))
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("cohort %v: one replication of one year of %d practices still running after 5 s", cohort, len(m.Practices))
	}
}

// finiteSink counts rows and records the first number that is not finite.
type finiteSink struct {
	rows int
	bad  string
}

func (k *finiteSink) Write(r *sim.Replication) error {
	k.rows += len(r.Rows)
	for i := range r.Rows {
		k.check(fmt.Sprintf("row %d", i), reflect.ValueOf(r.Rows[i]))
	}
	for i := range r.Ledger {
		k.check(fmt.Sprintf("ledger entry %d", i), reflect.ValueOf(r.Ledger[i]))
	}
	return nil
}

func (k *finiteSink) check(where string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			k.check(where+"."+v.Type().Field(i).Name, v.Field(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			k.check(fmt.Sprintf("%s[%d]", where, i), v.Index(i))
		}
	case reflect.Float64:
		if x := v.Float(); (math.IsNaN(x) || math.IsInf(x, 0)) && k.bad == "" {
			k.bad = fmt.Sprintf("%s is %v", where, x)
		}
	}
}
