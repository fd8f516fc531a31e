package sim

import (
	"context"
	"fmt"
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
// 2.2% at 50,000, 2.0% from 60,000, and below the table 3.9% x sqrt(5,000/n).
func TestMedicareMSR(t *testing.T) {
	for _, c := range []struct{ pop, want float64 }{
		{4000, 0.039 * math.Sqrt(5000.0/4000)}, {5000, 0.039}, {5499.5, 0.0375}, {5999, 0.036}, {6000, 0.036},
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
// 1,000 people, below the table, has 3.9% x sqrt(5) = 8.7%: nothing is
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

// BASIC track terms (42 CFR 425.605 [ref §8]): levels A/B one-sided at 40%,
// levels C, D and E two-sided at 50%/30% with the size-based symmetric
// MSR/MLR and loss caps of 1%/2%, 2%/4% and 4%/8% of benchmark/revenue;
// savings capped at 10% of the benchmark (the performance payment limit).
var (
	levelA = Terms{MSR: Rate{Table: MedicareMSR}, SavingsShare: 0.4, SavingsCap: 0.1}
	levelC = Terms{MSR: Rate{Table: MedicareMSR}, SavingsShare: 0.5, SavingsCap: 0.1, TwoSided: true,
		MLR: Rate{Table: MedicareMSR}, LossShare: 0.3, LossCapBenchmark: 0.01, LossCapRevenue: 0.02}
	levelD = withCaps(levelC, 0.02, 0.04)
	levelE = withCaps(levelC, 0.04, 0.08)
)

func withCaps(t Terms, bench, rev float64) Terms {
	t.LossCapBenchmark, t.LossCapRevenue = bench, rev
	return t
}

// TestSixteenCases are sixteen ACO-years worked by hand under 42 CFR
// 425.604-605, each with its sums. b is the benchmark, s measured spend,
// n the population (MSR 3.0% at 10,000, 3.3% at 7,500, 2.0% at 60,000),
// rev the revenue (0: not given, no revenue cap).
func TestSixteenCases(t *testing.T) {
	for k, c := range []struct {
		terms                      Terms
		b, s, n, rev               float64
		savings, losses, truncated float64
	}{
		// 1. A: 10m - 9.65m = 350,000 = 3.5% >= 3.0%; 40% from the first pound = 140,000.
		{levelA, 10e6, 9.65e6, 10000, 0, 140000, 0, 0},
		// 2. A: 250,000 = 2.5% < 3.0%: inside the corridor, 0.
		{levelA, 10e6, 9.75e6, 10000, 0, 0, 0, 0},
		// 3. A, exactly the MSR: 3% of 12,345,678 = 370,370.34 saved (spend
		// 11,975,307.66) meets it; 40% = 148,148.136.
		{levelA, 12345678, 11975307.66, 10000, 0, 148148.136, 0, 0},
		// 4. A, payment limit: 3m saved (30%); 40% = 1.2m > 10% of 10m = 1m.
		{levelA, 10e6, 7e6, 10000, 0, 1e6, 0, 0},
		// 5. A, one-sided: 800,000 overspent, nothing paid by the ACO.
		{levelA, 10e6, 10.8e6, 10000, 4e6, 0, 0, 0},
		// 6. C: 400,000 saved = 4% >= 3%; 50% = 200,000.
		{levelC, 10e6, 9.6e6, 10000, 0, 200000, 0, 0},
		// 7. C: 250,000 lost = 2.5% < MLR 3%: 0.
		{levelC, 10e6, 10.25e6, 10000, 4e6, 0, 0, 0},
		// 8. C: 400,000 lost (4%); 30% = 120,000; caps 1% x 10m = 100,000 and
		// 2% x revenue 4m = 80,000: the lesser, 80,000.
		{levelC, 10e6, 10.4e6, 10000, 4e6, 0, 80000, 0},
		// 9. C: the same loss with revenue 10m (cap 200,000): the benchmark
		// cap, 100,000.
		{levelC, 10e6, 10.4e6, 10000, 10e6, 0, 100000, 0},
		// 10. C: 320,000 lost (3.2%); 30% = 96,000, under both caps.
		{levelC, 10e6, 10.32e6, 10000, 10e6, 0, 96000, 0},
		// 11. C, revenue not given: min(120,000, 100,000) = 100,000.
		{levelC, 10e6, 10.4e6, 10000, 0, 0, 100000, 0},
		// 12. D: 600,000 lost; 30% = 180,000; caps 2% x 10m = 200,000 and 4% x
		// 4m = 160,000: 160,000.
		{levelD, 10e6, 10.6e6, 10000, 4e6, 0, 160000, 0},
		// 13. E: 1m lost; 30% = 300,000; caps 4% x 10m = 400,000, 8% x 10m =
		// 800,000: 300,000.
		{levelE, 10e6, 11e6, 10000, 10e6, 0, 300000, 0},
		// 14. A at 7,500 people: MSR 3.4 - 0.2 x 500/999 = 3.2999%; 335,000
		// saved (3.35%) passes; 40% = 134,000.
		{levelA, 10e6, 9.665e6, 7500, 0, 134000, 0, 0},
		// 15. C at 60,000 people: MLR 2.0%; a loss of exactly 2% of 100m =
		// 2m meets it; 30% = 600,000 < cap 1m.
		{levelC, 100e6, 102e6, 60000, 0, 0, 600000, 0},
		// 16. A with truncation: spend 10m of which 400,000 lies above
		// patients' truncation points; measured 9.6m, 4% saved; 40% = 160,000.
		{levelA, 10e6, 10e6, 10000, 0, 160000, 0, 400000},
	} {
		rows := contractRows(int(c.n), []float64{c.b}, []float64{c.s})
		rows[0].StopLossExcess = c.truncated
		led := settleRows(t, Everyone(&SharedSavings{Years: []Terms{c.terms}, RevenuePerPatient: c.rev / c.n}), []Practice{{ID: "A"}}, rows)
		if math.Abs(rows[0].SharedSavings-c.savings) > 1e-6 || math.Abs(rows[0].SharedLoss-c.losses) > 1e-6 {
			t.Errorf("case %d: shared savings %v, losses %v; want %v, %v", k+1, rows[0].SharedSavings, rows[0].SharedLoss, c.savings, c.losses)
		}
		near(t, "providers paid in full", sumOf(led, ReasonProviderPayment, Commissioner, Providers), c.s)
	}
}

// TestMeetsOrExceedsInPence: savings of exactly the MSR meet it (42 CFR
// 425.604(c): "meets or exceeds"). In floating point 12,345,678 -
// 11,975,307.66 falls short of 0.03 x 12,345,678, so it paid nothing; in
// pence they are equal. A penny less is short.
func TestMeetsOrExceedsInPence(t *testing.T) {
	b, s := 12345678.0, 11975307.66
	if x := b - s; x >= 0.03*b {
		t.Logf("floating point no longer falls short here (%v against %v)", x, 0.03*b)
	}
	sv, _ := levelA.Share(b, s, 10000, 0)
	near(t, "exactly the MSR", sv, 0.4*370370.34)
	sv, _ = levelA.Share(b, s+0.01, 10000, 0)
	near(t, "a penny short", sv, 0)
	_, ls := levelC.Share(b, b+370370.34, 10000, 0)
	near(t, "a loss of exactly the MLR", ls, math.Min(0.3*370370.34, 0.01*b))
}

// TestMedicareMSRBelow5000: an ACO below 5,000 people has a higher MSR, as
// the table's confidence interval widens: 3.9% x sqrt(5,000/n), so 3.9% x
// sqrt(2) = 5.515% at 2,500 and 7.8% at 1,250. A 5% saving at 2,500,
// enough under the old flat 3.9%, is now inside the corridor.
func TestMedicareMSRBelow5000(t *testing.T) {
	near(t, "MSR at 2,500", MedicareMSR.At(2500), 0.039*math.Sqrt2)
	near(t, "MSR at 1,250", MedicareMSR.At(1250), 0.078)
	near(t, "MSR at 5,000", MedicareMSR.At(5000), 0.039)
	near(t, "MSR at no one", MedicareMSR.At(0), 1)
	sv, _ := levelA.Share(1e6, 0.95e6, 2500, 0)
	near(t, "5% saved at 2,500", sv, 0)
	sv, _ = levelA.Share(1e6, 0.94e6, 2500, 0)
	near(t, "6% saved at 2,500", sv, 0.4*60000)
	// A table of one's own keeps its first rate below its first band.
	near(t, "own table", RateTable{{Min: 5000, Max: 6000, AtMin: 0.05, AtMax: 0.04}}.At(100), 0.05)
}

// TestQualityGate: a holder meeting the quality standard is paid the full
// share; one missing it the share times Otherwise, capped as before;
// losses are not gated. With Meets 0 every holder-year misses: 350,000
// saved at 40% x 0.5 = 70,000; 3m saved: 20% x 3m = 600,000 under the
// 1m cap. With Meets 1 the full 140,000. Over 400 holders with Meets 0.7,
// the share paid in full is 0.7 within 4 binomial SE.
func TestQualityGate(t *testing.T) {
	for _, c := range []struct{ meets, want1, want2 float64 }{{0, 70000, 600000}, {1, 140000, 1e6}} {
		ss := &SharedSavings{Years: []Terms{levelA}, Quality: &Quality{Meets: c.meets, Otherwise: 0.5}}
		rows := contractRows(10000, []float64{10e6, 10e6}, []float64{9.65e6, 7e6})
		settleRows(t, Everyone(ss), []Practice{{ID: "A"}}, rows)
		near(t, "year 1", rows[0].SharedSavings, c.want1)
		near(t, "year 2", rows[1].SharedSavings, c.want2)
	}
	const np = 400
	ps := make([]Practice, np)
	b, s := make([]float64, np), make([]float64, np)
	for i := range ps {
		ps[i] = Practice{ID: fmt.Sprintf("P%d", i)}
		b[i], s[i] = 10e6, 9.65e6
	}
	rows := yearRows(regimeStart, [][]float64{b}, [][]float64{s})
	for j := range rows {
		rows[j].ListSize = 10000
	}
	settleRows(t, Everyone(&SharedSavings{Years: []Terms{levelA}, Quality: &Quality{Meets: 0.7, Otherwise: 0}}), ps, rows)
	full := 0
	for _, r := range rows {
		if r.SharedSavings == 140000 {
			full++
		} else if r.SharedSavings != 0 {
			t.Fatalf("shared savings %v, want 140,000 or 0", r.SharedSavings)
		}
	}
	if got, se := float64(full)/np, math.Sqrt(0.7*0.3/np); math.Abs(got-0.7) > 4*se {
		t.Errorf("quality met in %v of holder-years, want 0.7 ± %v", got, 4*se)
	}
}

// TestAgreementBenchmarkSet: base years weighted 10/30/60 for a five-year
// agreement. hist (already in the year's terms) runs from year -2 to the
// year before. Year 1: 0.1 x 100 + 0.3 x 110 + 0.6 x 120 = 115. Year 3
// (hist -2..2): the same base years -2, -1, 0, whatever years 1 and 2
// spent: 115. Year 6 rebases on years 3, 4, 5: 0.1 x 200 + 0.3 x 210 + 0.6
// x 220 = 215.
func TestAgreementBenchmarkSet(t *testing.T) {
	a := AgreementBenchmark{Weights: []float64{0.1, 0.3, 0.6}, AgreementYears: 5}
	if a.HistoryLag() != 3 {
		t.Errorf("base years %d, want 3", a.HistoryLag())
	}
	near(t, "year 1", a.Set(0, []float64{100, 110, 120}, 0, 1), 115)
	near(t, "year 3", a.Set(0, []float64{100, 110, 120, 999, 999}, 0, 3), 115)
	near(t, "year 6", a.Set(0, []float64{100, 110, 120, 999, 999, 200, 210, 220}, 0, 6), 215)
	// Growth: a base year at index 100 brought to the last base year at
	// 110 (x1.1), then to a year at 121 realised (x1.1) and 115.5
	// prospective against 110 (x1.05): x1.1 x (2/3 x 1.1 + 1/3 x 1.05).
	a.Prospective = 1.0 / 3
	near(t, "growth", a.agreementGrowth([3]float64{100, 110, 121}, [3]float64{0, 110, 115.5}), 1.1*(2.0/3*1.1+1.0/3*1.05))
}

// TestAgreementBenchmarkInRun: one base year, agreements of five years, no
// trends or shocks, so the reference grows only with the list (its age, sex
// and size). Each practice's benchmark in years 1-5 is base-year spend
// times E_t/E_0, where E_t is its expected spend on year t's list (the
// rows' ExpectedSpend): B_t/E_t is the same in every year of the
// agreement. Year 6 rebases on year 5: B_6 = spend_5 × E_6/E_5.
func TestAgreementBenchmarkInRun(t *testing.T) {
	m := cohortTestModel()
	m.Budget.Setter = AgreementBenchmark{Weights: []float64{1}, AgreementYears: 5, Reference: ReferenceNational, Prospective: 0.5}
	m.Policy = Everyone(&SharedSavings{Years: []Terms{levelA}})
	var c collect
	const years = 6
	if err := Run(context.Background(), m, Options{Seed: 9, LastRep: 2, Years: years, Workers: 2, Cohort: true}, &c); err != nil {
		t.Fatal(err)
	}
	np := len(m.Practices)
	for r := 0; r < 2; r++ {
		rows := c.rows[r*years*np : (r+1)*years*np]
		for i := range np {
			at := func(y int) *PracticeYear { return &rows[(y-1)*np+i] }
			k := at(1).Budget / at(1).ExpectedSpend
			for y := 2; y <= 5; y++ {
				if got := at(y).Budget / at(y).ExpectedSpend; math.Abs(got/k-1) > 1e-12 {
					t.Errorf("replication %d practice %d year %d: benchmark per expected pound %v, year 1's %v", r, i, y, got, k)
				}
			}
			if want := at(5).SpendTotal * at(6).ExpectedSpend / at(5).ExpectedSpend; math.Abs(at(6).Budget/want-1) > 1e-12 {
				t.Errorf("replication %d practice %d: year-6 benchmark %v, want year 5's spend brought forward %v", r, i, at(6).Budget, want)
			}
			if at(2).ExpectedSpend == at(1).ExpectedSpend {
				t.Errorf("the list did not move (expected spend %v both years): the test shows nothing", at(1).ExpectedSpend)
			}
		}
	}
}
