package analysis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gpbudget/gpbudget/internal/stats"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/sim"
)

// Obs is one practice-year as the summaries need it; Practice indexes the
// summariser's practice IDs.
type Obs struct {
	Replication      int32
	Year             int32
	Practice         int
	ListSize         int32
	Budget           float64
	SpendTotal       float64
	Variance         float64
	SavingsRetained  float64
	DeficitCarried   float64
	StopLossPaid     float64
	CommissionerPaid float64
	HolderPaid       float64
}

// practiceAcc accumulates one practice's practice-years (or a group's) in
// two cache lines, which with one line of the practice's stage (or, in one
// pass, its room) are all a row touches: its three moments share one count,
// and its distributions are kept apart (accDists), since a row does not
// touch them.
type practiceAcc struct {
	// n is the rows: in two passes, the first pass's until SetBands, then
	// the second's (the same rows).
	n            float64
	listSum      float64
	sph, vr, pct shifted // spend per head, variance, variance %: Moments counting n (shifted.moments)
	sav, def     float64
	over         [2]int32 // beyond Thresholds[0], [1]
	under        [2]int32
	staged       int32 // values in the practice's stage, or its room (-1: its own, see own)
	band         int32
}

// accDists are a practice's (or group's) distributions.
type accDists struct {
	pct  *Dist // variance as % of budget
	loss *Dist // variance in pounds (its negative is the loss)
}

// stage holds a practice's latest (pct, loss) pairs until it is full: a row
// then touches only the practice's accumulator and stage, and its
// distributions are fed stageLen values at a time. The stages lie apart
// from the accumulators, so that those of practices read one after
// another lie close together.
type stage [stageLen][2]float32

// stageLen values are staged per practice before its distributions take
// them: enough to take them in runs, few enough that the accumulators of
// practices read one after another lie close together.
const stageLen = 64

// yearAcc is spend per head in one band and year.
type yearAcc struct {
	d *Dist
	m Moments
}

// flush hands practice p's staged values to its distributions, and to the
// spill if any.
func (s *Summarizer) flush(p int) {
	a, st := &s.ps[p], &s.stages[p]
	if s.spill != nil {
		s.spill.write(p, st[:a.staged])
	}
	vals := st[:a.staged]
	a.staged = 0
	s.dists[p].take(vals)
}

// take adds the staged values vals (variance %, variance) to d.
func (d accDists) take(vals [][2]float32) {
	if d.pct.sk == nil && d.loss.sk == nil {
		d.pct.addExact(vals, 0)
		d.loss.addExact(vals, 1)
		return
	}
	for _, v := range vals {
		d.pct.Add(float64(v[0]))
		d.loss.Add(float64(v[1]))
	}
}

// areaTot is the area's totals in one replication and year.
type areaTot struct{ budget, spend, comm, holder, sav, def, stop float64 }

// add adds o's totals into t.
func (t *areaTot) add(o areaTot) {
	t.budget += o.budget
	t.spend += o.spend
	t.comm += o.comm
	t.holder += o.holder
	t.sav += o.sav
	t.def += o.def
	t.stop += o.stop
}

// Shards is the number of parts the practices are split into (by index
// modulo Shards), each summarised by its own goroutine and merged in order
// at the end. It is fixed, not the number of CPUs, so that sums are added in
// the same order, and summaries are identical, on every machine.
const Shards = 2

// shard is what the rows of one shard's practices add up to beyond the
// practices' own accumulators.
type shard struct {
	rows    int64
	area    map[[2]int32]*areaTot // (replication, year)
	lastKey [2]int32
	last    *areaTot
	year    map[[2]int32]*yearAcc // (band, year): spend per head
	byBand  [][]*yearAcc          // [band][year]: year's entries, at hand
	// In one pass (see OnePass), each year's spend per head in row order
	// with its practice, until the bands are known.
	seq     map[int32]*sphSeq
	seqYear int32
	lastSeq *sphSeq
}

// sphSeq is a shard's spend per head in one year, in row order, and each
// row's practice: the rows of a replication-year come in practice order, so
// a shard's practice is mostly the last's + Shards, and only where it is
// not (a break) is it kept. The values are held in chunks of seqChunk,
// allocated as they fill: held whole from the start, a run's would count
// towards the heap before they are written, so the collector would run
// later and let more of the reader's garbage take memory.
type sphSeq struct {
	v    [][]float64 // chunks of seqChunk values, as made (runs reads them within their capacity, up to n)
	last []float64   // the last chunk, as filled so far (the values are appended to it)
	n    int         // values
	brk  []seqBreak
	next int // the practice that follows the last without a break
}

// seqChunk is the number of values of a sphSeq's chunk (512 KB).
const seqChunk = 1 << 16

// add appends practice p's value v: short enough to be inlined in the row
// loop, the rest (a break, a new chunk) in grow.
func (q *sphSeq) add(p int, v float64) {
	if p != q.next || len(q.last) == cap(q.last) {
		q.grow(p)
	}
	q.next = p + Shards
	q.last = append(q.last, v)
	q.n++
}

// grow records a break before practice p's value where it does not follow
// the last, and makes a new chunk where the last is full.
func (q *sphSeq) grow(p int) {
	if p != q.next {
		q.brk = append(q.brk, seqBreak{q.n, p})
	}
	if len(q.last) == cap(q.last) {
		q.last = make([]float64, 0, seqChunk)
		q.v = append(q.v, q.last)
	}
}

// seqBreak is the practice p of row at of a sphSeq, and of the rows after it
// up to the next break, each the last's + Shards.
type seqBreak struct{ at, p int }

// runs calls f with each run of values whose practices go up by Shards
// from p, the first's, in row order: the values between two breaks, within
// one chunk. The caller's loop over a run is then its own, with no call
// per value.
func (q *sphSeq) runs(f func(v []float64, p int)) {
	for k, br := range q.brk {
		end := q.n
		if k+1 < len(q.brk) {
			end = q.brk[k+1].at
		}
		p := br.p
		for j := br.at; j < end; {
			c, at := j/seqChunk, j%seqChunk
			e := min(end, (c+1)*seqChunk)
			f(q.v[c][at:at+e-j], p)
			p += Shards * (e - j)
			j = e
		}
	}
}

// Summarizer computes a run's summary tables from its practice-years in two
// passes: AddList sees every row's list size (a practice's band is that of
// its mean list size over the run), then Add sees every row. Its memory is
// a fixed amount per practice, per year and per replication, plus the
// quantile store (exact values up to a budget, else sketches): flat in the
// number of rows. With exact quantiles, or none, it can take one pass
// instead (see OnePass).
type Summarizer struct {
	IDs      []string
	index    map[string]int
	q        *Quantiles
	headline bool
	ps       []practiceAcc
	dists    []accDists // by practice, unless headline
	stages   []stage    // by practice, unless headline
	shards   [Shards]*shard
	years    int
	perBand  []float64
	// onePass: Add also sees list sizes, spend per head is kept in row
	// order until SetBands, and exact stores are sized to perPractice.
	onePass     bool
	perPractice int
	// room, in one pass, holds every practice's exact values in place of
	// stages (see addRows), per practices of a shard (each shard's its own):
	// practice i, the shard's j-th (j = i/Shards), has 2·per places from
	// (j%roomChunk)·2·per in room[i%Shards][j/roomChunk], where its rows'
	// (variance %, variance) lie in pairs, so that a row touches one cache
	// line of it; fromRoom parts them.
	room [Shards][][]float32
	per  int
	// spill, when set, also takes every practice's staged values, from
	// which its exact statistics are computed (see spill).
	spill *spill
	// bandSk, with a spill, are each shard's sketches (variance %, variance)
	// by band, which its practices share in place of their own: the
	// practices' statistics come from the spill, and only the bands and
	// "all" need sketches.
	bandSk [Shards][][2]*Dist
	// margin is each of Thresholds in % of budget.
	margin [2]float64
	// yearQ, in one pass, are spend per head's quantiles by (band, year),
	// band -1 for "all", from SetBands.
	yearQ map[[2]int32]yearQuant
}

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// NewSummarizer is a summariser with quantiles q; a headline-only
// summariser (see Options.Headline) keeps no quantiles.
func NewSummarizer(q *Quantiles, headline bool) *Summarizer {
	s := &Summarizer{q: q, headline: headline, index: map[string]int{}}
	for i, th := range Thresholds {
		s.margin[i] = 100 * th
	}
	for i := range s.shards {
		s.shards[i] = &shard{area: map[[2]int32]*areaTot{}, year: map[[2]int32]*yearAcc{}}
	}
	return s
}

