package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLaneThreshold: hand-computed cases of laneTh, whose defining property
// is that a lane x drawn as the word x<<33 reaches a 64-bit threshold th
// exactly when x >= laneTh(th).
func TestLaneThreshold(t *testing.T) {
	for _, c := range []struct{ th, want uint64 }{
		{0, 0},
		{1, 1},
		{1 << 33, 1},
		{1<<33 + 1, 2},
		{3 << 33, 3},
		{1 << 63, 1 << 30},                  // P = 1/2: half of the 2^31 lanes
		{math.MaxUint64, 1 << 31},           // P(N <= k) = 1 (the table's sentinel): no lane reaches it
		{math.MaxUint64 - 1<<33, 1<<31 - 1}, // a lane below: the top lane reaches it
	} {
		if got := laneTh(c.th); got != c.want {
			t.Errorf("laneTh(%#x) = %#x, want %#x", c.th, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		th := r.Uint64()
		if r.IntN(4) == 0 {
			th &^= 1<<33 - 1 // thresholds on a lane boundary
		}
		x := r.Uint64() & laneMask
		if r.IntN(4) == 0 {
			x = th >> 33 // the lane beside the threshold
		}
		if (x<<33 >= th) != (x >= laneTh(th)) {
			t.Fatalf("lane %#x, threshold %#x: word %v, lane %v", x, th, x<<33 >= th, x >= laneTh(th))
		}
	}
}

// TestPatientUniforms: the layout of a patient-year's three words, by hand.
func TestPatientUniforms(t *testing.T) {
	a := uint64(0x80000003_80000005) // guard bits set: they must not show
	b := uint64(0x00000007_7fffffff)
	c := uint64(0x12345678_9abcdef0)
	u, dem := patientUniforms(a, b, c)
	want := [NStreams]uint64{
		Outpatient:  3 << 33,
		AE:          5 << 33,
		Emergency:   7 << 33,
		Elective:    0x7fffffff << 33,
		Prescribing: 0x12345678 << 32,
	}
	if u != want || dem != 0x9abcdef0<<32 {
		t.Errorf("patientUniforms = %x, %x; want %x, %x", u, dem, want, uint64(0x9abcdef0<<32))
	}
}

// TestPackedLanesCount: the fused loop's count of events from packed
// thresholds, two lanes at once (the guard bits of (word | laneGuard) -
// thresholds), agrees with comparing each stream's uniform with its 64-bit
// threshold one by one, for random words and thresholds, the tables'
// extremes (0 and the sentinel) included, in records set over again.
func TestPackedLanesCount(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	th := func() uint64 {
		switch r.IntN(6) {
		case 0:
			return 0
		case 1:
			return math.MaxUint64
		}
		return r.Uint64()
	}
	for range 100000 {
		var zero, one [NStreams]uint64
		var f rowFast
		for s := range NStreams {
			if Stream(s) == Prescribing {
				continue
			}
			// Set twice, as tables reused across practices are.
			setLane(&f.zero, s, th())
			setLane(&f.one, s, th())
			zero[s], one[s] = th(), th()
			setLane(&f.zero, s, zero[s])
			setLane(&f.one, s, one[s])
		}
		a, b := r.Uint64(), r.Uint64()
		u, _ := patientUniforms(a, b, 0)
		xs := [2]uint64{a | laneGuard, b | laneGuard}
		for s := range NStreams {
			if Stream(s) == Prescribing {
				continue
			}
			bit := uint64(1) << (laneShift[s] + 31)
			w := laneWord[s]
			if got, want := (xs[w]-f.zero[w])&bit != 0, u[s] >= zero[s]; got != want {
				t.Fatalf("stream %d, word %#x, zero threshold %#x: packed %v, one by one %v", s, xs[w], zero[s], got, want)
			}
			if got, want := (xs[w]-f.one[w])&bit != 0, u[s] >= one[s]; got != want {
				t.Fatalf("stream %d, word %#x, one threshold %#x: packed %v, one by one %v", s, xs[w], one[s], got, want)
			}
		}
	}
}
