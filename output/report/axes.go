package report

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// Number labels read as people write them: 2,500 and 10k rather than
// 2500.00; ticks fall on round numbers.

// naturalTicks are gonum's default tick positions with natural labels.
type naturalTicks struct{}

func (naturalTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	step := 0.0
	var majors []float64
	for _, t := range ts {
		if t.Label != "" {
			majors = append(majors, t.Value)
		}
	}
	if len(majors) > 1 {
		step = majors[1] - majors[0]
	}
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = natural(ts[i].Value, step)
		}
	}
	return ts
}

// logTicks mark 1, 2 and 5 times each power of ten in range (labelled), and
// the other whole multiples unlabelled, for a plot.LogScale axis.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	if min <= 0 {
		min = math.SmallestNonzeroFloat64
	}
	for p := math.Floor(math.Log10(min)); p <= math.Ceil(math.Log10(max)); p++ {
		base := math.Pow(10, p)
		for m := 1.0; m < 10; m++ {
			v := m * base
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = natural(v, v)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// natural formats v for an axis whose labelled ticks are step apart:
// thousands as "10k" (or "2.5k") from 10,000 up, with thousands separators
// below, and only as many decimals as the step needs.
func natural(v, step float64) string {
	dec := 0
	if step > 0 && step < 1 {
		dec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	if a := math.Abs(v); a >= 10000 {
		k := v / 1000
		kdec := 0
		if step > 0 && step < 1000 {
			kdec = int(math.Ceil(-math.Log10(step/1000) - 1e-9))
		}
		return strconv.FormatFloat(k, 'f', max(0, kdec), 64) + "k"
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', dec, 64)
	if s == "0" || strings.Trim(s, "0.") == "" {
		return "0"
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// spansDecades says whether positive values range over more than a factor
// of ten, when a log scale reads better.
func spansDecades(x []float64) bool {
	lo, hi := math.Inf(1), 0.0
	for _, v := range x {
		if v <= 0 {
			return false
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return hi > 10*lo
}

// legendRoom returns the top of a y axis that leaves room for a legend of
// n entries above data that reach hi from lo, on a chart h tall: the
// legend's height, as a share of the plotting area, is kept clear.
func legendRoom(lo, hi float64, n int, h vg.Length) float64 {
	area := float64(h - vg.Points(80)) // title, tick labels and axis label
	need := (float64(n)*float64(vg.Points(14)) + float64(vg.Points(12))) / area
	need = math.Min(need, 0.6)
	if hi <= lo {
		hi = lo + 1
	}
	return hi + (hi-lo)*need/(1-need)
}
