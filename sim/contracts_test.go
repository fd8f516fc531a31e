package sim

import (
	"context"
	"math"
	"testing"
)

// contractRows builds year-major rows of one practice a year with the
// given list, budget and spend, in the starting regime.
func contractRows(list int, b, s []float64) []PracticeYear {
	var rows []PracticeYear
	for y := range b {
		var sp [NStreams]float64
		sp[Emergency] = s[y]
		rows = append(rows, PracticeYear{Year: y + 1, ListSize: list, Budget: b[y], Spend: sp, SpendTotal: s[y], regime: regimeStart})
	}
	return rows
}

// TestSharedSavingsOneSided: benchmark 1,000, MSR 2%, half of savings
// shared from the first pound. Spend 970 saves 3% >= 2%: the holder is paid
// 15 (the commissioner pays providers 970 and the holder 15: 985). Spend
// 990 saves 1%, inside the corridor: nothing. Spend 1,050: one-sided, so
// the commissioner bears it all.
func TestSharedSavingsOneSided(t *testing.T) {
	c := &SharedSavings{Years: []Terms{{MSR: Rate{Fixed: 0.02}, SavingsShare: 0.5}}}
	rows := contractRows(1000, []float64{1000, 1000, 1000}, []float64{970, 990, 1050})
	led := settleRows(t, Everyone(c), []Practice{{ID: "A"}}, rows)
	want := []struct{ shared, comm, variance float64 }{{15, 985, 30}, {0, 990, 10}, {0, 1050, -50}}
	for y, w := range want {
		near(t, "shared savings", rows[y].SharedSavings, w.shared)
		near(t, "savings retained", rows[y].SavingsRetained, w.shared)
		near(t, "commissioner", rows[y].CommissionerPaid, w.comm)
		near(t, "variance", rows[y].Variance, w.variance)
		near(t, "holder's own money", rows[y].HolderPaid, 0)
	}
	near(t, "providers paid by the commissioner", sumOf(led, ReasonProviderPayment, Commissioner, Providers), 3010)
	near(t, "shared savings in the ledger", sumOf(led, ReasonSharedSavings, Commissioner, HolderParty(0)), 15)
	if rows[0].Regime != "shared_savings" {
		t.Errorf("regime %q", rows[0].Regime)
	}
}

// TestSharedSavingsTwoSided: MSR = MLR = 2%, savings shared at 50%, losses
// at 30%. Spend 1,050 loses 5% >= 2%: the holder pays 30% of 50 = 15 from
// its own money, so the commissioner's net outlay is 1,050 - 15 = 1,035.
// Spend 1,010 loses 1%, inside the corridor: nothing. Spend 960: 20 shared.
func TestSharedSavingsTwoSided(t *testing.T) {
	c := &SharedSavings{Years: []Terms{{MSR: Rate{Fixed: 0.02}, SavingsShare: 0.5, TwoSided: true, MLR: Rate{Fixed: 0.02}, LossShare: 0.3}}}
	rows := contractRows(1000, []float64{1000, 1000, 1000}, []float64{1050, 1010, 960})
	led := settleRows(t, Everyone(c), []Practice{{ID: "A"}}, rows)
	want := []struct{ shared, lost, comm float64 }{{0, 15, 1035}, {0, 0, 1010}, {20, 0, 980}}
	for y, w := range want {
		near(t, "shared savings", rows[y].SharedSavings, w.shared)
		near(t, "shared loss", rows[y].SharedLoss, w.lost)
		near(t, "holder paid", rows[y].HolderPaid, w.lost)
		near(t, "commissioner", rows[y].CommissionerPaid, w.comm)
	}
	near(t, "shared loss in the ledger", sumOf(led, ReasonSharedLoss, HolderParty(0), Commissioner), 15)
}

// TestSharedSavingsCaps: savings capped at 10% of the benchmark, losses at
// the lesser of 2% of the benchmark and 4% of revenue. Spend 700 saves 300;
// half is 150, capped at 100. Spend 1,300 loses 300; 30% is 90, capped at
// min(2% of 1,000 = 20, 4% of revenue 10 patients x 40 = 16) = 16. With a
// revenue of 100 a patient (4% of 1,000 = 40) the benchmark cap, 20, binds;
// with no revenue given (0) there is no revenue cap, so again 20.
func TestSharedSavingsCaps(t *testing.T) {
	terms := Terms{MSR: Rate{Fixed: 0.02}, SavingsShare: 0.5, SavingsCap: 0.1,
		TwoSided: true, MLR: Rate{Fixed: 0.02}, LossShare: 0.3, LossCapBenchmark: 0.02, LossCapRevenue: 0.04}
	for _, c := range []struct{ revenue, lost float64 }{{40, 16}, {100, 20}, {0, 20}} {
		rows := contractRows(10, []float64{1000, 1000}, []float64{700, 1300})
		settleRows(t, Everyone(&SharedSavings{Years: []Terms{terms}, RevenuePerPatient: c.revenue}), []Practice{{ID: "A"}}, rows)
		near(t, "capped savings", rows[0].SharedSavings, 100)
		near(t, "commissioner", rows[0].CommissionerPaid, 800)
		near(t, "capped loss", rows[1].SharedLoss, c.lost)
		near(t, "commissioner", rows[1].CommissionerPaid, 1300-c.lost)
	}
}

