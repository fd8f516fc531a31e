package sim

import (
	"fmt"
	"math"
	"sort"
)

// maxDeathProb caps a cell's annual probability of death (band mortality
// times the frailty state's multiplier): a multiplier can take a band's
// rate past 1, and a cap below 1 keeps every cell's survivors and the
// transition matrices well defined. Every place that draws or expects
// deaths uses this one cap, so the engine and its calibration agree.
const maxDeathProb = 0.95 // ASSUMPTION (docs/parameters.md, Demography)

// Synthetic describes a synthetic area of practices whose list sizes, age-sex
// mix, need and style are drawn once per scenario and seed (purpose
// PurposePopulation), so they stay fixed across replications.
type Synthetic struct {
	Practices int
	// List size is lognormal with this mean and SD, truncated to [MinList, MaxList].
	ListMean, ListSD float64
	MinList, MaxList int
	// Lists, if set (one per practice), are the practices' list sizes in
	// place of the lognormal's (every other draw as without them).
	Lists []int
	// AgeShare is the area's age-sex structure (any positive scale).
	AgeShare [NSex][NBands]float64
	// AgeTiltSD: each practice's log-share of band b is shifted by
	// tilt·(b-9.5)/10 with tilt ~ N(0, AgeTiltSD²): younger and older lists.
	AgeTiltSD float64
	// NeedSD is the log-scale SD of the need index (mean 1), and NeedOwn
	// the share of its variance that is each stream's own (Practice.NeedDev):
	// 1 − the correlation of the streams' need indices. 0: one index for
	// every stream.
	NeedSD, NeedOwn float64
	// IDPrefix names practices IDPrefix0001, IDPrefix0002, ...
	IDPrefix string
	// StyleCorr correlates a practice's styles across streams (the zero
	// value: independent).
	StyleCorr Corr
}

// Generate draws the practices. styleSD is each stream's style SD.
func (s *Synthetic) Generate(seed uint64, styleSD [NStreams]float64) ([]Practice, error) {
	if s.Practices < 1 {
		return nil, fmt.Errorf("synthetic population needs at least 1 practice, got %d", s.Practices)
	}
	if s.ListMean <= 0 || s.ListSD < 0 || s.MinList < 1 || s.MaxList < s.MinList {
		return nil, fmt.Errorf("synthetic list sizes: mean %v, sd %v, range [%d, %d] is not usable", s.ListMean, s.ListSD, s.MinList, s.MaxList)
	}
	share := 0.0
	for sex := range NSex {
		for b := range NBands {
			if v := s.AgeShare[sex][b]; v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("synthetic age shares: %v for %s is not a share", v, BandLabel(b))
			}
			share += s.AgeShare[sex][b]
		}
	}
	if share <= 0 {
		return nil, fmt.Errorf("synthetic age shares sum to %v: accepted shares with a positive total", share)
	}
	styleL, err := s.StyleCorr.cholesky()
	if err != nil {
		return nil, fmt.Errorf("style correlation: %w", err)
	}
	if s.Lists != nil && len(s.Lists) != s.Practices {
		return nil, fmt.Errorf("synthetic list sizes: %d given for %d practices", len(s.Lists), s.Practices)
	}
	for _, n := range s.Lists {
		if n < 1 {
			return nil, fmt.Errorf("synthetic list sizes: %d is not a list (accepted 1 or more)", n)
		}
	}
	s2 := math.Log(1 + (s.ListSD/s.ListMean)*(s.ListSD/s.ListMean))
	mu, sig := math.Log(s.ListMean)-s2/2, math.Sqrt(s2)
	out := make([]Practice, s.Practices)
	var d Draws
	for i := range out {
		d.Reseed(Key{Seed: seed, Rep: -1, Practice: i, Year: -1}, PurposePopulation)
		n := 0
		for try := 0; ; try++ {
			n = int(math.Round(math.Exp(mu + sig*d.Norm())))
			if (n >= s.MinList && n <= s.MaxList) || try > 1000 {
				n = min(max(n, s.MinList), s.MaxList)
				break
			}
		}
		if s.Lists != nil {
			n = s.Lists[i]
		}
		tilt := s.AgeTiltSD * d.Norm()
		var w [NCells]float64
		tot := 0.0
		for c := range NCells {
			b := c % NBands
			w[c] = s.AgeShare[c/NBands][b] * math.Exp(tilt*(float64(b)-9.5)/10)
			tot += w[c]
		}
		counts := Apportion(n, w[:], tot)
		p := Practice{ID: fmt.Sprintf("%s%04d", s.IDPrefix, i+1)}
		for c := range NCells {
			p.Count[c/NBands][c%NBands] = counts[c]
		}
		if s.NeedOwn == 0 {
			p.Need = math.Exp(s.NeedSD*d.Norm() - s.NeedSD*s.NeedSD/2)
		} else {
			v := s.NeedSD * s.NeedSD * (1 - s.NeedOwn)
			p.Need = math.Exp(math.Sqrt(v)*d.Norm() - v/2)
		}
		var z [NStreams]float64
		correlated(&d, &styleL, &z)
		for st := range NStreams {
			sd := styleSD[st]
			p.Style[st] = math.Exp(sd*z[st] - sd*sd/2)
		}
		// Each stream's own need, drawn after everything else so that the
		// other draws do not depend on it.
		if v := s.NeedSD * s.NeedSD * s.NeedOwn; v > 0 {
			for st := range NStreams {
				p.NeedDev[st] = math.Sqrt(v)*d.Norm() - v/2
			}
		}
		out[i] = p
	}
	return out, nil
}

// Apportion splits n into integer counts proportional to w (summing to tot)
// by largest remainder (Hamilton's method; ties to the earlier index).
func Apportion(n int, w []float64, tot float64) []int {
	out := make([]int, len(w))
	type rem struct {
		i int
		r float64
	}
	rs := make([]rem, len(w))
	left := n
	for i, x := range w {
		e := float64(n) * x / tot
		out[i] = int(e)
		left -= out[i]
		rs[i] = rem{i, e - float64(out[i])}
	}
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].r > rs[b].r })
	for j := 0; j < left; j++ {
		out[rs[j%len(rs)].i]++
	}
	return out
}
