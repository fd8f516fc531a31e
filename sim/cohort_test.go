package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// cohortTestModel is a small model where cohort and patient mode have the
// same distribution exactly: rates and mortality are flat across ages, so
// cohort mode's one approximation (ages within a band not tracked) has no
// effect. It keeps everything else that differs between the modes: negative
// binomial and Poisson streams, a two-part lognormal mixture, a gamma-sum
// stream, a Markov frailty with state-dependent mortality, turnover and births.
func cohortTestModel() *Model {
	m := &Model{Name: "cohort-test", Policy: Everyone(&Indicative{RetentionShare: 0.5}), Budget: Budget{Setter: HistoricBudget{}}}
	rates := [NStreams]float64{0.4, 12, 0.3, 0.1, 0.15}
	disp := [NStreams]float64{1.5, 4, 0, 1, 1}
	for s := range NStreams {
		sp := StreamParams{Dispersion: disp[s], FrailtyLoading: 0.8, NeedElasticity: 0.5}
		for sex := range NSex {
			for b := range NBands {
				sp.Rate[sex][b] = rates[s]
			}
		}
		switch Stream(s) {
		case Prescribing:
			sp.Family = GammaSum
			sp.Cost = []CostPart{{Name: "item", Share: 1, Mean: 10, CV: 2}}
		case Elective:
			sp.Cost = []CostPart{{Name: "day", Share: 0.7, Mean: 700, CV: 0.8}, {Name: "ip", Share: 0.3, Mean: 3000, CV: 1.2}}
		default:
			sp.Cost = []CostPart{{Name: "x", Share: 1, Mean: 200 * float64(s+1), CV: 1.5}}
		}
		m.Streams[s] = sp
	}
	m.Frailty = Frailty{Share: []float64{0.8, 0.2}, Level: []float64{0.6, 2.6}, Persistence: []float64{0.8, 0.5}, Mortality: []float64{0.5, 3}}
	m.Demography = Demography{BirthRate: 0.06, MaleBirthShare: 0.51, Turnover: 0.08}
	for sex := range NSex {
		for b := range NBands {
			m.Demography.Mortality[sex][b] = 0.01
		}
	}
	for i, n := range []int{300, 1200} {
		p := Practice{ID: string(rune('A' + i)), Need: 1 + 0.2*float64(i), Style: [NStreams]float64{1, 1, 1, 1, 1}}
		for sex := range NSex {
			for b := range NBands {
				p.Count[sex][b] = n / NCells
			}
		}
		m.Practices = append(m.Practices, p)
	}
	return m
}

type collect struct{ rows []PracticeYear }

func (c *collect) Write(rep *Replication) error {
	rows := rep.Rows
	c.rows = append(c.rows, rows...)
	return nil
}

// moments are a sample's mean, variance and the standard errors of both
// (the variance's from the fourth central moment: Var(s²) ≈ (m4 - s⁴)/n).
type moments struct{ mean, vari, seMean, seVar float64 }

func momentsOf(x []float64) moments {
	n := float64(len(x))
	mean := 0.0
	for _, v := range x {
		mean += v
	}
	mean /= n
	m2, m4 := 0.0, 0.0
	for _, v := range x {
		d := (v - mean) * (v - mean)
		m2 += d
		m4 += d * d
	}
	m2 /= n
	m4 /= n
	return moments{mean, m2 * n / (n - 1), math.Sqrt(m2 / n), math.Sqrt(math.Max(m4-m2*m2, 0) / n)}
}

