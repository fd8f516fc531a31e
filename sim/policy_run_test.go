package sim_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

type policyRows struct {
	rows []sim.PracticeYear
	reps []sim.Replication // each replication's rows and ledger
}

func (c *policyRows) Write(rep *sim.Replication) error {
	c.rows = append(c.rows, rep.Rows...)
	c.reps = append(c.reps, sim.Replication{Rep: rep.Rep, Rows: rep.Rows, Ledger: append([]sim.Entry(nil), rep.Ledger...)})
	return nil
}

// policyScenario loads a scenario and shrinks its area to n practices so
// tests stay quick.
func policyScenario(t *testing.T, name string, n int) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	s.Population.Synthetic.Practices = n
	if ps := s.Population.Practices; len(ps) > n {
		// England's real practices (england-2023): the first n of them.
		s.Population.Practices = ps[:n]
	}
	return s
}

func policyRun(t *testing.T, s *scenarios.Scenario, seed uint64, reps, years int) (*sim.Model, []sim.PracticeYear) {
	t.Helper()
	m, c := policyRunLedger(t, s, seed, reps, years)
	return m, c.rows
}

// policyRunLedger runs s and checks its money from the ledger alone (see
// checkLedger).
func policyRunLedger(t *testing.T, s *scenarios.Scenario, seed uint64, reps, years int) (*sim.Model, *policyRows) {
	t.Helper()
	m, err := s.Model(seed)
	if err != nil {
		t.Fatal(err)
	}
	var c policyRows
	if err := sim.Run(context.Background(), m, sim.Options{Seed: seed, FirstRep: 0, LastRep: reps, Years: years, Workers: 2}, &c); err != nil {
		t.Fatal(err)
	}
	for i := range c.reps {
		checkLedger(t, s.Name, m, &c.reps[i])
	}
	return m, &c
}

// checkLedger checks a replication's money from its ledger, not from the
// rules' arithmetic: over the whole replication (all years) providers
// receive exactly the rows' spend; the commissioner's outlay (what it paid
// less what it was paid) equals spend + what holders kept + the pool's
// closing balance (holders bring no money of their own here); and on
// every row the README's identity holds with each term summed from the
// row's entries: spend = commissioner + holder's own - pool - kept, that is
// commissioner = spend + kept - holders' own money (shared losses) + what
// the row put into pools.
func checkLedger(t *testing.T, name string, m *sim.Model, rep *sim.Replication) {
	t.Helper()
	np := len(m.Practices)
	type terms struct{ providers, comm, kept, own, pool float64 }
	row := make([]terms, len(rep.Rows))
	var all terms
	poolBalance := 0.0
	for _, e := range rep.Ledger {
		r := &row[int(e.Year-1)*np+int(e.Practice)]
		for _, x := range []*terms{r, &all} {
			if e.To == sim.Providers {
				x.providers += e.Amount
			}
			if e.From == sim.Commissioner {
				x.comm += e.Amount
			}
			if e.To == sim.Commissioner {
				x.comm -= e.Amount
			}
			switch e.Reason {
			case sim.ReasonSavingsKept, sim.ReasonSharedSavings, sim.ReasonIncentive:
				x.kept += e.Amount
			case sim.ReasonSharedLoss:
				x.own += e.Amount
			case sim.ReasonPoolContribution, sim.ReasonConsortiumPooling:
				x.pool += e.Amount
			case sim.ReasonPoolPayout:
				x.pool -= e.Amount
			}
		}
		if e.To == sim.Pool {
			poolBalance += e.Amount
		}
		if e.From == sim.Pool {
			poolBalance -= e.Amount
		}
	}
	spend := 0.0
	for i, r := range rep.Rows {
		spend += r.SpendTotal
		x := row[i]
		if d := x.comm - (x.providers + x.kept - x.own + x.pool); math.Abs(d) > 1e-9*math.Max(1, x.comm) {
			t.Fatalf("%s: rep %d year %d practice %d: the commissioner paid %v, spend %v + kept %v - own money %v + pools %v", name, rep.Rep, r.Year, r.Practice, x.comm, x.providers, x.kept, x.own, x.pool)
		}
		if math.Abs(x.providers-r.SpendTotal) > 1e-9*r.SpendTotal {
			t.Fatalf("%s: rep %d: providers paid %v for a row's spend of %v", name, rep.Rep, x.providers, r.SpendTotal)
		}
		if math.Abs(x.comm-r.CommissionerPaid) > 1e-9*math.Max(1, x.comm) || math.Abs(x.kept-r.SavingsRetained) > 1e-9*math.Max(1, x.kept) || math.Abs(x.own-r.HolderPaid) > 1e-9*math.Max(1, x.own) {
			t.Fatalf("%s: rep %d: row columns differ from the ledger: %+v vs %+v", name, rep.Rep, r, x)
		}
	}
	if d := all.comm - (spend + all.kept - all.own + poolBalance); math.Abs(d) > 1e-9*spend {
		t.Fatalf("%s: rep %d: commissioner outlay %v, spend %v + kept %v - own money %v + pool balance %v (off by %v)", name, rep.Rep, all.comm, spend, all.kept, all.own, poolBalance, d)
	}
}

