package nhsdata

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/sim"
)

// PracticeYear is one practice's row of a history built from payments
// files: the registered list, drug reimbursement where the practice
// dispenses (its prescribing cost series; 0 otherwise), and what happened to
// the practice at the year's boundary.
type PracticeYear struct {
	Practice     string
	Year         int
	List         float64
	Drugs        float64 // spend_prescribing: drugs reimbursed to a dispensing practice
	Dispensing   string  // "yes", "no" or "unknown" (drugs then count as 0)
	Commissioner string
	ListBasis    string // "last known" or "mean of quarters"
	// Event: "opened" (first year in the files after the first file),
	// "closed" (last year; its patients dispersed), "merged into X" (last
	// year; X's list took them up), "absorbed X Y" (the year after X and Y
	// merged into it); empty otherwise.
	Event string
}

// YearChange counts what happened between two consecutive years' files.
type YearChange struct {
	From, To          int
	Practices         int // in the From file with a list
	Closed            int // gone, patients dispersed
	Merged            int // gone, absorbed by one practice
	Opened            int // new in the To file
	ClosedPatients    float64
	MergedPatients    float64
	OpenedPatients    float64
	ClosingDateInFile int // gone practices whose From row carries a close date
}

// BuildReport says what building a history did.
type BuildReport struct {
	Years    []int
	Rows     int
	NoList   []string // "CODE YEAR" of practice-years left out: blank or zero list
	Changes  []YearChange
	Basis    map[int]string
	Disperse int // gone practices not matched to an absorber, all years
}

// mergeShare is the share of a gone practice's list that one practice's
// unexplained gain must reach for the two to count as a merger. A practice
// that takes at least half of a closing neighbour's patients in the same
// year, beyond its own trend, has in effect absorbed it.
const mergeShare = 0.5

