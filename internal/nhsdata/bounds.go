package nhsdata

import "math"

// Plausibility bounds on what the files hold (docs/parameters.md, "Bounds
// on real files"). A value beyond a hard bound is refused at its file, line
// and column; one beyond a reporting bound is real in the published files
// (tiny lists of closing practices) and is counted in the reader's report.
const (
	// MaxList bounds a practice's registered list or population. The
	// largest list in NHS Payments to General Practice 2014/15-2018/19 is
	// 72,740 and the weighted-population files' largest 109,676; England
	// registers about 60 m patients in about 7,300 practices. A million
	// (about 14 times the largest) can only be a damaged cell. Assumption.
	MaxList = 1_000_000
	// SmallList: lists under 100 are counted (the payments files hold
	// about ten a year, practices in their last or first quarter).
	SmallList = 100
	// MaxPracticeMoney bounds one payment line of one practice-year: the
	// largest total payments in the files are £17.6 m (2018/19); £1 bn is
	// over 50 times that. Assumption.
	MaxPracticeMoney = 1e9
	// MaxDrugsPerHead: dispensing practices' drug reimbursement per
	// registered patient above £1,000 is counted. The files' largest is
	// £677 (a list of 156); England's prescribing cost is about £170 a head
	// (17.8 items at £9.53, 2010 [ref §2, §3], derived). Assumption.
	MaxDrugsPerHead = 1000
)

// checkList refuses a list or population that is negative or above MaxList;
// a payments list (quarterly) must also be a whole number of twelfths: the
// files give a count, or the mean of two, three or four quarterly counts.
func checkList(rd *Reader, i int, v float64, quarterly bool) error {
	if v < 0 {
		return FieldErrorf(rd.File, rd.Line(), rd.Header.Label(i), "%v patients: accepted 0 or more", v)
	}
	if v > MaxList {
		return FieldErrorf(rd.File, rd.Line(), rd.Header.Label(i), "%v patients is implausible: accepted up to %d in one practice (Bounds, docs/parameters.md)", v, MaxList)
	}
	if t := v * 12; quarterly && math.Abs(t-math.Round(t)) > 1e-3 {
		return FieldErrorf(rd.File, rd.Line(), rd.Header.Label(i), "%v patients is not a count nor a mean of quarterly counts: accepted whole numbers and means such as 4095.25 or 2583.33", v)
	}
	return nil
}