func checkConserved(t *testing.T, name string, rows []sim.PracticeYear) {
	t.Helper()
	type key struct {
		rep, year int
		holder    string
	}
	pool := map[key]float64{}
	scale := map[key]float64{}
	for _, r := range rows {
		got := r.CommissionerPaid + r.HolderPaid - r.PoolTransfer - r.SavingsRetained
		if math.Abs(got-r.SpendTotal) > 1e-9*r.SpendTotal {
			t.Fatalf("%s: rep %d year %d practice %d: paid %v, spent %v", name, r.Replication, r.Year, r.Practice, got, r.SpendTotal)
		}
		k := key{r.Replication, r.Year, r.Holder}
		pool[k] += r.PoolTransfer
		scale[k] += math.Abs(r.PoolTransfer)
	}
	for k, v := range pool {
		if math.Abs(v) > 1e-9*math.Max(1, scale[k]) {
			t.Errorf("%s: pool of %s in rep %d year %d does not balance: %v", name, k.holder, k.rep, k.year, v)
		}
	}
}

// TestLibraryRulesAtWork runs each library policy scenario on a small area
// and checks that money is conserved on every row, that pools balance, and
// that each rule shows in the rows as documented.
func TestLibraryRulesAtWork(t *testing.T) {
	const reps, years, np = 6, 3, 20

	t.Run("pbc", func(t *testing.T) {
		s := policyScenario(t, "pbc-indicative-2009", np)
		_, rows := policyRun(t, s, 3, reps, years)
		checkConserved(t, "pbc", rows)
		engaged, kept, refusedOrOwed := 0, 0, 0
		for _, r := range rows {
			if r.Regime == "indicative" {
				if r.Year == 1 {
					engaged++
				}
				if r.SavingsRetained > 0 {
					kept++
				}
				if r.Variance > 0 && r.SavingsRetained == 0 {
					refusedOrOwed++
				}
			}
			if r.SavingsRetained > 0.70*math.Max(r.Variance, 0)+1e-9 {
				t.Fatalf("pbc: retained %v of an underspend of %v", r.SavingsRetained, r.Variance)
			}
			if r.HolderPaid != 0 {
				t.Fatalf("pbc: a practice paid %v", r.HolderPaid)
			}
		}
		if kept == 0 || refusedOrOwed == 0 {
			t.Errorf("pbc: %d practice-years kept savings, %d underspent and kept none; want both", kept, refusedOrOwed)
		}
		// Participation 73%: engaged (replication, practice) pairs are
		// binomial; 4 standard errors.
		n := float64(reps * np)
		p := float64(engaged) / n
		if se := math.Sqrt(0.73 * 0.27 / n); math.Abs(p-0.73) > 4*se {
			t.Errorf("pbc: %v engaged, want 0.73 ± %v", p, 4*se)
		}
	})

	t.Run("hard", func(t *testing.T) {
		s := policyScenario(t, "conservative-hard-budgets-2010", np)
		_, rows := policyRun(t, s, 3, reps, years)
		checkConserved(t, "hard", rows)
		carried := 0
		for _, r := range rows {
			if r.Regime != "hard" {
				t.Fatalf("hard: regime %q", r.Regime)
			}
			if r.DeficitCarried > 0 {
				carried++
			}
			if r.DeficitCarried > 0.10*r.Budget+1e-6 {
				t.Fatalf("hard: deficit %v above the 10%% cap of budget %v", r.DeficitCarried, r.Budget)
			}
		}
		if carried == 0 {
			t.Error("hard: no deficit carried")
		}
	})

	t.Run("consortia", func(t *testing.T) {
		s := policyScenario(t, "conservative-consortia-2010", np)
		s.Rule.Consortium.TargetPopulation = 40000
		m, rows := policyRun(t, s, 3, reps, years)
		checkConserved(t, "consortia", rows)
		groups := map[string]bool{}
		for _, p := range m.Practices {
			groups[p.Group] = true
		}
		if len(groups) < 2 || len(groups) >= np {
			t.Errorf("consortia: %d groups of %d practices", len(groups), np)
		}
		moved := false
		for _, r := range rows {
			if r.Holder != m.Practices[r.Practice].Group {
				t.Fatalf("consortia: practice %s held by %q, its group is %q", m.Practices[r.Practice].ID, r.Holder, m.Practices[r.Practice].Group)
			}
			moved = moved || r.PoolTransfer != 0
		}
		if !moved {
			t.Error("consortia: the pool never moved money")
		}
	})

	t.Run("risk pool", func(t *testing.T) {
		s := policyScenario(t, "conservative-risk-pool-2010", np)
		_, rows := policyRun(t, s, 3, reps, years)
		in, out := 0, 0
		for _, r := range rows {
			got := r.CommissionerPaid + r.HolderPaid - r.PoolTransfer - r.SavingsRetained
			if math.Abs(got-r.SpendTotal) > 1e-9*r.SpendTotal {
				t.Fatalf("risk pool: paid %v, spent %v", got, r.SpendTotal)
			}
			if r.DeficitCarried != 0 {
				t.Fatalf("risk pool: deficit %v carried", r.DeficitCarried)
			}
			if r.PoolTransfer > 0 {
				in++
			} else if r.PoolTransfer < 0 {
				out++
			}
		}
		if in == 0 || out == 0 {
			t.Errorf("risk pool: %d rows paid in, %d were paid out; want both", in, out)
		}
	})

	t.Run("fundholding", func(t *testing.T) {
		s := policyScenario(t, "fundholding-1996", np)
		m, rows := policyRun(t, s, 3, reps, years)
		checkConserved(t, "fundholding", rows)
		paid := 0
		for _, r := range rows {
			if r.Regime == "fundholding" {
				if m.Practices[r.Practice].ListSize() < 5000 {
					t.Fatalf("fundholding: practice of %d patients took part", m.Practices[r.Practice].ListSize())
				}
				covered := r.Spend[sim.Outpatient] + r.Spend[sim.Prescribing] + r.Spend[sim.Elective]
				if math.Abs(r.Variance-(r.Budget-covered)) > 1e-6 {
					t.Fatalf("fundholding: variance %v is not budget - covered spend %v", r.Variance, r.Budget-covered)
				}
				if r.StopLossPaid > 0 {
					paid++
				}
			} else if r.StopLossPaid != 0 {
				t.Fatalf("regime %s row has stop-loss paid", r.Regime)
			}
		}
		if paid == 0 {
			t.Error("fundholding: the stop-loss never paid")
		}
	})
}

