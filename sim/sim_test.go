package sim_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// collect is a Sink that keeps every row.
type collect struct{ rows []sim.PracticeYear }

func (c *collect) Write(rep *sim.Replication) error {
	c.rows = append(c.rows, rep.Rows...)
	return nil
}

func run(t *testing.T, m *sim.Model, o sim.Options) []sim.PracticeYear {
	t.Helper()
	var c collect
	if err := sim.Run(context.Background(), m, o, &c); err != nil {
		t.Fatal(err)
	}
	return c.rows
}

// simpleModel has one practice of n men (rates flat in age), a single frailty state, no
// deaths, births or turnover: every practice-year is an independent sum of
// n iid patient-years, so its moments are known in closed form.
func simpleModel(n int) *sim.Model {
	m := &sim.Model{Name: "simple"}
	rates := [sim.NStreams]float64{0.3, 12, 0.4, 0.1, 0.15}
	disp := [sim.NStreams]float64{1.5, 4, 0, 1, 1}
	for s := range sim.NStreams {
		sp := sim.StreamParams{Dispersion: disp[s], FrailtyLoading: 1}
		for b := range sim.NBands { // flat in age: patients age from band to band
			sp.Rate[sim.Male][b] = rates[s]
		}
		switch sim.Stream(s) {
		case sim.Prescribing:
			sp.Family = sim.GammaSum
			sp.Cost = []sim.CostPart{{Name: "item", Share: 1, Mean: 10, CV: 2}}
		case sim.Elective:
			sp.Cost = []sim.CostPart{{Name: "day", Share: 0.75, Mean: 700, CV: 0.8}, {Name: "inpatient", Share: 0.25, Mean: 3300, CV: 1.2}}
		default:
			sp.Cost = []sim.CostPart{{Name: "event", Share: 1, Mean: 300 * float64(s+1), CV: 1.5}}
		}
		m.Streams[s] = sp
	}
	m.Frailty = sim.Frailty{Share: []float64{1}, Level: []float64{1}, Persistence: []float64{0}, Mortality: []float64{1}}
	p := sim.Practice{ID: "A", Need: 1, Style: [sim.NStreams]float64{1, 1, 1, 1, 1}}
	p.Count[sim.Male][8] = n
	m.Practices = []sim.Practice{p}
	m.Budget = sim.Budget{Setter: sim.HistoricBudget{}}
	m.Policy = sim.Everyone(&sim.Indicative{RetentionShare: 0.5})
	return m
}

// moments returns the sample mean, variance, and standard errors of each
// (the variance's from the fourth central moment: SE(s²) = sqrt((m4 - s⁴)/n)).
func moments(x []float64) (mean, v, seMean, seVar float64) {
	n := float64(len(x))
	for _, a := range x {
		mean += a
	}
	mean /= n
	m4 := 0.0
	for _, a := range x {
		d := a - mean
		v += d * d
		m4 += d * d * d * d
	}
	m4 /= n
	v /= n - 1
	return mean, v, math.Sqrt(v / n), math.Sqrt(math.Max(m4-v*v, 0) / n)
}

// within fails unless |got-want| <= 4 standard errors (a false alarm about 1
// run in 16,000 per check with a fixed seed, so a failure means a real error).
func within(t *testing.T, what string, got, want, se float64) {
	t.Helper()
	if math.Abs(got-want) > 4*se {
		t.Errorf("%s = %.6g, want %.6g ± 4×SE (SE %.3g, off by %.1f SE)", what, got, want, se, (got-want)/se)
	} else {
		t.Logf("%s = %.6g, want %.6g (%.1f SE)", what, got, want, (got-want)/se)
	}
}

func costMoments(sp *sim.StreamParams) (m1, m2 float64) {
	for _, p := range sp.Cost {
		m1 += p.Share * p.Mean
		m2 += p.Share * p.Mean * p.Mean * (1 + p.CV*p.CV)
	}
	return m1, m2
}

