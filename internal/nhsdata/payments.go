package nhsdata

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Payment is one practice's row of NHS Digital's "NHS Payments to General
// Practice" for one financial year. Money in pounds of the year.
type Payment struct {
	Practice     string // practice code, upper case
	Name         string
	Commissioner string // CCG (older files) or sub-ICB location code
	Open, Close  string // dates as published (dd/mm/yyyy), "" when blank or "-"
	Contract     string // GMS, PMS, APMS, ...
	Dispensing   bool
	// DispensingUnknown: the file says UNKNOWN (or leaves it blank); such a
	// practice is treated as not dispensing.
	DispensingUnknown bool
	// List is the registered list. Up to 2017/18 the files give the last
	// known quarterly count (a whole number); from 2018/19 the mean of the
	// quarters the practice was open (fractions of 1/4 and 1/3 show it).
	// HasList is false where the cell is blank.
	List     float64
	HasList  bool
	Weighted float64 // Carr-Hill weighted list (workload, not cost need)
	// Drugs is "Reimbursement of Drugs": for a dispensing practice, the cost
	// of the drugs it dispensed; near zero for others. HasDrugs is false
	// where the cell is blank.
	Drugs    float64
	HasDrugs bool
	Line     int // the row's line in the file
}

// Payments is one year's file.
type Payments struct {
	File string
	Year int // first calendar year of the financial year: 2017 for 2017/18
	Rows []Payment
	// Format is what the file was found to be (encoding, line ends).
	Format Format
	// HasCommissioner: the file has a commissioner column (mergers are
	// found within one commissioner).
	HasCommissioner bool
	// Missing counts, by column, the cells read as missing.
	Missing []Missing
	// Practices (codes) whose values are plausible but unusual, reported
	// with counts: dispensing without drugs given, drugs above
	// MaxDrugsPerHead, a list under SmallList.
	DispensingNoDrugs, HighDrugsPerHead, SmallLists []string
}

// Column names as the files have used them (compared by NormalizeName).
var (
	colPractice     = []string{"Practice Code", "Practice_Code", "Org Code", "Code"}
	colPracticeName = []string{"Practice Name", "GP Practice Name"}
	colCommissioner = []string{"Sub ICB Location Code", "Sub ICB Code", "Sub ICB", "SUB_ICB_LOC_CODE", "CCG Code", "CCG21", "Commissioner Code", "PCT Code"}
	colOpen         = []string{"Practice Open Date", "Open Date"}
	colClose        = []string{"Practice Close Date", "Close Date"}
	colContract     = []string{"Contract Type"}
	colDispensing   = []string{"Dispensing Practice", "Dispensing"}
	colList         = []string{"Number of Registered Patients (Last Known Figure)", "Average Number of Registered Patients", "Number of Registered Patients", "Registered Patients"}
	colWeighted     = []string{"Number of Weighted Patients (Last Known Figure)", "Average Number of Weighted Patients", "Number of Weighted Patients", "Weighted Patients"}
	colDrugs        = []string{"Reimbursement of Drugs", "Drugs Reimbursement"}
)

var yearInName = regexp.MustCompile(`(?:^|[^0-9])((?:20)?[0-9]{2})[-_]((?:20)?[0-9]{2})(?:[^0-9]|$)`)

// YearFromName reads the financial year from a file name such as
// payments_17-18.csv or payments-2017_18.csv: 2017. ok is false when the
// name carries no pair of consecutive years.
func YearFromName(path string) (year int, ok bool) {
	for _, m := range yearInName.FindAllStringSubmatch(filepath.Base(path), -1) {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if a < 100 {
			a += 2000
		}
		if b%100 == (a+1)%100 {
			return a, true
		}
	}
	return 0, false
}

// ReadPaymentsFile reads a payments file whose name carries its year (see
// YearFromName); year > 0 overrides the name.
func ReadPaymentsFile(path string, year int) (*Payments, error) {
	if year <= 0 {
		y, ok := YearFromName(path)
		if !ok {
			return nil, FieldErrorf(path, 0, "", "the name says no financial year: accepted names such as payments_17-18.csv (2017/18)")
		}
		year = y
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("payments file: %w", err)
	}
	defer f.Close()
	return ReadPayments(f, path, year)
}

