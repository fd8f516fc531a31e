package nhsdata

import (
	"fmt"
	"io"
	"os"
	"strings"
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
	iPat, iPop := rd.Header.Find("Patients", "Registered Patients"), rd.Header.FindPrefix("pop ")
	if iPat < 0 && iPop < 0 {
		return nil, Errorf(name, 1, "population", "no such column: accepted \"Patients\" or \"pop YYYY/YY\"")
	}
	var iC [NComponents]int
	for c := range NComponents {
		iC[c] = rd.Header.Find(componentColumns[c]...)
	}
	for _, c := range []int{GeneralAcute, Prescribing} {
		if iC[c] < 0 {
			return nil, Errorf(name, 1, ComponentNames[c], "no such column: accepted a header named %s", quoteList(componentColumns[c]))
		}
	}
	iName, iICB, iReg := rd.Header.Find(colPracticeName...), rd.Header.Find("ICS22name", "ICB name", "ICB22name", "ICB"), rd.Header.Find("Region22", "Region", "Region name")
	var out []WeightedPopulation
	seen := map[string]int{}
	for {
		more, err := rd.Next()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		w := WeightedPopulation{Line: rd.Line(), Practice: strings.ToUpper(rd.Cell(iP))}
		if w.Practice == "" {
			return nil, Errorf(name, rd.Line(), rd.Header.Label(iP), "is empty: accepted a practice code")
		}
		if l, dup := seen[w.Practice]; dup {
			return nil, Errorf(name, rd.Line(), rd.Header.Label(iP), "practice %s appears again (first on line %d): accepted one row per practice", w.Practice, l)
		}
		seen[w.Practice] = rd.Line()
		for _, i := range []int{iPat, iPop} {
			if i < 0 || w.Pop > 0 {
				continue
			}
			v, ok, err := rd.Number(i)
			if err != nil {
				return nil, err
			}
			if ok && v < 0 {
				return nil, Errorf(name, rd.Line(), rd.Header.Label(i), "%v patients: accepted 0 or more", v)
			}
			if ok {
				w.Pop = v
			}
		}
		for c := range NComponents {
			v, ok, err := rd.Number(iC[c])
			if err != nil {
				return nil, err
			}
			if ok && v < 0 {
				return nil, Errorf(name, rd.Line(), rd.Header.Label(iC[c]), "%v: accepted a weighted population 0 or more", v)
			}
			w.WP[c], w.Has[c] = v, ok
		}
		w.Name, w.ICB, w.Region = rd.Cell(iName), rd.Cell(iICB), rd.Cell(iReg)
		out = append(out, w)
	}
	if len(out) == 0 {
		return nil, Errorf(name, 0, "", "has no practices")
	}
	return out, nil
}