// TestSharedSavingsAboveCorridor: with a deductible, only savings beyond
// the corridor are shared: spend 970 against 1,000 with an MSR of 2% shares
// half of 30 - 20 = 10, so 5; spend 1,050 with an MLR of 2% shares 30% of
// 50 - 20 = 30, so 9.
func TestSharedSavingsAboveCorridor(t *testing.T) {
	c := &SharedSavings{Years: []Terms{{MSR: Rate{Fixed: 0.02}, SavingsShare: 0.5, TwoSided: true, MLR: Rate{Fixed: 0.02}, LossShare: 0.3, AboveCorridor: true}}}
	rows := contractRows(1000, []float64{1000, 1000}, []float64{970, 1050})
	settleRows(t, Everyone(c), []Practice{{ID: "A"}}, rows)
	near(t, "savings above the corridor", rows[0].SharedSavings, 5)
	near(t, "losses above the corridor", rows[1].SharedLoss, 9)
}

// TestMedicareMSR: the sliding MSR at band ends and between table points
// (42 CFR 425.604(b)): 3.9% at 5,000, 3.75% halfway through the first band,
// 3.6% at its top (5,999) and at 6,000, 3.0 - 0.3 x 2,500/4,999 at 12,500,
// 2.2% at 50,000, 2.0% from 60,000, and the first rate below the table.
func TestMedicareMSR(t *testing.T) {
	for _, c := range []struct{ pop, want float64 }{
		{4000, 0.039}, {5000, 0.039}, {5499.5, 0.0375}, {5999, 0.036}, {6000, 0.036},
		{12500, 0.030 - 0.003*2500.0/4999}, {49999, 0.022}, {50000, 0.022}, {55000, 0.022 - 0.002*5000.0/9999},
		{60000, 0.020}, {1e6, 0.020},
	} {
		near(t, "MSR", MedicareMSR.At(c.pop), c.want)
	}
}

// TestSlidingCorridor: a holder of 12,500 people has a Medicare MSR of
// 2.84997% (between the table points 10,000 at 3.0% and 14,999 at 2.7%):
// on a benchmark of 1,000,000 a saving of 28,490 (2.849%) is inside the
// corridor and one of 28,510 (2.851%) passes it, earning 40% = 11,404. The
// same saving by a holder of 60,000 (MSR 2%) passes.
func TestSlidingCorridor(t *testing.T) {
	c := &SharedSavings{Years: []Terms{{MSR: Rate{Table: MedicareMSR}, SavingsShare: 0.4}}}
	rows := contractRows(12500, []float64{1e6, 1e6}, []float64{1e6 - 28490, 1e6 - 28510})
	settleRows(t, Everyone(c), []Practice{{ID: "A"}}, rows)
	near(t, "inside the sliding corridor", rows[0].SharedSavings, 0)
	near(t, "beyond it", rows[1].SharedSavings, 0.4*28510)
	rows = contractRows(60000, []float64{1e6}, []float64{1e6 - 28490})
	settleRows(t, Everyone(c), []Practice{{ID: "A"}}, rows)
	near(t, "a larger holder", rows[0].SharedSavings, 0.4*28490)
}

// TestGlidePath: one-sided at 40% in year 1, two-sided at 50%/30% from
// year 2 (the last terms hold on). Year 1: a 5% overspend costs the holder
// nothing; years 2 and 3: it pays 30% of 50 = 15.
func TestGlidePath(t *testing.T) {
	c := &SharedSavings{Years: []Terms{
		{MSR: Rate{Fixed: 0.02}, SavingsShare: 0.4},
		{MSR: Rate{Fixed: 0.02}, SavingsShare: 0.5, TwoSided: true, MLR: Rate{Fixed: 0.02}, LossShare: 0.3},
	}}
	rows := contractRows(1000, []float64{1000, 1000, 1000, 1000}, []float64{1050, 1050, 1050, 950})
	settleRows(t, Everyone(c), []Practice{{ID: "A"}}, rows)
	for y, w := range []float64{0, 15, 15, 0} {
		near(t, "shared loss", rows[y].SharedLoss, w)
	}
	near(t, "year 4 savings at 50%", rows[3].SharedSavings, 25)
}