// Practice is the index of practice id, added if new.
func (s *Summarizer) Practice(id string) int {
	if i, ok := s.index[id]; ok {
		return i
	}
	i := len(s.IDs)
	s.index[id] = i
	s.IDs = append(s.IDs, id)
	s.ps = append(s.ps, practiceAcc{})
	if !s.headline {
		s.dists = append(s.dists, accDists{s.q.New(), s.q.New()})
		if s.per == 0 {
			s.stages = append(s.stages, stage{})
		}
	}
	return i
}

// roomChunk is the number of practices whose room is allocated at once.
const roomChunk = 256

// roomOf is the chunk of shard w's room that holds the places of the
// shard's j-th practice (see room), made if it is not yet.
func (s *Summarizer) roomOf(w, j int) []float32 {
	room, c := &s.room[w], j/roomChunk
	for c >= len(*room) {
		*room = append(*room, nil)
	}
	if (*room)[c] == nil {
		(*room)[c] = make([]float32, roomChunk*2*s.per)
	}
	return (*room)[c]
}

// own takes practice p's values (variance %, variance) into its own
// distributions, where a row's values are not kept in its room (addRows): a
// NaN (left out, as Add leaves it out) or more rows than per. Those in its
// room go with them first.
func (s *Summarizer) own(p int, a *practiceAcc, pct, vr float32) {
	if a.staged >= 0 {
		var buf []float32
		s.fromRoom(p, &buf)
		a.staged = -1
	}
	d := s.dists[p]
	d.pct.Add(float64(pct))
	d.loss.Add(float64(vr))
}

// fromRoom makes practice p's values in its room its distributions', in
// place: the pairs parted into the variances % and then the variances;
// buf is scratch.
func (s *Summarizer) fromRoom(p int, buf *[]float32) {
	a := &s.ps[p]
	if a.staged <= 0 {
		return
	}
	j := p / Shards
	at := (j % roomChunk) * 2 * s.per
	r := s.room[p%Shards][j/roomChunk]
	// A practice has no other values before it leaves its room; each
	// part is capped, so nothing is added over the other or a neighbour's.
	n := int(a.staged)
	pairs := r[at : at+2*n]
	*buf = slices.Grow((*buf)[:0], n)[:n]
	loss := *buf
	for i := range n {
		pairs[i], loss[i] = pairs[2*i], pairs[2*i+1]
	}
	copy(pairs[n:], loss)
	d := s.dists[p]
	d.pct.vals, d.loss.vals = pairs[:n:n], pairs[n:2*n:2*n]
	d.pct.sorted, d.loss.sorted = false, false
	a.staged = 0
}

// OnePass makes Add take every row's list size too, so that no first pass
// is needed: a summariser with exact quantiles (or a headline only) keeps
// each row's spend per head, as float64, until SetBands files it by band,
// in the order the rows came. perPractice is the most rows a practice has
// (replications times years): its exact stores are sized to it.
func (s *Summarizer) OnePass(perPractice int) error {
	if !s.headline && s.q.RelError != 0 {
		return errors.New("one pass needs exact quantiles")
	}
	s.onePass, s.perPractice = true, perPractice
	if !s.headline && perPractice > 0 {
		// Nothing is staged before the rows: the room replaces the stages.
		s.per, s.stages = perPractice, nil
	}
	for _, sh := range s.shards {
		sh.seq = map[int32]*sphSeq{}
	}
	return nil
}

// AddList is the first pass: practice p had list size list in one row.
func (s *Summarizer) AddList(p int, list int32) {
	s.ps[p].listSum += float64(list)
	s.ps[p].n++
}

// SetBands ends the first pass. With years, the number of years each
// practice has rows for, the exact stores are sized to their values. In one
// pass it comes after every row, and files each shard's spend per head by
// band, in the order the rows came.
func (s *Summarizer) SetBands(years int) {
	s.years, s.perBand = years, make([]float64, len(Bands))
	for i := range s.ps {
		a := &s.ps[i]
		a.band = int32(BandOf(a.listSum / a.n))
		s.perBand[a.band] += a.n
		if s.spill != nil {
			sk := &s.bandSk[i%Shards]
			if len(*sk) == 0 {
				*sk = make([][2]*Dist, len(Bands))
			}
			if (*sk)[a.band][0] == nil {
				(*sk)[a.band] = [2]*Dist{s.q.New(), s.q.New()}
			}
			s.dists[i] = accDists{(*sk)[a.band][0], (*sk)[a.band][1]}
		} else if !s.headline && !s.onePass {
			s.dists[i].pct.Reserve(int(a.n))
			s.dists[i].loss.Reserve(int(a.n))
		}
		if !s.onePass {
			a.n = 0 // the second pass counts its rows
		}
	}
	if !s.onePass || s.headline {
		return
	}
	// Each practice's band at hand (a byte each, not its accumulator); each
	// year's rows, shard by shard in row order, into its bands' moments, and
	// its spend per head's quantiles by band and for "all" (yearHist), a
	// year on each goroutine.
	band := make([]uint8, len(s.ps))
	for i := range s.ps {
		band[i] = uint8(s.ps[i].band)
	}
	var ys []int32
	for _, sh := range s.shards {
		for y := range sh.seq {
			if !slices.Contains(ys, y) {
				ys = append(ys, y)
			}
		}
	}
	slices.Sort(ys)
	accs := make([][Shards][]*yearAcc, len(ys))
	quants := make([][]yearQuant, len(ys))
	parallel(len(ys), func(i int) {
		// The year's least and greatest key (as float32, NaN left out),
		// the span of its histogram.
		var seqs [Shards]*sphSeq
		lo, hi := uint32(math.MaxUint32), uint32(0)
		for w, sh := range s.shards {
			if seqs[w] = sh.seq[ys[i]]; seqs[w] != nil {
				seqs[w].runs(func(vals []float64, _ int) {
					l, u := lo, hi // in registers, not shared with the closure's caller
					for _, v := range vals {
						if v == v {
							k := key(float32(v))
							l, u = min(l, k), max(u, k)
						}
					}
					lo, hi = l, u
				})
			}
		}
		h := newYearHist(lo, hi)
		for w := range s.shards {
			if seqs[w] == nil {
				continue
			}
			// Every band's histogram made first, so that a value costs no
			// test beyond its NaN's; a band's count is what its histogram
			// gained, rather than a count a value (each would wait on the
			// last, through memory).
			mom := make([]Moments, len(Bands))
			n := make([]int, len(Bands))
			for b := range Bands {
				if h.hist[b] == nil {
					h.hist[b] = make([]int32, yearBins)
				}
				n[b] -= histCount(h.hist[b])
			}
			seqs[w].runs(func(vals []float64, p int) {
				bn := h.binner
				for _, v := range vals {
					b := band[p]
					p += Shards
					mom[b].Add(v)
					if v == v {
						h.hist[b][bn.bin(float32(v))]++
					}
				}
			})
			acc := make([]*yearAcc, len(Bands))
			for b := range Bands {
				if n[b] += histCount(h.hist[b]); n[b] > 0 {
					h.n[b] += n[b]
					h.leaves[b]++
					h.leaves[len(Bands)]++
				}
				if mom[b].N > 0 {
					acc[b] = &yearAcc{d: s.q.New(), m: mom[b]}
				}
			}
			accs[i][w] = acc
		}
		quants[i] = h.quantiles(seqs, band)
	})
	s.yearQ = map[[2]int32]yearQuant{}
	for i, y := range ys {
		for w, sh := range s.shards {
			for b, acc := range accs[i][w] {
				if acc != nil {
					sh.year[[2]int32{int32(b), y}] = acc
				}
			}
			sh.seq, sh.lastSeq = nil, nil
		}
		for b, q := range quants[i] {
			k := [2]int32{int32(b), y}
			if b == len(Bands) {
				k[0] = -1
			}
			s.yearQ[k] = q
		}
	}
}

// yearQuant is spend per head's quantiles (yearPs) of a band, or of "all",
// in one year, and the count of its values (NaN left out).
type yearQuant struct {
	n int
	q [len(yearPs)]float64
}

