package nhsdata

import (
	"fmt"
	"io"
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
			return nil, Errorf(path, 0, "", "the name says no financial year: accepted names such as payments_17-18.csv (2017/18)")
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
// and unknown columns are ignored. A practice may appear once.
func ReadPayments(r io.Reader, name string, year int) (*Payments, error) {
	rd, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	iP, err := rd.Need("practice code", colPractice...)
	if err != nil {
		return nil, err
	}
	iL, err := rd.Need("registered patients", colList...)
	if err != nil {
		return nil, err
	}
	iD, err := rd.Need("dispensing practice", colDispensing...)
	if err != nil {
		return nil, err
	}
	iDrug, err := rd.Need("reimbursement of drugs", colDrugs...)
	if err != nil {
		return nil, err
	}
	iName, iComm := rd.Header.Find(colPracticeName...), rd.Header.Find(colCommissioner...)
	iOpen, iClose, iCon, iW := rd.Header.Find(colOpen...), rd.Header.Find(colClose...), rd.Header.Find(colContract...), rd.Header.Find(colWeighted...)
	p := &Payments{File: name, Year: year}
	seen := map[string]int{}
	for {
		more, err := rd.Next()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		row := Payment{Line: rd.Line()}
		row.Practice = strings.ToUpper(rd.Cell(iP))
		if row.Practice == "" {
			return nil, Errorf(name, rd.Line(), rd.Header.Label(iP), "is empty: accepted a practice code")
		}
		if l, dup := seen[row.Practice]; dup {
			return nil, Errorf(name, rd.Line(), rd.Header.Label(iP), "practice %s appears again (first on line %d): accepted one row per practice", row.Practice, l)
		}
		seen[row.Practice] = rd.Line()
		if row.List, row.HasList, err = rd.Number(iL); err != nil {
			return nil, err
		}
		if row.HasList && row.List < 0 {
			return nil, Errorf(name, rd.Line(), rd.Header.Label(iL), "%v patients: accepted 0 or more", row.List)
		}
		switch strings.ToUpper(rd.Cell(iD)) {
		case "YES", "Y", "TRUE", "1":
			row.Dispensing = true
		case "NO", "N", "FALSE", "0":
		case "UNKNOWN", "", "-":
			row.DispensingUnknown = true
		default:
			return nil, Errorf(name, rd.Line(), rd.Header.Label(iD), "%q: accepted Yes, No or UNKNOWN", rd.Cell(iD))
		}
		if row.Drugs, row.HasDrugs, err = rd.Number(iDrug); err != nil {
			return nil, err
		}
		if iW >= 0 {
			if row.Weighted, _, err = rd.Number(iW); err != nil {
				return nil, err
			}
		}
		row.Name, row.Commissioner, row.Contract = rd.Cell(iName), strings.ToUpper(rd.Cell(iComm)), strings.ToUpper(rd.Cell(iCon))
		row.Open, row.Close = dateCell(rd.Cell(iOpen)), dateCell(rd.Cell(iClose))
		p.Rows = append(p.Rows, row)
	}
	if len(p.Rows) == 0 {
		return nil, Errorf(name, 0, "", "has no practices")
	}
	return p, nil
}

func dateCell(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