// TestEventsAndCostsMatchAnalyticMoments checks, stream by stream, that the
// practice-year's event count has the negative-binomial mean n·μ and
// variance n(μ + μ²/r), and its cost the compound mean n·μ·E[X] and variance
// n(μ·Var X + Var N·E[X]²). Tolerances are 4 Monte Carlo standard errors.
func TestEventsAndCostsMatchAnalyticMoments(t *testing.T) {
	const n = 200
	m := simpleModel(n)
	rows := run(t, m, sim.Options{Seed: 42, FirstRep: 0, LastRep: 1000, Years: 4, Workers: 2})
	if len(rows) != 4000 {
		t.Fatalf("got %d rows, want 4000", len(rows))
	}
	for s := range sim.NStreams {
		sp := &m.Streams[s]
		mu := sp.Rate[sim.Male][8]
		varN := mu
		if sp.Dispersion > 0 {
			varN += mu * mu / sp.Dispersion
		}
		ex, ex2 := costMoments(sp)
		varX := ex2 - ex*ex
		ev := make([]float64, len(rows))
		cost := make([]float64, len(rows))
		for i, r := range rows {
			ev[i] = float64(r.Events[s])
			cost[i] = r.Spend[s]
		}
		name := sim.StreamNames[s]
		em, evv, ese, evse := moments(ev)
		within(t, name+" events mean", em, n*mu, ese)
		within(t, name+" events variance", evv, n*varN, evse)
		cm, cv, cse, cvse := moments(cost)
		within(t, name+" cost mean", cm, n*mu*ex, cse)
		within(t, name+" cost variance", cv, n*(mu*varX+varN*ex*ex), cvse)
	}
}

// TestFrailtyMixtureVariance checks the count variance with several frailty
// states: E[Var(N|k)] + Var(E[N|k]) per patient, in one year (patients'
// states are drawn independently from the stationary distribution).
func TestFrailtyMixtureVariance(t *testing.T) {
	const n = 100
	m := simpleModel(n)
	m.Frailty = sim.Frailty{Share: []float64{0.7, 0.25, 0.05}, Level: []float64{0.5, 1.5, 6}, Persistence: []float64{0.8, 0.5, 0.4}, Mortality: []float64{1, 1, 1}}
	rows := run(t, m, sim.Options{Seed: 7, FirstRep: 0, LastRep: 4000, Years: 1, Workers: 2})
	f := m.Frailty
	for _, s := range []sim.Stream{sim.Emergency, sim.Outpatient} {
		sp := &m.Streams[s]
		mu := sp.Rate[sim.Male][8]
		norm := 0.0
		for k := range f.Share {
			norm += f.Share[k] * f.Level[k]
		}
		mean, second := 0.0, 0.0
		for k := range f.Share {
			mk := mu * f.Level[k] / norm
			mean += f.Share[k] * mk
			second += f.Share[k] * (mk + mk*mk/sp.Dispersion + mk*mk)
		}
		varN := second - mean*mean
		ev := make([]float64, len(rows))
		for i, r := range rows {
			ev[i] = float64(r.Events[s])
		}
		em, evv, ese, evse := moments(ev)
		within(t, sim.StreamNames[s]+" events mean", em, n*mean, ese)
		within(t, sim.StreamNames[s]+" events variance", evv, n*varN, evse)
	}
}

// TestSpreadShrinksWithListSize: with patients independent, a practice's
// annual spend is compound-Poisson-like, so its coefficient of variation
// across replications falls as 1/sqrt(list size). Practices of 500, 2,000 and
// 8,000 patients with the default streams and frailty (no style or need
// differences) must show CV·sqrt(n) equal within 4 standard errors.
func TestSpreadShrinksWithListSize(t *testing.T) {
	s := scenarios.Default()
	s.ChanceOnly = true // chance alone: effects beyond it do not diversify
	m, err := s.Model(1)
	if err != nil {
		t.Fatal(err)
	}
	m.Demography = sim.Demography{}
	sizes := []int{500, 2000, 8000}
	m.Practices = nil
	for _, n := range sizes {
		p := sim.Practice{ID: fmt.Sprint("n", n), Need: 1, Style: [sim.NStreams]float64{1, 1, 1, 1, 1}}
		p.Count[sim.Male][8] = n / 2
		p.Count[sim.Female][8] = n / 2
		m.Practices = append(m.Practices, p)
	}
	const reps = 1500
	rows := run(t, m, sim.Options{Seed: 3, FirstRep: 0, LastRep: reps, Years: 1, Workers: 2})
	var scaled, se []float64
	for i, n := range sizes {
		x := []float64{}
		for _, r := range rows {
			if r.Practice == i {
				x = append(x, r.SpendTotal)
			}
		}
		mean, v, seMean, seVar := moments(x)
		cv := math.Sqrt(v) / mean
		// delta method: SE(cv)/cv ≈ sqrt((SE(s²)/(2s²))² + (SE(mean)/mean)²)
		rel := math.Hypot(seVar/(2*v), seMean/mean)
		scaled = append(scaled, cv*math.Sqrt(float64(n)))
		se = append(se, cv*rel*math.Sqrt(float64(n)))
		t.Logf("n=%d: mean £%.0f, CV %.4f, CV·√n %.3f", n, mean, cv, scaled[i])
	}
	for i := 1; i < len(sizes); i++ {
		within(t, "CV·√n vs the smallest practice", scaled[i], scaled[0], math.Hypot(se[i], se[0]))
	}
	if !(scaled[0]/math.Sqrt(500) > scaled[2]/math.Sqrt(8000)*3) {
		t.Errorf("CV does not fall with list size")
	}
}