// TestCohortAgreesWithPatientLevel runs the same model both ways (fixed
// seeds, 1,500 replications, 2 years) and checks, for every practice, year
// and stream, that spend and event counts agree in mean and variance within
// 4.5 combined Monte Carlo standard errors (the variance's SE from the
// sample fourth moment). With 2 x 2 x 12 x 2 = 96 comparisons, 4.5 SE keeps
// the chance of a false alarm under 0.1% while a wrong aggregate
// distribution (e.g. Poisson instead of negative binomial totals, which
// cuts the prescribing variance by a third) fails by many SE.
func TestCohortAgreesWithPatientLevel(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical comparison of two modes; skipped with -short")
	}
	m := cohortTestModel()
	const reps, years = 1500, 2
	var pat, coh collect
	if err := Run(context.Background(), m, Options{Seed: 11, LastRep: reps, Years: years}, &pat); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), m, Options{Seed: 12, LastRep: reps, Years: years, Cohort: true}, &coh); err != nil {
		t.Fatal(err)
	}
	np := len(m.Practices)
	series := func(rows []PracticeYear, i, year int, f func(*PracticeYear) float64) []float64 {
		var out []float64
		for k := range rows {
			r := &rows[k]
			if r.Practice == i && r.Year == year {
				out = append(out, f(r))
			}
		}
		return out
	}
	type q struct {
		name string
		f    func(*PracticeYear) float64
	}
	var qs []q
	for s := range NStreams {
		qs = append(qs, q{"spend_" + StreamNames[s], func(r *PracticeYear) float64 { return r.Spend[s] }})
		qs = append(qs, q{"events_" + StreamNames[s], func(r *PracticeYear) float64 { return float64(r.Events[s]) }})
	}
	qs = append(qs, q{"list_size", func(r *PracticeYear) float64 { return float64(r.ListSize) }}, q{"spend_total", func(r *PracticeYear) float64 { return r.SpendTotal }})
	const z = 4.5
	for i := range np {
		for year := 1; year <= years; year++ {
			for _, qq := range qs {
				a := momentsOf(series(pat.rows, i, year, qq.f))
				b := momentsOf(series(coh.rows, i, year, qq.f))
				if d, se := math.Abs(a.mean-b.mean), math.Hypot(a.seMean, b.seMean); d > z*se {
					t.Errorf("practice %d year %d %s: mean %.4g (patient) vs %.4g (cohort), %.1f SE apart", i, year, qq.name, a.mean, b.mean, d/se)
				}
				if d, se := math.Abs(a.vari-b.vari), math.Hypot(a.seVar, b.seVar); d > z*se {
					t.Errorf("practice %d year %d %s: variance %.4g (patient) vs %.4g (cohort), %.1f SE apart", i, year, qq.name, a.vari, b.vari, d/se)
				}
			}
		}
	}
}

// TestCohortSameWhateverWorkers: cohort mode's rows do not depend on the
// number of workers.
func TestCohortSameWhateverWorkers(t *testing.T) {
	m := cohortTestModel()
	var one, two collect
	if err := Run(context.Background(), m, Options{Seed: 3, LastRep: 6, Years: 3, Workers: 1, Cohort: true}, &one); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), m, Options{Seed: 3, LastRep: 6, Years: 3, Workers: 2, Cohort: true}, &two); err != nil {
		t.Fatal(err)
	}
	if len(one.rows) != len(two.rows) || len(one.rows) == 0 {
		t.Fatalf("%d rows with 1 worker, %d with 2", len(one.rows), len(two.rows))
	}
	for k := range one.rows {
		if one.rows[k] != two.rows[k] {
			t.Fatalf("row %d differs: %+v vs %+v", k, one.rows[k], two.rows[k])
		}
	}
}

// TestCohortRejectsStopLoss: a per-patient stop-loss needs individual patients.
func TestCohortRejectsStopLoss(t *testing.T) {
	m := cohortTestModel()
	m.StopLoss = &StopLoss{Threshold: 5000, Streams: [NStreams]bool{Emergency: true}}
	err := Run(context.Background(), m, Options{Seed: 1, LastRep: 1, Years: 1, Cohort: true}, &collect{})
	if !errors.Is(err, ErrCohortStopLoss) {
		t.Fatalf("got %v, want ErrCohortStopLoss", err)
	}
}