// TestEarnedAutonomy: with a band wide enough for every practice (100%) and
// one year, every practice is indicative in year 1 and hard after; with a
// band of zero none ever moves.
func TestEarnedAutonomy(t *testing.T) {
	s := policyScenario(t, "default", 8)
	s.Rule.EarnedAutonomy.Years = 1
	s.Rule.EarnedAutonomy.Band = 1
	_, rows := policyRun(t, s, 2, 2, 3)
	for _, r := range rows {
		want := "hard"
		if r.Year == 1 {
			want = "indicative"
		}
		if r.Regime != want {
			t.Fatalf("year %d: regime %s, want %s", r.Year, r.Regime, want)
		}
	}
	checkConserved(t, "autonomy", rows)
	s.Rule.EarnedAutonomy.Band = 0
	_, rows = policyRun(t, s, 2, 2, 3)
	for _, r := range rows {
		if r.Regime != "indicative" {
			t.Fatalf("band 0: year %d regime %s", r.Year, r.Regime)
		}
	}
}

// TestBehaviour: a hard budget that halves elective admissions, with full
// substitution to emergency admissions. Issued on day one, expected
// electives halve and emergencies rise by half (checked within 3%, far
// above the Monte Carlo error of about 100,000 events); issued in week 52
// it has no time to act and every count equals the no-effect run's exactly
// (common random numbers).
func TestBehaviour(t *testing.T) {
	base := policyScenario(t, "default", 10)
	base.Rule.Type = "hard"
	base.Behaviour.Hard = scenarios.RegimeEffects{}
	_, none := policyRun(t, base, 4, 3, 2)

	s := policyScenario(t, "default", 10)
	s.Rule.Type = "hard"
	s.Behaviour.Hard = scenarios.RegimeEffects{Elective: scenarios.Effect{Mean: -0.5}}
	s.Behaviour.SubstitutionEmergency = 1
	s.Budget.IssueWeek = 52
	_, late := policyRun(t, s, 4, 3, 2)
	for i := range none {
		if none[i].Events != late[i].Events {
			t.Fatalf("row %d: a budget issued in week 52 changed events: %v vs %v", i, late[i].Events, none[i].Events)
		}
	}
	s.Budget.IssueWeek = 0
	_, early := policyRun(t, s, 4, 3, 2)
	var e0, e1, m0, m1 float64
	for i := range none {
		e0 += float64(none[i].Events[sim.Elective])
		e1 += float64(early[i].Events[sim.Elective])
		m0 += float64(none[i].Events[sim.Emergency])
		m1 += float64(early[i].Events[sim.Emergency])
	}
	if r := e1 / e0; math.Abs(r-0.5) > 0.03*0.5 {
		t.Errorf("electives ratio %v, want 0.5", r)
	}
	if r := m1 / m0; math.Abs(r-1.5) > 0.03*1.5 {
		t.Errorf("emergencies ratio %v, want 1.5", r)
	}
}