// yearPs are the probabilities of the spend-per-head quantiles by year.
var yearPs = [...]float64{.05, .25, .5, .75, .95}

// yearHist is one year's spend per head counted by band (the last, "all"):
// values (NaN left out), leaves (the shards that have values, as a Dist's
// leaves) and a histogram of yearBins bins of equal width over the keys
// of the year's values, from lo: a year's values lie within a few
// doublings, so bins by a key's top bits would hold thousands each.
type yearHist struct {
	hist      [][]int32
	n, leaves []int
	binner
}

// binner maps a value to its bin: its key's offset from lo, shifted right.
// Loops take a copy, which lives in registers.
type binner struct {
	lo    uint32
	shift uint
}

// yearBins is the number of a yearHist's bins (64 KB of counts a band).
const yearBins = 1 << 14

// newYearHist is an empty yearHist for values whose keys (as float32)
// lie in [lo, hi].
func newYearHist(lo, hi uint32) *yearHist {
	nb := len(Bands) + 1
	h := &yearHist{hist: make([][]int32, nb), n: make([]int, nb), leaves: make([]int, nb)}
	if lo <= hi {
		h.lo, h.shift = lo, uint(max(bits.Len32(hi-lo)-bits.Len32(yearBins-1), 0))
	}
	return h
}

// histCount is the values counted in hist.
func histCount(hist []int32) int {
	n := 0
	for _, c := range hist {
		n += int(c)
	}
	return n
}

// bin is the bin of x (not NaN, its key within the year's).
func (b binner) bin(x float32) int { return int((key(x) - b.lo) >> b.shift & (yearBins - 1)) }

// inBins calls yield with the index and bin of each value of vals (as
// float32; NaN left out) whose bin is set in bins, a bit each. A function
// of its own, not a loop in quantiles' closure: in a function that large
// the compiler does not inline key and bin, and a call a value was much of
// the pass.
func (b binner) inBins(vals []float64, bins []uint64) iter.Seq2[int, uint] {
	return func(yield func(int, uint) bool) {
		for j, v := range vals {
			if v != v {
				continue
			}
			// Unsigned, so that a bin's word and bit are a shift and a mask.
			if bin := uint(b.bin(float32(v))); bins[bin/64]>>(bin%64)&1 != 0 && !yield(j, bin) {
				return
			}
		}
	}
}

// quantiles are the year's spend per head's quantiles by band (and, last,
// "all"), from its shards' rows in seqs and the practices' bands: the order
// statistics of the values as float32 that a Dist of them would give, bit
// for bit (a leaf's own in key order; of several leaves, -0 for a zero, as
// bisect), without copying or sorting them: from the histograms ("all"'s the
// sum of the bands'), the bins that hold the order statistics the quantiles
// ask for, and only those bins' values gathered and sorted.
func (h *yearHist) quantiles(seqs [Shards]*sphSeq, band []uint8) []yearQuant {
	nb := len(Bands)
	hist, n, leaves := h.hist, h.n, h.leaves
	for b := range nb {
		if n[b] == 0 {
			continue
		}
		if hist[nb] == nil {
			hist[nb] = make([]int32, yearBins)
		}
		for i, c := range hist[b] {
			hist[nb][i] += c
		}
		n[nb] += n[b]
	}
	// Each target's ranks (as stats.QuantileOf asks for them), the bin of
	// each, and the values before that bin.
	type want struct{ rank, bin, before int }
	wants := make([][]want, nb+1)
	need := make([][]uint64, nb+1) // bins to gather, a bit each
	for t := range wants {
		if n[t] == 0 {
			continue
		}
		var ranks []int
		for _, p := range yearPs {
			h := float64(n[t]-1) * p
			lo := int(math.Floor(h))
			if lo >= n[t]-1 {
				ranks = append(ranks, n[t]-1)
			} else if ranks = append(ranks, lo); h != float64(lo) {
				ranks = append(ranks, lo+1)
			}
		}
		slices.Sort(ranks)
		ranks = slices.Compact(ranks)
		need[t] = make([]uint64, yearBins/64)
		bin, before := 0, 0
		for _, r := range ranks {
			for before+int(hist[t][bin]) <= r {
				before += int(hist[t][bin])
				bin++
			}
			wants[t] = append(wants[t], want{r, bin, before})
			need[t][bin/64] |= 1 << (bin % 64)
		}
	}
	// The needed bins' values, then each bin's sorted by key; anyBin is a
	// bin some target needs, so that most values are passed over at one test.
	got := make([]map[int][]float32, nb+1)
	anyBin := make([]uint64, yearBins/64)
	for t := range got {
		got[t] = map[int][]float32{}
		for i, w := range need[t] {
			anyBin[i] |= w
		}
	}
	gather := func(bins []uint64, targets func(b int) [2]int) {
		for _, sq := range seqs {
			if sq == nil {
				continue
			}
			sq.runs(func(vals []float64, p int) {
				for j, bin := range h.binner.inBins(vals, bins) {
					x := float32(vals[j])
					for _, t := range targets(int(band[p+j*Shards])) {
						if t >= 0 && need[t][bin/64]>>(bin%64)&1 != 0 {
							got[t][int(bin)] = append(got[t][int(bin)], x)
						}
					}
				}
			})
		}
	}
	gather(anyBin, func(b int) [2]int { return [2]int{b, nb} })
	out := make([]yearQuant, nb+1)
	for t := range out {
		if n[t] == 0 {
			continue
		}
		for _, g := range got[t] {
			slices.SortFunc(g, func(a, b float32) int { return cmp.Compare(key(a), key(b)) })
		}
		at := func(k int) float64 {
			i, ok := slices.BinarySearchFunc(wants[t], k, func(w want, k int) int { return cmp.Compare(w.rank, k) })
			if !ok {
				// A rank not foreseen (none is): its bin found and gathered now.
				w := want{rank: k}
				for w.before+int(hist[t][w.bin]) <= k {
					w.before += int(hist[t][w.bin])
					w.bin++
				}
				wants[t] = slices.Insert(wants[t], i, w)
				if _, have := got[t][w.bin]; !have {
					one := make([]uint64, len(anyBin))
					one[w.bin/64] = 1 << (w.bin % 64)
					keep := need[t]
					need[t] = one
					gather(one, func(b int) [2]int {
						if t == nb || b == t {
							return [2]int{t, -1}
						}
						return [2]int{-1, -1}
					})
					need[t] = keep
					slices.SortFunc(got[t][w.bin], func(a, b float32) int { return cmp.Compare(key(a), key(b)) })
				}
			}
			w := wants[t][i]
			x := got[t][w.bin][k-w.before]
			if x == 0 && leaves[t] > 1 {
				x = value(key(0) - 1) // bisection's answer for a zero: -0
			}
			return float64(x)
		}
		out[t].n = n[t]
		for i, p := range yearPs {
			out[t].q[i] = stats.QuantileOf(n[t], p, at)
		}
	}
	return out
}

// Add is the second pass: one practice-year.
func (s *Summarizer) Add(o *Obs) error {
	return s.addRows(o.Practice%Shards, &rowCols{
		loc: []int{o.Practice}, idx: []int32{0}, regime: []int32{0}, closed: -1,
		rep: []int32{o.Replication}, year: []int32{o.Year}, list: []int32{o.ListSize},
		budget: []float64{o.Budget}, spend: []float64{o.SpendTotal}, vr: []float64{o.Variance},
		sav: []float64{o.SavingsRetained}, def: []float64{o.DeficitCarried}, stop: []float64{o.StopLossPaid},
		comm: []float64{o.CommissionerPaid}, holder: []float64{o.HolderPaid},
	})
}

// invalid is the error for a practice-year without a positive list size and budget.
func (s *Summarizer) invalid(p int, year, rep, list int32, budget float64) error {
	return fmt.Errorf("practice %s year %d replication %d has list size %d and budget %g: both must be positive",
		s.IDs[p], year, rep, list, budget)
}

// rowCols are practice-years as the second pass reads them, a column each
// (of equal length): row r's practice is loc[idx[r]], and rows whose regime
// is closed are left out.
type rowCols struct {
	loc                                             []int   // practice by dictionary index
	idx, regime                                     []int32 // dictionary indexes of practice and regime
	closed                                          int32   // the closed regime's code (-1: none)
	rep, year, list                                 []int32
	budget, spend, vr, sav, def, stop, comm, holder []float64
}

