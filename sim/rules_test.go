package sim

import (
	"math"
	"testing"
)

// conserved checks the documented identity on every row:
// spend = commissioner paid + holder paid - pool transfer - savings retained.
func conserved(t *testing.T, rows []PracticeYear) {
	t.Helper()
	for _, r := range rows {
		got := r.CommissionerPaid + r.HolderPaid - r.PoolTransfer - r.SavingsRetained
		if math.Abs(got-r.SpendTotal) > 1e-9*math.Max(1, r.SpendTotal) {
			t.Errorf("year %d practice %d: money not conserved: paid %v, spent %v (%+v)", r.Year, r.Practice, got, r.SpendTotal, r)
		}
	}
}

// yearRows builds year-major rows for practices with budgets b[year][i] and
// spends s[year][i], all in the given regime.
func yearRows(regime string, b, s [][]float64) []PracticeYear {
	var rows []PracticeYear
	for y := range b {
		for i := range b[y] {
			rows = append(rows, PracticeYear{Year: y + 1, Practice: i, Budget: b[y][i], SpendTotal: s[y][i], Variance: b[y][i] - s[y][i], Regime: regime})
		}
	}
	return rows
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestIndicativeMakeUp: budgets 100, spends 120, 90, 80, retention 50%,
// earlier overspends made up first. Year 1: 20 owed, nothing kept, the
// commissioner pays 120. Year 2: the 10 saved makes up 10 of the 20. Year 3:
// of the 20 saved, 10 makes up the rest and half the other 10 (5) is kept.
func TestIndicativeMakeUp(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(RegimeIndicative, [][]float64{{100}, {100}, {100}}, [][]float64{{120}, {90}, {80}})
	r := Indicative{RetentionShare: 0.5, MakeUpOverspends: true}
	if err := r.Settle(rows, ps, nil); err != nil {
		t.Fatal(err)
	}
	want := []struct{ kept, owed, comm float64 }{{0, 20, 120}, {0, 10, 90}, {5, 0, 85}}
	for y, w := range want {
		near(t, "retained", rows[y].SavingsRetained, w.kept)
		near(t, "still to make up", rows[y].DeficitCarried, w.owed)
		near(t, "commissioner paid", rows[y].CommissionerPaid, w.comm)
		near(t, "holder paid", rows[y].HolderPaid, 0) // PBC practices are never liable
	}
	conserved(t, rows)
}

// TestIndicativeRefuseInDeficit: in year 1 the area overspends its budgets
// plus top-slice (230 > 200 + 20), so the practice that saved 10 keeps
// nothing; in year 2 the area is within its funds and it keeps 70% of 10.
func TestIndicativeRefuseInDeficit(t *testing.T) {
	ps := []Practice{{ID: "A"}, {ID: "B"}}
	rows := yearRows(RegimeIndicative, [][]float64{{100, 100}, {100, 100}}, [][]float64{{90, 140}, {90, 100}})
	rows[0].TopSlice, rows[1].TopSlice, rows[2].TopSlice, rows[3].TopSlice = 10, 10, 10, 10
	if err := (Indicative{RetentionShare: 0.7, RefuseInDeficit: true}).Settle(rows, ps, nil); err != nil {
		t.Fatal(err)
	}
	near(t, "year 1 retained", rows[0].SavingsRetained, 0)
	near(t, "year 2 retained", rows[2].SavingsRetained, 7)
	near(t, "year 2 commissioner", rows[2].CommissionerPaid, 97)
	conserved(t, rows)
}

// TestBusinessCase: with approval certain and no time limit the practice
// keeps its share; with approval impossible it keeps nothing; and the
// approval rate over many practice-years matches
// ApprovalProb·(1-exp(-Lapse/Turnaround)) within 4 binomial standard errors.
func TestBusinessCase(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	var d Draws
	d.Reseed(1, PurposeRules, 0, -1, -1)
	for _, c := range []struct {
		p    float64
		kept float64
	}{{1, 7}, {0, 0}} {
		rows := yearRows(RegimeIndicative, [][]float64{{100}}, [][]float64{{90}})
		r := Indicative{RetentionShare: 0.7, BusinessCase: &BusinessCase{ApprovalProb: c.p}}
		if err := r.Settle(rows, ps, &d); err != nil {
			t.Fatal(err)
		}
		near(t, "retained", rows[0].SavingsRetained, c.kept)
		conserved(t, rows)
	}
	if err := (Indicative{BusinessCase: &BusinessCase{ApprovalProb: 1}}).Settle(yearRows(RegimeIndicative, [][]float64{{1}}, [][]float64{{0}}), ps, nil); err == nil {
		t.Error("a business case without random draws was accepted")
	}
	bc := BusinessCase{ApprovalProb: 0.75, TurnaroundWeeks: 8, LapseWeeks: 13}
	want := 0.75 * (1 - math.Exp(-13.0/8))
	const n = 200000
	ok := 0
	for range n {
		if bc.approved(d.Float64(), d.Float64()) {
			ok++
		}
	}
	got := float64(ok) / n
	se := math.Sqrt(want * (1 - want) / n)
	if math.Abs(got-want) > 4*se {
		t.Errorf("approval rate %v, want %v ± %v", got, want, 4*se)
	}
}

// TestHardRepayYears: budget 100, spends 130 then 80 a year, retention 50%,
// deficits repaid over 3 years. Year 1: deficit 30, due 10 a year. Years
// 2-4: 10 is deducted (holder paid), of the 10 left half is kept, and the
// deficit falls 20, 10, 0.
func TestHardRepayYears(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(RegimeHard, [][]float64{{100}, {100}, {100}, {100}}, [][]float64{{130}, {80}, {80}, {80}})
	if err := (Hard{RetentionShare: 0.5, RepayYears: 3}).Settle(rows, ps, nil); err != nil {
		t.Fatal(err)
	}
	want := []struct{ debt, holder, kept, comm float64 }{{30, 0, 0, 130}, {20, 10, 5, 75}, {10, 10, 5, 75}, {0, 10, 5, 75}}
	for y, w := range want {
		near(t, "deficit", rows[y].DeficitCarried, w.debt)
		near(t, "holder paid", rows[y].HolderPaid, w.holder)
		near(t, "retained", rows[y].SavingsRetained, w.kept)
		near(t, "commissioner", rows[y].CommissionerPaid, w.comm)
	}
	conserved(t, rows)
}

// TestHardDeficitCap: an overspend of 50 on a budget of 100 with a 10% cap
// leaves a deficit of 10; the commissioner's reserve pays the other 40.
func TestHardDeficitCap(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(RegimeHard, [][]float64{{100}, {100}}, [][]float64{{150}, {95}})
	if err := (Hard{RetentionShare: 1, DeficitCap: 0.1}).Settle(rows, ps, nil); err != nil {
		t.Fatal(err)
	}
	near(t, "deficit", rows[0].DeficitCarried, 10)
	near(t, "commissioner", rows[0].CommissionerPaid, 150)
	// Year 2: the 5 saved repays 5 of the 10.
	near(t, "deficit year 2", rows[1].DeficitCarried, 5)
	near(t, "holder paid year 2", rows[1].HolderPaid, 5)
	conserved(t, rows)
}

// TestConsortiumPool: A and B hold one budget (group G); C holds its own.
// A overspends 20 and B underspends 30, so G saves 10 and keeps half (5),
// shared by budget (2.5 each); A's overspend is paid from the pool (-25),
// B pays in 25, and transfers sum to zero. C alone carries its deficit.
func TestConsortiumPool(t *testing.T) {
	ps := []Practice{{ID: "A", Group: "G"}, {ID: "B", Group: "G"}, {ID: "C"}}
	rows := yearRows(RegimeHard, [][]float64{{100, 100, 100}}, [][]float64{{120, 70, 110}})
	if err := (Hard{RetentionShare: 0.5, Pooled: true}).Settle(rows, ps, nil); err != nil {
		t.Fatal(err)
	}
	a, b, c := rows[0], rows[1], rows[2]
	if a.Holder != "G" || b.Holder != "G" || c.Holder != "C" {
		t.Errorf("holders %q %q %q", a.Holder, b.Holder, c.Holder)
	}
	near(t, "A retained", a.SavingsRetained, 2.5)
	near(t, "B retained", b.SavingsRetained, 2.5)
	near(t, "A pool", a.PoolTransfer, -25)
	near(t, "B pool", b.PoolTransfer, 25)
	near(t, "C pool", c.PoolTransfer, 0)
	near(t, "C deficit", c.DeficitCarried, 10)
	near(t, "A commissioner", a.CommissionerPaid, 97.5)
	conserved(t, rows)
	// Without pooling each practice stands alone.
	rows = yearRows(RegimeHard, [][]float64{{100, 100, 100}}, [][]float64{{120, 70, 110}})
	if err := (Hard{RetentionShare: 0.5}).Settle(rows, ps, nil); err != nil {
		t.Fatal(err)
	}
	near(t, "A alone deficit", rows[0].DeficitCarried, 20)
	near(t, "B alone retained", rows[1].SavingsRetained, 15)
	conserved(t, rows)
}

// TestFundholdingCoverAndStopLoss: the fund covers outpatients, prescribing
// and electives (30+20+50 = 100 of 150 spent) on a budget of 90; cost of 15
// above the per-patient stop-loss is the commissioner's, so the fund answers
// for 85 and keeps the 5 saved; the commissioner pays 150 + 5.
func TestFundholdingCoverAndStopLoss(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	cover := [NStreams]bool{Outpatient: true, Prescribing: true, Elective: true}
	rows := []PracticeYear{{Year: 1, Budget: 90, Spend: [NStreams]float64{30, 20, 10, 40, 50}, SpendTotal: 150, StopLossExcess: 15, Regime: RegimeHard}}
	p := &Policy{Start: RegimeHard, Participation: 1, Hard: Hard{RetentionShare: 1, Cover: &cover, Label: "fundholding"}}
	if err := p.Settle(rows, ps, nil); err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if r.Regime != "fundholding" {
		t.Errorf("regime %q", r.Regime)
	}
	near(t, "variance", r.Variance, -10)
	near(t, "stop-loss paid", r.StopLossPaid, 15)
	near(t, "retained", r.SavingsRetained, 5)
	near(t, "commissioner", r.CommissionerPaid, 155)
	conserved(t, rows)
}

// TestNotEngaged: a practice outside the scheme is the commissioner's.
func TestNotEngaged(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(RegimeNone, [][]float64{{100}}, [][]float64{{80}})
	p := &Policy{Start: RegimeIndicative, Indicative: Indicative{RetentionShare: 1}}
	if err := p.Settle(rows, ps, nil); err != nil {
		t.Fatal(err)
	}
	near(t, "retained", rows[0].SavingsRetained, 0)
	near(t, "commissioner", rows[0].CommissionerPaid, 80)
	conserved(t, rows)
}

// TestSetBudget checks each method by hand: history 90, 110 (oldest first),
// target 120, previous budget 100, uplift 10%, pace 25%.
func TestSetBudget(t *testing.T) {
	hist := []float64{90, 110}
	b := Budget{Method: Historic, Uplift: 0.1}
	near(t, "historic last year", setBudget(&b, 120, hist, 100, 2), 121)
	b.HistoricYears = 2
	near(t, "historic 2-year mean", setBudget(&b, 120, hist, 100, 2), 110)
	b.HistoricYears = 5 // more than exist: all there are
	near(t, "historic short history", setBudget(&b, 120, hist, 100, 2), 110)
	b = Budget{Method: Capitation}
	near(t, "capitation", setBudget(&b, 120, hist, 100, 2), 120)
	b = Budget{Method: Blend, Uplift: 0.1, Pace: 0.25}
	near(t, "blend", setBudget(&b, 120, hist, 100, 2), 110+0.25*10)
	near(t, "blend year 1 from history", setBudget(&b, 120, hist[:1], 0, 1), 99+0.25*21)
}
