package nhsdata

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	for _, c := range []struct {
		in  string
		v   float64
		ok  bool
		bad bool
	}{
		{"1234", 1234, true, false},
		{" 1,234.50 ", 1234.5, true, false},
		{"12,345,678", 12345678, true, false},
		{"-67193", -67193, true, false},
		{"4095.25", 4095.25, true, false},
		// Only plain decimals: a spreadsheet's reformatting is refused, not
		// read as another number (issue 27: "0x1.01p12" was read as 4112,
		// "28,601.0,1" as 28601.01).
		{"(1,234)", 0, false, true},
		{"(28,601.01)", 0, false, true},
		{"£2,000", 0, false, true},
		{"0x1.01p12", 0, false, true},
		{"28,601.0,1", 0, false, true},
		{"1e12", 0, false, true},
		{"+5", 0, false, true},
		{"Inf", 0, false, true},
		{"N/A", 0, false, false},
		{"na", 0, false, false},
		{"", 0, false, false},
		{"-", 0, false, false},
		{" ", 0, false, false},
		{"1,23", 0, false, true},
		{"12a", 0, false, true},
		{"NaN", 0, false, true},
		{"1e400", 0, false, true},
	} {
		v, ok, err := ParseNumber(c.in)
		if (err != nil) != c.bad || ok != c.ok || v != c.v {
			t.Errorf("ParseNumber(%q) = %v, %v, %v; want %v, %v, error %v", c.in, v, ok, err, c.v, c.ok, c.bad)
		}
	}
}

func TestYearFromName(t *testing.T) {
	for name, want := range map[string]int{"payments_14-15.csv": 2014, "dir/payments_2017-18.csv": 2017, "p_2018_2019.csv": 2018, "payments.csv": 0, "x_17-19.csv": 0} {
		y, ok := YearFromName(name)
		if y != want || ok != (want > 0) {
			t.Errorf("YearFromName(%q) = %d, %v; want %d", name, y, ok, want)
		}
	}
}

// The samples of the real files (testdata/README.md) read, with the values
// the source rows carry.
func TestReadPaymentsSamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/payments/payments_*.csv")
	if len(files) != 5 {
		t.Fatalf("%d sample payments files, want 5", len(files))
	}
	byYear := map[int]*Payments{}
	for _, f := range files {
		p, err := ReadPaymentsFile(f, 0)
		if err != nil {
			t.Fatal(err)
		}
		byYear[p.Year] = p
	}
	find := func(y int, code string) Payment {
		for _, r := range byYear[y].Rows {
			if r.Practice == code {
				return r
			}
		}
		t.Fatalf("%d: no practice %s", y, code)
		return Payment{}
	}
	// Lines from the source files (NHS Payments to General Practice, as published).
	if r := find(2017, "A81001"); r.List != 4114 || r.Dispensing || r.Commissioner != "00K" || r.Open != "01/04/1999" {
		t.Errorf("2017 A81001 = %+v", r)
	}
	if r := find(2018, "A81001"); r.List != 4095.25 || r.Close != " " && r.Close != "" {
		t.Errorf("2018 A81001 = %+v", r)
	}
	disp := 0
	for _, r := range byYear[2014].Rows {
		if r.Dispensing {
			disp++
			if !r.HasDrugs || r.Drugs <= 0 {
				t.Errorf("2014 dispensing practice %s has no drug reimbursement", r.Practice)
			}
		}
	}
	if disp < 20 {
		t.Errorf("2014 sample: %d dispensing practices, want 20 or more", disp)
	}
}

func TestReadPaymentsTolerance(t *testing.T) {
	// Lines count from the file's start: the header takes two.
	// A byte-order mark, a renamed commissioner column, a header with a
	// line break and trailing spaces, thousands separators, blank cells,
	// an unknown extra column, columns in another order.
	in := "\ufeffSub ICB Location Code,\"Practice\nCode \",Extra,Dispensing Practice,Reimbursement of Drugs,\"Number of Registered Patients (Last Known Figure)\"\r\n" +
		"15N,P1,x,Yes,\"1,234,567.89\",\"12,345\"\r\n" +
		"15N,P2,y,No,,\r\n" +
		",,,,,\r\n" +
		"15N,p3,z,UNKNOWN,0,900\r\n"
	p, err := ReadPayments(strings.NewReader(in), "t.csv", 2024)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != 3 {
		t.Fatalf("%d rows, want 3 (the blank row skipped)", len(p.Rows))
	}
	r := p.Rows[0]
	if r.Practice != "P1" || r.Commissioner != "15N" || !r.Dispensing || r.Drugs != 1234567.89 || r.List != 12345 || r.Line != 3 {
		t.Errorf("row 1 = %+v", r)
	}
	if r := p.Rows[1]; r.HasList || r.HasDrugs || r.Dispensing {
		t.Errorf("row 2 (blank cells) = %+v", r)
	}
	if r := p.Rows[2]; r.Practice != "P3" || !r.DispensingUnknown || r.Line != 6 {
		t.Errorf("row 3 = %+v", r)
	}
}

