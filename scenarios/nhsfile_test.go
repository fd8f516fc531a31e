package scenarios

import (
	"fmt"
	"strings"
	"testing"
)

// nhsFile writes practices in a given layout: newer (SUB_ICB_LOCATION_CODE)
// or older (CCG_CODE) commissioner column, five-year bands or single years,
// with ALL rows and extra columns as the real files have.
func nhsFile(old, single bool, prac map[string][2][20]int, comm map[string]string, order []string) string {
	var b strings.Builder
	cc := "SUB_ICB_LOCATION_CODE"
	if old {
		cc = "CCG_CODE"
	}
	age := "AGE_GROUP_5"
	if single {
		age = "AGE"
	}
	fmt.Fprintf(&b, "PUBLICATION,EXTRACT_DATE,TYPE,%s,ORG_CODE,POSTCODE,SEX,%s,NUMBER_OF_PATIENTS,EXTRA\n", cc, age)
	for _, code := range order {
		c := prac[code]
		all := 0
		for s, sex := range []string{"MALE", "FEMALE"} {
			tot := 0
			for band, n := range c[s] {
				tot += n
				if single {
					// Spread the band over its single years (95+ as one row).
					if band == 19 {
						fmt.Fprintf(&b, "P,01APR2009,GP,%s,%s,ZZ1,%s,95+,%d,x\n", comm[code], code, sex, n)
						continue
					}
					for k := range 5 {
						m := n / 5
						if k == 0 {
							m += n % 5
						}
						fmt.Fprintf(&b, "P,01APR2009,GP,%s,%s,ZZ1,%s,%d,%d,x\n", comm[code], code, sex, 5*band+k, m)
					}
					continue
				}
				lbl := "95+"
				if band < 19 {
					lbl = fmt.Sprintf("%d_%d", 5*band, 5*band+4)
				}
				fmt.Fprintf(&b, "P,01APR2009,GP,%s,%s,ZZ1,%s,%s,%d,x\n", comm[code], code, sex, lbl, n)
			}
			fmt.Fprintf(&b, "P,01APR2009,GP,%s,%s,ZZ1,%s,ALL,%d,x\n", comm[code], code, sex, tot)
			all += tot
		}
		fmt.Fprintf(&b, "P,01APR2009,GP,%s,%s,ZZ1,ALL,ALL,%d,x\n", comm[code], code, all)
	}
	return b.String()
}

func testPractices() (map[string][2][20]int, map[string]string, []string) {
	prac := map[string][2][20]int{}
	for k, code := range []string{"A81001", "A81002", "B82003"} {
		var c [2][20]int
		for s := range 2 {
			for b := range 20 {
				c[s][b] = (k+1)*10 + 3*b + s
			}
		}
		prac[code] = c
	}
	comm := map[string]string{"A81001": "00K", "A81002": "00K", "B82003": "02N"}
	return prac, comm, []string{"A81001", "A81002", "B82003"}
}

func TestReadPopulationLayouts(t *testing.T) {
	prac, comm, order := testPractices()
	for _, old := range []bool{false, true} {
		for _, single := range []bool{false, true} {
			name := fmt.Sprintf("old=%v,single=%v", old, single)
			ps, err := ReadPopulation(strings.NewReader(nhsFile(old, single, prac, comm, order)), name, nil, DefaultLimits())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(ps) != 3 {
				t.Fatalf("%s: %d practices, want 3", name, len(ps))
			}
			for i, p := range ps {
				want := prac[order[i]]
				if p.ID != order[i] || p.Need != 1 {
					t.Errorf("%s: practice %d is %s need %v", name, i, p.ID, p.Need)
				}
				for b := range 20 {
					if p.List.Male[b] != want[0][b] || p.List.Female[b] != want[1][b] {
						t.Fatalf("%s: %s band %d: got %d/%d, want %d/%d (ALL rows must not be added)", name, p.ID, b, p.List.Male[b], p.List.Female[b], want[0][b], want[1][b])
					}
				}
			}
			// Selection by commissioner (old or new column) and by practice.
			ps, err = ReadPopulation(strings.NewReader(nhsFile(old, single, prac, comm, order)), name, []string{"00k", "B82003"}, DefaultLimits())
			if err != nil || len(ps) != 3 {
				t.Fatalf("%s: select 00K,B82003: %d practices, %v", name, len(ps), err)
			}
			ps, err = ReadPopulation(strings.NewReader(nhsFile(old, single, prac, comm, order)), name, []string{"02N"}, DefaultLimits())
			if err != nil || len(ps) != 1 || ps[0].ID != "B82003" {
				t.Fatalf("%s: select 02N: %v, %v", name, ps, err)
			}
		}
	}
}

func TestReadPopulationErrors(t *testing.T) {
	prac, comm, order := testPractices()
	good := nhsFile(false, false, prac, comm, order)
	lines := strings.Split(good, "\n")
	cases := []struct {
		name, file string
		codes      []string
		want       string
	}{
		{"bad count", strings.Join(append(append([]string{}, lines[:5]...), strings.Replace(lines[5], ",x", "", 1)[:strings.LastIndex(strings.Replace(lines[5], ",x", "", 1), ",")]+",abc,x"), "\n"), nil, "line 6, NUMBER_OF_PATIENTS"},
		{"bad band", strings.Replace(good, ",15_19,", ",15_20,", 1), nil, "line 5, AGE_GROUP_5"},
		{"bad sex", strings.Replace(good, ",MALE,0_4,", ",UNKNOWN,0_4,", 1), nil, "line 2, SEX"},
		{"ALL mismatch", strings.Replace(good, ",ALL,ALL,", ",ALL,ALL,9", 1), nil, "ALL row says"},
		{"no such code", good, []string{"Z99999"}, "Z99999 matches no practice"},
		{"missing column", strings.Replace(good, "NUMBER_OF_PATIENTS", "N", 1), nil, "line 1: no NUMBER_OF_PATIENTS column"},
		{"short row", good + "P,01APR2009\n", nil, "line 131"},
	}
	for _, c := range cases {
		ps, err := ReadPopulation(strings.NewReader(c.file), "pop.csv", c.codes, DefaultLimits())
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if ps != nil {
			t.Errorf("%s: returned %d practices with the error (nothing half-loaded may be used)", c.name, len(ps))
		}
		if !strings.Contains(err.Error(), "pop.csv") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q lacks the file or %q", c.name, err, c.want)
		}
	}
}

func TestWritePopulationRoundTrip(t *testing.T) {
	ps := []PracticeSpec{ApportionList("X1", 5000, Default().AreaAgeShare()), ApportionList("X2", 123, Default().AreaAgeShare())}
	var b strings.Builder
	if err := WritePopulation(&b, ps, "99Z", "01APR2009"); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPopulation(strings.NewReader(b.String()), "synth", nil, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		n := 0
		for b := range 20 {
			if got[i].List.Male[b] != ps[i].List.Male[b] || got[i].List.Female[b] != ps[i].List.Female[b] {
				t.Fatalf("%s band %d differs after a round trip", ps[i].ID, b)
			}
			n += got[i].List.Male[b] + got[i].List.Female[b]
		}
		if want := []int{5000, 123}[i]; n != want {
			t.Errorf("%s: %d patients, want %d", ps[i].ID, n, want)
		}
	}
}
