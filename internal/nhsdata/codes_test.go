package nhsdata

import (
	"strings"
	"testing"
)

// TestOneRowPerPractice: each reader refuses a practice code given twice,
// naming the file, the second line, the column and the first line, and an
// empty code; codes are compared as upper case.
func TestOneRowPerPractice(t *testing.T) {
	weighted := "Practice_Code,Patients,G&A WP,Prescr WP\nA81001,100,100,100\nB82002,200,200,200\na81001,300,300,300\n"
	_, err := ReadWeighted(strings.NewReader(weighted), "w.csv")
	if err == nil || !strings.Contains(err.Error(), "w.csv") || !strings.Contains(err.Error(), "line 4") ||
		!strings.Contains(err.Error(), "A81001 appears again (first on line 2)") {
		t.Errorf("weighted, A81001 twice: %v", err)
	}
	regs := "PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n" +
		"GP,01JAN2021,GP,00C,E38000042,A83005,DL1 3RT,ALL,ALL,11826\n" +
		"GP,01JAN2021,GP,00C,E38000042,A83005,DL1 3RT,ALL,ALL,11826\n"
	_, err = ReadRegistrations(strings.NewReader(regs), "r.csv")
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "A83005 has a second total (first on line 2)") {
		t.Errorf("registrations, A83005 twice: %v", err)
	}
	_, err = ReadWeighted(strings.NewReader("Practice_Code,Patients,G&A WP,Prescr WP\n,100,100,100\n"), "e.csv")
	if err == nil || !strings.Contains(err.Error(), "is empty: accepted a practice code") {
		t.Errorf("weighted, empty code: %v", err)
	}
}
