package scenarios

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
)

// bands20 is a YAML list of 20 copies of v.
func bands20(v string) string {
	return "[" + strings.TrimSuffix(strings.Repeat(v+", ", 20), ", ") + "]"
}

// Scenarios that validated one value at a time but broke a run (issue 13):
// each is now refused by Parse with the file, line and field, and what is
// accepted.
func TestWholeVectorsAndCombinationsRefused(t *testing.T) {
	zeros := bands20("0")
	cases := []badCase{
		{"empty file", "", []string{"bad.yaml: has no scenario", "name: mine"}},
		{"blank file", "  \n\n   \n", []string{"bad.yaml: has no scenario"}},
		{"only comments", "# a scenario\n# to come\n", []string{"bad.yaml: has no scenario"}},
		{"only a document marker", "---\n", []string{"bad.yaml: has no scenario"}},
		{"null", "~\n", []string{"bad.yaml: has no scenario"}},
		{"second document", "name: a\n---\nname: b\nyears: 9\n", []string{"bad.yaml:2:", "second YAML document", "one scenario per file"}},
		{"second document with a syntax error", "name: a\n---\nname: [b\n", []string{"bad.yaml:", "not valid YAML"}},
		{"all-zero frailty levels", "name: x\nfrailty:\n  share: [0.62, 0.26, 0.10, 0.02]\n  level: [0, 0, 0, 0]\n", []string{"bad.yaml:4:", "frailty.level", "share-weighted mean", "positive"}},
		{"levels only in empty states", "name: x\nfrailty:\n  share: [1, 0, 0, 0]\n  level: [0, 1, 2, 3]\n", []string{"bad.yaml:4:", "frailty.level", "share-weighted mean"}},
		{"all-zero mortality multipliers", "name: x\nfrailty:\n  mortality: [0, 0, 0, 0]\n", []string{"bad.yaml:3:", "frailty.mortality", "share-weighted mean", "demography.mortality"}},
		{"all-zero age shares", "name: x\npopulation:\n  synthetic:\n    age_share:\n      male: " + zeros + "\n      female: " + zeros + "\n", []string{"bad.yaml:4:", "population.synthetic.age_share", "positive total"}},
		{"all-zero capitation weights", "name: x\nbudget:\n  weights:\n    male: " + zeros + "\n    female: " + zeros + "\n", []string{"bad.yaml:3:", "budget.weights", "capitation total of 0", "accepted weights positive"}},
		{"weights only where no one is", "name: x\npopulation:\n  practices:\n    - id: A\n      need: 1\n      list: {male: " + bands20("10") + ", female: " + zeros + "}\nbudget:\n  weights:\n    male: " + zeros + "\n    female: " + bands20("1") + "\n", []string{"bad.yaml:8:", "budget.weights", "population.practices"}},
		{"nothing spent", "name: x\nstreams:\n" + func() string {
			var b strings.Builder
			for _, n := range streamList() {
				fmt.Fprintf(&b, "  %s:\n    rate: {male: %s, female: %s}\n", n, zeros, zeros)
			}
			return b.String()
		}(), []string{"bad.yaml:2:", "streams", "nothing would be spent"}},
		{"stop-loss under indicative budgets", "name: x\nrule:\n  type: indicative\nstop_loss:\n  threshold: 5000\n  streams: [elective]\n", []string{"bad.yaml:4:", "stop_loss", "would do nothing", "earned_autonomy"}},
		{"stop-loss under the default (indicative) rule", "name: x\nstop_loss:\n  threshold: 5000\n  streams: [elective]\n", []string{"bad.yaml:2:", "stop_loss"}},
		{"a band of 1e12 patients", "name: x\npopulation:\n  practices:\n    - id: A\n      need: 1\n      list: {male: [1000000000000, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0], female: " + zeros + "}\n", []string{"bad.yaml:6:", "population.practices[0].list.male[0]", "limit of 1000000", "limits.patients_per_practice"}},
		{"bands that overflow when added", "name: x\npopulation:\n  practices:\n    - id: A\n      need: 1\n      list: {male: " + bands20("9223372036854775807") + ", female: " + zeros + "}\n", []string{"list.male[19]", "limits.patients_per_practice"}},
		{"a practice over the limit", "name: x\npopulation:\n  practices:\n    - id: A\n      need: 1\n      list: {male: " + bands20("60000") + ", female: " + zeros + "}\n", []string{"bad.yaml:6:", "population.practices[0].list", "1200000 patients", "limits.patients_per_practice"}},
		{"too many patients", "name: x\nlimits:\n  patients: 1000\npopulation:\n  practices:\n    - {id: A, need: 1, list: {male: " + bands20("30") + ", female: " + zeros + "}}\n    - {id: B, need: 1, list: {male: " + bands20("30") + ", female: " + zeros + "}}\n", []string{"population.practices", "up to B", "limits.patients"}},
		{"too many synthetic practices", "name: x\npopulation:\n  synthetic:\n    practices: 20001\n", []string{"bad.yaml:4:", "population.synthetic.practices", "limits.practices"}},
		{"a limit of zero", "name: x\nlimits:\n  patient_years: 0\n", []string{"bad.yaml:3:", "limits.patient_years", "accepted 1 to"}},
		{"a list beyond 32 bits", "name: x\nlimits:\n  patients_per_practice: 3000000000\n", []string{"bad.yaml:3:", "limits.patients_per_practice", "2147483647"}},
	}
	refuses(t, cases)
}