// TestTopSliceAndHistory: historic budgets on the mean of the last two
// years' spend, 10% top-sliced: year 3's budget is 0.9 × (S1 + S2)/2 and the
// top-slice column holds the other 10%.
func TestTopSliceAndHistory(t *testing.T) {
	s := policyScenario(t, "default", 5)
	s.Budget.Method = "historic"
	s.Budget.HistoricYears = 2
	s.Budget.Lag = 1         // last year's spend (TestBudgetLag has lag 2)
	s.Budget.Project = false // the mean itself (TestProjectedBudget projects it)
	s.Budget.TopSlice = 0.1
	m, rows := policyRun(t, s, 6, 2, 3)
	np := len(m.Practices)
	for rep := range 2 {
		for i := range np {
			y1 := rows[(rep*3+0)*np+i]
			y2 := rows[(rep*3+1)*np+i]
			y3 := rows[(rep*3+2)*np+i]
			raw := (y1.SpendTotal + y2.SpendTotal) / 2
			if math.Abs(y3.Budget-0.9*raw) > 1e-6*raw || math.Abs(y3.TopSlice-0.1*raw) > 1e-6*raw {
				t.Fatalf("practice %d: budget %v top-slice %v, want %v and %v", i, y3.Budget, y3.TopSlice, 0.9*raw, 0.1*raw)
			}
		}
	}
}

