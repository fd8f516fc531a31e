package scenarios

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/nhsdata"
)

// NHS Digital's "Patients Registered at a GP Practice" files [ref §7]: one row
// per practice, sex and age band (AGE_GROUP_5: 0_4 ... 90_94, 95+) or single
// year of age (AGE: 0 ... 94, 95+), with ALL rows that are totals. Columns are
// found by header name; others (PUBLICATION, POSTCODE, ...) are ignored.

// commissionerColumns are the commissioner code's names: CCG_CODE in older
// files, SUB_ICB_LOCATION_CODE in newer [ref §7].
// Their ONS codes (ONS_CCG_CODE, ONS_SUB_ICB_LOCATION_CODE) select too.
var commissionerColumns = []string{"SUB_ICB_LOCATION_CODE", "CCG_CODE", "SUB_ICB_LOC_CODE", "PCT_CODE", "ONS_SUB_ICB_LOCATION_CODE", "ONS_CCG_CODE"}

// ReadPopulationFile reads an NHS Digital list-size file and returns its
// practices, in file order, with need index 1 and no style (drawn from the
// scenario's style_sd as for any explicit practice). codes, if not empty,
// selects practices by practice code (ORG_CODE) or commissioner code; a code
// that matches nothing is an error. ALL rows are not added to the bands but,
// where present, must equal the sum of the bands. Any problem is an error
// naming the file and line, and nothing is returned.
func ReadPopulationFile(path string, codes []string) ([]PracticeSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("population file: %w", err)
	}
	defer f.Close()
	return ReadPopulation(f, path, codes)
}