// What stays accepted: a stop-loss for practices that earn hard budgets,
// `{}` (every default, stated), an empty second document, and limits raised
// to take a larger population.
func TestStillAccepted(t *testing.T) {
	for name, y := range map[string]string{
		"stop-loss with earned autonomy": "name: x\nrule:\n  type: indicative\n  earned_autonomy: {years: 2}\nstop_loss:\n  threshold: 5000\n  streams: [elective]\n",
		"stop-loss under hard budgets":   "name: x\nrule: {type: hard}\nstop_loss:\n  threshold: 5000\n  streams: [elective]\n",
		"empty mapping":                  "{}\n",
		"trailing document marker":       "name: x\n---\n# nothing more\n",
		"raised limits":                  "name: x\nlimits: {patients_per_practice: 2000000}\npopulation:\n  practices:\n    - {id: A, need: 1, list: {male: " + bands20("60000") + ", female: " + bands20("0") + "}}\n",
		"zero levels where no one is":    "name: x\nfrailty:\n  share: [0.7, 0.3, 0, 0]\n  level: [0.5, 2, 0, 0]\n",
	} {
		s, err := Parse([]byte(y), "ok.yaml")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.HasPrefix(name, "raised") {
			if _, err := s.Model(1); err != nil {
				t.Errorf("%s: model: %v", name, err)
			}
		}
	}
}

// CheckRun bounds the run size before anything runs: --reps 1e12 was
// accepted and said "about 482352h left".
func TestCheckRunBoundsTheRunSize(t *testing.T) {
	s, err := Parse([]byte("name: small\npopulation:\n  synthetic:\n    practices: 5\n"), "small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	patients := 0
	for i := range m.Practices {
		patients += m.Practices[i].ListSize()
	}
	if err := s.CheckRun(m, 200, 3); err != nil {
		t.Fatalf("a small run: %v", err)
	}
	for _, c := range []struct {
		reps, years int
		want        []string
	}{
		{1_000_000_000_000, 3, []string{"small.yaml: replications", "accepted 1 to 2147483647"}},
		{2_000_000_000, 50, []string{"small.yaml: limits.patient_years", "2000000000 replications x 50 years", "limit of 1e+12", "raise limits.patient_years"}},
		{0, 3, []string{"replications", "accepted 1 to"}},
		{10, 3_000_000_000, []string{"years", "accepted 1 to 50"}},
	} {
		err := s.CheckRun(m, c.reps, c.years)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%d reps x %d years: error %v lacks %q", c.reps, c.years, err, w)
			}
		}
	}
	// Exactly at a limit passes; one patient-year over does not.
	s.Limits.PatientYears = 10 * 4 * patients
	if err := s.CheckRun(m, 10, 3); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	s.Limits.PatientYears--
	if err := s.CheckRun(m, 10, 3); err == nil {
		t.Error("one patient-year over the limit: accepted")
	}
	s.Limits = DefaultLimits()
	s.Limits.PracticeYears = 5*3*10 - 1
	if err := s.CheckRun(m, 10, 3); err == nil || !strings.Contains(err.Error(), "limits.practice_years") {
		t.Errorf("one row over the limit: %v", err)
	}
}

// Practices that arrive after Parse (a population file, a command-line
// change) are checked against the limits before a model is built.
func TestModelChecksLimitsBeforeBuilding(t *testing.T) {
	s := Default()
	big := ApportionList("BIG", 2_000_000, s.AreaAgeShare())
	s.UsePractices([]PracticeSpec{big})
	if _, err := s.Model(1); err == nil || !strings.Contains(err.Error(), "limits.patients_per_practice") {
		t.Errorf("a practice of 2 million: %v", err)
	}
	s = Default()
	s.Population.Synthetic.Practices = 30_000
	if _, err := s.Model(1); err == nil || !strings.Contains(err.Error(), "limits.practices") {
		t.Errorf("30,000 synthetic practices: %v", err)
	}
	s = Default()
	s.Population.Synthetic.Practices = 400
	s.Population.Synthetic.MinList = 400_000
	s.Population.Synthetic.MaxList = 400_000
	if _, err := s.Model(1); err == nil || !strings.Contains(err.Error(), "limits.patients") {
		t.Errorf("160 million synthetic patients: %v", err)
	}
}