// addRows adds the rows of c that are shard w's practices'; a row's list
// size and budget must be positive. One loop, with each row's work written
// out in it: a call a row would cost about a tenth of the row. What every
// row reads of s, c and sh is held in locals: the loop writes through
// pointers, so the compiler would otherwise load each again a row (the
// loop's instructions, counted by callgrind, fell by about an eighth).
// They are written back before it returns, by hand: a closure sharing
// them would keep them in memory.
func (s *Summarizer) addRows(w int, c *rowCols) error {
	sh := s.shards[w]
	n := len(c.idx)
	idx, regIdx, reps, years, lists := c.idx[:n], c.regime[:n], c.rep[:n], c.year[:n], c.list[:n]
	budgets, spends, vrs, savs, defs, stops, comms, holders := c.budget[:n], c.spend[:n], c.vr[:n], c.sav[:n], c.def[:n], c.stop[:n], c.comm[:n], c.holder[:n]
	loc, closed, ps := c.loc, c.closed, s.ps
	onePass, headline, per := s.onePass, s.headline, s.per
	// The margins in % (s.margin, one for each of Thresholds).
	m0, m1 := s.margin[0], s.margin[1]
	room := s.room[w]
	rows, last, lastKey := sh.rows, sh.last, sh.lastKey
	seq, seqYear := sh.lastSeq, sh.seqYear
	for r := range n {
		// Practice indexes are not negative: unsigned, the divisions by
		// Shards and roomChunk are shifts, with no correction for a sign.
		p := loc[idx[r]]
		if uint(p)%Shards != uint(w) || regIdx[r] == closed {
			continue
		}
		rep, year, list, budget, spend, vr := reps[r], years[r], lists[r], budgets[r], spends[r], vrs[r]
		if list <= 0 || budget <= 0 {
			sh.rows, sh.last, sh.lastKey, sh.lastSeq, sh.seqYear = rows, last, lastKey, seq, seqYear
			return s.invalid(p, year, rep, list, budget)
		}
		rows++
		a := &ps[p]
		if onePass {
			a.listSum += float64(list)
		}
		sph := spend / float64(list)
		pct := 100 * vr / budget
		// The moments and the room written out here, with calls only for
		// the rare (roomOf, own): a call a row would cost about a tenth of
		// the row.
		// Three Moments sharing one count: each as Moments.Add.
		if a.n == 0 {
			a.sph.k, a.vr.k, a.pct.k = sph, vr, pct
		}
		a.n++
		a.sph.add(sph - a.sph.k)
		a.vr.add(vr - a.vr.k)
		a.pct.add(pct - a.pct.k)
		a.sav += savs[r]
		a.def += defs[r]
		// Counted without a branch (a row is as likely on either side).
		a.over[0] += int32(b2i(pct < -m0))
		a.over[1] += int32(b2i(pct < -m1))
		a.under[0] += int32(b2i(pct > m0))
		a.under[1] += int32(b2i(pct > m1))
		if !headline {
			// Exact values are kept as float32, so staging them so loses nothing.
			if per > 0 {
				// A row touches the practice's accumulator and one place in
				// its room, in row order, with no stage to copy from.
				p32, v32 := float32(pct), float32(vr)
				j, st := uint(p)/Shards, int(a.staged)
				if st >= 0 && st < per && p32 == p32 && v32 == v32 {
					var rm []float32
					if c := j / roomChunk; c < uint(len(room)) && room[c] != nil {
						rm = room[c]
					} else {
						rm = s.roomOf(w, int(j))
						room = s.room[w]
					}
					at := int(j%roomChunk)*2*per + 2*st
					rm[at], rm[at+1] = p32, v32
					a.staged++
				} else {
					s.own(p, a, p32, v32)
				}
			} else {
				st := &s.stages[p]
				st[a.staged] = [2]float32{float32(pct), float32(vr)}
				if a.staged++; int(a.staged) == stageLen {
					s.flush(p)
				}
			}
			if onePass {
				if seq == nil || year != seqYear {
					if seq = sh.seq[year]; seq == nil {
						seq = &sphSeq{next: -1}
						sh.seq[year] = seq
					}
					seqYear = year
				}
				seq.add(p, sph)
			} else {
				y := s.yearOf(sh, int(a.band), year)
				y.d.Add(sph)
				y.m.Add(sph)
			}
		}
		// Rows of one replication-year come together: look the key up once.
		if last == nil || rep != lastKey[0] || year != lastKey[1] {
			k := [2]int32{rep, year}
			if last = sh.area[k]; last == nil {
				last = &areaTot{}
				sh.area[k] = last
			}
			lastKey = k
		}
		last.budget += budget
		last.spend += spend
		last.comm += comms[r]
		last.holder += holders[r]
		last.sav += savs[r]
		last.def += defs[r]
		last.stop += stops[r]
	}
	sh.rows, sh.last, sh.lastKey, sh.lastSeq, sh.seqYear = rows, last, lastKey, seq, seqYear
	return nil
}

// yearOf is the spend-per-head accumulator of band b in year y, in shard sh.
func (s *Summarizer) yearOf(sh *shard, b int, y int32) *yearAcc {
	if y >= 0 && b < len(sh.byBand) && int(y) < len(sh.byBand[b]) && sh.byBand[b][y] != nil {
		return sh.byBand[b][y]
	}
	k := [2]int32{int32(b), y}
	acc := sh.year[k]
	if acc == nil {
		acc = &yearAcc{d: s.q.New()}
		if s.years > 0 {
			acc.d.Reserve(int(s.perBand[b]) / s.years / Shards)
		}
		sh.year[k] = acc
	}
	if y >= 0 && y < 1000 {
		for b >= len(sh.byBand) {
			sh.byBand = append(sh.byBand, nil)
		}
		for int(y) >= len(sh.byBand[b]) {
			sh.byBand[b] = append(sh.byBand[b], nil)
		}
		sh.byBand[b][y] = acc
	}
	return acc
}

// statsOf is the summary of an accumulated group of practices.
func (s *Summarizer) statsOf(g *practiceAcc, gd accDists, practices int) Stats {
	n := g.n
	sph, vr, pct := g.sph.moments(n), g.vr.moments(n), g.pct.moments(n)
	st := Stats{
		Practices: practices, PracticeYrs: int(n), ListSizeMean: g.listSum / n,
		SpendPerHeadMean: sph.Mean(), SpendPerHeadSD: sph.SD(), SpendPerHeadCV: sph.CV(),
		VarianceMean: vr.Mean(), VarianceSD: vr.SD(), VarianceCV: vr.CV(),
		VariancePctMean: pct.Mean(), VariancePctSD: pct.SD(),
		ProbOver5: float64(g.over[0]) / n, ProbOver10: float64(g.over[1]) / n,
		ProbUnder5: float64(g.under[0]) / n, ProbUnder10: float64(g.under[1]) / n,
		SavingsRetainedMean: g.sav / n, DeficitCarriedMean: g.def / n,
		QuantileRelError: s.q.RelError,
	}
	if s.headline {
		nan := math.NaN()
		st.VariancePctP05, st.VariancePctP25, st.VariancePctP50, st.VariancePctP75, st.VariancePctP95 = nan, nan, nan, nan, nan
		st.VaR95, st.ES95, st.VaR99, st.ES99, st.VaR95Pct, st.ES95Pct, st.VaR99Pct, st.ES99Pct = nan, nan, nan, nan, nan, nan, nan, nan
		return st
	}
	d := gd.pct
	st.VariancePctP05, st.VariancePctP25, st.VariancePctP50 = d.Quantile(.05), d.Quantile(.25), d.Quantile(.5)
	st.VariancePctP75, st.VariancePctP95 = d.Quantile(.75), d.Quantile(.95)
	// A loss is a negative variance.
	st.VaR95, st.ES95 = gd.loss.Tail(.95, true)
	st.VaR99, st.ES99 = gd.loss.Tail(.99, true)
	st.VaR95Pct, st.ES95Pct = d.Tail(.95, true)
	st.VaR99Pct, st.ES99Pct = d.Tail(.99, true)
	d.release()
	gd.loss.release()
	return st
}

