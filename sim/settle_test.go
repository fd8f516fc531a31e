package sim

import (
	"context"
	"errors"
	"math"
	"testing"
)

// settleRows settles rows (year-major, one per practice a year) under pol
// for practices ps, audits the ledger against the rows (Audit recomputes
// every money column from the entries and checks conservation on every
// row) and returns the ledger.
func settleRows(t *testing.T, pol *Policy, ps []Practice, rows []PracticeYear) []Entry {
	t.Helper()
	m := &Model{Practices: ps, Policy: pol}
	p := &prepared{m: m, names: m.PartyNames(), holder: holders(m)}
	s := settlement{p: p}
	led, err := s.settle(rows, Key{Seed: 1, Rep: 0, Practice: -1, Year: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := Audit(m, &Replication{Rows: rows, Ledger: led}); err != nil {
		t.Errorf("audit: %v", err)
	}
	return led
}

// yearRows builds year-major rows for practices with budgets b[year][i] and
// spends s[year][i] (all in one stream), all in the given regime.
func yearRows(regime uint8, b, s [][]float64) []PracticeYear {
	var rows []PracticeYear
	for y := range b {
		for i := range b[y] {
			var sp [NStreams]float64
			sp[Outpatient] = s[y][i]
			rows = append(rows, PracticeYear{Year: y + 1, Practice: i, Budget: b[y][i], Spend: sp, SpendTotal: s[y][i], regime: regime})
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

// sumOf totals the ledger's entries of a reason from one party to another
// (any party where -1).
func sumOf(led []Entry, why Reason, from, to Party) float64 {
	t := 0.0
	for _, e := range led {
		if e.Reason == why && (from < 0 || e.From == from) && (to < 0 || e.To == to) {
			t += e.Amount
		}
	}
	return t
}

// TestIndicativeMakeUp: budgets 100, spends 120, 90, 80, retention 50%,
// earlier overspends made up first. Year 1: 20 owed, nothing kept, the
// commissioner pays 120. Year 2: the 10 saved makes up 10 of the 20. Year 3:
// of the 20 saved, 10 makes up the rest and half the other 10 (5) is kept.
// The make-up moves no money: the practice never owes the commissioner.
func TestIndicativeMakeUp(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(regimeStart, [][]float64{{100}, {100}, {100}}, [][]float64{{120}, {90}, {80}})
	led := settleRows(t, Everyone(&Indicative{RetentionShare: 0.5, MakeUpOverspends: true}), ps, rows)
	want := []struct{ kept, owed, comm float64 }{{0, 20, 120}, {0, 10, 90}, {5, 0, 85}}
	for y, w := range want {
		near(t, "retained", rows[y].SavingsRetained, w.kept)
		near(t, "still to make up", rows[y].DeficitCarried, w.owed)
		near(t, "commissioner paid", rows[y].CommissionerPaid, w.comm)
		near(t, "holder paid", rows[y].HolderPaid, 0) // PBC practices are never liable
		near(t, "repaid", rows[y].DeficitRepaid, 0)
	}
	near(t, "providers paid by the commissioner", sumOf(led, ReasonProviderPayment, Commissioner, Providers), 290)
	near(t, "kept", sumOf(led, ReasonSavingsKept, Commissioner, HolderParty(0)), 5)
	if rows[0].Regime != "indicative" || rows[0].Holder != "A" {
		t.Errorf("regime %q, holder %q", rows[0].Regime, rows[0].Holder)
	}
}

// TestIndicativeRefuseInDeficit: in year 1 the area overspends its budgets
// plus top-slice (230 > 200 + 20), so the practice that saved 10 keeps
// nothing; in year 2 the area is within its funds and it keeps 70% of 10.
func TestIndicativeRefuseInDeficit(t *testing.T) {
	ps := []Practice{{ID: "A"}, {ID: "B"}}
	rows := yearRows(regimeStart, [][]float64{{100, 100}, {100, 100}}, [][]float64{{90, 140}, {90, 100}})
	rows[0].TopSlice, rows[1].TopSlice, rows[2].TopSlice, rows[3].TopSlice = 10, 10, 10, 10
	settleRows(t, Everyone(&Indicative{RetentionShare: 0.7, RefuseInDeficit: true}), ps, rows)
	near(t, "year 1 retained", rows[0].SavingsRetained, 0)
	near(t, "year 2 retained", rows[2].SavingsRetained, 7)
	near(t, "year 2 commissioner", rows[2].CommissionerPaid, 97)
}

// TestBusinessCase: with approval certain and no time limit the practice
// keeps its share; with approval impossible it keeps nothing; and the
// approval rate over many practice-years matches
// ApprovalProb·(1-exp(-Lapse/Turnaround)) within 4 binomial standard errors.
func TestBusinessCase(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	for _, c := range []struct {
		p    float64
		kept float64
	}{{1, 7}, {0, 0}} {
		rows := yearRows(regimeStart, [][]float64{{100}}, [][]float64{{90}})
		settleRows(t, Everyone(&Indicative{RetentionShare: 0.7, BusinessCase: &BusinessCase{ApprovalProb: c.p}}), ps, rows)
		near(t, "retained", rows[0].SavingsRetained, c.kept)
	}
	var d Draws
	d.Reseed(Key{Seed: 1, Rep: 0, Practice: -1, Year: -1}, PurposeRules)
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
// deficits repaid over 3 years. Year 1: the commissioner finances the
// deficit of 30 (it pays 130), due back at 10 a year. Years 2-4: 10 is
// repaid out of the budget; of the 10 left, the holder returns it and is
// paid half (5) to keep, so the commissioner pays 100 - 10 - 10 + 5 = 85,
// and the deficit falls 20, 10, 0. In all 385 = spend 370 + kept 15: the
// holder, 30 under budget over four years, pays nothing from its own money.
func TestHardRepayYears(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(regimeStart, [][]float64{{100}, {100}, {100}, {100}}, [][]float64{{130}, {80}, {80}, {80}})
	led := settleRows(t, Everyone(&Hard{RetentionShare: 0.5, Deficits: RepayOverYears{Years: 3}}), ps, rows)
	want := []struct{ debt, repaid, kept, comm float64 }{{30, 0, 0, 130}, {20, 10, 5, 85}, {10, 10, 5, 85}, {0, 10, 5, 85}}
	total := 0.0
	for y, w := range want {
		near(t, "deficit", rows[y].DeficitCarried, w.debt)
		near(t, "repaid", rows[y].DeficitRepaid, w.repaid)
		near(t, "holder's own money", rows[y].HolderPaid, 0)
		near(t, "retained", rows[y].SavingsRetained, w.kept)
		near(t, "commissioner", rows[y].CommissionerPaid, w.comm)
		total += rows[y].CommissionerPaid
	}
	near(t, "commissioner over four years", total, 385)
	near(t, "financed", sumOf(led, ReasonDeficitFinanced, Commissioner, HolderParty(0)), 30)
	near(t, "budgets allocated", sumOf(led, ReasonBudgetAllocation, Commissioner, HolderParty(0)), 400)
	near(t, "providers paid by the holder", sumOf(led, ReasonProviderPayment, HolderParty(0), Providers), 370)
}

// TestHardRepayFromUnderspends: as TestHardRepayYears, but the deficit is
// repaid from later underspends before anything is kept. Year 2 repays 20
// (commissioner 80), year 3 repays 10 and keeps 5 of 10 (85), year 4 keeps
// 10 of 20 (90): 385 again.
func TestHardRepayFromUnderspends(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(regimeStart, [][]float64{{100}, {100}, {100}, {100}}, [][]float64{{130}, {80}, {80}, {80}})
	settleRows(t, Everyone(&Hard{RetentionShare: 0.5, Deficits: RepayFromUnderspends{}}), ps, rows)
	want := []struct{ debt, repaid, kept, comm float64 }{{30, 0, 0, 130}, {10, 20, 0, 80}, {0, 10, 5, 85}, {0, 0, 10, 90}}
	for y, w := range want {
		near(t, "deficit", rows[y].DeficitCarried, w.debt)
		near(t, "repaid", rows[y].DeficitRepaid, w.repaid)
		near(t, "retained", rows[y].SavingsRetained, w.kept)
		near(t, "commissioner", rows[y].CommissionerPaid, w.comm)
	}
}

// TestHardDeficitCap: an overspend of 50 on a budget of 100 with a 10% cap:
// the commissioner lends 10 (the deficit carried) and writes off 40 from
// its reserve. Year 2: the 5 saved repays 5 of the 10 (commissioner 95).
func TestHardDeficitCap(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(regimeStart, [][]float64{{100}, {100}}, [][]float64{{150}, {95}})
	led := settleRows(t, Everyone(&Hard{RetentionShare: 1, Deficits: WriteOffAbove{Cap: 0.1, Then: RepayFromUnderspends{}}}), ps, rows)
	near(t, "deficit", rows[0].DeficitCarried, 10)
	near(t, "commissioner", rows[0].CommissionerPaid, 150)
	near(t, "written off", sumOf(led, ReasonWriteOff, Commissioner, HolderParty(0)), 40)
	near(t, "financed", sumOf(led, ReasonDeficitFinanced, Commissioner, HolderParty(0)), 10)
	near(t, "deficit year 2", rows[1].DeficitCarried, 5)
	near(t, "repaid year 2", rows[1].DeficitRepaid, 5)
	near(t, "commissioner year 2", rows[1].CommissionerPaid, 95)
	near(t, "holder's own money", rows[1].HolderPaid, 0)
}

// TestHardDeficitCapOverYears: a 20% cap with repayment over 2 years.
// Year 1: overspend 50, 20 lent (10 due in each of years 2 and 3), 30
// written off. Year 2: spend 90, so after the 10 due the holder saves 0;
// debt 10. Year 3: spend 100: the 10 due leaves it 10 short, lent again
// (room 20 - 0 = 20), due 5 in years 4 and 5.
func TestHardDeficitCapOverYears(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(regimeStart, [][]float64{{100}, {100}, {100}}, [][]float64{{150}, {90}, {100}})
	led := settleRows(t, Everyone(&Hard{RetentionShare: 1, Deficits: WriteOffAbove{Cap: 0.2, Then: RepayOverYears{Years: 2}}}), ps, rows)
	near(t, "written off", sumOf(led, ReasonWriteOff, -1, -1), 30)
	want := []struct{ debt, repaid, comm float64 }{{20, 0, 150}, {10, 10, 90}, {10, 10, 100}}
	for y, w := range want {
		near(t, "deficit", rows[y].DeficitCarried, w.debt)
		near(t, "repaid", rows[y].DeficitRepaid, w.repaid)
		near(t, "commissioner", rows[y].CommissionerPaid, w.comm)
	}
}

// TestConsortiumPool: A and B hold one budget (group G); C holds its own.
// A overspends 20 and B underspends 30, so G saves 10 and keeps half (5),
// shared by budget (2.5 each); A's overspend is covered by B within the
// consortium: A's own result moved -20 in and its share (+5) back, so its
// pool transfer is -25, B's +25, and they sum to zero. C alone carries its
// deficit of 10.
func TestConsortiumPool(t *testing.T) {
	ps := []Practice{{ID: "A", Group: "G"}, {ID: "B", Group: "G"}, {ID: "C"}}
	rows := yearRows(regimeStart, [][]float64{{100, 100, 100}}, [][]float64{{120, 70, 110}})
	led := settleRows(t, Everyone(&Hard{RetentionShare: 0.5, Deficits: RepayFromUnderspends{}}), ps, rows)
	a, b, c := rows[0], rows[1], rows[2]
	if a.Holder != "G" || b.Holder != "G" || c.Holder != "C" {
		t.Errorf("holders %q %q %q", a.Holder, b.Holder, c.Holder)
	}
	g := HolderParty(3) // after the three practices
	near(t, "G returned", sumOf(led, ReasonUnderspendReturned, g, Commissioner), 10)
	near(t, "G kept", sumOf(led, ReasonSavingsKept, Commissioner, g), 5)
	near(t, "A retained", a.SavingsRetained, 2.5)
	near(t, "B retained", b.SavingsRetained, 2.5)
	near(t, "A pool", a.PoolTransfer, -25)
	near(t, "B pool", b.PoolTransfer, 25)
	near(t, "C pool", c.PoolTransfer, 0)
	near(t, "C deficit", c.DeficitCarried, 10)
	near(t, "A commissioner", a.CommissionerPaid, 97.5)
	// Without groups each practice stands alone.
	for i := range ps {
		ps[i].Group = ""
	}
	rows = yearRows(regimeStart, [][]float64{{100, 100, 100}}, [][]float64{{120, 70, 110}})
	settleRows(t, Everyone(&Hard{RetentionShare: 0.5, Deficits: RepayFromUnderspends{}}), ps, rows)
	near(t, "A alone deficit", rows[0].DeficitCarried, 20)
	near(t, "B alone retained", rows[1].SavingsRetained, 15)
}

// TestFundholdingCoverAndStopLoss: the fund covers outpatients, prescribing
// and electives (30+20+50 = 100 of 150 spent) on a budget of 90; cost of 15
// above the per-patient stop-loss is the commissioner's, so the fund pays
// providers 85 and saves 5, which it returns and is paid back to keep. The
// commissioner pays the budget 90, the stop-loss 15 and the uncovered 50,
// and keeps nothing of the 5 returned: 155 = spend 150 + kept 5.
func TestFundholdingCoverAndStopLoss(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := []PracticeYear{{Year: 1, Budget: 90, Spend: [NStreams]float64{30, 20, 10, 40, 50}, SpendTotal: 150, StopLossExcess: 15, regime: regimeStart}}
	f := &Fundholding{Hard: Hard{RetentionShare: 1, Deficits: RepayFromUnderspends{}}, Cover: [NStreams]bool{Outpatient: true, Prescribing: true, Elective: true}}
	led := settleRows(t, Everyone(f), ps, rows)
	r := rows[0]
	if r.Regime != "fundholding" {
		t.Errorf("regime %q", r.Regime)
	}
	near(t, "variance", r.Variance, -10)
	near(t, "stop-loss paid", r.StopLossPaid, 15)
	near(t, "retained", r.SavingsRetained, 5)
	near(t, "commissioner", r.CommissionerPaid, 155)
	near(t, "fund pays providers", sumOf(led, ReasonProviderPayment, HolderParty(0), Providers), 85)
	near(t, "commissioner pays uncovered care", sumOf(led, ReasonProviderPayment, Commissioner, Providers), 50)
}

// TestNotEngaged: a practice outside the scheme is the commissioner's.
func TestNotEngaged(t *testing.T) {
	ps := []Practice{{ID: "A"}}
	rows := yearRows(regimeNone, [][]float64{{100}}, [][]float64{{80}})
	settleRows(t, Everyone(&Indicative{RetentionShare: 1}), ps, rows)
	near(t, "retained", rows[0].SavingsRetained, 0)
	near(t, "commissioner", rows[0].CommissionerPaid, 80)
	if rows[0].Regime != RegimeNone || rows[0].Holder != "commissioner" {
		t.Errorf("regime %q, holder %q", rows[0].Regime, rows[0].Holder)
	}
}

// TestSetBudget checks each method by hand: history 90, 110 (oldest first),
// target 120, previous budget 100, uplift 10%, pace 25%.
func TestSetBudget(t *testing.T) {
	hist := []float64{90, 110}
	near(t, "historic last year", HistoricBudget{Uplift: 0.1}.Set(120, hist, 100, 2), 121)
	near(t, "historic 2-year mean", HistoricBudget{Years: 2}.Set(120, hist, 100, 2), 100)
	near(t, "historic short history", HistoricBudget{Years: 5}.Set(120, hist, 100, 2), 100)
	near(t, "capitation", CapitationBudget{}.Set(120, hist, 100, 2), 120)
	b := BlendBudget{HistoricBudget: HistoricBudget{Uplift: 0.1}, Pace: 0.25}
	near(t, "blend", b.Set(120, hist, 100, 2), 110+0.25*10)
	near(t, "blend year 1 from history", b.Set(120, hist[:1], 0, 1), 99+0.25*21)
}

// TestRiskPool: an area pool funded by 5% of budgets. Year 1: A (budget
// 100, spend 120) and B (100, 80) pay 5 each in; A's overspend after its
// contribution is 25 but the pool holds only 10, so it pays 10 and the
// commissioner's reserve 15; B keeps its 15. Year 2: both spend 90; each
// pays 5 in and keeps 5; the pool's balance is 10. No deficit is carried.
func TestRiskPool(t *testing.T) {
	ps := []Practice{{ID: "A"}, {ID: "B"}}
	rows := yearRows(regimeStart, [][]float64{{100, 100}, {100, 100}}, [][]float64{{120, 80}, {90, 90}})
	led := settleRows(t, Everyone(&Hard{RetentionShare: 1, Deficits: RiskPool{Share: 0.05}}), ps, rows)
	a, b := rows[0], rows[1]
	near(t, "A pool", a.PoolTransfer, 5-10)
	near(t, "B pool", b.PoolTransfer, 5)
	near(t, "A commissioner", a.CommissionerPaid, 115)
	near(t, "pool shortfall", sumOf(led, ReasonPoolShortfall, Commissioner, HolderParty(0)), 15)
	near(t, "B retained", b.SavingsRetained, 15)
	near(t, "B commissioner", b.CommissionerPaid, 100)
	near(t, "A deficit", a.DeficitCarried, 0)
	for _, r := range rows[2:] {
		near(t, "year 2 pool", r.PoolTransfer, 5)
		near(t, "year 2 retained", r.SavingsRetained, 5)
	}
	in := sumOf(led, ReasonPoolContribution, -1, Pool)
	out := sumOf(led, ReasonPoolPayout, Pool, -1)
	near(t, "pool balance", in-out, 10)
}

// TestRiskPoolRunsDry: a 10% pool. Year 1: A spends 80 and B 130 on budgets
// of 100: each pays 10 in (balance 20); B is 40 short after its
// contribution and the pool pays 20, the commissioner's reserve 20. Year 2:
// both spend 150: the pool again holds 20 of the 120 needed, so it pays 10
// to each and the reserve 50 to each. The commissioner's outlay each year
// is spend + kept + the change in the pool's balance: 210 + 10 + 0 in year
// 1, 300 + 0 + 0 in year 2.
func TestRiskPoolRunsDry(t *testing.T) {
	ps := []Practice{{ID: "A"}, {ID: "B"}}
	rows := yearRows(regimeStart, [][]float64{{100, 100}, {100, 100}}, [][]float64{{80, 130}, {150, 150}})
	led := settleRows(t, Everyone(&Hard{RetentionShare: 1, Deficits: RiskPool{Share: 0.1}}), ps, rows)
	near(t, "year 1 outlay", rows[0].CommissionerPaid+rows[1].CommissionerPaid, 220)
	near(t, "year 2 outlay", rows[2].CommissionerPaid+rows[3].CommissionerPaid, 300)
	near(t, "payouts", sumOf(led, ReasonPoolPayout, Pool, -1), 40)
	near(t, "reserve", sumOf(led, ReasonPoolShortfall, Commissioner, -1), 120)
	near(t, "B year 2 pool", rows[3].PoolTransfer, 10-10)
	near(t, "B year 1 pool", rows[1].PoolTransfer, 10-20)
}

// TestEarnedAutonomyRows: rows in the earned regime settle under it, in
// the same year as others still in the starting one.
func TestEarnedAutonomyRows(t *testing.T) {
	ps := []Practice{{ID: "A"}, {ID: "B"}}
	rows := yearRows(regimeStart, [][]float64{{100, 100}}, [][]float64{{90, 120}})
	rows[1].regime = regimeEarned
	pol := Everyone(&Indicative{RetentionShare: 0.5})
	pol.Autonomy = &EarnedAutonomy{Years: 1, Band: 0.05, Then: &Hard{RetentionShare: 0.5, Deficits: RepayFromUnderspends{}}}
	settleRows(t, pol, ps, rows)
	if rows[0].Regime != "indicative" || rows[1].Regime != "hard" {
		t.Errorf("regimes %q %q", rows[0].Regime, rows[1].Regime)
	}
	near(t, "A kept", rows[0].SavingsRetained, 5)
	near(t, "B deficit", rows[1].DeficitCarried, 20)
	near(t, "B commissioner", rows[1].CommissionerPaid, 120)
}

// panicky is a regime whose settlement panics, standing in for a bug.
type panicky struct{ Indicative }

func (*panicky) settler(int) settler { return panicSettler{} }

type panicSettler struct{}

func (panicSettler) settleYear(*book, []holderYear) { panic("a bug") }

// TestWorkerPanicIsAnError: a panic in a worker goroutine ends the run with
// a PanicError (which the command line reports as a bug), not a crash.
func TestWorkerPanicIsAnError(t *testing.T) {
	m := cohortTestModel()
	m.Policy = Everyone(&panicky{})
	err := Run(context.Background(), m, Options{Seed: 1, FirstRep: 0, LastRep: 3, Years: 1, Workers: 2}, discardSink{})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "a bug" || len(pe.Stack) == 0 {
		t.Fatalf("got %v, want a PanicError", err)
	}
}

type discardSink struct{}

func (discardSink) Write(*Replication) error { return nil }