// TestSamplersExact checks the exact samplers cohort mode and the cost draws
// rely on against their analytic mean and variance (fixed seed, 200,000
// draws each, tolerance 5 standard errors of the sample mean and variance).
func TestSamplersExact(t *testing.T) {
	const n = 200_000
	check := func(name string, draw func() float64, mean, vari float64) {
		t.Helper()
		x := make([]float64, n)
		for i := range x {
			x[i] = draw()
		}
		m := momentsOf(x)
		if math.Abs(m.mean-mean) > 5*m.seMean {
			t.Errorf("%s: mean %.5g, want %.5g (SE %.2g)", name, m.mean, mean, m.seMean)
		}
		if math.Abs(m.vari-vari) > 5*m.seVar {
			t.Errorf("%s: variance %.5g, want %.5g (SE %.2g)", name, m.vari, vari, m.seVar)
		}
	}
	var d Draws
	d.Reseed(Key{Seed: 5, Rep: 0, Practice: 0, Year: 0}, PurposeCosts)
	check("NormZ", d.NormZ, 0, 1)
	// The ziggurat's tail (|z| > 3.44, probability 5.8e-4) must be right too.
	tail := 0
	for range n {
		if math.Abs(d.NormZ()) > zigR {
			tail++
		}
	}
	if p := math.Erfc(zigR / math.Sqrt2); math.Abs(float64(tail)/n-p) > 5*math.Sqrt(p/n) {
		t.Errorf("NormZ tail beyond %.3f: %d of %d, want %.1f", zigR, tail, n, p*n)
	}
	for _, a := range []float64{0.25, 1, 4.5, 300} {
		check("Gamma", func() float64 { return d.Gamma(a) }, a, a)
	}
	for _, l := range []float64{0.7, 9.9, 10, 55, 4000, 2e6} {
		check("Poisson", func() float64 { return float64(d.Poisson(l)) }, l, l)
	}
	for _, c := range []struct {
		n int
		p float64
	}{{10, 0.3}, {500, 0.02}, {500, 0.5}, {100000, 0.9}, {3000, 0.2}} {
		check("Binomial", func() float64 { return float64(d.Binomial(c.n, c.p)) }, float64(c.n)*c.p, float64(c.n)*c.p*(1-c.p))
	}
	for _, x := range []float64{-3, 0, 0.3, 5.5, 12} {
		if e := math.Abs(fastExp(x)-math.Exp(x)) / math.Exp(x); e > 5e-16 {
			t.Errorf("fastExp(%v) relative error %.2g", x, e)
		}
	}
}

// TestBinomialPMF checks Binomial's whole distribution, not just its moments,
// against the exact pmf by a chi-square test (binomialChiSquare). The cases
// cover inversion (n·p < 25), BTRS (n·p >= 25) near its threshold and far
// beyond it, and p > 1/2 by symmetry.
func TestBinomialPMF(t *testing.T) {
	var d Draws
	d.Reseed(Key{Seed: 11, Rep: 0, Practice: 0, Year: 0}, PurposeDemography)
	for _, c := range []struct {
		n int
		p float64
	}{{12, 0.5}, {400, 0.004}, {25, 0.42}, {60, 0.2}, {130, 0.2}, {1000, 0.3}, {200, 0.93}, {90_000, 0.011}} {
		binomialChiSquare(t, fmt.Sprintf("Binomial(%d, %v)", c.n, c.p), int64(c.n), c.p,
			func() int64 { return int64(d.Binomial(c.n, c.p)) })
	}
}

