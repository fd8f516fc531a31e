package scenarios

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/sim"
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
// where present, must equal the sum of the bands; a practice, sex and age
// given twice is an error (a file repeated, or concatenated with itself,
// would otherwise double every list). Any problem is an error naming the
// file and line, and nothing is returned.
//
// The file is read within lim (practices, patients in a practice and in all)
// as it goes, so a huge count or a file of far too many practices is refused
// at its line, before memory is spent on it; so is a line longer than
// maxLineBytes. Files are UTF-8 (a byte-order mark is allowed); UTF-16, as
// some spreadsheet programs save "Unicode text", is named as such.
func ReadPopulationFile(path string, codes []string, lim Limits) ([]PracticeSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("population file: %w", err)
	}
	defer f.Close()
	return ReadPopulation(f, path, codes, lim)
}

// maxLineBytes bounds a population file's line: NHS Digital's lines are
// about 80 bytes, so 64 KiB is only ever a file that is not CSV text (or
// has no line breaks), which the CSV reader would otherwise hold whole.
const maxLineBytes = 64 << 10

// ReadPopulation is ReadPopulationFile on a reader; name labels errors.
func ReadPopulation(r io.Reader, name string, codes []string, lim Limits) ([]PracticeSpec, error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(4); isUTF16(head) {
		return nil, popErr(name, 1, "", "is UTF-16 text: accepted UTF-8 (or ASCII) CSV, as NHS Digital publishes it; in a spreadsheet, save as \"CSV UTF-8\"")
	}
	lr := &lineLimit{r: br, max: maxLineBytes, line: 1}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if lr.err != nil {
			return nil, popErr(name, lr.line, "", lr.err.Error())
		}
		return nil, popErr(name, 1, "", fmt.Sprintf("cannot read the header: %v", err))
	}
	// Column names are matched as nhsdata matches them (case, spacing,
	// a byte-order mark): one place for header handling.
	hd := nhsdata.NewHeader(header)
	// A column the reader uses, given twice, is refused: which one the
	// publisher meant cannot be known (issue 27).
	for _, n := range append([]string{"ORG_CODE", "SEX", "NUMBER_OF_PATIENTS", "AGE_GROUP_5", "AGE"}, commissionerColumns...) {
		if k := hd.Count(n); k > 1 {
			return nil, popErr(name, 1, n, fmt.Sprintf("appears %d times: accepted one column of each name", k))
		}
	}
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
		sum    int       // patients in the bands so far
		seen   [7]uint64 // (sex, age) rows read: bit 133·sex + ageKey
	}
	byCode := map[string]*prac{}
	var order []string
	patients := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if lr.err != nil {
			return nil, popErr(name, lr.line, "", lr.err.Error())
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
		if n > lim.PatientsPerPractice {
			return nil, popErr(name, line, "NUMBER_OF_PATIENTS", fmt.Sprintf("%d is more than the limit of %d patients a practice: "+limitsHelp, n, lim.PatientsPerPractice, "patients_per_practice"))
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
			if len(order) >= lim.Practices {
				return nil, popErr(name, line, "ORG_CODE", fmt.Sprintf("practice %s is one more than the limit of %d practices: "+limitsHelp+", or select practices with --practices", code, lim.Practices, "practices"))
			}
			p = &prac{spec: PracticeSpec{ID: code, Need: 1, Area: commissioner(rec, iComm)}, total: [3]int{-1, -1, -1}}
			byCode[code] = p
			order = append(order, code)
		}
		bit := 133*sex + ageKey(ageStr, band, single)
		if p.seen[bit/64]&(1<<(bit%64)) != 0 {
			return nil, popErr(name, line, "", fmt.Sprintf("practice %s, %s, age %s appears a second time: accepted one row per practice, sex and age (is the file, or part of it, repeated?)", code, sexStr, ageStr))
		}
		p.seen[bit/64] |= 1 << (bit % 64)
		if band >= 0 && sex < 2 {
			p.sum += n
			patients += n
			if p.sum > lim.PatientsPerPractice {
				return nil, popErr(name, line, "", fmt.Sprintf("practice %s has more than the limit of %d patients a practice: "+limitsHelp, code, lim.PatientsPerPractice, "patients_per_practice"))
			}
			if patients > lim.Patients {
				return nil, popErr(name, line, "", fmt.Sprintf("the practices so far hold more than the limit of %d patients: "+limitsHelp+", or select practices with --practices", lim.Patients, "patients"))
			}
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

// ageKey numbers an age label within a sex for duplicate detection: 0 for
// ALL, the band + 1 (five-year files) or the age + 1 (single-year files, ages
// 0 to 130), and 132 for 95+.
func ageKey(s string, band int, single bool) int {
	switch {
	case band < 0:
		return 0
	case !single:
		return band + 1
	}
	a, err := strconv.Atoi(s)
	if err != nil { // 95+ or a synonym
		return 132
	}
	return a + 1
}

// isUTF16 says whether a file's first bytes are UTF-16: a byte-order mark,
// or ASCII text with a zero byte before or after each character.
func isUTF16(b []byte) bool {
	if len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF) {
		return true
	}
	return len(b) >= 4 && (b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0 || b[0] == 0 && b[1] != 0 && b[2] == 0 && b[3] != 0)
}

// lineLimit passes a reader through, counting lines, and fails once a line
// runs past max bytes.
type lineLimit struct {
	r    io.Reader
	max  int
	run  int // bytes since the last line break
	line int
	err  error
}

func (l *lineLimit) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	b := p[:n]
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.run += len(b)
			break
		}
		if l.run+i > l.max {
			l.run += i
			break
		}
		l.line++
		l.run = 0
		b = b[i+1:]
	}
	if l.run > l.max {
		l.err = fmt.Errorf("a line is longer than %d bytes: accepted CSV text with one row a line (is this a list-size file?)", l.max)
		return 0, l.err
	}
	return n, err
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

