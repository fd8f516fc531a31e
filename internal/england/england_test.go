package england

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// The source file's totals, measured on NHS England's 2022/23
// need-weighted populations file (2022_2023.csv, 6,554 rows) with
// Python's csv module: practices, the sum of Patients, and the distinct
// PCN_Code, LOC22, ICS22 and R22 values.
const (
	srcPractices = 6554
	srcPatients  = 61_194_033
	srcPCNs      = 1256
	srcPlaces    = 106
	srcICBs      = 42
	srcRegions   = 7
)

func TestTableTotals(t *testing.T) {
	tb, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	e := tb.England()
	if e.Practices != srcPractices || e.Patients != srcPatients {
		t.Errorf("embedded table: %d practices, %d patients; source file: %d, %d", e.Practices, e.Patients, srcPractices, srcPatients)
	}
	for l, want := range [NLevels]int{srcPCNs, srcPlaces, srcICBs, srcRegions} {
		as := tb.Areas(l, Area{})
		got := len(as)
		if l == PCN {
			// The file's one code "U" (no network) is a neighbourhood
			// per place here (U-PLACE).
			got = 1
			for _, a := range as {
				if a.Code[:2] != Unallocated+"-" {
					got++
				}
			}
		}
		if got != want {
			t.Errorf("%d %s areas, source file %d", len(as), LevelNames[l], want)
		}
		n, p := 0, 0
		for _, a := range as {
			n += a.Practices
			p += a.Patients
		}
		if n != srcPractices || p != srcPatients {
			t.Errorf("%s areas hold %d practices, %d patients; want every practice once", LevelNames[l], n, p)
		}
	}
	// Need indices are weighted populations over the file's base
	// population (which sums to the weights' total), so their mean over
	// registered patients is 1 up to the base's 0.5% difference from the
	// registered list (61.50 M against 61.19 M).
	for k, name := range []string{"general and acute", "community", "mental health", "maternity", "prescribing"} {
		s, n := 0.0, 0.0
		for _, p := range tb.Practices {
			if !math.IsNaN(p.Need[k]) {
				s += p.Need[k] * float64(p.Patients)
				n += float64(p.Patients)
			}
		}
		if m := s / n; math.Abs(m-1) > 0.01 {
			t.Errorf("%s need's mean over patients %.4f, want 1 within 0.01", name, m)
		}
	}
	// Every practice of a place lies in one ICB and region (units nest;
	// 11 PCNs straddle two places).
	up := map[string]string{}
	for _, p := range tb.Practices {
		for l := Place; l < NLevels-1; l++ {
			k := LevelNames[l] + p.Geo[l]
			if u, ok := up[k]; ok && u != p.Geo[l+1] {
				t.Fatalf("%s %s lies in %s and %s", LevelNames[l], p.Geo[l], u, p.Geo[l+1])
			}
			up[k] = p.Geo[l+1]
		}
	}
	d := 0
	for _, p := range tb.Practices {
		if p.Dispensing == 1 {
			d++
		}
	}
	// 1,033 of the practices are dispensing in the latest payments file
	// listing them (2014/15 to 2018/19); 42 are in none.
	if d != 1033 {
		t.Errorf("%d dispensing practices, want 1033", d)
	}
}

func TestAreaLookup(t *testing.T) {
	tb, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ q, code, level string }{
		{"QOC", "QOC", "icb"},                 // an ICB's code
		{"qoc", "QOC", "icb"},                 // any case
		{"15E", "15E", "place"},               // a place's code
		{"U89141", "U89141", "pcn"},           // a PCN's code
		{"Y56", "Y56", "region"},              // a region's code
		{"London", "Y56", "region"},           // a whole name
		{"Shropshire, Telford", "QOC", "icb"}, // a unique part of a name
		// Part of the ICB's name and of its one place's: the ICB, which
		// holds the place.
		{"Birmingham and Solihull", "QHL", "icb"},
		{"Stockton PCN", "U89141", "pcn"}, // whole name, though part of "North Stockton PCN"
	} {
		a, err := tb.Lookup(c.q)
		if err != nil || a.Code != c.code || a.Level != c.level {
			t.Errorf("Lookup(%q) = %s %s, %v; want %s %s", c.q, a.Level, a.Code, err, c.level, c.code)
		}
	}
	// Ambiguous: many PCNs and places are "... North ..." in no one area.
	_, err = tb.Lookup("North")
	var le *LookupError
	if !errors.As(err, &le) || !le.Ambiguous || len(le.Near) == 0 {
		t.Errorf("Lookup(North) = %v, want ambiguous naming matches", err)
	}
	// Unknown: the nearest codes and names, closest first.
	_, err = tb.Lookup("QZZ")
	if !errors.As(err, &le) || le.Ambiguous || len(le.Near) == 0 || le.Near[0].Code[:1] != "Q" {
		t.Errorf("Lookup(QZZ) = %v, want unknown with a Q.. code nearest", err)
	}
	_, err = tb.Lookup("Somersett")
	if !errors.As(err, &le) || le.Ambiguous || !slices.ContainsFunc(le.Near, func(a Area) bool { return a.Code == "QSL" }) || le.Near[0].Level != "icb" {
		t.Errorf("Lookup(Somersett) = %v, want unknown, naming the Somerset ICBs (QSL, NHS Somerset ICB) first", err)
	}
	if _, err := tb.Lookup(""); err == nil {
		t.Error("Lookup of empty text found an area")
	}
	// Areas within an area: the ICB's places and PCNs.
	qoc, _ := tb.Lookup("QOC")
	n, p := 0, 0
	for _, a := range tb.Areas(PCN, qoc) {
		n += a.Practices
		p += a.Patients
	}
	// (A PCN straddling the ICB's border would hold practices outside it.)
	if n != qoc.Practices || p != qoc.Patients || len(tb.Select(qoc)) != qoc.Practices {
		t.Errorf("QOC's PCNs hold %d practices, %d patients; the ICB %d, %d", n, p, qoc.Practices, qoc.Patients)
	}
}
