package nhsdata

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Registration is one practice's registered list on one extract date, from
// NHS Digital's "Patients Registered at a GP Practice" totals file.
type Registration struct {
	Practice, Commissioner string
	Extract                string // EXTRACT_DATE as published, e.g. 01JAN2021
	Patients               float64
	Line                   int
}

// ReadRegistrationsFile reads a registrations totals file.
func ReadRegistrationsFile(path string) ([]Registration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("registrations file: %w", err)
	}
	defer f.Close()
	return ReadRegistrations(f, path)
}

// ReadRegistrations reads NHS Digital's practice registrations (totals:
// SEX and AGE both ALL). Required: the practice code (CODE in the totals
// file, ORG_CODE in the age-band files) and NUMBER_OF_PATIENTS. Where the
// file has SEX and AGE (or AGE_GROUP_5) columns, only the ALL-ALL rows are
// read: the others are parts of the total (scenarios.ReadPopulation reads
// those). The commissioner is CCG_CODE in older files, SUB_ICB_LOCATION_CODE
// in newer ones. A practice may appear once.
func ReadRegistrations(r io.Reader, name string) ([]Registration, error) {
	rd, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	iP, err := rd.Need("practice code", "CODE", "ORG_CODE", "PRACTICE_CODE")
	if err != nil {
		return nil, err
	}
	iN, err := rd.Need("patients", "NUMBER_OF_PATIENTS")
	if err != nil {
		return nil, err
	}
	var iSex, iAge, iComm, iDate int
	for _, c := range []struct {
		i     *int
		what  string
		names []string
	}{{&iSex, "sex", []string{"SEX"}}, {&iAge, "age", []string{"AGE", "AGE_GROUP_5"}}, {&iComm, "commissioner code", []string{"SUB_ICB_LOCATION_CODE", "SUB_ICB_LOC_CODE", "CCG_CODE", "PCT_CODE"}}, {&iDate, "extract date", []string{"EXTRACT_DATE"}}} {
		if *c.i, err = rd.Want(c.what, c.names...); err != nil {
			return nil, err
		}
	}
	var out []Registration
	seen := practiceCodes{}
	for {
		more, err := rd.Next()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if (iSex >= 0 && !strings.EqualFold(rd.Cell(iSex), "ALL")) || (iAge >= 0 && !strings.EqualFold(rd.Cell(iAge), "ALL")) {
			continue
		}
		g := Registration{Line: rd.Line()}
		if g.Practice, err = seen.next(rd, iP, "has a second total", "one ALL/ALL row per practice"); err != nil {
			return nil, err
		}
		v, ok, err := rd.Number(iN)
		if err != nil {
			return nil, err
		}
		if !ok || v < 0 || v != float64(int64(v)) {
			return nil, FieldErrorf(name, rd.Line(), rd.Header.Label(iN), "%q: accepted a whole number of patients 0 or more", rd.Cell(iN))
		}
		if err := checkList(rd, iN, v, false); err != nil {
			return nil, err
		}
		g.Patients = v
		if g.Commissioner, err = rd.Code(iComm); err != nil {
			return nil, err
		}
		g.Extract = rd.Cell(iDate)
		out = append(out, g)
	}
	if len(out) == 0 {
		return nil, FieldErrorf(name, 0, "", "has no practice totals (rows with SEX and AGE ALL)")
	}
	return out, nil
}