// TestTruncation: spend of 1,000 of which 50 lies above the per-patient
// truncation point is measured as 950 against a benchmark of 1,000: 5%
// saved, half shared (25). The commissioner still pays providers the
// 1,000, so its outlay is 1,025.
func TestTruncation(t *testing.T) {
	c := &SharedSavings{Years: []Terms{{MSR: Rate{Fixed: 0.02}, SavingsShare: 0.5}}}
	rows := contractRows(1000, []float64{1000}, []float64{1000})
	rows[0].StopLossExcess = 50
	settleRows(t, Everyone(c), []Practice{{ID: "A"}}, rows)
	near(t, "truncated", rows[0].Truncated, 50)
	near(t, "variance on measured spend", rows[0].Variance, 50)
	near(t, "shared savings", rows[0].SharedSavings, 25)
	near(t, "commissioner", rows[0].CommissionerPaid, 1025)
	near(t, "no stop-loss payment", rows[0].StopLossPaid, 0)
}

// TestTruncationInRun: in a run at patient level, a contract's truncation
// point (the model's per-patient threshold) takes cost above it out of the
// measured spend, and a historic benchmark is set on last year's measured
// spend: every year-2 benchmark is year 1's spend less what was truncated.
func TestTruncationInRun(t *testing.T) {
	m := cohortTestModel()
	m.Budget.Setter = HistoricBudget{Years: 1}
	m.StopLoss = &StopLoss{Threshold: 3000, Streams: [NStreams]bool{true, true, true, true, true}}
	m.Policy = Everyone(&SharedSavings{Years: []Terms{{MSR: Rate{Fixed: 0.02}, SavingsShare: 0.5}}})
	var c collect
	if err := Run(context.Background(), m, Options{Seed: 5, FirstRep: 0, LastRep: 3, Years: 2, Workers: 2}, &c); err != nil {
		t.Fatal(err)
	}
	np := len(m.Practices)
	truncated := 0.0
	for r := 0; r < 3; r++ {
		rows := c.rows[r*2*np : (r+1)*2*np]
		for i := range np {
			y1, y2 := rows[i], rows[np+i]
			truncated += y1.Truncated
			if math.Abs(y2.Budget-(y1.SpendTotal-y1.Truncated)) > 1e-6 {
				t.Errorf("replication %d practice %d: year-2 benchmark %v, year-1 measured spend %v", r, i, y2.Budget, y1.SpendTotal-y1.Truncated)
			}
			if math.Abs(y1.Variance-(y1.Budget-y1.SpendTotal+y1.Truncated)) > 1e-6 {
				t.Errorf("variance %v is not benchmark less measured spend", y1.Variance)
			}
		}
	}
	if truncated <= 0 {
		t.Error("nothing was truncated at a threshold of 3,000")
	}
	if err := Run(context.Background(), m, Options{Seed: 5, FirstRep: 0, LastRep: 1, Years: 1, Cohort: true}, &c); err == nil {
		t.Error("cohort mode ran a contract with per-patient truncation")
	}
}

// TestContractConsortium: a neighbourhood of two practices (A: list 600,
// budget 600, spend 560; B: list 400, budget 400, spend 410) holds one
// contract and saves 30 of 1,000 (3%). Under the Medicare table a holder of
// 1,000 people, below the table, has the first rate, 3.9%: nothing is
// shared. With a fixed MSR of 2% it earns half of 30 = 15, shared by
// benchmark: A 9, B 6.
func TestContractConsortium(t *testing.T) {
	ps := []Practice{{ID: "A", Group: "N1"}, {ID: "B", Group: "N1"}}
	rows := []PracticeYear{
		{Year: 1, Practice: 0, ListSize: 600, Budget: 600, SpendTotal: 560, regime: regimeStart},
		{Year: 1, Practice: 1, ListSize: 400, Budget: 400, SpendTotal: 410, regime: regimeStart},
	}
	settleRows(t, Everyone(&SharedSavings{Years: []Terms{{MSR: Rate{Table: MedicareMSR}, SavingsShare: 0.5}}}), ps, rows)
	near(t, "sliding MSR below the table", rows[0].SharedSavings+rows[1].SharedSavings, 0)
	settleRows(t, Everyone(&SharedSavings{Years: []Terms{{MSR: Rate{Fixed: 0.02}, SavingsShare: 0.5}}}), ps, rows)
	near(t, "A's share", rows[0].SharedSavings, 9)
	near(t, "B's share", rows[1].SharedSavings, 6)
	if rows[0].Holder != "N1" {
		t.Errorf("holder %q", rows[0].Holder)
	}
}

