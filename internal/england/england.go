// Package england is every general practice in England as NHS England
// listed them for 2022/23, built into the binary: each practice's code,
// name, registered patients, primary care network (PCN), place (sub-ICB
// location), integrated care board (ICB) and region, its need index per
// component, and whether it dispenses. Areas at each level are looked up
// by code or by a unique part of a name.
//
// Source: NHS England, practice need-weighted populations for the 2022/23
// to 2024/25 revenue allocations (2022/23 file), and NHS Digital, NHS
// Payments to General Practice, England, 2014/15 to 2018/19 (dispensing
// flag, latest year listing the practice). Contains public sector
// information licensed under the Open Government Licence v3.0. The table
// is written by internal/englandgen (see README.md).
package england

//go:generate go run ../internal/englandgen -data $GPB_NHS_DATA -out practices.csv.gz

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed practices.csv.gz
var table []byte

// Provenance and Attribution say where the table comes from and under
// which licence, for README, `gpbudget scenarios --show` and `gpbudget areas`.
const (
	Provenance = "NHS England, GP practice need-weighted populations 2022/23 (revenue allocations 2022/23 to 2024/25; " +
		"practice, PCN, sub-ICB location, ICB and region; registered patients; need-weighted populations by component), " +
		"and NHS Digital, NHS Payments to General Practice, England, 2014/15 to 2018/19 (dispensing practices, latest year listing each practice)"
	Attribution = "Contains public sector information licensed under the Open Government Licence v3.0 " +
		"(https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/)"
	Year = "2022/23"
)

// Levels of England's geography, smallest first (as sim's levels:
// neighbourhood, place, ICB, region).
const (
	PCN = iota
	Place
	ICB
	Region
	NLevels
)

// Unallocated is the file's PCN code of practices in no network.
const Unallocated = "U"

// LevelNames name the levels on the command line and in tables.
var LevelNames = [NLevels]string{"pcn", "place", "icb", "region"}

// LevelOf is the level named name ("pcn", "place", "icb", "region"; also
// "neighbourhood" for pcn), or -1.
func LevelOf(name string) int {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "pcn", "neighbourhood":
		return PCN
	case "place", "sub-icb", "sicbl":
		return Place
	case "icb":
		return ICB
	case "region":
		return Region
	}
	return -1
}

// Need components, in the table's order.
const (
	NeedGeneralAcute = iota // general and acute
	NeedCommunity
	NeedMentalHealth
	NeedMaternity
	NeedPrescribing
	NNeed
)

// Practice is one practice.
type Practice struct {
	Code, Name string
	Patients   int              // registered patients
	Geo        [NLevels]string  // PCN, place, ICB and region codes
	Need       [NNeed]float64   // weighted over registered population (1: England's average); NaN where the file has none
	Dispensing int8             // 1 a dispensing practice, 0 not, -1 not in any payments file
	geoName    [NLevels]*string // shared names
}

// GeoName is the name of the practice's unit at level l.
func (p *Practice) GeoName(l int) string { return *p.geoName[l] }

// Area is one unit at one level, with its practices and patients.
type Area struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Level     string `json:"level"`
	Practices int    `json:"practices"`
	Patients  int    `json:"patients"`
	level     int
}

// LevelIndex is the area's level (PCN ... Region).
func (a Area) LevelIndex() int { return a.level }

// Table is England's practices and the areas they make.
type Table struct {
	Practices []Practice
	areas     [NLevels][]Area // sorted by code
}

// Load returns the embedded table (parsed once).
var Load = sync.OnceValues(func() (*Table, error) { return parse(table) })

// parse reads the table the generator wrote.
func parse(gz []byte) (*Table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("england: embedded table: %w", err)
	}
	cr := csv.NewReader(zr)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil || len(head) != 17 || head[0] != "code" {
		return nil, fmt.Errorf("england: embedded table: unexpected header %v (%v)", head, err)
	}
	t := &Table{}
	names := map[string]*string{}
	intern := func(s string) *string {
		if p, ok := names[s]; ok {
			return p
		}
		p := &s
		names[s] = p
		return p
	}
	for line := 2; ; line++ {
		r, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("england: embedded table line %d: %w", line, err)
		}
		p := Practice{Code: r[0], Name: r[1]}
		if p.Patients, err = strconv.Atoi(r[2]); err != nil {
			return nil, fmt.Errorf("england: embedded table line %d: patients %q", line, r[2])
		}
		for l := range NLevels {
			p.Geo[l] = strings.Clone(r[3+2*l])
			p.geoName[l] = intern(r[4+2*l])
		}
		// The file's PCN "U" is no network (75 practices "Unallocated",
		// in 39 places): each place's unallocated practices are one
		// neighbourhood of their own, U-PLACE.
		if p.Geo[PCN] == Unallocated {
			p.Geo[PCN] = Unallocated + "-" + p.Geo[Place]
			p.geoName[PCN] = intern("Unallocated (" + p.GeoName(Place) + ")")
		}
		for k := range NNeed {
			p.Need[k] = math.NaN()
			if v := r[11+k]; v != "" {
				if p.Need[k], err = strconv.ParseFloat(v, 64); err != nil {
					return nil, fmt.Errorf("england: embedded table line %d: need %q", line, v)
				}
			}
		}
		p.Dispensing = -1
		switch r[16] {
		case "1":
			p.Dispensing = 1
		case "0":
			p.Dispensing = 0
		}
		t.Practices = append(t.Practices, p)
	}
	for l := range NLevels {
		idx := map[string]int{}
		for i := range t.Practices {
			p := &t.Practices[i]
			k, ok := idx[p.Geo[l]]
			if !ok {
				k = len(t.areas[l])
				idx[p.Geo[l]] = k
				t.areas[l] = append(t.areas[l], Area{Code: p.Geo[l], Name: p.GeoName(l), Level: LevelNames[l], level: l})
			}
			t.areas[l][k].Practices++
			t.areas[l][k].Patients += p.Patients
		}
		sort.Slice(t.areas[l], func(i, j int) bool { return t.areas[l][i].Code < t.areas[l][j].Code })
	}
	return t, nil
}

