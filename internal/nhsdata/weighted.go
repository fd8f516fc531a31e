package nhsdata

import (
	"fmt"
	"io"
	"os"
)

// Need components of NHS England's practice need-weighted populations, in
// the order of WeightedPopulation.WP.
const (
	GeneralAcute = iota // "G&A WP": general and acute
	Community           // "CS WP"
	MentalHealth        // "MH WP"
	Maternity           // "Mat WP"
	HealthIneq          // "Health Ineq WP"
	Prescribing         // "Prescr WP"
	PrimaryCare         // "Primary Medical Care WP"
	NComponents
)

// ComponentNames name the components, for messages and reports.
var ComponentNames = [NComponents]string{"general and acute", "community", "mental health", "maternity", "health inequalities", "prescribing", "primary medical care"}

var componentColumns = [NComponents][]string{
	{"G&A WP", "General and Acute WP", "G&A"},
	{"CS WP", "Community WP", "CS"},
	{"MH WP", "Mental Health WP", "MH"},
	{"Mat WP", "Maternity WP", "Mat"},
	{"Health Ineq WP", "Health Inequalities WP"},
	{"Prescr WP", "Prescribing WP", "Prescr"},
	{"Primary Medical Care WP", "PMC WP"},
}

// WeightedPopulation is one practice's row: its registered (or projected
// base) population and need-weighted population by component. WP[c]/Pop is
// the practice's relative need per head for component c (age, sex and need
// together). Has[c] says whether component c was given (column present,
// cell not blank).
type WeightedPopulation struct {
	Practice, Name, ICB, Region string
	Pop                         float64
	WP                          [NComponents]float64
	Has                         [NComponents]bool
	Line                        int
}

// maxWeighted bounds a weighted population: the files' need per head is at
// most about 4 in practices of 1,000 or more, so ten times MaxList is only
// ever damage. Assumption.
const maxWeighted = 10 * MaxList

// ReadWeightedFile reads a need-weighted population file.
func ReadWeightedFile(path string) ([]WeightedPopulation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weighted-population file: %w", err)
	}
	defer f.Close()
	return ReadWeighted(f, path)
}

// ReadWeighted reads NHS England's practice need-weighted populations
// (revenue allocations). Required: the practice code, a population column
// ("Patients", or the projected base population headed "pop YYYY/YY",
// which the 2023/24 and 2024/25 files use while leaving "Patients" blank),
// and the general-and-acute and prescribing components. Others are read
// where present; unknown columns are ignored. Rows with no population are
// kept with Pop 0 (a practice opened or closed in the year).
func ReadWeighted(r io.Reader, name string) ([]WeightedPopulation, error) {
	rd, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	iP, err := rd.Need("practice code", colPractice...)
	if err != nil {
		return nil, err
	}
	iPat, err := rd.Want("population", "Patients", "Registered Patients")
	if err != nil {
		return nil, err
	}
	iPop, err := rd.WantPrefix("population", "pop ")
	if err != nil {
		return nil, err
	}
	if iPat < 0 && iPop < 0 {
		return nil, FieldErrorf(name, 1, "population", "no such column: accepted \"Patients\" or \"pop YYYY/YY\"")
	}
	var iC [NComponents]int
	for c := range NComponents {
		if iC[c], err = rd.Want(ComponentNames[c], componentColumns[c]...); err != nil {
			return nil, err
		}
	}
	for _, c := range []int{GeneralAcute, Prescribing} {
		if iC[c] < 0 {
			return nil, FieldErrorf(name, 1, ComponentNames[c], "no such column: accepted a header named %s", quoteList(componentColumns[c]))
		}
	}
	var iName, iICB, iReg int
	for _, c := range []struct {
		i     *int
		what  string
		names []string
	}{{&iName, "practice name", colPracticeName}, {&iICB, "ICB", []string{"ICS22name", "ICB name", "ICB22name", "ICB"}}, {&iReg, "region", []string{"Region22", "Region", "Region name"}}} {
		if *c.i, err = rd.Want(c.what, c.names...); err != nil {
			return nil, err
		}
	}
	var out []WeightedPopulation
	seen := practiceCodes{}
	for {
		more, err := rd.Next()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		w := WeightedPopulation{Line: rd.Line()}
		if w.Practice, err = seen.next(rd, iP, "appears again", "one row per practice"); err != nil {
			return nil, err
		}
		for _, i := range []int{iPat, iPop} {
			if i < 0 || w.Pop > 0 {
				continue
			}
			v, ok, err := rd.Number(i)
			if err != nil {
				return nil, err
			}
			if ok {
				if err := checkList(rd, i, v, false); err != nil {
					return nil, err
				}
				w.Pop = v
			}
		}
		for c := range NComponents {
			v, ok, err := rd.Number(iC[c])
			if err != nil {
				return nil, err
			}
			if ok && (v < 0 || v > maxWeighted) {
				return nil, FieldErrorf(name, rd.Line(), rd.Header.Label(iC[c]), "%v: accepted a weighted population 0 to %v (Bounds, docs/parameters.md)", v, float64(maxWeighted))
			}
			w.WP[c], w.Has[c] = v, ok
		}
		w.Name, w.ICB, w.Region = rd.Cell(iName), rd.Cell(iICB), rd.Cell(iReg)
		out = append(out, w)
	}
	if len(out) == 0 {
		return nil, FieldErrorf(name, 0, "", "has no practices")
	}
	return out, nil
}