// TestIncentive95p is PBC 2006/07's incentive (the TPBC DES, component 2):
// 95p a patient for meeting the local plan's targets, topped up to that
// minimum where freed-up resources fall short, nothing extra where they
// exceed it. A practice of 10,000 patients (minimum 9,500) under indicative
// budgets of 1,000,000 keeping 70% of savings: year 1 saves 1,000 and keeps
// 700, topped up by 8,800; year 2 saves 20,000 and keeps 14,000, so no
// incentive; year 3 overspends and keeps nothing: 9,500.
func TestIncentive95p(t *testing.T) {
	pol := Everyone(&Indicative{RetentionShare: 0.7})
	pol.Incentive = &Incentive{PerPatient: 0.95, Against: AsFloor, TargetProb: 1}
	rows := contractRows(10000, []float64{1e6, 1e6, 1e6}, []float64{999000, 980000, 1010000})
	led := settleRows(t, pol, []Practice{{ID: "A"}}, rows)
	want := []struct{ kept, incentive float64 }{{700, 8800}, {14000, 0}, {0, 9500}}
	for y, w := range want {
		near(t, "incentive", rows[y].IncentivePaid, w.incentive)
		near(t, "retained (savings and incentive)", rows[y].SavingsRetained, w.kept+w.incentive)
		near(t, "commissioner", rows[y].CommissionerPaid, rows[y].SpendTotal+w.kept+w.incentive)
	}
	near(t, "incentive in the ledger", sumOf(led, ReasonIncentive, Commissioner, HolderParty(0)), 18300)
	// Targets never met: nothing.
	pol.Incentive.TargetProb = 0
	settleRows(t, pol, []Practice{{ID: "A"}}, rows)
	near(t, "targets missed", rows[0].IncentivePaid+rows[2].IncentivePaid, 0)
}

// TestIncentiveForms: a local scheme of £1 a patient (10,000 patients)
// against savings kept of 700 and 14,000: in addition, 10,000 each year;
// under a ceiling of £2 a patient, min(10,000, 20,000 - kept) = 10,000 and
// 6,000. Under a shared-savings contract the shared savings count as kept.
func TestIncentiveForms(t *testing.T) {
	for _, c := range []struct {
		inc  Incentive
		want [2]float64
	}{
		{Incentive{PerPatient: 1, Against: InAddition, TargetProb: 1}, [2]float64{10000, 10000}},
		{Incentive{PerPatient: 1, Against: UnderCeiling, Ceiling: 2, TargetProb: 1}, [2]float64{10000, 6000}},
	} {
		pol := Everyone(&Indicative{RetentionShare: 0.7})
		pol.Incentive = &c.inc
		rows := contractRows(10000, []float64{1e6, 1e6}, []float64{999000, 980000})
		settleRows(t, pol, []Practice{{ID: "A"}}, rows)
		near(t, "year 1", rows[0].IncentivePaid, c.want[0])
		near(t, "year 2", rows[1].IncentivePaid, c.want[1])
	}
	pol := Everyone(&SharedSavings{Years: []Terms{{SavingsShare: 0.5}}})
	pol.Incentive = &Incentive{PerPatient: 0.95, Against: AsFloor, TargetProb: 1}
	rows := contractRows(10000, []float64{1e6}, []float64{990000})
	settleRows(t, pol, []Practice{{ID: "A"}}, rows)
	near(t, "shared savings of 5,000 topped up to 9,500", rows[0].IncentivePaid, 4500)
}

// TestIncentiveTargets: with a 30% chance of meeting targets, the share of
// holder-years paid is 30% within 4 binomial standard errors.
func TestIncentiveTargets(t *testing.T) {
	const np, years = 200, 10
	ps := make([]Practice, np)
	var b, s [][]float64
	for i := range ps {
		ps[i] = Practice{ID: "P" + string(rune('A'+i%26)) + string(rune('a'+i/26))}
	}
	for range years {
		b = append(b, make([]float64, np))
		s = append(s, make([]float64, np))
		for i := range np {
			b[len(b)-1][i], s[len(s)-1][i] = 100, 100
		}
	}
	rows := yearRows(regimeStart, b, s)
	for j := range rows {
		rows[j].ListSize = 100
	}
	pol := Everyone(&Indicative{})
	pol.Incentive = &Incentive{PerPatient: 1, TargetProb: 0.3}
	settleRows(t, pol, ps, rows)
	paid := 0
	for _, r := range rows {
		if r.IncentivePaid > 0 {
			paid++
		}
	}
	got, n := float64(paid)/float64(len(rows)), float64(len(rows))
	if se := math.Sqrt(0.3 * 0.7 / n); math.Abs(got-0.3) > 4*se {
		t.Errorf("targets met in %v of holder-years, want 0.3 ± %v", got, 4*se)
	}
}
