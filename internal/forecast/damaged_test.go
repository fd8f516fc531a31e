package forecast

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/internal/nhsdata"
)

// realHistory is the history 'gpbudget history' writes from the real
// payments cut in internal/nhsdata/testdata (2014/15-2018/19, about 400 practices).
func realHistory(t *testing.T) []byte {
	t.Helper()
	files, _ := filepath.Glob("../nhsdata/testdata/payments/payments_*.csv")
	var ps []*nhsdata.Payments
	for _, f := range files {
		p, err := nhsdata.ReadPaymentsFile(f, 0)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	rows, _, err := nhsdata.BuildHistory(ps)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := nhsdata.WriteHistory(&b, rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Issue 27: damaged copies of a real history were read (a duplicated
// list_size: the last kept; a list of 0.001; "0x1.01p12" as 4112; a last
// row cut short) or refused for the wrong reason (UTF-16: "needs columns
// practice_id and year").
func TestDamagedHistoryRefused(t *testing.T) {
	base := realHistory(t)
	lines := strings.SplitAfter(string(base), "\n")
	edit := func(i int, f func(string) string) []byte {
		l := append([]string(nil), lines...)
		l[i] = f(strings.TrimSuffix(l[i], "\n")) + "\n"
		return []byte(strings.Join(l, ""))
	}
	field := func(i, k int, v string) []byte {
		return edit(i, func(s string) string {
			f := strings.Split(s, ",")
			f[k] = v
			return strings.Join(f, ",")
		})
	}
	u16 := []byte{0xFF, 0xFE}
	for _, r := range string(base) {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.csv")
	os.WriteFile(ok, base, 0o644)
	h, err := ReadHistory(ok)
	if err != nil || len(h.Records) != len(lines)-2 {
		t.Fatalf("the real history itself: %d records, %v", len(h.Records), err)
	}
	twice := make([]string, 0, len(lines))
	for i, l := range lines {
		switch {
		case l == "":
		case i == 0:
			twice = append(twice, "list_size,"+l)
		default:
			twice = append(twice, "1,"+l)
		}
	}
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		// A second list_size placed first: the last was kept.
		{"list_size twice", []byte(strings.Join(twice, "")), "list_size appears 2 times"},
		{"list of 0.001", field(5, 2, "0.001"), "line 6: list_size"},
		{"list of 1e12", field(5, 2, "1000000000000"), "line 6: list_size"},
		{"hex float", field(7, 4, "0x1.01p12"), "line 8: spend_prescribing"},
		{"exponent", field(7, 4, "1e3"), "line 8: spend_prescribing"},
		{"UTF-16", u16, "UTF-16"},
		{"last row cut short", bytes.TrimRight(base, "\n")[:len(base)-20], "fields"},
		{"last row without its line end", bytes.TrimRight(base, "\n"), "no line end"},
		{"unclosed quote", edit(9, func(s string) string { return strings.Replace(s, ",", ",\"", 1) }), "line 10: an unclosed or stray quote"},
		{"NUL in a code", edit(9, func(s string) string { return strings.Replace(s, ",", "\x00,", 1) }), "line 10: a cell holds the control character"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".csv")
		os.WriteFile(p, c.in, 0o644)
		_, err := ReadHistory(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}