// Population files: bounded while read, duplicates and UTF-16 named.
func TestReadPopulationBoundsAndEncoding(t *testing.T) {
	prac, comm, order := testPractices()
	good := nhsFile(false, false, prac, comm, order)
	noAll := func(f string) string {
		var out []string
		for _, l := range strings.Split(f, "\n") {
			if !strings.Contains(l, ",ALL,") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	header, body, _ := strings.Cut(noAll(good), "\n")
	utf16le := func(s string) string {
		var b strings.Builder
		for _, u := range utf16.Encode([]rune(s)) {
			b.WriteByte(byte(u))
			b.WriteByte(byte(u >> 8))
		}
		return b.String()
	}
	many := func(n int) string {
		var b strings.Builder
		b.WriteString("ORG_CODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS\n")
		for i := range n {
			fmt.Fprintf(&b, "P%06d,MALE,30_34,100\n", i)
		}
		return b.String()
	}
	small := DefaultLimits()
	small.Patients = 5000
	cases := []struct {
		name, file string
		lim        Limits
		want       string
	}{
		{"a band of 1e12", strings.Replace(good, ",MALE,0_4,10,", ",MALE,0_4,1000000000000,", 1), DefaultLimits(), "line 2, NUMBER_OF_PATIENTS: 1000000000000 is more than the limit of 1000000 patients a practice"},
		{"a practice of 1.2 million in 20 bands", "ORG_CODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS\n" + func() string {
			var b strings.Builder
			for k := range 20 {
				lbl := "95+"
				if k < 19 {
					lbl = fmt.Sprintf("%d_%d", 5*k, 5*k+4)
				}
				fmt.Fprintf(&b, "A1,FEMALE,%s,60000\n", lbl)
			}
			return b.String()
		}(), DefaultLimits(), "line 18: practice A1 has more than the limit of 1000000 patients"},
		{"too many patients", good, small, "limits.patients"},
		{"20,001 practices", many(20_001), DefaultLimits(), "line 20002, ORG_CODE: practice P020000 is one more than the limit of 20000 practices"},
		{"the file twice, without ALL rows", header + "\n" + body + "\n" + body, DefaultLimits(), "line 123: practice A81001, MALE, age 0_4 appears a second time"},
		{"a row repeated in a single-year file", strings.Replace(nhsFile(false, true, prac, comm, order), "\n", "\nP,01APR2009,GP,00K,A81001,ZZ1,FEMALE,37,2,x\n", 40), DefaultLimits(), "age 37 appears a second time"},
		{"an ALL row repeated", good + "P,01APR2009,GP,02N,B82003,ZZ1,ALL,ALL,1,x\n", DefaultLimits(), "practice B82003, ALL, age ALL appears a second time"},
		{"UTF-16 with a byte-order mark", "\xff\xfe" + utf16le(good), DefaultLimits(), "line 1: is UTF-16 text: accepted UTF-8"},
		{"UTF-16 without one", utf16le(good), DefaultLimits(), "is UTF-16 text"},
		{"NUMBER_OF_PATIENTS twice", strings.Replace(strings.Replace(good, "NUMBER_OF_PATIENTS", "NUMBER_OF_PATIENTS,NUMBER_OF_PATIENTS", 1), ",x\n", ",1,x\n", -1), DefaultLimits(), "line 1, NUMBER_OF_PATIENTS: appears 2 times"},
		{"no line breaks", header + strings.Repeat(",x", 40_000), DefaultLimits(), "line 1: a line is longer than 65536 bytes"},
		{"a long line later", good + strings.Repeat("y", 70_000) + "\n", DefaultLimits(), "line 131: a line is longer"},
	}
	for _, c := range cases {
		ps, err := ReadPopulation(strings.NewReader(c.file), "pop.csv", nil, c.lim)
		if err == nil || ps != nil || !strings.Contains(err.Error(), "pop.csv") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %d practices, error %v; want one containing %q", c.name, len(ps), err, c.want)
		}
	}
	// A UTF-8 byte-order mark is fine, and so are exactly 20,000 practices.
	if _, err := ReadPopulation(strings.NewReader("\ufeff"+good), "bom.csv", nil, DefaultLimits()); err != nil {
		t.Errorf("UTF-8 with a byte-order mark: %v", err)
	}
	if ps, err := ReadPopulation(strings.NewReader(many(20_000)), "many.csv", nil, DefaultLimits()); err != nil || len(ps) != 20_000 {
		t.Errorf("20,000 practices: %d, %v", len(ps), err)
	}
	// Selecting practices keeps a large file within the limit.
	lim := DefaultLimits()
	lim.Practices = 1
	if ps, err := ReadPopulation(strings.NewReader(good), "pop.csv", []string{"B82003"}, lim); err != nil || len(ps) != 1 {
		t.Errorf("one practice selected under a limit of one: %d, %v", len(ps), err)
	}
}