// ReadPopulation is ReadPopulationFile on a reader; name labels errors.
func ReadPopulation(r io.Reader, name string, codes []string) ([]PracticeSpec, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, popErr(name, 1, "", fmt.Sprintf("cannot read the header: %v", err))
	}
	// Column names are matched as nhsdata matches them (case, spacing,
	// a byte-order mark): one place for header handling.
	hd := nhsdata.NewHeader(header)
	col := func(n string) (int, bool) {
		i := hd.Find(n)
		return i, i >= 0
	}
	need := func(n string) (int, error) {
		if i, ok := col(n); ok {
			return i, nil
		}
		return 0, popErr(name, 1, "", fmt.Sprintf("no %s column: accepted NHS Digital's layout with ORG_CODE, SEX, AGE_GROUP_5 or AGE, NUMBER_OF_PATIENTS", n))
	}
	iOrg, err := need("ORG_CODE")
	if err != nil {
		return nil, err
	}
	iSex, err := need("SEX")
	if err != nil {
		return nil, err
	}
	iN, err := need("NUMBER_OF_PATIENTS")
	if err != nil {
		return nil, err
	}
	iAge, single := -1, false
	if i, ok := col("AGE_GROUP_5"); ok {
		iAge = i
	} else if i, ok := col("AGE"); ok {
		iAge, single = i, true
	} else {
		return nil, popErr(name, 1, "", "no AGE_GROUP_5 or AGE column: accepted the five-year-band or single-year-of-age layout")
	}
	var iComm []int
	maxCol := max(iOrg, iSex, iN, iAge)
	for _, c := range commissionerColumns {
		if i, ok := col(c); ok {
			iComm = append(iComm, i)
			maxCol = max(maxCol, i)
		}
	}
	want := map[string]bool{}
	for _, c := range codes {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			want[c] = false
		}
	}

	type prac struct {
		spec   PracticeSpec
		counts [2][20]int
		total  [3]int // MALE ALL, FEMALE ALL, ALL ALL; -1 if absent
		line   [3]int
	}
	byCode := map[string]*prac{}
	var order []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// FieldPos is only defined after a successful Read: take the
			// line from the parse error.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, popErr(name, line, "", fmt.Sprintf("not valid CSV: %v", err))
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) <= maxCol {
			return nil, popErr(name, line, "", fmt.Sprintf("has %d fields, the header %d", len(rec), len(header)))
		}
		code := strings.ToUpper(strings.TrimSpace(rec[iOrg]))
		if code == "" {
			return nil, popErr(name, line, "ORG_CODE", "is empty: accepted a practice code")
		}
		nStr := strings.TrimSpace(rec[iN])
		n, err := strconv.Atoi(nStr)
		if err != nil || n < 0 {
			return nil, popErr(name, line, "NUMBER_OF_PATIENTS", fmt.Sprintf("%q is not a count: accepted a whole number 0 or more", nStr))
		}
		sexStr := strings.ToUpper(strings.TrimSpace(rec[iSex]))
		sex := -1
		switch sexStr {
		case "MALE", "M":
			sex = 0
		case "FEMALE", "F":
			sex = 1
		case "ALL":
			sex = 2
		default:
			return nil, popErr(name, line, "SEX", fmt.Sprintf("%q: accepted MALE, FEMALE, ALL", sexStr))
		}
		ageStr := strings.ToUpper(strings.TrimSpace(rec[iAge]))
		band, err := parseAge(ageStr, single)
		if err != nil {
			f := "AGE_GROUP_5"
			if single {
				f = "AGE"
			}
			return nil, popErr(name, line, f, err.Error())
		}
		if len(want) > 0 {
			hit := false
			if _, ok := want[code]; ok {
				want[code], hit = true, true
			}
			for _, i := range iComm {
				c := strings.ToUpper(strings.TrimSpace(rec[i]))
				if _, ok := want[c]; ok {
					want[c], hit = true, true
				}
			}
			if !hit {
				continue
			}
		}
		p, ok := byCode[code]
		if !ok {
			p = &prac{spec: PracticeSpec{ID: code, Need: 1}, total: [3]int{-1, -1, -1}}
			byCode[code] = p
			order = append(order, code)
		}
		switch {
		case band < 0 && sex < 2: // MALE/FEMALE ALL: a sex total
			p.total[sex], p.line[sex] = n, line
		case band < 0: // ALL ALL: the list size
			p.total[2], p.line[2] = n, line
		case sex == 2: // ALL sexes of one band: a total, not a count
		default:
			p.counts[sex][band] += n
		}
	}
	for c, hit := range want {
		if !hit {
			return nil, popErr(name, 0, "", fmt.Sprintf("--practices %s matches no practice code (ORG_CODE) or commissioner code", c))
		}
	}
	if len(order) == 0 {
		return nil, popErr(name, 0, "", "has no practices")
	}
	out := make([]PracticeSpec, 0, len(order))
	for _, code := range order {
		p := byCode[code]
		var sum [3]int
		for s := range 2 {
			for b := range 20 {
				sum[s] += p.counts[s][b]
			}
		}
		sum[2] = sum[0] + sum[1]
		for k, lbl := range []string{"MALE", "FEMALE", "ALL"} {
			if p.total[k] >= 0 && p.total[k] != sum[k] {
				return nil, popErr(name, p.line[k], "", fmt.Sprintf("practice %s: %s ALL row says %d patients but its bands sum to %d", code, lbl, p.total[k], sum[k]))
			}
		}
		if sum[2] == 0 {
			return nil, popErr(name, 0, "", fmt.Sprintf("practice %s has no patients in any band: accepted 1 or more", code))
		}
		p.spec.List.Male = append([]int(nil), p.counts[0][:]...)
		p.spec.List.Female = append([]int(nil), p.counts[1][:]...)
		out = append(out, p.spec)
	}
	return out, nil
}

// popErr is a population-file error: the file, the line (0: the file as a
// whole), the column and what is accepted.
func popErr(file string, line int, field, msg string) error {
	var b strings.Builder
	b.WriteString(file)
	if line > 0 {
		fmt.Fprintf(&b, ", line %d", line)
	}
	if field != "" {
		fmt.Fprintf(&b, ", %s", field)
	}
	fmt.Fprintf(&b, ": %s", msg)
	return errors.New(b.String())
}

