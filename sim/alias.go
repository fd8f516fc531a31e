package sim

import (
	"math"
	"math/bits"
)

// alias draws from a distribution on at most 256 outcomes with one 64-bit
// word, by Walker's alias method (built by Vose's method, IEEE TSE 17(9),
// 1991): the word's high part times the number of outcomes picks a column,
// its low part (uniform given the column) keeps the column if below the
// column's threshold, else takes the column's alias. An entry packs the
// threshold (top 56 bits; resolution 2^-56) and the alias (low 8 bits).
type alias struct{ e []uint64 }

type aliasScratch struct {
	w            []float64
	small, large []int
}

// build makes a from weights w (non-negative, not all zero, at most 256),
// reusing a's storage.
func (a *alias) build(w []float64, sc *aliasScratch) {
	n := len(w)
	if n > 256 {
		panic("sim: alias table over more than 256 outcomes")
	}
	a.e = appendAlias(a.e[:0], w, sc)
}

// draw returns an outcome.
func (a *alias) draw(u uint64) int {
	hi, lo := bits.Mul64(u, uint64(len(a.e)))
	e := a.e[hi]
	k := e & 0xff
	if lo < e&^0xff {
		k = hi
	}
	return int(k)
}

// appendAlias appends the alias entries of weights w to dst.
func appendAlias(dst []uint64, w []float64, sc *aliasScratch) []uint64 {
	n := len(w)
	total := 0.0
	for _, x := range w {
		total += x
	}
	sc.w = grow(sc.w, n)[:n]
	sc.small, sc.large = sc.small[:0], sc.large[:0]
	for k, x := range w {
		sc.w[k] = x / total * float64(n) // mean 1 per column
		if sc.w[k] < 1 {
			sc.small = append(sc.small, k)
		} else {
			sc.large = append(sc.large, k)
		}
	}
	start := len(dst)
	for k := range n {
		dst = append(dst, math.MaxUint64&^0xff|uint64(k))
	}
	e := dst[start:]
	for len(sc.small) > 0 && len(sc.large) > 0 {
		s, l := sc.small[len(sc.small)-1], sc.large[len(sc.large)-1]
		sc.small = sc.small[:len(sc.small)-1]
		e[s] = toThreshold(sc.w[s])&^0xff | uint64(l)
		sc.w[l] -= 1 - sc.w[s]
		if sc.w[l] < 1 {
			sc.large = sc.large[:len(sc.large)-1]
			sc.small = append(sc.small, l)
		}
	}
	// Columns left in either list hold weight 1 up to rounding: kept always.
	return dst
}
