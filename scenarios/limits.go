package scenarios

import (
	"fmt"
	"math"

	"github.com/gpbudget/gpbudget/sim"
)

// Limits bound what one run may cost, so that a typing slip (--reps with
// three zeros too many, a band of 1e12 patients, a file of every practice
// twice) is refused at once with the limit named, rather than exhausting
// memory or running for days. A scenario's `limits:` section raises or
// lowers them; the defaults (DefaultLimits) and why each is what it is are in
// docs/parameters.md. A server that bounds what a client may ask for sets
// Scenario.Limits itself, after Parse and before Model and CheckRun.
type Limits struct {
	Practices           int `yaml:"practices" json:"practices" jsonschema:"minimum=1" jsonschema_description:"Most practices in a run (default 20,000: England had about 8,300 in 2009-10 and 6,518 in April 2022). Every practice's characteristics are held in memory for the whole run."`
	PatientsPerPractice int `yaml:"patients_per_practice" json:"patients_per_practice" jsonschema:"minimum=1,maximum=2147483647" jsonschema_description:"Most patients in one practice (default 1,000,000: the largest English practice had 111,006 in April 2022). A worker holds one practice's patients at a time. At most 2,147,483,647 (lists are 32-bit counts)."`
	Patients            int `yaml:"patients" json:"patients" jsonschema:"minimum=1" jsonschema_description:"Most patients in all practices together (default 100,000,000: England had about 54 million registered patients in 2009 and 61.6 million in April 2022)."`
	PatientYears        int `yaml:"patient_years" json:"patient_years" jsonschema:"minimum=1" jsonschema_description:"Most patient-years a run simulates: replications x (years + 1, the base year) x patients (default 1e12: about 20 hours at patient level or 20 minutes in cohort mode on 2 cores; all England 1,000 replications x 5 years is 3.2e11)."`
	PracticeYears       int `yaml:"practice_years" json:"practice_years" jsonschema:"minimum=1" jsonschema_description:"Most result rows a run writes: replications x years x practices (default 1e9, about 110 GB of Parquet at about 110 bytes a row; all England 1,000 replications x 5 years is 4.2e7)."`
}

// DefaultLimits are the limits a scenario has unless it says otherwise.
func DefaultLimits() Limits {
	return Limits{
		// England had about 8,300 practices in 2009-10 [ref §1] and 6,518 in
		// April 2022 (NHS Digital registrations file): 20,000 is well beyond
		// any real area, and was already synthetic.practices' bound.
		Practices: 20_000,
		// The largest English practice had 111,006 patients in April 2022
		// (NHS Digital registrations file); a million was already max_list's
		// bound. A worker holds one practice's patients (5 bytes each) at a time.
		PatientsPerPractice: 1_000_000,
		// England: about 54 million registered patients in 2009 [ref §1],
		// 61.6 million in April 2022 (NHS Digital registrations file).
		Patients: 100_000_000,
		// About 1.35e7 patient-years a second at patient level on 2 cores
		// (England, 5.4e7 patients, in about 4 s; bench/README.md) and about
		// 8e8 in cohort mode (England 1,000 x (5 + 1) years in 6.5 min):
		// 1e12 is about 20 hours, or 20 minutes in cohort mode.
		PatientYears: 1e12,
		// About 110 bytes of Parquet a row (measured on default and England
		// runs): 1e9 rows is about 110 GB.
		PracticeYears: 1e9,
	}
}

// limitsHelp says how to raise a limit, for errors.
const limitsHelp = "raise limits.%s in the scenario file if you mean it (gpbudget scenarios --show NAME prints a built-in scenario to copy)"

func (c *checker) limits(l Limits) {
	for _, x := range []struct {
		name string
		v    int
		max  int
	}{
		{"practices", l.Practices, math.MaxInt},
		{"patients_per_practice", l.PatientsPerPractice, math.MaxInt32},
		{"patients", l.Patients, math.MaxInt},
		{"patient_years", l.PatientYears, math.MaxInt},
		{"practice_years", l.PracticeYears, math.MaxInt},
	} {
		if x.v < 1 || x.v > x.max {
			c.fail("limits."+x.name, "%d is out of range: accepted 1 to %d", x.v, x.max)
		}
	}
}