// TestPolicyRowsIndependentOfWorkers: the policy's chance events
// (engagement, business cases, behaviour draws) are keyed by what they
// model, so rows are identical with 1 and 3 workers.
func TestPolicyRowsIndependentOfWorkers(t *testing.T) {
	s := policyScenario(t, "pbc-indicative-2009", 9)
	s.Behaviour.Indicative.Elective = scenarios.Effect{Mean: -0.05, SD: 0.05}
	s.Rule.EarnedAutonomy = scenarios.Autonomy{Years: 1, Band: 0.05}
	m, err := s.Model(8)
	if err != nil {
		t.Fatal(err)
	}
	var a, b policyRows
	if err := sim.Run(context.Background(), m, sim.Options{Seed: 8, LastRep: 4, Years: 3, Workers: 1}, &a); err != nil {
		t.Fatal(err)
	}
	if err := sim.Run(context.Background(), m, sim.Options{Seed: 8, LastRep: 4, Years: 3, Workers: 3}, &b); err != nil {
		t.Fatal(err)
	}
	for i := range a.rows {
		if a.rows[i] != b.rows[i] {
			t.Fatalf("row %d differs with 3 workers:\n%+v\n%+v", i, a.rows[i], b.rows[i])
		}
	}
	checkConserved(t, "pbc with autonomy", a.rows)
}

// TestBehaviourDrawnPerReplication: an elective effect of mean 0 and SD 0.2
// is drawn once per replication, so the ratio of a replication's elective
// admissions to the same replication without the effect (common random
// numbers keep counting noise small) varies across replications with SD
// about 0.2. With 50 replications the sample SD has a standard error of
// about 0.2/√100 = 0.02; the test allows 4 of them plus 0.01 for the
// counting noise that remains.
func TestBehaviourDrawnPerReplication(t *testing.T) {
	const reps = 50
	base := policyScenario(t, "default", 4)
	base.Rule.Type = "hard"
	base.Budget.IssueWeek = 0
	base.Behaviour.Hard = scenarios.RegimeEffects{}
	m0, none := policyRun(t, base, 9, reps, 1)
	base.Behaviour.Hard.Elective = scenarios.Effect{Mean: 0, SD: 0.2}
	_, eff := policyRun(t, base, 9, reps, 1)
	np := len(m0.Practices)
	ratios := make([]float64, reps)
	for r := range reps {
		a, b := 0.0, 0.0
		for i := range np {
			a += float64(none[r*np+i].Events[sim.Elective])
			b += float64(eff[r*np+i].Events[sim.Elective])
		}
		ratios[r] = b / a
	}
	mean, sd := 0.0, 0.0
	for _, x := range ratios {
		mean += x / reps
	}
	for _, x := range ratios {
		sd += (x - mean) * (x - mean) / (reps - 1)
	}
	sd = math.Sqrt(sd)
	t.Logf("elective ratio across replications: mean %.4f, SD %.4f", mean, sd)
	if math.Abs(sd-0.2) > 4*0.02+0.01 {
		t.Errorf("SD of the drawn effect %v, want 0.2", sd)
	}
	if math.Abs(mean-1) > 4*0.2/math.Sqrt(reps) {
		t.Errorf("mean ratio %v, want 1", mean)
	}
}

// TestLibraryLedgers: every library scenario, on a small area, over whole
// replications of four years: the run's own audit (sim.Audit, which fails
// the run) and checkLedger both hold.
func TestLibraryLedgers(t *testing.T) {
	for _, name := range scenarios.Names() {
		s := policyScenario(t, name, 12)
		_, c := policyRunLedger(t, s, 5, 3, 4)
		if len(c.reps) != 3 || len(c.reps[0].Ledger) == 0 {
			t.Fatalf("%s: %d replications, ledger of %d entries", name, len(c.reps), len(c.reps[0].Ledger))
		}
	}
}

