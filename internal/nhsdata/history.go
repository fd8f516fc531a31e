package nhsdata

import (
	"container/heap"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/gpbudget/gpbudget/internal/stats"
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
	// Warnings about the files taken together (codes that leave and come
	// back, years without a commissioner column or whose commissioner
	// codes were renamed, years of near-identical content), with counts
	// and examples.
	Warnings []string
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
			g = stats.Median(growth)
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
		// The practice of each commissioner with the largest unexplained
		// gain, kept by a heap: each leaver costs O(log n), not a scan of
		// every practice (3 x 100,000 practices took 89 s).
		byComm := map[string]*gainHeap{}
		if byYear[y0].HasCommissioner && byYear[y1].HasCommissioner {
			for p, s := range b {
				h := byComm[s.Commissioner]
				if h == nil {
					h = &gainHeap{}
					byComm[s.Commissioner] = h
				}
				h.items = append(h.items, gainItem{p, gain[p]})
			}
			for _, h := range byComm {
				heap.Init(h)
			}
		}
		absorbed := map[string][]string{}
		for _, r := range gone {
			if closeDate[key{r.Practice, y0}] {
				ch.ClosingDateInFile++
			}
			h := byComm[r.Commissioner]
			if h == nil || h.Len() == 0 || h.items[0].gain < mergeShare*r.List {
				r.Event = "closed"
				ch.Closed++
				ch.ClosedPatients += r.List
				rep.Disperse++
				continue
			}
			best := h.items[0].p
			h.items[0].gain -= r.List
			heap.Fix(h, 0)
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
	rep.Warnings = crossFileWarnings(rep.Years, byYear, lists)
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

// gainHeap orders a commissioner's practices by unexplained gain, largest
// first (equal gains: the smaller code, as a scan in code order would).
type gainItem struct {
	p    string
	gain float64
}

type gainHeap struct{ items []gainItem }

func (h *gainHeap) Len() int { return len(h.items) }
func (h *gainHeap) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return a.gain > b.gain || a.gain == b.gain && a.p < b.p
}
func (h *gainHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *gainHeap) Push(x any)    { h.items = append(h.items, x.(gainItem)) }
func (h *gainHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

// sameShare is the share of practices in two years with the same list and
// drugs to the penny above which the two files are reported as one year's
// content under two names (real consecutive years share under 2%).
const sameShare = 0.5

// renamedShare is the share of practices in two consecutive years whose
// commissioner code changed above which the codes are reported as renamed.
const renamedShare = 0.5

// crossFileWarnings checks the years' files taken together.
func crossFileWarnings(years []int, byYear map[int]*Payments, lists map[int]map[string]*PracticeYear) []string {
	var w []string
	examples := func(ex []string) string {
		sort.Strings(ex)
		return strings.Join(ex[:min(len(ex), 5)], ", ")
	}
	// Codes that leave the files and come back.
	last := map[string]int{} // the last year a code was seen
	var back []string
	for _, y := range years {
		var codes []string
		for p := range lists[y] {
			codes = append(codes, p)
		}
		sort.Strings(codes)
		for _, p := range codes {
			if l, ok := last[p]; ok && !lists[nextYear(years, l)][p].present() {
				back = append(back, fmt.Sprintf("%s (gone after %d, back in %d)", p, l, y))
			}
			last[p] = y
		}
	}
	if len(back) > 0 {
		w = append(w, fmt.Sprintf("%d practice codes leave the files and come back (counted as closed, then opened): %s", len(back), examples(back)))
	}
	for k := 1; k < len(years); k++ {
		y0, y1 := years[k-1], years[k]
		a, b := lists[y0], lists[y1]
		for _, f := range []*Payments{byYear[y0], byYear[y1]} {
			if !f.HasCommissioner {
				w = append(w, fmt.Sprintf("%s has no commissioner column: leavers from %d to %d can only be closures (mergers are found within one commissioner)", f.File, y0, y1))
				break
			}
		}
		both, same, renamed := 0, 0, 0
		var sameEx, renEx []string
		for p, r := range a {
			s, ok := b[p]
			if !ok {
				continue
			}
			both++
			if s.List == r.List && s.Drugs == r.Drugs {
				same++
				sameEx = append(sameEx, p)
			}
			if s.Commissioner != r.Commissioner && r.Commissioner != "" && s.Commissioner != "" {
				renamed++
				renEx = append(renEx, p+" "+r.Commissioner+"->"+s.Commissioner)
			}
		}
		if both > 0 && float64(same) > sameShare*float64(both) {
			w = append(w, fmt.Sprintf("%s (%d) and %s (%d): %d of %d practices have the same list and drugs in both: one year's content under two names? (e.g. %s)", byYear[y0].File, y0, byYear[y1].File, y1, same, both, examples(sameEx)))
		}
		if both > 0 && float64(renamed) > renamedShare*float64(both) {
			w = append(w, fmt.Sprintf("%d of %d practices in %d and %d changed commissioner code (e.g. %s): codes renamed? Leavers are matched to absorbers within one code, so mergers across the renaming count as closures", renamed, both, y0, y1, examples(renEx)))
		}
	}
	return w
}

// nextYear is the year after y among years (y itself if last).
func nextYear(years []int, y int) int {
	i := sort.SearchInts(years, y)
	if i+1 < len(years) {
		return years[i+1]
	}
	return y
}

func (r *PracticeYear) present() bool { return r != nil }