// commissioner is a row's commissioner code (the first commissioner column
// present, in commissionerColumns' order): the practice's area for common
// shocks.
func commissioner(rec []string, iComm []int) string {
	if len(iComm) == 0 {
		return ""
	}
	return strings.ToUpper(strings.TrimSpace(rec[iComm[0]]))
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

// ErrNoListSize: a practice of a spending history has no list size, and no
// population file gives its age-sex list.
var ErrNoListSize = errors.New("the history has no list size for a practice")

// HistoryPractices gives each practice ids[i] of a spending history its
// age-sex list: from the population file pop where one is named (matched by
// code whatever its case), else its last list size lists[i] (nil when the
// history has none) spread by the scenario's age mix (AreaAgeShare), need 1.
func (s *Scenario) HistoryPractices(ids []string, lists []float64, pop string) ([]PracticeSpec, error) {
	out := make([]PracticeSpec, len(ids))
	if pop != "" {
		ps, err := ReadPopulationFile(pop, nil, s.Limits)
		if err != nil {
			return nil, err
		}
		byID := map[string]PracticeSpec{}
		for _, p := range ps {
			byID[p.ID] = p
		}
		for i, id := range ids {
			p, ok := byID[strings.ToUpper(id)]
			if !ok {
				return nil, fmt.Errorf("%s has no practice %s (in the history)", pop, id)
			}
			p.ID = id
			out[i] = p
		}
		return out, nil
	}
	share := s.AreaAgeShare()
	for i, id := range ids {
		if i >= len(lists) || math.Round(lists[i]) < 1 {
			return nil, fmt.Errorf("practice %s: %w", id, ErrNoListSize)
		}
		out[i] = ApportionList(id, int(math.Round(lists[i])), share)
	}
	return out, nil
}

// PracticeSpecs are the model's practices as a population file gives them:
// their age-sex lists and need ('gpbudget synth' writes its synthetic
// practices so).
func PracticeSpecs(m *sim.Model) []PracticeSpec {
	specs := make([]PracticeSpec, len(m.Practices))
	for i := range m.Practices {
		p := &m.Practices[i]
		specs[i] = PracticeSpec{ID: p.ID, Need: p.Need}
		specs[i].List.Male = append([]int(nil), p.Count[sim.Male][:]...)
		specs[i].List.Female = append([]int(nil), p.Count[sim.Female][:]...)
	}
	return specs
}