// TestLedgerRandomRules is a property test: rule settings drawn at random
// (regime, retention, deficit policy, cap, pool, consortia, earned
// autonomy, business cases, top-slice, stop-loss, participation), each
// run over whole replications, must keep every invariant: the run's audit
// (providers paid exactly the spend, columns summed from entries, money
// conserved on every row, closing debt = lent - repaid) and checkLedger.
func TestLedgerRandomRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	for trial := range 24 {
		s := policyScenario(t, "default", 10)
		r := &s.Rule
		r.Type = pick("indicative", "hard", "fundholding", "shared_savings")
		r.RetentionShare = rng.Float64()
		r.Participation = 0.3 + 0.7*rng.Float64()
		r.RepayYears = rng.IntN(4)
		if rng.IntN(2) == 0 {
			r.DeficitCap = 0.2 * rng.Float64()
		}
		if rng.IntN(3) == 0 {
			r.PoolShare = 0.05 * rng.Float64()
		}
		if rng.IntN(2) == 0 {
			r.Consortium = scenarios.Consortium{By: "population", TargetPopulation: 10000 + rng.IntN(40000)}
		}
		s.Budget.Method = pick("capitation", "historic", "blend")
		s.Budget.TopSlice = 0.05 * rng.Float64()
		switch r.Type {
		case "indicative":
			r.MakeUpOverspends = rng.IntN(2) == 0
			r.RefuseInDeficit = rng.IntN(2) == 0
			r.BusinessCase = scenarios.BusinessCase{Required: rng.IntN(2) == 0, ApprovalProb: rng.Float64(), TurnaroundWeeks: 8, LapseWeeks: 13}
			if rng.IntN(2) == 0 {
				r.EarnedAutonomy = scenarios.Autonomy{Years: 1, Band: 0.1}
			}
		case "fundholding":
			r.CoveredStreams = []string{"outpatient", "prescribing", "elective"}
			if rng.IntN(2) == 0 {
				s.StopLoss = &scenarios.StopLoss{Threshold: 2000 + 4000*rng.Float64(), Streams: []string{"elective"}}
			}
		case "shared_savings":
			k := &scenarios.Contract{
				Sides: pick("one", "two"), Risk: pick("asymmetric", "symmetric"), Sharing: pick("first_pound", "above_corridor"),
				Savings:           scenarios.ContractSide{MinRate: 0.03 * rng.Float64(), Share: rng.Float64(), CapBenchmark: 0.1 * rng.Float64()},
				Losses:            scenarios.ContractSide{MinRate: 0.03 * rng.Float64(), Share: rng.Float64(), CapBenchmark: 0.05 * rng.Float64(), CapRevenue: 0.1 * rng.Float64()},
				RevenuePerPatient: 200 * rng.Float64(),
			}
			if rng.IntN(2) == 0 {
				k.Savings.MinRateTable = "medicare"
			}
			if rng.IntN(2) == 0 {
				two := "two"
				k.GlidePath = []scenarios.GlideStep{{FromYear: 2 + rng.IntN(2), Sides: &two}}
			}
			if rng.IntN(2) == 0 {
				k.Truncation = &scenarios.Truncation{Amount: 5000 + 20000*rng.Float64()}
			}
			s.Contract = k
		}
		if rng.IntN(3) == 0 {
			s.Incentive = &scenarios.Incentive{PerPatient: 2 * rng.Float64(), Basis: pick("taking_part", "targets"), TargetProb: rng.Float64(),
				AgainstSavings: pick("addition", "floor", "ceiling"), CeilingPerPatient: 2 + 2*rng.Float64()}
		}
		name := fmt.Sprintf("trial %d (%s)", trial, r.Type)
		_, c := policyRunLedger(t, s, uint64(trial), 2, 4)
		held := 0.0
		for _, rep := range c.reps {
			for _, e := range rep.Ledger {
				if e.Reason == sim.ReasonBudgetAllocation {
					held += e.Amount
				}
			}
		}
		if (r.Type == "hard" || r.Type == "fundholding") && r.Participation > 0.5 && held == 0 {
			t.Errorf("%s: no budget was allocated", name)
		}
	}
}