// checkExplicit checks explicit practices' lists against the limits before
// anything is built from them: counts are checked one at a time before they
// are added, so no sum overflows.
func (c *checker) checkExplicit(ps []PracticeSpec, l Limits) {
	if len(ps) > l.Practices {
		c.fail("population.practices", "lists %d practices, more than the limit of %d: "+limitsHelp, len(ps), l.Practices, "practices")
		return
	}
	total := 0
	for i, p := range ps {
		f := fmt.Sprintf("population.practices[%d]", i)
		n := 0
		over := false
		for _, l2 := range []struct {
			name string
			v    []int
		}{{"male", p.List.Male}, {"female", p.List.Female}} {
			for j, x := range l2.v {
				if x > l.PatientsPerPractice {
					c.fail(fmt.Sprintf("%s.list.%s[%d]", f, l2.name, j), "%d patients in one band is more than the limit of %d a practice: "+limitsHelp, x, l.PatientsPerPractice, "patients_per_practice")
					over = true
				} else if x > 0 {
					n += x
				}
			}
		}
		if !over && n > l.PatientsPerPractice {
			c.fail(f+".list", "%d patients is more than the limit of %d a practice: "+limitsHelp, n, l.PatientsPerPractice, "patients_per_practice")
			over = true
		}
		if over {
			continue
		}
		if total += n; total > l.Patients {
			c.fail("population.practices", "the practices up to %s hold more than %d patients, the limit for a run: "+limitsHelp, p.ID, l.Patients, "patients")
			return
		}
	}
}

// checkBuilt checks a model's practices (from any source) against the limits.
func (s *Scenario) checkBuilt(ps []sim.Practice) error {
	l := s.Limits
	if len(ps) > l.Practices {
		return s.errorf("limits.practices", "the population has %d practices, more than the limit of %d: "+limitsHelp, len(ps), l.Practices, "practices")
	}
	total := 0
	for i := range ps {
		n := ps[i].ListSize()
		if n > l.PatientsPerPractice {
			return s.errorf("limits.patients_per_practice", "practice %s has %d patients, more than the limit of %d: "+limitsHelp, ps[i].ID, n, l.PatientsPerPractice, "patients_per_practice")
		}
		total += n
	}
	if total > l.Patients {
		return s.errorf("limits.patients", "the population has %d patients, more than the limit of %d: "+limitsHelp, total, l.Patients, "patients")
	}
	return nil
}

// CheckRun checks that a run of m (built by s.Model) for reps replications
// and years budget years is within s.Limits: the patient-years it simulates
// (reps x (years + 1) x patients, the base year included) and the rows it
// writes (reps x years x practices). The command line calls it once the run's
// size is known, before anything is written.
func (s *Scenario) CheckRun(m *sim.Model, reps, years int) error {
	if reps < 1 || reps > math.MaxInt32 {
		return s.errorf("replications", "%d is out of range: accepted 1 to %d", reps, math.MaxInt32)
	}
	if years < 1 || years > MaxYears {
		return s.errorf("years", "%d is out of range: accepted 1 to %d", years, MaxYears)
	}
	if err := s.checkBuilt(m.Practices); err != nil {
		return err
	}
	patients := 0
	for i := range m.Practices {
		patients += m.Practices[i].ListSize()
	}
	l := s.Limits
	// In floating point: the products can pass 2^63.
	py := float64(reps) * float64(years+1) * float64(patients)
	if py > float64(l.PatientYears) {
		return s.errorf("limits.patient_years", "%d replications x %d years (and the base year) x %d patients is %.3g patient-years, more than the limit of %.3g: use fewer replications or years, or "+limitsHelp,
			reps, years, patients, py, float64(l.PatientYears), "patient_years")
	}
	rows := float64(reps) * float64(years) * float64(len(m.Practices))
	if rows > float64(l.PracticeYears) {
		return s.errorf("limits.practice_years", "%d replications x %d years x %d practices is %.3g result rows, more than the limit of %.3g: use fewer replications or years, or "+limitsHelp,
			reps, years, len(m.Practices), rows, float64(l.PracticeYears), "practice_years")
	}
	return nil
}

// MaxYears bounds budget years: a scenario's, a run's, a contract step's and
// earned autonomy's; the command line's bound is this one.
// (The schema's struct tags repeat the number, as a tag cannot name a
// constant; TestSchemaYearsMaximumIsMaxYears holds them to it.)
const MaxYears = 50

// errorf is an Error about field of the scenario's file (no line: the
// problem is with the scenario as built, not one place in the file).
func (s *Scenario) errorf(field, format string, a ...any) error {
	return &Error{File: s.source(), Field: field, Msg: fmt.Sprintf(format, a...)}
}

// source names the scenario's file for errors.
func (s *Scenario) source() string {
	if s.file != "" {
		return s.file
	}
	return "scenario " + s.Name
}