// ReadPayments reads one year's payments file from r; name labels errors.
// Required columns: the practice code, the registered list, the dispensing
// flag and the reimbursement of drugs; the others are read where present,
// and unknown columns are ignored. A practice may appear once. Lists and
// drugs outside Bounds are refused; missing values are counted (Missing).
func ReadPayments(r io.Reader, name string, year int) (*Payments, error) {
	rd, err := NewPaymentsReader(r, name)
	if err != nil {
		return nil, err
	}
	need := func(what string, names []string) int {
		if err != nil {
			return -1
		}
		var i int
		i, err = rd.Need(what, names...)
		return i
	}
	want := func(what string, names []string) int {
		if err != nil {
			return -1
		}
		var i int
		i, err = rd.Want(what, names...)
		return i
	}
	iP, iL := need("practice code", colPractice), need("registered patients", colList)
	iD, iDrug := need("dispensing practice", colDispensing), need("reimbursement of drugs", colDrugs)
	iName, iComm := want("practice name", colPracticeName), want("commissioner code", colCommissioner)
	iOpen, iClose, iCon := want("open date", colOpen), want("close date", colClose), want("contract type", colContract)
	iW := want("weighted patients", colWeighted)
	if err != nil {
		return nil, err
	}
	p := &Payments{File: name, Year: year, Format: rd.Format, HasCommissioner: iComm >= 0}
	seen := practiceCodes{}
	for {
		more, err := rd.Next()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		row := Payment{Line: rd.Line()}
		if row.Practice, err = seen.next(rd, iP, "appears again", "one row per practice"); err != nil {
			return nil, err
		}
		if row.List, row.HasList, err = rd.Number(iL); err != nil {
			return nil, err
		}
		if row.HasList {
			if err := checkList(rd, iL, row.List, true); err != nil {
				return nil, err
			}
		}
		switch strings.ToUpper(rd.Cell(iD)) {
		case "YES", "Y", "TRUE", "1":
			row.Dispensing = true
		case "NO", "N", "FALSE", "0":
		case "UNKNOWN", "", "-":
			row.DispensingUnknown = true
		default:
			return nil, FieldErrorf(name, rd.Line(), rd.Header.Label(iD), "%q: accepted Yes, No or UNKNOWN", rd.Cell(iD))
		}
		if row.Drugs, row.HasDrugs, err = rd.Number(iDrug); err != nil {
			return nil, err
		}
		if row.HasDrugs && math.Abs(row.Drugs) > MaxPracticeMoney {
			return nil, FieldErrorf(name, rd.Line(), rd.Header.Label(iDrug), "£%.0f is implausible: accepted up to £%.0f a practice a year (Bounds, docs/parameters.md)", row.Drugs, MaxPracticeMoney)
		}
		if row.Dispensing && !row.HasDrugs {
			p.DispensingNoDrugs = append(p.DispensingNoDrugs, row.Practice)
		}
		if row.Dispensing && row.HasDrugs && row.HasList && row.List >= 1 && row.Drugs/row.List > MaxDrugsPerHead {
			p.HighDrugsPerHead = append(p.HighDrugsPerHead, row.Practice)
		}
		if row.HasList && row.List > 0 && row.List < SmallList {
			p.SmallLists = append(p.SmallLists, row.Practice)
		}
		if iW >= 0 {
			if row.Weighted, _, err = rd.Number(iW); err != nil {
				return nil, err
			}
		}
		if row.Commissioner, err = rd.Code(iComm); err != nil {
			return nil, err
		}
		row.Name, row.Contract = rd.Cell(iName), strings.ToUpper(rd.Cell(iCon))
		row.Open, row.Close = dateCell(rd.Cell(iOpen)), dateCell(rd.Cell(iClose))
		p.Rows = append(p.Rows, row)
	}
	if len(p.Rows) == 0 {
		return nil, FieldErrorf(name, 0, "", "has no practices")
	}
	p.Missing = rd.Missing()
	p.Format = rd.Format
	return p, nil
}

// NewPaymentsReader is the front door for a payments file, as ReadPayments
// reads it (a final row without its line end vouched for by its totals),
// for a reader of columns ReadPayments does not keep.
func NewPaymentsReader(r io.Reader, name string) (*Reader, error) {
	return NewReaderOptions(r, name, Options{Unterminated: paymentsTotalsAddUp})
}

// Columns of the payments files' totals: the net total is the gross total
// plus the (negative) deductions, to the penny from 2015/16 and to the pound
// (each rounded) in 2014/15.
var (
	colGross      = []string{"Total NHS Payments to General Practice"}
	colDeductions = []string{"Deductions for Pensions, Levies and Prescription Charge Income"}
	colNet        = []string{"Total NHS Payments to General Practice Minus Deductions"}
)

// paymentsTotalsAddUp vouches for a final row without its line end, as NHS
// Digital's payments files end: its net total, the last column, must be its
// gross total plus deductions, which a row cut inside its last cells breaks.
func paymentsTotalsAddUp(rd *Reader) error {
	g, d, n := rd.Header.Find(colGross...), rd.Header.Find(colDeductions...), rd.Header.Find(colNet...)
	last := len(rd.Header.Names) - 1
	cut := FieldErrorf(rd.File, rd.Line(), "", "the last row has no line end, and its totals cannot vouch that it is whole: a file cut short? (accepted a last row without a line end only where its last column, %q, equals %q plus %q)", colNet[0], colGross[0], colDeductions[0])
	if g < 0 || d < 0 || n != last {
		return cut
	}
	gv, ok1, e1 := ParseNumber(rd.Cell(g))
	dv, ok2, e2 := ParseNumber(rd.Cell(d))
	nv, ok3, e3 := ParseNumber(rd.Cell(n))
	if e1 != nil || e2 != nil || e3 != nil || !ok1 || !ok2 || !ok3 || math.Abs(gv+dv-nv) > 1.005 {
		return cut
	}
	return nil
}

func dateCell(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
