// Package realrisk measures, on NHS Payments to General Practice files,
// how a budget holder's spend per head moves against a benchmark that
// grows with national spend, for holders of 5,000 to 1,000,000 people
// built from real practices, and estimates the variance components of
// that movement by geographic level. The series is `Reimbursement of
// Drugs` of dispensing practices: the one real practice-level cost series
// in the files. gpbudget calibrate-risk and validate-risk are thin over it.
package realrisk

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/gpbudget/gpbudget/internal/nhsdata"
)

// Practice is one practice's row of one year's payments file, with what
// the method needs.
type Practice struct {
	Code, Region, CCG, Postcode string
	Open                        bool // no close date
	Dispensing                  bool
	List                        float64 // registered patients (0 when blank)
	Drugs                       float64 // reimbursement of drugs, pounds (0 when blank)
}

// Year is one payments file.
type Year struct {
	File      string
	Year      int // first calendar year of the financial year
	Practices map[string]Practice
}

// Column names of the region and postcode, which the payments reader does
// not keep (compared by nhsdata.NormalizeName).
var (
	colCode     = []string{"Practice Code", "Practice_Code", "Org Code", "Code"}
	colRegion   = []string{"NHS England (Region) code", "NHS England Region Code", "Region Code", "Commissioner Region Code"}
	colPostcode = []string{"Practice Postcode", "Postcode"}
)

// ReadYears reads payments files (their names carry the year, as
// nhsdata.ReadPaymentsFile accepts), in year order. Two files of one year
// are an error.
func ReadYears(paths []string) ([]Year, error) {
	var out []Year
	seen := map[int]string{}
	for _, p := range paths {
		y, err := ReadYear(p)
		if err != nil {
			return nil, err
		}
		if q, dup := seen[y.Year]; dup {
			return nil, fmt.Errorf("%s and %s are both %d/%02d: accepted one file a year", q, p, y.Year, (y.Year+1)%100)
		}
		seen[y.Year] = p
		out = append(out, y)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out, nil
}

// ReadYear reads one payments file: the payments reader's fields, and the
// region and postcode from a second pass over the header-indexed rows
// (blank where the file has no such column).
func ReadYear(path string) (Year, error) {
	pay, err := nhsdata.ReadPaymentsFile(path, 0)
	if err != nil {
		return Year{}, err
	}
	y := Year{File: path, Year: pay.Year, Practices: make(map[string]Practice, len(pay.Rows))}
	for _, r := range pay.Rows {
		y.Practices[r.Practice] = Practice{
			Code: r.Practice, CCG: r.Commissioner, Open: r.Close == "", Dispensing: r.Dispensing,
			List: r.List, Drugs: r.Drugs,
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return Year{}, fmt.Errorf("payments file: %w", err)
	}
	defer f.Close()
	rd, err := nhsdata.NewPaymentsReader(f, path)
	if err != nil {
		return Year{}, err
	}
	iP, err := rd.Need("practice code", colCode...)
	if err != nil {
		return Year{}, err
	}
	iR, iPC := rd.Header.Find(colRegion...), rd.Header.Find(colPostcode...)
	for {
		more, err := rd.Next()
		if err != nil {
			return Year{}, err
		}
		if !more {
			break
		}
		code := strings.ToUpper(rd.Cell(iP))
		if p, ok := y.Practices[code]; ok {
			p.Region, p.Postcode = strings.ToUpper(rd.Cell(iR)), strings.ToUpper(rd.Cell(iPC))
			y.Practices[code] = p
		}
	}
	return y, nil
}
