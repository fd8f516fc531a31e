package forecast

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/gpbudget/gpbudget/internal/nhsdata"
	"github.com/gpbudget/gpbudget/sim"
)

// RecordsOf is a history built from NHS payments files (nhsdata.BuildHistory)
// as records: each practice-year's list and its drug cost, the prescribing
// stream's spend.
func RecordsOf(rows []nhsdata.PracticeYear) []Record {
	recs := make([]Record, len(rows))
	for i, r := range rows {
		recs[i] = Record{Practice: r.Practice, Year: r.Year, List: r.List, ListMean: r.ListBasis == "mean of quarters"}
		recs[i].Spend[sim.Prescribing] = r.Drugs
	}
	return recs
}

// Group returns the records of history group id (-1: the first group).
func (h *History) Group(id int) []Record {
	if id < 0 && len(h.Records) > 0 {
		id = h.Records[0].Group
	}
	var out []Record
	for _, r := range h.Records {
		if r.Group == id {
			out = append(out, r)
		}
	}
	return out
}

// BandSummary is one year's changes of the practices in one list-size band.
type BandSummary struct {
	Year int
	// Band is the index of the band the cuts make (band k is lists from cut
	// k-1, or 0, to below cut k, or without end); -1 for every practice.
	Band                           int
	N                              int
	Median, RobustSD, SD, Beyond20 float64 // ChangeSummary's
}

// ChangesByBand describes the changes of each year (in order) for every
// practice and then for each list-size band the cuts make, by the list at
// the start of the year. The cuts are the caller's band table's upper
// bounds but the last.
func ChangesByBand(cs []Change, cuts []float64) []BandSummary {
	var years []int
	for _, c := range cs {
		if !slices.Contains(years, c.Year) {
			years = append(years, c.Year)
		}
	}
	slices.Sort(years)
	var out []BandSummary
	for _, y := range years {
		for k := -1; k <= len(cuts); k++ {
			lo, hi := 0.0, math.Inf(1)
			if k > 0 {
				lo = cuts[k-1]
			}
			if k >= 0 && k < len(cuts) {
				hi = cuts[k]
			}
			var sel []Change
			for _, c := range cs {
				if c.Year == y && c.List >= lo && c.List < hi {
					sel = append(sel, c)
				}
			}
			b := BandSummary{Year: y, Band: k, N: len(sel)}
			b.Median, b.RobustSD, b.SD, b.Beyond20 = ChangeSummary(sel)
			out = append(out, b)
		}
	}
	return out
}

// EngineListChanges fits the change mixture the engine's list dynamics are
// calibrated on (sim.ListDynamics, docs/parameters.md): changes between
// counts, without mergers and leavers' last years
// (nhsdata.EngineListChanges). It returns the model and the number of
// changes it was fitted to.
func EngineListChanges(rows []nhsdata.PracticeYear) (*ChangeModel, int, error) {
	lc := nhsdata.EngineListChanges(rows)
	cs := make([]Change, len(lc))
	for i, c := range lc {
		cs[i] = Change{D: c.D, Prev: c.Prev, List: c.List, Year: c.Year}
	}
	m, err := FitChanges(cs, ChangeOptions{SizeScaled: true, Persistent: true})
	if err != nil {
		return nil, 0, fmt.Errorf("engine list changes: %w", err)
	}
	return m, len(cs), nil
}

// Styles are the calibration's practices' styles, in order.
func (c Calibration) Styles() [][sim.NStreams]float64 {
	out := make([][sim.NStreams]float64, len(c.Practices))
	for i, p := range c.Practices {
		out[i] = p.Style
	}
	return out
}

// Fitted says which streams the history carried and the fit covers; the
// others keep the base scenario's rates and drawn styles.
func (g *GroupFit) Fitted() [sim.NStreams]bool {
	var out [sim.NStreams]bool
	for s := range sim.NStreams {
		out[s] = g.Fits[s] != nil
	}
	return out
}

// WriteSummary writes the fit, stream by stream, as comments of a scenario
// file ('gpbudget fit'): records is the number of practice-years fitted.
func (g *GroupFit) WriteSummary(w io.Writer, records int) {
	fmt.Fprintf(w, "# %d practices, %d practice-years; log spend per head by stream (REML):\n", len(g.Practices), records)
	if g.Basis() != "" {
		// Two years: a practice's lasting level and one year's chance
		// are not separable, so the styles and style_sd are uncertain.
		fmt.Fprintf(w, "# caution: two years of history (to %d) cannot show how much of a practice's difference lasts: practice SD and styles below are weakly determined; three or more years fit them properly\n", g.LastYear)
	}
	for s := range sim.NStreams {
		f := g.Fits[s]
		if f == nil {
			fmt.Fprintf(w, "#   %-11s not in the history: rates and style_sd kept from the base scenario\n", QuantityName(s))
			continue
		}
		fmt.Fprintf(w, "#   %-11s level %.4f ± %.4f  trend %+.4f/yr ± %.4f  practice SD %.3f ± %.3f  residual SD %.3f (%.0f%% falls with list size)  AR(1) %.2f  year SD %.3f\n",
			QuantityName(s), f.A, math.Sqrt(f.CovAB[0][0]), f.B, math.Sqrt(f.CovAB[1][1]), f.Tau, f.TauSE, f.Sigma, 100*f.W, f.Rho, f.Omega)
	}
}