// TestIdenticalAcrossWorkersAndSplits: results depend on the seed alone, not
// on the number of workers or on how replications are split between runs.
func TestIdenticalAcrossWorkersAndSplits(t *testing.T) {
	s := scenarios.Default()
	s.Population.Synthetic.Practices = 6
	m, err := s.Model(9)
	if err != nil {
		t.Fatal(err)
	}
	base := run(t, m, sim.Options{Seed: 9, FirstRep: 0, LastRep: 8, Years: 3, Workers: 1})
	for _, w := range []int{2, 3, 7} {
		got := run(t, m, sim.Options{Seed: 9, FirstRep: 0, LastRep: 8, Years: 3, Workers: w})
		if !reflect.DeepEqual(got, base) {
			t.Fatalf("workers=%d gives different rows from workers=1", w)
		}
	}
	a := run(t, m, sim.Options{Seed: 9, FirstRep: 0, LastRep: 3, Years: 3, Workers: 2})
	b := run(t, m, sim.Options{Seed: 9, FirstRep: 3, LastRep: 8, Years: 3, Workers: 2})
	if !reflect.DeepEqual(append(a, b...), base) {
		t.Fatal("replications 0-2 and 3-7 run separately differ from one run of 0-7")
	}
	other := run(t, m, sim.Options{Seed: 10, FirstRep: 0, LastRep: 8, Years: 3, Workers: 2})
	if reflect.DeepEqual(other, base) {
		t.Fatal("a different seed gives the same rows")
	}
}

// TestBudgetMethods checks each budget against its formula on the rows.
func TestBudgetMethods(t *testing.T) {
	s := scenarios.Default()
	s.Population.Synthetic.Practices = 5
	m, err := s.Model(2)
	if err != nil {
		t.Fatal(err)
	}
	np := len(m.Practices)
	hist := sim.HistoricBudget{Uplift: 0.03}
	for _, method := range []sim.BudgetSetter{hist, sim.CapitationBudget{}, sim.BlendBudget{HistoricBudget: hist, Pace: 0.25}} {
		m.Budget = sim.Budget{Setter: method}
		rows := run(t, m, sim.Options{Seed: 2, FirstRep: 0, LastRep: 2, Years: 3, Workers: 2})
		for _, r := range rows {
			if r.Year == 1 {
				continue
			}
			prev := rows[(r.Replication*3+r.Year-2)*np+r.Practice]
			if prev.Practice != r.Practice || prev.Year != r.Year-1 {
				t.Fatalf("row order is not replication, year, practice")
			}
			var want float64
			switch method.(type) {
			case sim.HistoricBudget:
				want = prev.SpendTotal * 1.03
			case sim.CapitationBudget:
				want = r.Target
			case sim.BlendBudget:
				b := prev.Budget * 1.03
				want = b + 0.25*(r.Target-b)
			}
			if math.Abs(r.Budget-want) > 1e-6*want {
				t.Fatalf("%T budget %v, want %v", method, r.Budget, want)
			}
			if math.Abs(r.Variance-(r.Budget-r.SpendTotal)) > 1e-6 {
				t.Fatalf("variance %v != budget - spend", r.Variance)
			}
		}
	}
	// Capitation's area total matches the expected spend of the starting
	// lists in the replication's world (its rate levels: a commissioner sees
	// the area's level of spending in its history).
	m.Budget = sim.Budget{Setter: sim.CapitationBudget{}}
	rows := run(t, m, sim.Options{Seed: 2, FirstRep: 0, LastRep: 1, Years: 1, Workers: 1})
	capTotal, expected := 0.0, 0.0
	for _, r := range rows {
		capTotal += r.Budget
		expected += r.ExpectedSpendParams
	}
	// The list moves a little between the base year and year 1 (births,
	// deaths, ageing), so allow 2%.
	if math.Abs(capTotal/expected-1) > 0.02 {
		t.Errorf("capitation total £%.0f vs expected spend £%.0f", capTotal, expected)
	}
}