// parseAge returns the five-year band of an AGE_GROUP_5 label (0_4 ... 90_94,
// 95+) or, for single-year files, an AGE (0 ... 94, 95+, or higher ages), and
// -1 for ALL.
func parseAge(s string, single bool) (int, error) {
	if s == "ALL" {
		return -1, nil
	}
	if s == "95+" || s == "95_PLUS" || s == "95PLUS" {
		return 19, nil
	}
	if single {
		a, err := strconv.Atoi(strings.TrimSuffix(s, "+"))
		if err != nil || a < 0 || a > 130 {
			return 0, fmt.Errorf("%q is not an age: accepted 0 to 130, 95+ or ALL", s)
		}
		return min(a/5, 19), nil
	}
	lo, hi, ok := strings.Cut(s, "_")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || a%5 != 0 || b != a+4 || a > 90 || a < 0 {
		return 0, fmt.Errorf("%q is not a five-year band: accepted 0_4, 5_9, ..., 90_94, 95+ or ALL", s)
	}
	return a / 5, nil
}

// UsePractices replaces the scenario's population with explicit practices
// (as read from a population file).
func (s *Scenario) UsePractices(ps []PracticeSpec) {
	s.Population.Practices = ps
	s.Population.Synthetic = nil
	// A file's lists are today's: the first budget year starts from them.
	s.Population.ListsAtYearOne = true
}

// WritePopulation writes practices in NHS Digital's five-year-band layout
// (newer column names, with the ALL rows), as `gpbudget synth` does.
func WritePopulation(w io.Writer, ps []PracticeSpec, commissioner, extract string) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"PUBLICATION", "EXTRACT_DATE", "TYPE", "SUB_ICB_LOCATION_CODE", "ORG_CODE", "POSTCODE", "SEX", "AGE_GROUP_5", "NUMBER_OF_PATIENTS"})
	labels := make([]string, 20)
	for b := range 19 {
		labels[b] = fmt.Sprintf("%d_%d", 5*b, 5*b+4)
	}
	labels[19] = "95+"
	sorted := append([]PracticeSpec(nil), ps...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, p := range sorted {
		all := 0
		for k, sex := range []string{"MALE", "FEMALE"} {
			v := p.List.Male
			if k == 1 {
				v = p.List.Female
			}
			tot := 0
			for b, n := range v {
				tot += n
				_ = cw.Write([]string{"GP_PRAC_PAT_LIST", extract, "GP", commissioner, p.ID, "", sex, labels[b], strconv.Itoa(n)})
			}
			_ = cw.Write([]string{"GP_PRAC_PAT_LIST", extract, "GP", commissioner, p.ID, "", sex, "ALL", strconv.Itoa(tot)})
			all += tot
		}
		_ = cw.Write([]string{"GP_PRAC_PAT_LIST", extract, "GP", commissioner, p.ID, "", "ALL", "ALL", strconv.Itoa(all)})
	}
	cw.Flush()
	return cw.Error()
}

// ApportionList returns a practice of n patients spread over sex and band in
// proportion to share (largest remainder), need 1: a stand-in when only a
// practice's list size is known.
func ApportionList(id string, n int, share BySexBand) PracticeSpec {
	w := append(append([]float64(nil), share.Male...), share.Female...)
	tot := 0.0
	for _, x := range w {
		tot += x
	}
	counts := make([]int, len(w))
	type rem struct {
		i int
		r float64
	}
	var rs []rem
	left := n
	for i, x := range w {
		e := float64(n) * x / tot
		counts[i] = int(e)
		left -= counts[i]
		rs = append(rs, rem{i, e - float64(counts[i])})
	}
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].r > rs[b].r })
	for j := 0; j < left; j++ {
		counts[rs[j%len(rs)].i]++
	}
	p := PracticeSpec{ID: id, Need: 1}
	p.List.Male = counts[:20]
	p.List.Female = counts[20:]
	return p
}

// AreaAgeShare is the scenario's synthetic age-sex structure, or the
// default's when the scenario lists its practices.
func (s *Scenario) AreaAgeShare() BySexBand {
	if s.Population.Synthetic != nil {
		return s.Population.Synthetic.AgeShare
	}
	return Default().Population.Synthetic.AgeShare
}
