package analysis

import (
	"fmt"
	"math"
)

// Band is a list-size band: practices with Lo <= list size < Hi.
type Band struct {
	Name   string
	Lo, Hi int
}

// Bands are the list-size bands of every table and comparison. The cut
// points (3,000, 6,000 and 10,000 patients) roughly split English practices
// of the late 2000s into small, middling, large and very large: 20.1% of
// practices had under 3,000 patients in 2006-07, the 2007 median was 5,590
// and the 90th percentile 11,784 ([ref §1]). They are a reading
// aid, not a model parameter.
var Bands = []Band{
	{"<3000", 0, 3000},
	{"3000-5999", 3000, 6000},
	{"6000-9999", 6000, 10000},
	{"10000+", 10000, math.MaxInt32},
}

// AllBands names the row or metric that pools every band.
const AllBands = "all"

// BandOf is the index in Bands of a list size.
func BandOf(list float64) int {
	for i, b := range Bands {
		if list >= float64(b.Lo) && list < float64(b.Hi) {
			return i
		}
	}
	return len(Bands) - 1
}

// Thresholds are the over- and underspend margins every table and
// comparison reports, as fractions of budget: a practice-year "overspends by
// more than 5%" when spend exceeds budget by more than 5% of budget.
var Thresholds = []float64{0.05, 0.10}

// thresholdName is a threshold as a whole percentage, e.g. "5".
func thresholdName(t float64) string { return fmt.Sprint(int(math.Round(t * 100))) }

// ReserveLevels are the percentiles of the commissioner's reserve need reported.
var ReserveLevels = []float64{0.95, 0.99}

// ReserveNeed is the reserve a commissioner needed in one replication: the
// most it paid in any year beyond the budgets it set (excess[y] is year y's
// outlay minus budgets), or zero if it never paid more. The reserve at 95%
// is the 95th percentile of ReserveNeed across replications.
func ReserveNeed(excess []float64) float64 {
	r := 0.0
	for _, e := range excess {
		r = math.Max(r, e)
	}
	return r
}