func TestReadPaymentsErrors(t *testing.T) {
	hdr := "Practice Code,Dispensing Practice,Reimbursement of Drugs,Number of Registered Patients (Last Known Figure)\n"
	for _, c := range []struct {
		in, col string
		line    int
	}{
		{"Practice Code,Dispensing Practice,Number of Registered Patients\nP1,No,100\n", "reimbursement of drugs", 1},
		{hdr + "P1,No,0,100\nP2,No,0,1O0\n", "Number of Registered Patients (Last Known Figure)", 3},
		{hdr + "P1,No,1;2,100\n", "Reimbursement of Drugs", 2},
		{hdr + "P1,Maybe,0,100\n", "Dispensing Practice", 2},
		{hdr + "P1,No,0,-5\n", "Number of Registered Patients (Last Known Figure)", 2},
		{hdr + "P1,No,0,5\nP1,No,0,6\n", "Practice Code", 3},
	} {
		_, err := ReadPayments(strings.NewReader(c.in), "f.csv", 2020)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.File != "f.csv" || fe.Line != c.line || fe.Column != c.col {
			t.Errorf("%q: error %v; want a FieldError at line %d, column %q", c.in, err, c.line, c.col)
		}
	}
}

func TestReadWeightedSamples(t *testing.T) {
	for _, f := range []string{"testdata/weighted-populations/2022_2023.csv", "testdata/weighted-populations/2024_2025.csv"} {
		ws, err := ReadWeightedFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) < 250 {
			t.Fatalf("%s: %d practices", f, len(ws))
		}
		// 2024/25 leaves Patients blank: the population comes from "pop 2022/23".
		for _, w := range ws {
			if w.Pop <= 0 && w.WP[GeneralAcute] > 0 {
				t.Errorf("%s, line %d: practice %s has weighted but no registered population", f, w.Line, w.Practice)
			}
		}
	}
	ws, _ := ReadWeightedFile("testdata/weighted-populations/2022_2023.csv")
	// First data row of the source: A81001, Patients 4073, G&A WP 4866.267475.
	if w := ws[0]; w.Practice != "A81001" || w.Pop != 4073 || w.WP[GeneralAcute] != 4866.267475 || !w.Has[Prescribing] {
		t.Errorf("first row = %+v", w)
	}
	if _, err := ReadWeighted(strings.NewReader("Practice_Code,Patients,G&A WP\nA1,10,12\n"), "w.csv"); err == nil || !strings.Contains(err.Error(), "prescribing") {
		t.Errorf("no prescribing column: error %v", err)
	}
}

func TestReadRegistrationsSamples(t *testing.T) {
	rs, err := ReadRegistrationsFile("testdata/registrations/gp-reg-pat-prac-all_01Jan2021.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 250 || rs[0].Practice != "A84002" || rs[0].Patients != 5903 || rs[0].Commissioner != "00L" || rs[0].Extract != "01JAN2021" {
		t.Errorf("%d rows, first %+v", len(rs), rs[0])
	}
	// Band rows are parts of the total: only ALL/ALL is read.
	in := "ORG_CODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS\nP1,MALE,0_4,3\nP1,ALL,ALL,10\nP2,ALL,ALL,x\n"
	_, err = ReadRegistrations(strings.NewReader(in), "r.csv")
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line != 4 || fe.Column != "NUMBER_OF_PATIENTS" {
		t.Errorf("malformed count: %v", err)
	}
	got, err := ReadRegistrations(strings.NewReader(in[:strings.LastIndex(in, "P2")]), "r.csv")
	if err != nil || len(got) != 1 || got[0].Patients != 10 {
		t.Errorf("got %+v, %v", got, err)
	}
}

