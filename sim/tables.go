package sim

import (
	"math"
	"math/bits"
)

// countTables holds, for one practice and replication, the distribution of a
// year's event count for every (age-sex cell, frailty state, stream) as
// cumulative thresholds on 64-bit uniforms, so drawing a count costs one
// random word and, usually, one comparison. Inversion with one word per
// patient-stream also keeps scenarios that share patients on the same random
// numbers (common random numbers) whatever their rates.
//
// Row r = (cell*K + state)*NStreams + stream. For count k the threshold
// cdf[off[r]+k] is floor(P(N <= k)·2^64); N = min{k : u < cdf[k]}. A guide
// table (Chen & Asau, 1974) of 2^gbits entries per row gives the first k to
// try, so long rows (prescribing) cost O(1) comparisons on average.
// The tail beyond P = 1-1e-13 is folded into the last entry.
type countTables struct {
	zero  []uint64 // per row: threshold for N = 0 (fast path)
	off   []int32  // per row: offset into cdf
	goff  []int32  // per row: offset into guide
	shift []uint8  // per row: 64 - guide bits
	cdf   []uint64
	guide []int32
}

const tailMass = 1e-13

// build fills the tables for rates mu[r] (means) with dispersion r per stream.
func (t *countTables) build(mu []float64, disp *[NStreams]float64) {
	n := len(mu)
	t.zero = grow(t.zero, n)
	t.off = grow(t.off, n)
	t.goff = grow(t.goff, n)
	t.shift = grow(t.shift, n)
	t.cdf = t.cdf[:0]
	t.guide = t.guide[:0]
	for r := range n {
		start := len(t.cdf)
		t.off[r] = int32(start)
		m := mu[r]
		rr := disp[r%NStreams]
		poisson := rr == 0 || math.IsInf(rr, 1)
		var p, q float64
		if m <= 0 {
			t.cdf = append(t.cdf, math.MaxUint64)
		} else {
			if poisson {
				p = math.Exp(-m)
			} else {
				q = m / (rr + m)
				p = math.Exp(rr * math.Log(rr/(rr+m)))
			}
			cum := 0.0
			for k := 0; ; k++ {
				cum += p
				if cum >= 1-tailMass || (k > 20 && p < 1e-300) {
					t.cdf = append(t.cdf, math.MaxUint64)
					break
				}
				t.cdf = append(t.cdf, toThreshold(cum))
				if poisson {
					p *= m / float64(k+1)
				} else {
					p *= (float64(k) + rr) / float64(k+1) * q
				}
			}
		}
		row := t.cdf[start:]
		t.zero[r] = row[0]
		// Guide table: 2^b entries, 2^b >= len(row).
		b := bits.Len(uint(len(row) - 1))
		t.shift[r] = uint8(64 - b)
		t.goff[r] = int32(len(t.guide))
		g := 1 << b
		k := int32(0)
		for j := range g {
			lo := uint64(j) << (64 - b)
			if b == 0 {
				lo = 0
			}
			for row[k] <= lo && int(k) < len(row)-1 {
				k++
			}
			t.guide = append(t.guide, k)
		}
	}
}

// sample returns the count for row r and a uniform word u with u >= zero[r].
func (t *countTables) sample(r int, u uint64) int {
	off := t.off[r]
	s := t.shift[r]
	var j uint64
	if s < 64 {
		j = u >> s
	}
	k := t.guide[t.goff[r]+int32(j)]
	cdf := t.cdf[off:]
	for u >= cdf[k] && cdf[k] != math.MaxUint64 {
		k++
	}
	return int(k)
}

func toThreshold(p float64) uint64 {
	if p >= 1 {
		return math.MaxUint64
	}
	return uint64(p * 0x1p64)
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