// TestDefaultAreaMatchesReference checks the default area against the
// reference figures it was built from: about 50 practices and 300,000
// patients; age-sex rates that, on the area's lists, give rates per head
// within 10% of England's (items 17.1, A&E 0.38, emergency admissions 0.097,
// GP referrals 0.196: the synthetic age mix differs a little from England's);
// and simulated events per head within 3% of the model's own expectation for
// these practices (styles and need included; the list ages a year between
// the base year and year 1, and Monte Carlo error is far smaller).
func TestDefaultAreaMatchesReference(t *testing.T) {
	s := scenarios.Default()
	// The rates as given: no priors, drift, shocks or trends move them.
	s.Uncertainty, s.Drift.SD, s.Shocks, s.Trends = scenarios.Uncertainty{}, scenarios.StreamValues{}, scenarios.Shocks{}, scenarios.Trends{}
	m, err := s.Model(s.Seed)
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	var plain, expected [sim.NStreams]float64
	for i := range m.Practices {
		p := &m.Practices[i]
		n += float64(p.ListSize())
		ex := m.ExpectedSpend(i)
		for st := range sim.NStreams {
			expected[st] += ex[st] / m.Streams[st].MeanCost()
			for sex := range sim.NSex {
				for b := range sim.NBands {
					plain[st] += float64(p.Count[sex][b]) * m.Streams[st].Rate[sex][b]
				}
			}
		}
	}
	if len(m.Practices) != 50 || n < 250_000 || n > 380_000 {
		t.Errorf("default area: %d practices, %.0f patients", len(m.Practices), n)
	}
	rows := run(t, m, sim.Options{Seed: 5, FirstRep: 0, LastRep: 2, Years: 1, Workers: 2})
	var ev [sim.NStreams]float64
	heads := 0.0
	for _, r := range rows {
		heads += float64(r.ListSize)
		for s := range sim.NStreams {
			ev[s] += float64(r.Events[s])
		}
	}
	for s, want := range map[sim.Stream]float64{sim.Prescribing: 17.1, sim.AE: 0.38, sim.Emergency: 0.097, sim.Outpatient: 0.196} {
		if got := plain[s] / n; math.Abs(got/want-1) > 0.10 {
			t.Errorf("%s: rates give %.3f per head on the area's lists, reference %.3f", sim.StreamNames[s], got, want)
		}
	}
	for s := range sim.NStreams {
		got, want := ev[s]/heads, expected[s]/n
		t.Logf("%s: simulated %.4f per head, expected %.4f", sim.StreamNames[s], got, want)
		if math.Abs(got/want-1) > 0.03 {
			t.Errorf("%s: simulated %.4f per head, model expects %.4f", sim.StreamNames[s], got, want)
		}
	}
}

func TestBadRunOptions(t *testing.T) {
	m := simpleModel(10)
	var c collect
	if err := sim.Run(context.Background(), m, sim.Options{LastRep: 0, Years: 1}, &c); err == nil {
		t.Error("empty replication range accepted")
	}
	if err := sim.Run(context.Background(), m, sim.Options{LastRep: 1, Years: 0}, &c); err == nil {
		t.Error("zero years accepted")
	}
	m.Streams[0].Rate[0][0] = math.NaN()
	if err := sim.Run(context.Background(), m, sim.Options{LastRep: 1, Years: 1}, &c); err == nil {
		t.Error("NaN rate accepted")
	}
}

// TestStopLossKeepsCommonRandomNumbers: a stop-loss changes who pays, not what
// happens, so a model with one and a model without give every practice-year
// the same event counts and list sizes (the same patients draw the same
// numbers, although the engine takes a different loop for each). With
// effects that move rates from year to year, counts drawn at the tables'
// rates are thinned to the year's, patient by patient for the streams a
// stop-loss covers and in total otherwise, so then only the lists (and the
// streams it does not cover) are the same draw for draw.
func TestStopLossKeepsCommonRandomNumbers(t *testing.T) {
	for _, chance := range []bool{true, false} {
		s := scenarios.Default()
		s.Population.Synthetic.Practices = 4
		s.ChanceOnly = chance
		m, err := s.Model(8)
		if err != nil {
			t.Fatal(err)
		}
		o := sim.Options{Seed: 8, FirstRep: 0, LastRep: 3, Years: 3, Workers: 2}
		without := run(t, m, o)
		m.StopLoss = &sim.StopLoss{Threshold: 5000, Streams: [sim.NStreams]bool{true, true, false, false, true}}
		with := run(t, m, o)
		paid := 0.0
		for i := range with {
			same := with[i].Events == without[i].Events
			if !chance {
				same = with[i].Events[sim.AE] == without[i].Events[sim.AE] && with[i].Events[sim.Emergency] == without[i].Events[sim.Emergency]
			}
			if !same || with[i].ListSize != without[i].ListSize {
				t.Fatalf("chance only %v, row %d: events %v / list %d with a stop-loss, %v / %d without", chance, i, with[i].Events, with[i].ListSize, without[i].Events, without[i].ListSize)
			}
			paid += with[i].StopLossExcess
		}
		if paid <= 0 {
			t.Error("the stop-loss never applied, so the test shows nothing")
		}
	}
}