// merge adds practice accumulator o, with its distributions od, into g,
// with gd, as Moments.Merge does each of their moments.
func (s *Summarizer) merge(g *practiceAcc, gd accDists, o *practiceAcc, od accDists) {
	g.listSum += o.listSum
	for _, m := range [...]struct{ g, o *shifted }{{&g.sph, &o.sph}, {&g.vr, &o.vr}, {&g.pct, &o.pct}} {
		x := m.g.moments(g.n)
		x.Merge(m.o.moments(o.n))
		*m.g = shifted{x.k, x.s1, x.s2}
	}
	g.n += o.n
	g.sav += o.sav
	g.def += o.def
	for t := range g.over {
		g.over[t] += o.over[t]
		g.under[t] += o.under[t]
	}
	if !s.headline && od.pct != nil {
		gd.pct.Merge(od.pct)
		gd.loss.Merge(od.loss)
	}
}

// group is the accumulator of a band, or of "all".
type group struct {
	practiceAcc
	d accDists
}

func (s *Summarizer) newGroup() *group {
	g := &group{}
	if !s.headline {
		g.d = accDists{s.q.New(), s.q.New()}
	}
	return g
}

// Summary ends the second pass and returns the tables.
func (s *Summarizer) Summary() (*Summary, error) {
	// The shards' totals, merged in shard order.
	rows := int64(0)
	area := map[[2]int32]*areaTot{}
	byYear, yearMom := map[[2]int32]*Dist{}, map[[2]int32]*Moments{}
	for _, sh := range s.shards {
		rows += sh.rows
		for k, t := range sh.area {
			if area[k] == nil {
				area[k] = &areaTot{}
			}
			area[k].add(*t)
		}
	}
	for _, sh := range s.shards {
		for k, y := range sh.year {
			if byYear[k] == nil {
				byYear[k], yearMom[k] = s.q.New(), &Moments{}
			}
			byYear[k].Merge(y.d)
			yearMom[k].Merge(y.m)
		}
	}
	if rows == 0 {
		return nil, errors.New("no practice-years to summarise")
	}
	sum := &Summary{Rows: rows, Quantiles: s.q}
	if !s.headline && s.per == 0 {
		for i := range s.ps {
			s.flush(i)
		}
	}
	order := make([]int, 0, len(s.IDs))
	for i := range s.IDs {
		if s.ps[i].n > 0 {
			order = append(order, i)
		}
	}
	if byID := func(a, b int) int { return cmp.Compare(s.IDs[a], s.IDs[b]) }; !slices.IsSortedFunc(order, byID) {
		slices.SortFunc(order, byID)
	}
	groups := make([]*group, len(Bands))
	counts := make([]int, len(Bands))
	var binned [Shards][][2][]int32 // by shard, band: (variance %, variance)
	// Practices' statistics are independent: one goroutine per shard.
	sum.Practices = make([]PracticeStats, len(order))
	for j, i := range order {
		sum.Practices[j].PracticeID, sum.Practices[j].Band = s.IDs[i], Bands[s.ps[i].band].Name
	}
	if s.spill != nil {
		stats := make([]Stats, len(order))
		if err := s.spillStats(order, stats); err != nil {
			return nil, err
		}
		for j := range stats {
			sum.Practices[j].Stats = stats[j]
		}
	} else {
		// Each shard also counts its practices' exact values by band, as
		// a band's pool counts them (see Dist.index), while they are at
		// hand: the bands' pools need not read them again.
		var wg sync.WaitGroup
		for w := range Shards {
			wg.Go(func() {
				var buf []float32
				for j := w; j < len(order); j += Shards {
					a := &s.ps[order[j]]
					if s.per > 0 {
						s.fromRoom(order[j], &buf)
					}
					var d accDists // none for a headline
					if !s.headline {
						d = s.dists[order[j]]
					}
					sum.Practices[j].Stats = s.statsOf(a, d, 1)
					if !s.headline && s.q.RelError == 0 {
						if binned[w] == nil {
							binned[w] = make([][2][]int32, len(Bands))
						}
						c := &binned[w][a.band]
						c[0] = countBins(c[0], d.pct.vals)
						c[1] = countBins(c[1], d.loss.vals)
					}
				}
			})
		}
		wg.Wait()
	}
	for _, i := range order {
		a := &s.ps[i]
		if groups[a.band] == nil {
			groups[a.band] = s.newGroup()
		}
		var d accDists
		if s.spill == nil && !s.headline {
			d = s.dists[i] // with a spill, its band's, shared: pooled below
		}
		g := groups[a.band]
		s.merge(&g.practiceAcc, g.d, a, d)
		counts[a.band]++
		if !s.headline {
			s.dists[i] = accDists{} // done with: free before pooling
		}
	}
	for _, sk := range s.bandSk {
		for b, d := range sk {
			if d[0] != nil && groups[b] != nil {
				groups[b].d.pct.Merge(d[0])
				groups[b].d.loss.Merge(d[1])
			}
		}
	}
	// The bands and "all" pool the practices' values by reference (all
	// merged first, in band order), then their statistics are computed at
	// once, as are spend per head's by band and year.
	all := s.newGroup()
	var bands []int
	for b, g := range groups {
		if g != nil {
			bands = append(bands, b)
			s.merge(&all.practiceAcc, all.d, &g.practiceAcc, g.d)
		}
	}
	if !s.headline {
		// The bands' histograms, then "all"'s as their sum.
		parallel(2*len(bands), func(j int) {
			b, k := bands[j/2], j%2
			var c [][]int32
			for _, bs := range binned {
				if bs != nil && bs[b][k] != nil {
					c = append(c, bs[b][k])
				}
			}
			if g := groups[b]; k == 0 {
				g.d.pct.index(c...)
			} else {
				g.d.loss.index(c...)
			}
		})
		var pct, loss []*Dist
		for _, b := range bands {
			pct, loss = append(pct, groups[b].d.pct), append(loss, groups[b].d.loss)
		}
		all.d.pct.indexAll(pct...)
		all.d.loss.indexAll(loss...)
	}
	// "all", as large as the bands together, first.
	bandStats := make([]Stats, len(bands)+1)
	parallel(len(bandStats), func(j int) {
		if j == 0 {
			bandStats[0] = s.statsOf(&all.practiceAcc, all.d, len(order))
			return
		}
		g := groups[bands[j-1]]
		bandStats[j] = s.statsOf(&g.practiceAcc, g.d, counts[bands[j-1]])
	})
	for j, b := range bands {
		sum.Bands = append(sum.Bands, BandStats{Band: Bands[b].Name, Stats: bandStats[j+1]})
		groups[b] = nil
	}
	sum.Bands = append(sum.Bands, BandStats{Band: AllBands, Stats: bandStats[0]})

	// Years and replications, in order.
	var years, reps []int32
	for k := range area {
		if !slices.Contains(reps, k[0]) {
			reps = append(reps, k[0])
		}
		if !slices.Contains(years, k[1]) {
			years = append(years, k[1])
		}
	}
	slices.Sort(years)
	slices.Sort(reps)
	sum.Years, sum.Replications = len(years), len(reps)

	if !s.headline {
		// Spend per head by band and year; "all" pools the bands.
		for _, y := range years {
			pooled, pm := s.q.New(), Moments{}
			for b := range Bands {
				k := [2]int32{int32(b), y}
				if d := byYear[k]; d != nil && yearMom[k] != nil {
					pooled.Merge(d)
					pm.Merge(*yearMom[k])
				}
			}
			byYear[[2]int32{-1, y}], yearMom[[2]int32{-1, y}] = pooled, &pm
		}
		// Each shard's values sorted first (a band's and "all"'s rows share
		// them), then the rows at once: the bands' in order, then "all"'s,
		// latest year first.
		var leaves []*Dist
		for _, sh := range s.shards {
			for _, y := range sh.year {
				leaves = append(leaves, y.d)
			}
		}
		parallel(len(leaves), func(j int) { leaves[j].leaves() })
		var keys [][2]int32
		for b := range Bands {
			for _, y := range years {
				keys = append(keys, [2]int32{int32(b), y})
			}
		}
		for _, y := range slices.Backward(years) {
			keys = append(keys, [2]int32{-1, y})
		}
		rows := make([]*YearStats, len(keys))
		if s.yearQ != nil {
			// One pass: the quantiles from SetBands.
			for j, k := range keys {
				q := s.yearQ[k]
				if q.n == 0 || yearMom[k] == nil {
					continue
				}
				name := AllBands
				if k[0] >= 0 {
					name = Bands[k[0]].Name
				}
				rows[j] = &YearStats{Band: name, Year: k[1], PracticeYrs: q.n, Mean: yearMom[k].Mean(),
					P05: q.q[0], P25: q.q[1], P50: q.q[2], P75: q.q[3], P95: q.q[4], RelError: s.q.RelError}
			}
			keys = nil
		}
		parallel(len(keys), func(j int) {
			k := keys[j]
			d := byYear[k]
			if d == nil || d.N() == 0 || yearMom[k] == nil {
				return
			}
			name := AllBands
			if k[0] >= 0 {
				name = Bands[k[0]].Name
			}
			rows[j] = &YearStats{Band: name, Year: k[1], PracticeYrs: d.N(), Mean: yearMom[k].Mean(),
				P05: d.Quantile(.05), P25: d.Quantile(.25), P50: d.Quantile(.5), P75: d.Quantile(.75), P95: d.Quantile(.95),
				RelError: s.q.RelError}
			d.release()
		})
		for _, r := range rows {
			if r != nil {
				sum.ByYear = append(sum.ByYear, *r)
			}
		}
	}

	// Area totals per replication and year.
	whole := make([]areaTot, len(reps))
	excess := make([][]float64, len(reps))
	for _, y := range years {
		ts := make([]areaTot, len(reps))
		for i, r := range reps {
			t := area[[2]int32{r, y}]
			if t == nil {
				return nil, fmt.Errorf("replication %d has no rows for year %d", r, y)
			}
			ts[i] = *t
			w := &whole[i]
			w.budget += t.budget
			w.spend += t.spend
			w.comm += t.comm
			w.holder += t.holder
			w.sav += t.sav
			w.def += t.def
			w.stop += t.stop
			excess[i] = append(excess[i], t.comm-t.budget)
		}
		need := make([]float64, len(reps))
		for i := range ts {
			need[i] = ReserveNeed([]float64{ts[i].comm - ts[i].budget})
		}
		sum.Commissioner = append(sum.Commissioner, commRow(fmt.Sprint(y), ts, need))
	}
	need := make([]float64, len(reps))
	for i := range reps {
		need[i] = ReserveNeed(excess[i])
	}
	sum.Commissioner = append(sum.Commissioner, commRow(AllBands, whole, need))
	return sum, nil
}

