package report

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/output/analysis"
)

// The fan chart runs from the first year to the last whatever order the
// summary lists them in (it lists "all" last year first): its series, its
// year axis (every year labelled) and its reading; and it is sized by its
// container (a viewBox, no fixed height, width 100%).
func TestFanChartYearsInOrder(t *testing.T) {
	sum := &analysis.Summary{}
	for _, y := range []int32{3, 2, 1} { // as analysis.Summarize lists "all"
		v := 100 + 10*float64(y)
		sum.ByYear = append(sum.ByYear, analysis.YearStats{Band: "all", Year: y, P05: v - 30, P25: v - 10, P50: v, P75: v + 10, P95: v + 30})
	}
	f, ok, err := fanFigure(sum, "all")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	same(t, "fan years", series(t, &f, "median").X, []float64{1, 2, 3})
	same(t, "fan median", series(t, &f, "median").Y, []float64{110, 120, 130})
	if want := "moves from £110 in year 1 to £130 in year 3"; !strings.Contains(f.Reading, want) {
		t.Errorf("reading %q, want %q", f.Reading, want)
	}
	svg := string(f.SVG)
	labels := map[string]bool{}
	for _, m := range regexp.MustCompile(`<text[^>]*>([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
		labels[strings.TrimSpace(m[1])] = true
	}
	for _, y := range []string{"1", "2", "3"} {
		if !labels[y] {
			t.Errorf("the year axis has no label %q (labels %v)", y, labels)
		}
	}
	root := svg[:strings.Index(svg, ">")]
	if !strings.Contains(root, `viewBox="0 0 374.4 230.4"`) || !strings.Contains(root, `width="100%"`) || strings.Contains(root, "height=\"") {
		t.Errorf("the SVG is not sized by its container: %s", root)
	}
}

// The report states each measure as the page and summarize do: the band
// table's chances before pooling, and the commissioner's run row with
// deficits carried at the end of the last year.
func TestReportStatesMeasuresOnce(t *testing.T) {
	sum := &analysis.Summary{Commissioner: []analysis.CommissionerStats{
		{Year: "1", DeficitCarried: 10}, {Year: "2", DeficitCarried: 25}, {Year: analysis.AllBands, DeficitCarried: 35},
	}}
	if c := bandTable(sum).Caption; !strings.Contains(c, analysis.ChanceOverNote) {
		t.Errorf("band table caption %q does not state the chance as the page does", c)
	}
	ct := commissionerTable(sum)
	last := ct.Rows[len(ct.Rows)-1]
	if !strings.Contains(ct.Caption, analysis.CommissionerNote) || last[0] != analysis.RunRow || last[6] != "25" {
		t.Errorf("commissioner table: caption %q, run row %v: want %q with deficit carried 25 (the last year's)", ct.Caption, last, analysis.RunRow)
	}
}