// A hand-made set of three years: C absorbs B, A closes, D opens, E has a
// blank list in the middle year.
func TestBuildHistory(t *testing.T) {
	hdr := "Practice Code,CCG Code,Dispensing Practice,Reimbursement of Drugs,Number of Registered Patients (Last Known Figure)\n"
	stable := "F,Y,No,0,1000\nG,Y,No,0,2000\nH,X,No,0,3000\n"
	years := []string{
		hdr + "A,X,No,0,2000\nB,X,No,0,3000\nC,X,Yes,50000,5000\nE,Y,No,0,4000\n" + stable,
		hdr + "C,X,Yes,90000,8100\nD,X,No,0,500\nE,Y,No,0,\n" + stable,
		hdr + "C,X,Yes,95000,8200\nD,X,No,0,600\nE,Y,No,0,4100\nF,Y,No,0,1010.5\n" + stable[14:],
	}
	var files []*Payments
	for i, s := range years {
		p, err := ReadPayments(strings.NewReader(s), "p.csv", 2015+i)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	rows, rep, err := BuildHistory(files)
	if err != nil {
		t.Fatal(err)
	}
	ev := map[string]string{}
	for _, r := range rows {
		if r.Event != "" {
			ev[r.Practice+" "+string(rune('0'+r.Year-2010))] = r.Event
		}
	}
	want := map[string]string{"A 5": "closed", "B 5": "merged into C", "C 6": "absorbed B", "D 6": "opened", "E 5": "closed", "E 7": "opened"}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("event %s = %q, want %q (all: %v)", k, ev[k], v, ev)
		}
	}
	if len(rep.NoList) != 1 || rep.NoList[0] != "E 2016" {
		t.Errorf("left out %v, want [E 2016]", rep.NoList)
	}
	if c := rep.Changes[0]; c.Closed != 2 || c.Merged != 1 || c.Opened != 1 || c.MergedPatients != 3000 {
		t.Errorf("2015->2016 = %+v", c)
	}
	if rep.Basis[2017] != "mean of quarters" || rep.Basis[2016] != "last known" {
		t.Errorf("list basis %v", rep.Basis)
	}
	for _, r := range rows {
		if r.Practice == "C" && r.Year == 2016 && (r.Drugs != 90000 || r.Dispensing != "yes") {
			t.Errorf("C 2016 = %+v", r)
		}
	}
	var b strings.Builder
	if err := WriteHistory(&b, rows); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), strings.Join(HistoryHeader(), ",")+"\nA,2015,2000,0.00,0.00,") {
		t.Errorf("history starts %q", b.String()[:120])
	}
	if _, _, err := BuildHistory([]*Payments{files[0], files[0]}); err == nil {
		t.Error("two files for one year: no error")
	}
}

// fuzzSeeds adds the sample files and a few hand-made ones to a fuzz corpus.
func fuzzSeeds(f *testing.F, glob string, extra ...string) {
	files, _ := filepath.Glob(glob)
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 20000 {
			b = b[:20000]
		}
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// checkErr fails unless err is nil or a *FieldError naming the file.
func checkErr(t *testing.T, err error) {
	var fe *FieldError
	if err != nil && (!errors.As(err, &fe) || fe.File != "fuzz.csv") {
		t.Fatalf("error %v is not a FieldError naming the file", err)
	}
}

func FuzzReadPayments(f *testing.F) {
	fuzzSeeds(f, "testdata/payments/*.csv", "Practice Code,Dispensing Practice,Reimbursement of Drugs,Registered Patients\nP,Yes,\"1,000\",5\n")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadPayments(strings.NewReader(string(b)), "fuzz.csv", 2020)
		checkErr(t, err)
		if err != nil {
			return
		}
		for _, r := range p.Rows {
			if r.Practice == "" || r.List < 0 || r.List != r.List || r.Line < 2 {
				t.Fatalf("bad row %+v", r)
			}
		}
		if _, _, err := BuildHistory([]*Payments{p}); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzReadWeighted(f *testing.F) {
	fuzzSeeds(f, "testdata/weighted-populations/*.csv", "Practice_Code,Patients,pop 2022/23,G&A WP,Prescr WP\nA,,10,12,9\n")
	f.Fuzz(func(t *testing.T, b []byte) {
		ws, err := ReadWeighted(strings.NewReader(string(b)), "fuzz.csv")
		checkErr(t, err)
		for _, w := range ws {
			if w.Practice == "" || w.Pop < 0 || w.WP[GeneralAcute] < 0 {
				t.Fatalf("bad row %+v", w)
			}
		}
	})
}

func FuzzReadRegistrations(f *testing.F) {
	fuzzSeeds(f, "testdata/registrations/*.csv", "CODE,SEX,AGE,NUMBER_OF_PATIENTS\nA,ALL,ALL,5\n")
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ReadRegistrations(strings.NewReader(string(b)), "fuzz.csv")
		checkErr(t, err)
		for _, r := range rs {
			if r.Practice == "" || r.Patients < 0 {
				t.Fatalf("bad row %+v", r)
			}
		}
	})
}

// plainDecimal agrees with the regular expressions it stands for.
func TestPlainDecimal(t *testing.T) {
	plain := regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	grouped := regexp.MustCompile(`^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$`)
	for _, s := range []string{"0", "-0", "1234", "1,234", "12,345,678.5", "1,23", "1234,567", ",123", "123,", "1.", ".5", "-", "", "1..2", "1.2.3", "--1", "1,234.5,6", "0x10", "1e5", "1,2345", "12,34,567", "-1,000", "1.000,5", "१२"} {
		_, ok := plainDecimal(s)
		if want := plain.MatchString(s) || grouped.MatchString(s); ok != want {
			t.Errorf("plainDecimal(%q) = %v, want %v", s, ok, want)
		}
	}
}