// England is the whole table as one area.
func (t *Table) England() Area {
	a := Area{Code: "", Name: "England", Level: "england", level: NLevels}
	for _, p := range t.Practices {
		a.Practices++
		a.Patients += p.Patients
	}
	return a
}

// Areas lists the areas at level l, within area in (England where in's
// code is empty), by code.
func (t *Table) Areas(l int, in Area) []Area {
	if in.Code == "" {
		return append([]Area(nil), t.areas[l]...)
	}
	keep := map[string]bool{}
	for _, p := range t.Select(in) {
		keep[p.Geo[l]] = true
	}
	var out []Area
	for _, a := range t.areas[l] {
		if keep[a.Code] {
			out = append(out, a)
		}
	}
	return out
}

// Select returns the practices of area a (every practice where a's code
// is empty), in the table's order (by practice code).
func (t *Table) Select(a Area) []Practice {
	if a.Code == "" {
		return t.Practices
	}
	var out []Practice
	for _, p := range t.Practices {
		if a.level < NLevels && p.Geo[a.level] == a.Code {
			out = append(out, p)
		}
	}
	return out
}

// LookupError is an area that is unknown or ambiguous, with the nearest
// codes and names.
type LookupError struct {
	Query     string
	Ambiguous bool
	Near      []Area
}

func (e *LookupError) Error() string {
	var b strings.Builder
	if e.Ambiguous {
		fmt.Fprintf(&b, "area %q is ambiguous: it matches", e.Query)
	} else {
		fmt.Fprintf(&b, "area %q is not an ICB, place, PCN or region of England %s (a code or a unique part of a name); nearest:", e.Query, Year)
	}
	for i, a := range e.Near {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s %s (%s)", a.Level, a.Code, a.Name)
	}
	b.WriteString(" (see 'gpbudget areas')")
	return b.String()
}

// nearShown is how many near matches an error names.
const nearShown = 8

// Lookup finds an area by code (any level, case-insensitive), by whole
// name, or by a part of a name that only one area has, or whose matches
// all lie within one of them (so "Birmingham and Solihull" is the ICB, not
// also its place of the same name). Otherwise a *LookupError names the
// matches (ambiguous) or the nearest codes and names (unknown).
func (t *Table) Lookup(q string) (Area, error) {
	key := strings.ToLower(strings.TrimSpace(q))
	if key == "" {
		return Area{}, &LookupError{Query: q}
	}
	var code, whole, part []Area
	for l := range NLevels {
		for _, a := range t.areas[l] {
			n := strings.ToLower(a.Name)
			switch {
			case strings.ToLower(a.Code) == key:
				code = append(code, a)
			case n == key:
				whole = append(whole, a)
			case strings.Contains(n, key):
				part = append(part, a)
			}
		}
	}
	for _, c := range [][]Area{code, whole, part} {
		if len(c) == 0 {
			continue
		}
		if a, ok := t.enclosing(c); ok {
			return a, nil
		}
		if len(c) > nearShown {
			c = c[:nearShown]
		}
		return Area{}, &LookupError{Query: q, Ambiguous: true, Near: c}
	}
	return Area{}, &LookupError{Query: q, Near: t.nearest(key)}
}

// enclosing is the one area of cs that holds every other (cs's highest
// level has one area and the rest lie in it).
func (t *Table) enclosing(cs []Area) (Area, bool) {
	top := cs[0]
	for _, a := range cs[1:] {
		if a.level > top.level {
			top = a
		}
	}
	inside := map[string]bool{}
	for _, p := range t.Select(top) {
		for l := range NLevels {
			inside[LevelNames[l]+"/"+p.Geo[l]] = true
		}
	}
	for _, a := range cs {
		if (a.level == top.level && a.Code != top.Code) || !inside[a.Level+"/"+a.Code] {
			return Area{}, false
		}
	}
	return top, true
}

// nearest are the areas whose code or name is closest to key (edit
// distance, a name's closest stretch of key's length).
func (t *Table) nearest(key string) []Area {
	type cand struct {
		a Area
		d int
	}
	var cs []cand
	for l := range NLevels {
		for _, a := range t.areas[l] {
			d := distance(key, strings.ToLower(a.Code))
			n := strings.ToLower(a.Name)
			for _, w := range windows(n, len(key)) {
				d = min(d, distance(key, w))
			}
			cs = append(cs, cand{a, d})
		}
	}
	// Closest first; among equals the larger area (an ICB before its places).
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].a.level > cs[j].a.level
	})
	out := make([]Area, 0, 5)
	for _, c := range cs[:min(5, len(cs))] {
		out = append(out, c.a)
	}
	return out
}

// windows are s's substrings of n bytes starting at word starts (all of s
// if shorter).
func windows(s string, n int) []string {
	if len(s) <= n {
		return []string{s}
	}
	var out []string
	for i := 0; i+n <= len(s); i++ {
		if i == 0 || s[i-1] == ' ' {
			out = append(out, s[i:i+n])
		}
	}
	return out
}

// distance is the Levenshtein distance between a and b (bytes).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