// parallel calls f(0), ..., f(n-1) on Shards goroutines, each taking the
// next call not yet taken (so put the largest first); each call must write
// only what is its own.
func parallel(n int, f func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range Shards {
		wg.Go(func() {
			for j := int(next.Add(1) - 1); j < n; j = int(next.Add(1) - 1) {
				f(j)
			}
		})
	}
	wg.Wait()
}

// commRow is a commissioner row from the area's totals ts (one per
// replication) and each replication's reserve need.
func commRow(label string, ts []areaTot, need []float64) CommissionerStats {
	var f [7]Moments
	var over, excess Moments
	overs := make([]float64, len(ts))
	pos := 0
	for i, t := range ts {
		for j, v := range []float64{t.budget, t.spend, t.comm, t.holder, t.sav, t.def, t.stop} {
			f[j].Add(v)
		}
		overs[i] = t.spend - t.budget
		over.Add(overs[i])
		excess.Add(t.comm - t.budget)
		if overs[i] > 0 {
			pos++
		}
	}
	c := CommissionerStats{
		Year: label, Replications: len(ts),
		BudgetMean: f[0].Mean(), SpendMean: f[1].Mean(), CommissionerPaid: f[2].Mean(),
		HolderPaid: f[3].Mean(), SavingsRetained: f[4].Mean(), DeficitCarried: f[5].Mean(), StopLossPaid: f[6].Mean(),
		OverspendMean: over.Mean(), OverspendSE: over.SE(),
		ProbAreaOverspend: float64(pos) / float64(len(ts)), ExcessMean: excess.Mean(),
	}
	slices.Sort(overs)
	need = slices.Clone(need)
	slices.Sort(need)
	c.OverspendP95, c.OverspendP99 = Quantile(overs, .95), Quantile(overs, .99)
	c.Reserve95, c.Reserve99 = Quantile(need, ReserveLevels[0]), Quantile(need, ReserveLevels[1])
	return c
}

// DefaultExactBytes is the memory the exact quantiles may take (the values
// held as float32): beyond it, quantiles come from sketches.
const DefaultExactBytes = 64 << 20

// Options tune Summarize.
type Options struct {
	// ExactBytes bounds the memory of exact quantiles (0: DefaultExactBytes).
	ExactBytes int64
	// Headline computes only what the headline needs: band probabilities
	// and the commissioner's table, with no quantiles (NaN), spend by year
	// or ledger tables.
	Headline bool
	// Readers decode row groups at once (0: one per CPU).
	Readers int
	// Beyond ExactBytes, each practice's values are spilled to temporary
	// files in a new folder in SpillDir ("": the OS temp folder), removed
	// afterwards, so that its statistics stay exact.
	SpillDir string
}

// The columns the summary reads: pass 1 and pass 2. Both read the regime,
// so that practice-years after a practice closed or merged (regime closed,
// list dynamics: no list, budget or spend) are left out.
var (
	listColumns = []runfolder.Column{{Name: "practice_id", Kind: runfolder.String}, {Name: "list_size", Kind: runfolder.Int}, {Name: "regime", Kind: runfolder.String}}
	obsColumns  = []runfolder.Column{
		{Name: "practice_id", Kind: runfolder.String}, {Name: "replication", Kind: runfolder.Int}, {Name: "year", Kind: runfolder.Int},
		{Name: "list_size", Kind: runfolder.Int}, {Name: "budget", Kind: runfolder.Float}, {Name: "spend_total", Kind: runfolder.Float},
		{Name: "variance", Kind: runfolder.Float}, {Name: "savings_retained", Kind: runfolder.Float}, {Name: "deficit_carried", Kind: runfolder.Float},
		{Name: "stop_loss_paid", Kind: runfolder.Float}, {Name: "commissioner_paid", Kind: runfolder.Float}, {Name: "holder_paid", Kind: runfolder.Float},
		{Name: "regime", Kind: runfolder.String},
	}
)

// pass2 is what the summary's main pass reads: obsColumns, then, unless
// only a headline is wanted, riskColumns where the rows carry expected
// spends (from riskAt) and contractColumns where the run has contract
// payments (from contractAt), with their accumulators (nil where absent).
type pass2 struct {
	cols               []runfolder.Column
	risk               *riskAcc
	contract           *contractAcc
	riskAt, contractAt int
}

func newPass2(dir string, files []string, man *runfolder.Manifest, headline bool) (*pass2, error) {
	p := &pass2{cols: obsColumns}
	if !headline {
		var err error
		if p.risk, err = newRiskAcc(dir, files, man.Years); err != nil {
			return nil, err
		}

		p.contract = newContractAcc(man)
	}
	p.riskAt, p.contractAt = len(p.cols), len(p.cols)
	if p.risk != nil {
		p.cols = append(slices.Clip(p.cols), riskColumns...)
		p.contractAt = len(p.cols)
	}
	if p.contract != nil {
		p.cols = append(slices.Clip(p.cols), contractColumns...)
	}
	return p, nil
}

// SummaryColumns are the practice-year columns a full summary of the
// completed run in dir reads in its main pass (its first pass reads a
// subset): what reading "just the columns" means for bench.
func SummaryColumns(dir string) ([]runfolder.Column, error) {
	man, err := runfolder.RequireComplete(dir)
	if err != nil {
		return nil, err
	}
	files, err := man.TableFiles(runfolder.PracticeYears)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no results in %s/", dir, runfolder.PracticeYears)
	}
	p, err := newPass2(dir, files, man, false)
	if err != nil {
		return nil, err
	}
	return slices.Clone(p.cols), nil
}

// closedCode is the dictionary code of the closed regime in a batch's
// regime column c, or -1 if none of its rows is closed.
func closedCode(b *runfolder.Batch, c int) int32 {
	_, dict := b.String(c)
	for k, v := range dict {
		if v == sim.RegimeClosed {
			return int32(k)
		}
	}
	return -1
}

