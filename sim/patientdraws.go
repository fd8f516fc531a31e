package sim

// The draws of one patient-year (since 0.5.0): three words from the year's
// counts stream (PurposeCounts), patient after patient in list order, split
// into six uniforms:
//
//	word a: outpatient in bits 32-62, A&E in bits 0-30
//	word b: emergency in bits 32-62, elective in bits 0-30
//	word c: prescribing in bits 32-63, demography in bits 0-31
//
// Each stream's count is drawn by inversion of its count table (tables.go)
// with its uniform as a 64-bit word whose low bits are zero (laneU, and the
// halves of word c), so a table's 64-bit threshold acts as if rounded up to
// the next multiple of 2^-31 (2^-32 for prescribing and demography): every
// probability the model draws with moves by less than 4.7e-10, far below
// the precision of any rate or share behind it (two or three significant
// figures). Bits 31 and 63 of words a and b are unused: they are guards, so
// that one subtraction compares both of a word's uniforms with their
// thresholds (laneTh), and the fused year loop counts two streams' events
// with a handful of instructions.
//
// Why: each patient-year drew six full words before (one per stream and one
// from a separate demography stream), and drawing was half the kernel's
// time; three words carry the same model. Every path that simulates a
// patient-year (the fused loop, the stop-loss path, calibration) splits the
// words the same way, so a scenario with a stop-loss and one without still
// give the same patients the same counts and the same demography (common
// random numbers).

// WordsPerPatientYear is the number of 64-bit words a patient-year draws
// for its counts and demography.
const WordsPerPatientYear = 3

const (
	laneGuard uint64 = 1<<63 | 1<<31 // the guard bits of words a and b
	laneMask  uint64 = 1<<31 - 1     // a 31-bit lane
	lowHalf   uint64 = 1<<32 - 1     // word c's demography half
)

// laneWord and laneShift place each stream but prescribing in words a (0)
// and b (1): its lane is bits laneShift to laneShift+30.
var (
	laneWord  = [NStreams]uint8{Outpatient: 0, AE: 0, Emergency: 1, Elective: 1}
	laneShift = [NStreams]uint8{Outpatient: 32, AE: 0, Emergency: 32, Elective: 0}
)

// laneTh returns 64-bit threshold th on a 31-bit lane: for a lane x,
// laneU's x<<33 >= th iff x >= laneTh(th) = ceil(th / 2^33), at most 2^31
// (which no lane reaches: the count is then 0 for every draw, as for th =
// 2^64-1).
func laneTh(th uint64) uint64 {
	c := th >> 33
	if th&(1<<33-1) != 0 {
		c++
	}
	return c
}

// laneU returns the lane of word x at bit shift as a 64-bit uniform word.
func laneU(x uint64, shift uint8) uint64 { return (x >> (shift & 63) & laneMask) << 33 }

// patientUniforms splits a patient-year's three words a, b, c into each
// stream's uniform (u, indexed by Stream) and demography's (dem).
func patientUniforms(a, b, c uint64) (u [NStreams]uint64, dem uint64) {
	words := [2]uint64{a, b}
	for s := range NStreams {
		if Stream(s) != Prescribing {
			u[s] = laneU(words[laneWord[s]], laneShift[s])
		}
	}
	u[Prescribing] = c &^ lowHalf
	return u, c << 32
}

// setLane sets stream s's lane of the packed thresholds p (words a and b)
// to laneTh(th), 32 bits wide with its guard bit: laneTh's 2^31 sets only
// the guard, which (x | laneGuard) - p then leaves clear.
func setLane(p *[2]uint64, s int, th uint64) {
	w, sh := laneWord[s], laneShift[s]&63
	p[w] = p[w]&^(lowHalf<<sh) | laneTh(th)<<sh
}