// binomialChiSquare draws 200,000 Binomial(n, p) counts and tests them
// against the exact pmf by chi-square, cells pooled to expected counts of at
// least 20, rejected at p < 1e-4: a fixed-seed test with a 1-in-10,000 false
// alarm rate if the sampler is right.
func binomialChiSquare(t *testing.T, name string, n int64, p float64, draw func() int64) {
	t.Helper()
	const draws = 200_000
	counts := make([]float64, n+1)
	for range draws {
		k := draw()
		if k < 0 || k > n {
			t.Fatalf("%s: drew %d", name, k)
		}
		counts[k]++
	}
	nf := float64(n)
	chi, df := 0.0, -1
	obs, exp := 0.0, 0.0
	for k := int64(0); k <= n; k++ {
		kf := float64(k)
		obs += counts[k]
		exp += draws * math.Exp(lfact(nf)-lfact(kf)-lfact(nf-kf)+kf*math.Log(p)+(nf-kf)*math.Log1p(-p))
		if exp >= 20 || k == n {
			chi += (obs - exp) * (obs - exp) / exp
			df++
			obs, exp = 0, 0
		}
	}
	if crit := (distuv.ChiSquared{K: float64(df)}).Quantile(1 - 1e-4); chi > crit {
		t.Errorf("%s: chi-square %.1f on %d df, critical %.1f", name, chi, df, crit)
	}
}

// TestNormTail checks the conditional tail sampler: P(Z > c+x | Z > c) =
// Φ̄(c+x)/Φ̄(c) at several x (200,000 draws, 5 binomial standard errors).
func TestNormTail(t *testing.T) {
	const n = 200_000
	var d Draws
	d.Reseed(Key{Seed: 12, Rep: 0, Practice: 0, Year: 0}, PurposeCosts)
	for _, c := range []float64{1, 3} {
		xs := []float64{0.05, 0.2, 0.6, 1.2}
		above := make([]int, len(xs))
		for range n {
			z := d.NormTail(c)
			if z < c {
				t.Fatalf("NormTail(%v) = %v", c, z)
			}
			for i, x := range xs {
				if z > c+x {
					above[i]++
				}
			}
		}
		for i, x := range xs {
			p := math.Erfc((c+x)/math.Sqrt2) / math.Erfc(c/math.Sqrt2)
			if got := float64(above[i]) / n; math.Abs(got-p) > 5*math.Sqrt(p*(1-p)/n) {
				t.Errorf("NormTail(%v): P(Z > %v) = %.5f, want %.5f", c, c+x, got, p)
			}
		}
	}
}

// TestCohortOneFrailtyState runs cohort mode with a single frailty state (no
// transitions to draw, no state shares) and compares mean list size and
// events with patient level (fixed seeds, 300 replications, 5 SE).
func TestCohortOneFrailtyState(t *testing.T) {
	m := cohortTestModel()
	m.Frailty = Frailty{Share: []float64{1}, Level: []float64{1}, Persistence: []float64{0.5}, Mortality: []float64{1}}
	const reps, years = 300, 3
	var pat, coh collect
	if err := Run(context.Background(), m, Options{Seed: 21, LastRep: reps, Years: years}, &pat); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), m, Options{Seed: 22, LastRep: reps, Years: years, Cohort: true}, &coh); err != nil {
		t.Fatal(err)
	}
	pick := func(rows []PracticeYear, f func(*PracticeYear) float64) moments {
		var x []float64
		for k := range rows {
			if rows[k].Practice == 1 && rows[k].Year == years {
				x = append(x, f(&rows[k]))
			}
		}
		return momentsOf(x)
	}
	for _, q := range []struct {
		name string
		f    func(*PracticeYear) float64
	}{
		{"list size", func(r *PracticeYear) float64 { return float64(r.ListSize) }},
		{"outpatient events", func(r *PracticeYear) float64 { return float64(r.Events[Outpatient]) }},
		{"total spend", func(r *PracticeYear) float64 { return r.SpendTotal }},
	} {
		a, b := pick(pat.rows, q.f), pick(coh.rows, q.f)
		if d, se := math.Abs(a.mean-b.mean), math.Hypot(a.seMean, b.seMean); d > 5*se || a.mean == 0 {
			t.Errorf("%s: mean %.5g (patient) vs %.5g (cohort), %.1f SE apart", q.name, a.mean, b.mean, d/se)
		}
	}
}