// Summarize streams a completed run folder's practice-years (and ledger)
// into its summary tables. A run whose manifest does not say completed is
// refused (runfolder.ErrIncomplete), since its results would be a biased part
// of the whole.
func Summarize(ctx context.Context, dir string, o Options) (*Summary, error) {
	man, err := runfolder.RequireComplete(dir)
	if err != nil {
		return nil, err
	}
	files, err := man.TableFiles(runfolder.PracticeYears)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no results in %s/", dir, runfolder.PracticeYears)
	}
	if err := man.CheckListed(dir, runfolder.PracticeYears); err != nil {
		return nil, err
	}
	// Every file is checked against the manifest before any is read (each
	// Scan checks its files too, at no second cost), so a damaged ledger
	// file is found before the long passes rather than after them.
	check := files
	if !o.Headline {
		ledger, err := man.TableFiles(runfolder.Ledger)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		check = append(slices.Clip(files), ledger...)
	}
	if err := man.VerifyFiles(ctx, dir, check); err != nil {
		return nil, err
	}
	// Quantiles: exact if the values fit the budget as float32 (variance in
	// % and in pounds, spend per head: 12 bytes a row), else sketches.
	budget := o.ExactBytes
	if budget <= 0 {
		budget = DefaultExactBytes
	}
	q, note := Exact(), ""
	need := man.Rows * 3 * 4
	perPractice := int64(man.Replications) * int64(man.Years)
	var sp *spill
	if need > budget {
		if q, err = Sketched(SketchRelError); err != nil {
			return nil, err
		}
		if !o.Headline {
			// Each practice's values go to disk and are read back a
			// partition at a time: its statistics stay exact.
			if sp, err = newSpill(o.SpillDir, spillParts(man.Rows, budget)); err != nil {
				return nil, err
			}
			defer sp.remove()
			q = &Quantiles{RelError: q.RelError, mapping: q.mapping, PracticesExact: true}
			note = fmt.Sprintf("each practice's quantiles, VaR and ES are exact (its %d practice-years spilled as float32 to temporary files, since %d rows would take %.0f MB, over the %.0f MB budget); those of the bands, \"all\" and spend per head by year come from DDSketch quantile sketches, each within %.0f%% of the exact value",
				perPractice, man.Rows, float64(need)/1e6, float64(budget)/1e6, 100*SketchRelError)
		} else {
			note = fmt.Sprintf("quantiles, VaR and ES come from DDSketch quantile sketches, each within %.0f%% of the exact value: %d rows (%d practice-years per practice) would take %.0f MB as float32, over the %.0f MB budget",
				100*SketchRelError, man.Rows, perPractice, float64(need)/1e6, float64(budget)/1e6)
		}
	} else {
		note = fmt.Sprintf("quantiles, VaR and ES are exact (each practice's %d practice-years held as float32)", perPractice)
	}
	s := NewSummarizer(q, o.Headline)
	s.spill = sp
	// Room for every practice at once: each accumulator is a few KB, and
	// growing the slice by doubling would copy them and touch fresh
	// memory again and again.
	s.ps = slices.Grow(s.ps, min(max(man.Practices, 0), 1<<20))
	// A row group's batches share its dictionary: map it to practices once.
	var local []int
	var mapped uint64
	practices := func(b *runfolder.Batch) ([]int32, []int) {
		idx, dict := b.String(0)
		if id := b.DictID(0); id != mapped || len(local) != len(dict) {
			// A row group lists its practices in the order they were first
			// seen, from where it starts: each name is compared with the
			// one after the last before it is hashed.
			local = local[:0]
			next := 0
			for _, d := range dict {
				p := next
				if p >= len(s.IDs) || s.IDs[p] != d {
					p = s.Practice(d)
				}
				local = append(local, p)
				if next = p + 1; next == len(s.IDs) {
					next = 0
				}
			}
			mapped = id
		}
		return idx, local
	}
	rowsMatch := func(rows int64) error {
		if man.Rows > 0 && rows != man.Rows {
			return &runfolder.CorruptError{Dir: dir, Problems: []string{fmt.Sprintf("%s/ holds %d rows but %s says %d: the manifest does not describe these files",
				runfolder.PracticeYears, rows, runfolder.ManifestName, man.Rows)}}
		}
		return nil
	}
	// Exact quantiles (or none) need no first pass: the bands are set
	// after the one pass (see OnePass), which keeps 12 bytes a row (spend
	// per head and practice) until then, so only while that fits half the
	// exact budget (England 100 x 2: 20 MB; at 6.2 million rows it would
	// add 75 MB to a peak of 190 MB). Sketches need a practice's band
	// before its first row, from pass 1. The tables are the same either way.
	onePass := o.Headline || (q.RelError == 0 && man.Rows*12 <= budget/2)
	if onePass {
		if err := s.OnePass(int(perPractice)); err != nil {
			return nil, err
		}
	} else {
		if !o.Headline {
			s.stages = slices.Grow(s.stages, min(max(man.Practices, 0), 1<<20))
		}
		// Pass 1: practices and their mean list sizes.
		rows, err := runfolder.Scan(ctx, dir, files, listColumns, o.Readers, func(b *runfolder.Batch) error {
			idx, loc := practices(b)
			lists, closed := b.Int(1), closedCode(b, 2)
			regIdx, _ := b.String(2)
			for r, l := range lists {
				if regIdx[r] != closed {
					s.AddList(loc[idx[r]], l)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if err := rowsMatch(rows); err != nil {
			return nil, err
		}
		s.SetBands(man.Years)
	}
	// Pass 2: every practice-year, each shard of practices by its own
	// goroutine, and beside them the variance decomposition and the
	// contract's payments, from the same batches (one read of the files).
	p2, err := newPass2(dir, files, man, o.Headline)
	if err != nil {
		return nil, err
	}
	cols, risk, contract, riskAt, contractAt := p2.cols, p2.risk, p2.contract, p2.riskAt, p2.contractAt
	if risk != nil && man.Practices > 0 && man.Years > 0 {
		// Room for every practice-year, rather than grown as they come.
		risk.acc = make([]decompAcc, 0, min(man.Practices, 1<<20)*man.Years)
	}
	// The ledger's pass, which needs nothing of the practice-years, goes on
	// beside theirs, filling the cores where that waits on itself; with
	// sketches (a large run) after it, so that the two passes' memory is
	// not held at once.
	side := &Summary{}
	var sideErr error
	var ledger sync.WaitGroup
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	startLedger := func() {
		if !o.Headline {
			ledger.Go(func() { sideErr = ledgerPass(lctx, dir, man, o.Readers, side) })
		}
	}
	if onePass {
		startLedger()
	}
	rows, err := runfolder.Scan(ctx, dir, files, cols, o.Readers, func(b *runfolder.Batch) error {
		idx, loc := practices(b)
		rep, year, list := b.Int(1), b.Int(2), b.Int(3)
		budget, spend, vr, sav, def, stop, comm, holder := b.Float(4), b.Float(5), b.Float(6), b.Float(7), b.Float(8), b.Float(9), b.Float(10), b.Float(11)
		regIdx, _ := b.String(12)
		closed := closedCode(b, 12)
		var errs [Shards + 1]error
		var wg sync.WaitGroup
		rows := &rowCols{loc: loc, idx: idx[:b.N], regime: regIdx, closed: closed, rep: rep, year: year, list: list,
			budget: budget, spend: spend, vr: vr, sav: sav, def: def, stop: stop, comm: comm, holder: holder}
		for w := range s.shards {
			wg.Go(func() {
				if err := s.addRows(w, rows); err != nil {
					errs[w] = fmt.Errorf("%s: %s: %w", dir, b.File, err)
				}
			})
		}
		if risk != nil || contract != nil {
			wg.Go(func() {
				if contract != nil {
					c := contractAt
					contract.add(b.N, rep, year, [nContractSums][]float64{b.Float(c), b.Float(c + 1), b.Float(c + 2), b.Float(c + 3), budget, spend})
				}
				if risk != nil {
					c := riskAt
					x := [4][]float64{b.Float(c), b.Float(c + 1), b.Float(c + 2), b.Float(c + 3)}
					if err := risk.add(b.N, loc, idx, rep, year, list, spend, x); err != nil {
						errs[Shards] = fmt.Errorf("%s: %s: %w", dir, b.File, err)
					}
				}
			})
		}
		wg.Wait()
		return errors.Join(errs[:]...)
	})
	if err == nil && onePass {
		err = rowsMatch(rows)
	}
	if err != nil {
		cancel()
		ledger.Wait()
		return nil, err
	}
	if contract != nil {
		contract.finish(side)
	}
	if onePass {
		s.SetBands(man.Years)
	} else {
		startLedger()
	}
	// The decomposition, which needs only the practices' bands, beside the
	// summary's quantiles.
	var fit []RiskRow
	var decomp []DecompRow
	var decomposed sync.WaitGroup
	if risk != nil {
		band := make([]string, len(s.ps))
		for i := range s.ps {
			if s.ps[i].n > 0 { // as the by-practice table lists them
				band[i] = Bands[s.ps[i].band].Name
			}
		}
		decomposed.Go(func() { fit, decomp = risk.finish(s.IDs, band) })
	}
	sum, err := s.Summary()
	decomposed.Wait()
	ledger.Wait()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if sideErr != nil {
		return nil, sideErr
	}
	sum.Scenario, sum.Seed, sum.Replications, sum.Years = man.ScenarioName, man.Seed, man.Replications, man.Years
	sum.CommissionerLabel = termsOf(man).CommissionerLabel
	sum.QuantileNote = note
	sum.Ledger, sum.Flows, sum.LedgerRows = side.Ledger, side.Flows, side.LedgerRows
	sum.Contract = side.Contract
	if o.Headline {
		return sum, nil
	}
	riskRows(man, sum)
	sum.RiskAdjustment = append(sum.RiskAdjustment, fit...)
	sum.Decomposition = decomp
	return sum, nil
}

// Stats are the summary statistics of a group of practice-years (a band or a
// practice, pooled over replications and years). Variance is budget minus
// spend, so a negative variance is an overspend. Money is in pounds.
type Stats struct {
	Practices    int     `parquet:"practices"`
	PracticeYrs  int     `parquet:"practice_years"`
	ListSizeMean float64 `parquet:"list_size_mean"`

	SpendPerHeadMean float64 `parquet:"spend_per_head_mean"`
	SpendPerHeadSD   float64 `parquet:"spend_per_head_sd"`
	SpendPerHeadCV   float64 `parquet:"spend_per_head_cv"`

	VarianceMean float64 `parquet:"variance_mean"`
	VarianceSD   float64 `parquet:"variance_sd"`
	VarianceCV   float64 `parquet:"variance_cv"`

	// The variance as a percentage of budget: its mean, SD and quantiles.
	VariancePctMean float64 `parquet:"variance_pct_mean"`
	VariancePctSD   float64 `parquet:"variance_pct_sd"`
	VariancePctP05  float64 `parquet:"variance_pct_p05"`
	VariancePctP25  float64 `parquet:"variance_pct_p25"`
	VariancePctP50  float64 `parquet:"variance_pct_p50"`
	VariancePctP75  float64 `parquet:"variance_pct_p75"`
	VariancePctP95  float64 `parquet:"variance_pct_p95"`

	// Share of practice-years with spend above (over) or below (under)
	// budget by more than 5% or 10% of budget.
	ProbOver5   float64 `parquet:"prob_over_5pct"`
	ProbOver10  float64 `parquet:"prob_over_10pct"`
	ProbUnder5  float64 `parquet:"prob_under_5pct"`
	ProbUnder10 float64 `parquet:"prob_under_10pct"`

	// Value at risk and expected shortfall of the overspend (spend minus
	// budget), in pounds and as a percentage of budget (see Tail).
	VaR95    float64 `parquet:"var95_overspend"`
	ES95     float64 `parquet:"es95_overspend"`
	VaR99    float64 `parquet:"var99_overspend"`
	ES99     float64 `parquet:"es99_overspend"`
	VaR95Pct float64 `parquet:"var95_overspend_pct"`
	ES95Pct  float64 `parquet:"es95_overspend_pct"`
	VaR99Pct float64 `parquet:"var99_overspend_pct"`
	ES99Pct  float64 `parquet:"es99_overspend_pct"`

	// Mean per practice-year of savings the holder kept and of deficit it
	// carried into the next year.
	SavingsRetainedMean float64 `parquet:"savings_retained_mean"`
	DeficitCarriedMean  float64 `parquet:"deficit_carried_mean"`

	// QuantileRelError is 0 when the quantiles, VaR and ES are exact, else
	// the relative error bound of the sketches they came from (see Quantiles).
	QuantileRelError float64 `parquet:"quantile_rel_error"`
}

// BandStats is one row of the by-band table.
type BandStats struct {
	Band  string `parquet:"band"`
	Stats `parquet:""`
}

// PracticeStats is one row of the by-practice table; Band is the band of the
// practice's mean list size.
type PracticeStats struct {
	PracticeID string `parquet:"practice_id"`
	Band       string `parquet:"band"`
	Stats      `parquet:""`
}

// YearStats is one row of the spend-per-head-over-time table: quantiles of
// practice spend per head in one year across practices of a band (or "all")
// and replications. The fan charts are drawn from it.
type YearStats struct {
	Band        string  `parquet:"band"`
	Year        int32   `parquet:"year"`
	PracticeYrs int     `parquet:"practice_years"`
	Mean        float64 `parquet:"spend_per_head_mean"`
	P05         float64 `parquet:"spend_per_head_p05"`
	P25         float64 `parquet:"spend_per_head_p25"`
	P50         float64 `parquet:"spend_per_head_p50"`
	P75         float64 `parquet:"spend_per_head_p75"`
	P95         float64 `parquet:"spend_per_head_p95"`
	RelError    float64 `parquet:"quantile_rel_error"`
}

// CommissionerStats is one row of the commissioner table: the area's totals
// in one year ("all": summed over the years) across replications.
//
// The area overspend is total spend minus total budget. The commissioner's
// excess is what it paid (care, stop-loss and retained savings) beyond the
// budgets it set. The reserve at 95% (99%) is the 95th (99th) percentile
// across replications of ReserveNeed: in a year's row, of that year's excess
// (zero if negative); in the "all" row, of the largest single-year excess of
// each replication, the reserve that covers every year of the run.
type CommissionerStats struct {
	Year              string  `parquet:"year"`
	Replications      int     `parquet:"replications"`
	BudgetMean        float64 `parquet:"budget_mean"`
	SpendMean         float64 `parquet:"spend_mean"`
	CommissionerPaid  float64 `parquet:"commissioner_paid_mean"`
	HolderPaid        float64 `parquet:"holder_paid_mean"`
	SavingsRetained   float64 `parquet:"savings_retained_mean"`
	DeficitCarried    float64 `parquet:"deficit_carried_mean"`
	StopLossPaid      float64 `parquet:"stop_loss_paid_mean"`
	OverspendMean     float64 `parquet:"area_overspend_mean"`
	OverspendSE       float64 `parquet:"area_overspend_se"`
	OverspendP95      float64 `parquet:"area_overspend_p95"`
	OverspendP99      float64 `parquet:"area_overspend_p99"`
	ProbAreaOverspend float64 `parquet:"prob_area_overspend"`
	ExcessMean        float64 `parquet:"commissioner_excess_mean"`
	Reserve95         float64 `parquet:"reserve_95"`
	Reserve99         float64 `parquet:"reserve_99"`
}

// Summary holds the tables of a run.
type Summary struct {
	Scenario     string
	Seed         uint64
	Replications int
	Years        int
	Rows         int64
	Bands        []BandStats
	Practices    []PracticeStats
	ByYear       []YearStats
	Commissioner []CommissionerStats
	// Ledger and Flows are the ledger's net positions and flows (see
	// ledger.go); LedgerRows is the number of ledger rows read.
	Ledger     []PositionStats
	Flows      []FlowStats
	LedgerRows int64
	// Contract is what contracts' settlement moved, by year (contract.go);
	// empty for a run with no contract or incentive.
	Contract []ContractStats
	// CommissionerLabel is what printed output calls the commissioner (the
	// scenario's commissioner_label: PCT, ICB); empty: "commissioner".
	CommissionerLabel string
	// Quantiles says how quantiles were computed; QuantileNote says why, in words.
	Quantiles    *Quantiles
	QuantileNote string
	// Decomposition and RiskAdjustment are the risk tables (risk.go).
	Decomposition  []DecompRow
	RiskAdjustment []RiskRow
}
