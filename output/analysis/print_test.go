package analysis

import (
	"bytes"
	"strings"
	"testing"
)

// The run's row of the commissioner's table reads deficits carried at the
// end of the last year (a stock), not added over the years, as the page
// and compare state it; money flows stay totals over the run; the printed
// headline states each measure as the page does.
func TestCommissionerAsStated(t *testing.T) {
	s := &Summary{Scenario: "x", Replications: 4, Years: 2, Commissioner: []CommissionerStats{
		{Year: "1", SpendMean: 100, DeficitCarried: 10},
		{Year: "2", SpendMean: 110, DeficitCarried: 25},
		{Year: AllBands, SpendMean: 210, DeficitCarried: 35, Reserve95: 7, Reserve99: 9, Replications: 4},
	}}
	got := s.CommissionerAsStated()
	run := got[len(got)-1]
	if run.Year != RunRow || run.DeficitCarried != 25 || run.SpendMean != 210 {
		t.Errorf("the run's row %+v: want %q, deficit carried 25 (the last year's), spend 210 (the total)", run, RunRow)
	}
	if s.Commissioner[2].DeficitCarried != 35 || s.Commissioner[2].Year != AllBands {
		t.Error("CommissionerAsStated changed the summary")
	}
	var b bytes.Buffer
	if err := s.PrintHeadline(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"before any risk pool or consortium pays", "reserve for the worst year", "£7 at 95%, £9 at 99% of 4 replications"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("headline lacks %q:\n%s", want, b.String())
		}
	}
}