// BuildHistory turns payments files (any order, one per year) into
// practice-years, and finds each practice that leaves the files: merged into
// a practice of the same commissioner whose list rose, beyond the area's
// median growth, by at least half the leaver's list (mergeShare), or else
// closed with its patients dispersed. Practice-years with a blank or zero
// list are left out and listed in the report, never dropped silently.
func BuildHistory(files []*Payments) ([]PracticeYear, *BuildReport, error) {
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no payments files")
	}
	byYear := map[int]*Payments{}
	for _, f := range files {
		if g, dup := byYear[f.Year]; dup {
			return nil, nil, fmt.Errorf("%s and %s are both for %d/%02d: accepted one file a year", g.File, f.File, f.Year, (f.Year+1)%100)
		}
		byYear[f.Year] = f
	}
	rep := &BuildReport{Basis: map[int]string{}}
	for y := range byYear {
		rep.Years = append(rep.Years, y)
	}
	sort.Ints(rep.Years)
	type key struct {
		p string
		y int
	}
	rows := map[key]*PracticeYear{}
	lists := map[int]map[string]*PracticeYear{}
	for _, y := range rep.Years {
		f := byYear[y]
		basis := listBasis(f)
		rep.Basis[y] = basis
		lists[y] = map[string]*PracticeYear{}
		for _, r := range f.Rows {
			if !r.HasList || r.List <= 0 {
				rep.NoList = append(rep.NoList, r.Practice+" "+strconv.Itoa(y))
				continue
			}
			disp := "no"
			switch {
			case r.Dispensing:
				disp = "yes"
			case r.DispensingUnknown:
				disp = "unknown"
			}
			py := &PracticeYear{Practice: r.Practice, Year: y, List: r.List, Dispensing: disp, Commissioner: r.Commissioner, ListBasis: basis}
			if r.Dispensing && r.HasDrugs && r.Drugs > 0 {
				py.Drugs = r.Drugs
			}
			rows[key{r.Practice, y}] = py
			lists[y][r.Practice] = py
		}
	}
	closeDate := map[key]bool{}
	for _, f := range files {
		for _, r := range f.Rows {
			if r.Close != "" {
				closeDate[key{r.Practice, f.Year}] = true
			}
		}
	}
	for k := 1; k < len(rep.Years); k++ {
		y0, y1 := rep.Years[k-1], rep.Years[k]
		a, b := lists[y0], lists[y1]
		ch := YearChange{From: y0, To: y1, Practices: len(a)}
		if y1 != y0+1 {
			rep.Changes = append(rep.Changes, ch)
			continue // a gap: leavers and joiners cannot be dated
		}
		var growth []float64
		for p, r := range a {
			if s, ok := b[p]; ok {
				growth = append(growth, s.List/r.List)
			}
		}
		g := 1.0
		if len(growth) > 0 {
			sort.Float64s(growth)
			g = growth[len(growth)/2]
		}
		// Unexplained gain of each possible absorber (stayers and joiners).
		gain := map[string]float64{}
		for p, s := range b {
			if r, ok := a[p]; ok {
				gain[p] = s.List - r.List*g
			} else {
				gain[p] = s.List
				s.Event = "opened"
				ch.Opened++
				ch.OpenedPatients += s.List
			}
		}
		var gone []*PracticeYear
		for p, r := range a {
			if _, ok := b[p]; !ok {
				gone = append(gone, r)
			}
		}
		// Largest leavers first, so a big gain goes to the merger it explains.
		sort.Slice(gone, func(i, j int) bool {
			if gone[i].List != gone[j].List {
				return gone[i].List > gone[j].List
			}
			return gone[i].Practice < gone[j].Practice
		})
		absorbed := map[string][]string{}
		for _, r := range gone {
			if closeDate[key{r.Practice, y0}] {
				ch.ClosingDateInFile++
			}
			best, bg := "", 0.0
			for p, s := range b {
				if s.Commissioner != r.Commissioner || gain[p] < mergeShare*r.List {
					continue
				}
				if gain[p] > bg || (gain[p] == bg && p < best) {
					best, bg = p, gain[p]
				}
			}
			if best == "" {
				r.Event = "closed"
				ch.Closed++
				ch.ClosedPatients += r.List
				rep.Disperse++
				continue
			}
			gain[best] -= r.List
			r.Event = "merged into " + best
			absorbed[best] = append(absorbed[best], r.Practice)
			ch.Merged++
			ch.MergedPatients += r.List
		}
		for p, from := range absorbed {
			sort.Strings(from)
			s := b[p]
			if s.Event == "opened" {
				s.Event = "opened absorbing " + strings.Join(from, " ")
				ch.Opened--
				ch.OpenedPatients -= s.List
			} else {
				s.Event = "absorbed " + strings.Join(from, " ")
			}
		}
		rep.Changes = append(rep.Changes, ch)
	}
	out := make([]PracticeYear, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Practice != out[j].Practice {
			return out[i].Practice < out[j].Practice
		}
		return out[i].Year < out[j].Year
	})
	rep.Rows = len(out)
	sort.Strings(rep.NoList)
	return out, rep, nil
}

// listBasis says how a file counts lists: from 2018/19 the payments files
// give the mean of the quarters' counts (fractions of 1/4 and 1/3), before
// that the last known quarter's count (whole numbers).
func listBasis(f *Payments) string {
	frac, n := 0, 0
	for _, r := range f.Rows {
		if r.HasList && r.List > 0 {
			n++
			if r.List != math.Trunc(r.List) {
				frac++
			}
		}
	}
	if n > 0 && frac*10 > n {
		return "mean of quarters"
	}
	return "last known"
}

// HistoryHeader is the header WriteHistory writes: the wide layout of
// forecast.ReadHistory (gpbudget help fit) with the payments files' extra
// columns, which readers of history ignore.
func HistoryHeader() []string {
	h := []string{"practice_id", "year", "list_size"}
	for _, n := range sim.StreamNames {
		h = append(h, "spend_"+n)
	}
	return append(h, "dispensing", "commissioner", "list_basis", "event")
}

// WriteHistory writes practice-years as a wide history CSV. Streams the
// payments files do not carry are 0; spend_prescribing is the drugs
// reimbursed to dispensing practices (0 for the others).
func WriteHistory(w io.Writer, rows []PracticeYear) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(HistoryHeader()); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.Practice, strconv.Itoa(r.Year), strconv.FormatFloat(r.List, 'f', -1, 64)}
		for s := range sim.NStreams {
			v := 0.0
			if s == int(sim.Prescribing) {
				v = r.Drugs
			}
			rec = append(rec, strconv.FormatFloat(v, 'f', 2, 64))
		}
		rec = append(rec, r.Dispensing, r.Commissioner, r.ListBasis, r.Event)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
