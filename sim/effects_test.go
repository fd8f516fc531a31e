package sim_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/gpbudget/gpbudget/sim"
)

// Tests of the effects beyond chance against analytic values. Each uses a
// fixed seed and a tolerance of 4 Monte Carlo standard errors (within).

// logRatio returns, per row of practice i, log(events of stream s / the
// count its rates give at the start of the year without effects): the log
// of the year's rate multiplier plus chance. rate is the stream's rate per
// patient.
func logRatio(rows []sim.PracticeYear, i, year int, s sim.Stream, rate float64) []float64 {
	var out []float64
	for _, r := range rows {
		if r.Practice == i && r.Year == year {
			out = append(out, math.Log(float64(r.Events[s])/(float64(r.ListSize)*rate)))
		}
	}
	return out
}

// cov returns the sample covariance of x and y and its standard error
// (for normal data, Var(s_xy) = (s_x² s_y² + s_xy²)/n).
func cov(x, y []float64) (c, se float64) {
	n := float64(len(x))
	mx, my := 0.0, 0.0
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	vx, vy := 0.0, 0.0
	for i := range x {
		c += (x[i] - mx) * (y[i] - my)
		vx += (x[i] - mx) * (x[i] - mx)
		vy += (y[i] - my) * (y[i] - my)
	}
	c /= n - 1
	vx /= n - 1
	vy /= n - 1
	return c, math.Sqrt((vx*vy + c*c) / n)
}

// corr returns the sample correlation and its standard error (1-r²)/√n.
func corr(x, y []float64) (r, se float64) {
	c, _ := cov(x, y)
	_, vx, _, _ := moments(x)
	_, vy, _, _ := moments(y)
	r = c / math.Sqrt(vx*vy)
	return r, (1 - r*r) / math.Sqrt(float64(len(x)))
}

// nbLogVar is the chance variance of log(count) for n patients with a
// negative binomial count of mean mu and shape r each (delta method:
// Var(N)/E[N]²).
func nbLogVar(n, mu, r float64) float64 {
	v := mu
	if r > 0 {
		v += mu * mu / r
	}
	return v / (n * mu * mu)
}

// TestDriftAR1: a practice effect with drift SD σ and persistence ρ makes
// log(events / expected) stationary with variance σ² (plus the count's
// chance variance) in every year, and lag-k autocorrelation ρ^k, in both
// modes. simpleModel's practice has no deaths, births or turnover, and a
// single frailty state, so its expected count is list × rate.
func TestDriftAR1(t *testing.T) {
	const sd, rho = 0.1, 0.6
	for _, c := range []struct {
		cohort bool
		n      int
		reps   int
	}{{true, 1_000_000, 3000}, {false, 20_000, 400}} {
		m := simpleModel(c.n)
		m.Effects.Drift = sim.Drift{SD: [sim.NStreams]float64{sim.Prescribing: sd, sim.Outpatient: sd}, Persistence: rho, Corr: sim.Exchangeable(0.5)}
		rows := run(t, m, sim.Options{Seed: 21, FirstRep: 0, LastRep: c.reps, Years: 3, Workers: 2, Cohort: c.cohort})
		rate := m.Streams[sim.Prescribing].Rate[sim.Male][8]
		chance := nbLogVar(float64(c.n), rate, m.Streams[sim.Prescribing].Dispersion)
		mode := fmt.Sprintf("cohort %v", c.cohort)
		var y [4][]float64
		for yr := 1; yr <= 3; yr++ {
			y[yr] = logRatio(rows, 0, yr, sim.Prescribing, rate)
			_, v, _, seV := moments(y[yr])
			within(t, fmt.Sprintf("%s: year %d: Var log(events/expected)", mode, yr), v, sd*sd+chance, seV)
			// The multiplier has mean 1: E[events/expected] = 1.
			ratio := make([]float64, len(y[yr]))
			for i, v := range y[yr] {
				ratio[i] = math.Exp(v)
			}
			mr, _, seM, _ := moments(ratio)
			within(t, fmt.Sprintf("%s: year %d: mean events/expected", mode, yr), mr, 1, seM)
		}
		share := sd * sd / (sd*sd + chance) // chance dilutes the correlation
		r1, se1 := corr(y[1], y[2])
		within(t, mode+": lag-1 autocorrelation", r1, rho*share, se1)
		r2, se2 := corr(y[1], y[3])
		within(t, mode+": lag-2 autocorrelation", r2, rho*rho*share, se2)
		// The streams' innovations and stationary draws correlate 0.5.
		op := logRatio(rows, 0, 2, sim.Outpatient, m.Streams[sim.Outpatient].Rate[sim.Male][8])
		opChance := nbLogVar(float64(c.n), m.Streams[sim.Outpatient].Rate[sim.Male][8], m.Streams[sim.Outpatient].Dispersion)
		rs, ses := corr(y[2], op)
		within(t, mode+": correlation between streams' drift", rs, 0.5*sd*sd/math.Sqrt((sd*sd+chance)*(sd*sd+opChance)), ses)
	}
}

// areaModel is simpleModel with practices of n patients each, in areas
// "A" and "B" (two each).
func areaModel(n int) *sim.Model {
	m := simpleModel(n)
	p := m.Practices[0]
	m.Practices = nil
	for i, a := range []string{"A", "A", "B", "B"} {
		q := p
		q.ID, q.Geo[sim.LevelPlace] = fmt.Sprintf("P%d", i), a
		m.Practices = append(m.Practices, q)
	}
	return m
}

// TestCommonShocks: an area shock of SD σa and a national one of SD σn
// give two practices of one area a covariance of log(events/expected) of
// σa² + σn², and of two areas σn² (chance is independent between
// practices); a practice's variance adds its chance variance, so the
// shocks' share of it is (σa² + σn²)/(σa² + σn² + chance). A bad winter
// raises A&E and emergency admissions together: their shocks correlate
// 0.8.
func TestCommonShocks(t *testing.T) {
	const sa, sn = 0.08, 0.05
	const n = 2000
	m := areaModel(n)
	m.Effects.Shocks = sim.Shocks{
		LevelSD:    [sim.NLevels][sim.NStreams]float64{sim.LevelPlace: {sim.Emergency: sa, sim.AE: sa}},
		NationalSD: [sim.NStreams]float64{sim.Emergency: sn, sim.AE: sn},
		Corr:       sim.Exchangeable(0.8),
	}
	rows := run(t, m, sim.Options{Seed: 5, FirstRep: 0, LastRep: 4000, Years: 2, Workers: 2, Cohort: true})
	rate := m.Streams[sim.Emergency].Rate[sim.Male][8]
	chance := nbLogVar(n, rate, m.Streams[sim.Emergency].Dispersion)
	var y [4][]float64
	for i := range 4 {
		y[i] = logRatio(rows, i, 2, sim.Emergency, rate)
	}
	c, se := cov(y[0], y[1])
	within(t, "covariance within an area", c, sa*sa+sn*sn, se)
	c, se = cov(y[2], y[3])
	within(t, "covariance within the other area", c, sa*sa+sn*sn, se)
	c, se = cov(y[0], y[2])
	within(t, "covariance between areas", c, sn*sn, se)
	_, v, _, seV := moments(y[0])
	within(t, "a practice's variance", v, sa*sa+sn*sn+chance, seV)
	t.Logf("the shocks' share of a practice's variance: %.2f (analytic %.2f)", (sa*sa+sn*sn)/v, (sa*sa+sn*sn)/(sa*sa+sn*sn+chance))
	ae := logRatio(rows, 0, 2, sim.AE, m.Streams[sim.AE].Rate[sim.Male][8])
	aeChance := nbLogVar(n, m.Streams[sim.AE].Rate[sim.Male][8], m.Streams[sim.AE].Dispersion)
	r, seR := corr(y[0], ae)
	within(t, "A&E and emergency shocks' correlation", r, 0.8*(sa*sa+sn*sn)/math.Sqrt((sa*sa+sn*sn+chance)*(sa*sa+sn*sn+aeChance)), seR)
}

// TestTrendCompoundGrowth: demand growth g makes a year's events (1+g)^t
// times the base year's rate, and price growth π its cost per event
// (1+π)^t times the base, t counted from the base year; with a trend large
// enough that the count tables are rebuilt (rates move more than a
// quarter over the run), in both modes.
func TestTrendCompoundGrowth(t *testing.T) {
	const g, pi = 0.12, -0.03
	for _, cohort := range []bool{true, false} {
		m := simpleModel(20_000)
		m.Effects.Trend[sim.Prescribing] = sim.Trend{Demand: g, Price: pi}
		rows := run(t, m, sim.Options{Seed: 9, FirstRep: 0, LastRep: 200, Years: 4, Workers: 2, Cohort: cohort})
		rate := m.Streams[sim.Prescribing].Rate[sim.Male][8]
		mean := m.Streams[sim.Prescribing].MeanCost()
		for yr := 1; yr <= 4; yr++ {
			var ev, unit []float64
			for _, r := range rows {
				if r.Year == yr {
					ev = append(ev, float64(r.Events[sim.Prescribing])/(float64(r.ListSize)*rate))
					unit = append(unit, r.Spend[sim.Prescribing]/float64(r.Events[sim.Prescribing]))
				}
			}
			me, _, se, _ := moments(ev)
			within(t, fmt.Sprintf("cohort %v: year %d events/expected", cohort, yr), me, math.Pow(1+g, float64(yr)), se)
			mu, _, seU, _ := moments(unit)
			within(t, fmt.Sprintf("cohort %v: year %d cost per event", cohort, yr), mu, mean*math.Pow(1+pi, float64(yr)), seU)
		}
	}
}

// TestPriors: priors are drawn once per replication, the same for every
// practice and year of it, with the prior's mean and SD; correlated
// priors correlate as a Gaussian copula says (for lognormal priors the
// logs' correlation is the normals'); a beta prior has its mean and SD;
// and a fixed value holds a parameter in every replication.
func TestPriors(t *testing.T) {
	m := areaModel(500)
	m.Effects.Drift = sim.Drift{SD: [sim.NStreams]float64{sim.Emergency: 0.1}, Persistence: 0.5}
	m.Uncertainty = sim.Uncertainty{
		Priors: []sim.Prior{
			{Param: sim.Param{Kind: sim.ParamCost, Stream: sim.Prescribing}, Dist: sim.DistLognormal, SD: 0.1},
			{Param: sim.Param{Kind: sim.ParamRate, Stream: sim.Emergency}, Dist: sim.DistLognormal, SD: 0.2},
			{Param: sim.Param{Kind: sim.ParamDriftPersistence}, Dist: sim.DistBeta, SD: 0.1},
		},
		Corr: [][]float64{{1, 0.6, 0}, {0.6, 1, 0}, {0, 0, 1}},
	}
	const reps = 4000
	vals := make([][]float64, 3)
	for rep := range reps {
		v, err := sim.ReplicationParams(m, 3, rep)
		if err != nil {
			t.Fatal(err)
		}
		for i := range vals {
			vals[i] = append(vals[i], v[i])
		}
	}
	if u := m.Uncertain(); len(u) != 3 || u[0].Param.String() != "cost.prescribing" || u[2].Param.String() != "drift.persistence" {
		t.Fatalf("uncertain parameters %v", u)
	}
	for i, want := range []struct{ mean, sd float64 }{{1, 0.1}, {1, 0.2}, {0.5, 0.1}} {
		mean, v, se, seV := moments(vals[i])
		within(t, fmt.Sprintf("prior %d mean", i), mean, want.mean, se)
		within(t, fmt.Sprintf("prior %d variance", i), v, want.sd*want.sd, seV)
	}
	logs := func(x []float64) []float64 {
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = math.Log(v)
		}
		return out
	}
	r, se := corr(logs(vals[0]), logs(vals[1]))
	within(t, "correlation of the lognormal priors' logs", r, 0.6, se)
	r, se = corr(vals[0], vals[2])
	within(t, "correlation of independent priors", r, 0, se)

	// In a run: the cost prior moves every practice's and year's cost per
	// event alike within a replication.
	rows := run(t, m, sim.Options{Seed: 3, FirstRep: 0, LastRep: 20, Years: 2, Workers: 2, Cohort: true})
	mean := m.Streams[sim.Prescribing].MeanCost()
	for _, row := range rows {
		unit := row.Spend[sim.Prescribing] / float64(row.Events[sim.Prescribing])
		want := mean * vals[0][row.Replication]
		// A few thousand items of CV 2: the mean cost's SE is under 4%.
		if math.Abs(unit/want-1) > 0.15 {
			t.Fatalf("replication %d, practice %d, year %d: cost per item %.3f, the prior's draw gives %.3f", row.Replication, row.Practice, row.Year, unit, want)
		}
	}
	// A fixed value holds the parameter (and the older rate draws) in
	// every replication.
	m.Uncertainty.Fixed = []sim.Fixed{{Param: sim.Param{Kind: sim.ParamCost, Stream: sim.Prescribing}, Value: 1.3}}
	if u := m.Uncertain(); len(u) != 2 {
		t.Errorf("with cost.prescribing fixed, %d parameters are uncertain, want 2", len(u))
	}
	rows = run(t, m, sim.Options{Seed: 3, FirstRep: 0, LastRep: 5, Years: 1, Workers: 2, Cohort: true})
	for _, row := range rows {
		if unit := row.Spend[sim.Prescribing] / float64(row.Events[sim.Prescribing]); math.Abs(unit/(1.3*mean)-1) > 0.15 {
			t.Fatalf("cost held at 1.3: cost per item %.3f, want about %.3f", unit, 1.3*mean)
		}
	}
}

// TestBudgetLag: with a lag of two years a historic budget is the spend
// of the year before last, uplifted twice: year 3's budget is year 1's
// spend × (1+u)², exactly.
func TestBudgetLag(t *testing.T) {
	m := simpleModel(300)
	m.Budget.Setter = sim.HistoricBudget{Lag: 2, Uplift: 0.05}
	rows := run(t, m, sim.Options{Seed: 4, FirstRep: 0, LastRep: 3, Years: 4, Workers: 2})
	for rep := range 3 {
		for yr := 3; yr <= 4; yr++ {
			got := rows[rep*4+yr-1].Budget
			want := rows[rep*4+yr-3].SpendTotal * 1.05 * 1.05
			if math.Abs(got-want) > 1e-9*want {
				t.Errorf("replication %d, year %d: budget %v, want year %d's spend × 1.05² = %v", rep, yr, got, yr-2, want)
			}
		}
	}
}

// TestProjectedBudget: a projected historic budget (Budget.Project) is the
// spend of year t-2 scaled by how the practice's expected spend moved since:
// on a list that does not change (simpleModel: no deaths, births or
// turnover; rates flat in age) with every stream's demand growing 3% a
// year, by 1.03², then uplifted by 1.05². Unprojected it is as in
// TestBudgetLag.
func TestProjectedBudget(t *testing.T) {
	m := simpleModel(300)
	m.Budget.Setter = sim.HistoricBudget{Lag: 2, Uplift: 0.05}
	m.Budget.Project = true
	for s := range sim.NStreams {
		m.Effects.Trend[s] = sim.Trend{Demand: 0.03}
	}
	rows := run(t, m, sim.Options{Seed: 4, FirstRep: 0, LastRep: 3, Years: 4, Workers: 2})
	for rep := range 3 {
		for yr := 3; yr <= 4; yr++ {
			got := rows[rep*4+yr-1].Budget
			want := rows[rep*4+yr-3].SpendTotal * 1.03 * 1.03 * 1.05 * 1.05
			if math.Abs(got-want) > 1e-9*want {
				t.Errorf("replication %d, year %d: budget %v, want year %d's spend × 1.03² × 1.05² = %v", rep, yr, got, yr-2, want)
			}
		}
	}
}

// TestVarianceDecomposition: the rows' nested expected spends split the
// variance of a practice-year's spend across replications by the law of
// total variance: Var(S) = Var(E_p) + E[(E_s - E_p)²] + E[(E - E_s)²] +
// E[(S - E)²] (parameters, shocks, drift, chance), the cross terms having
// mean 0 because each level's mean given the one above is that one; so
// the four parts sum to the variance (within Monte Carlo error), and each
// level has the level above as its mean.
func TestVarianceDecomposition(t *testing.T) {
	m := areaModel(3000)
	m.Effects.Drift = sim.Drift{SD: [sim.NStreams]float64{0.08, 0.08, 0.08, 0.05, 0.08}, Persistence: 0.7}
	m.Effects.Shocks = sim.Shocks{LevelSD: [sim.NLevels][sim.NStreams]float64{sim.LevelPlace: {0.03, 0.03, 0.03, 0.03, 0.03}}}
	for s := range sim.NStreams {
		m.Uncertainty.Priors = append(m.Uncertainty.Priors, sim.Prior{Param: sim.Param{Kind: sim.ParamCost, Stream: sim.Stream(s)}, Dist: sim.DistLognormal, SD: 0.05})
	}
	rows := run(t, m, sim.Options{Seed: 12, FirstRep: 0, LastRep: 3000, Years: 1, Workers: 2, Cohort: true})
	var s, p, sh, e []float64
	for _, r := range rows {
		if r.Practice == 0 {
			s = append(s, r.SpendTotal)
			p = append(p, r.ExpectedSpendParams)
			sh = append(sh, r.ExpectedSpendShocks)
			e = append(e, r.ExpectedSpend)
		}
	}
	sq := func(a, b []float64) []float64 {
		out := make([]float64, len(a))
		for i := range a {
			out[i] = (a[i] - b[i]) * (a[i] - b[i])
		}
		return out
	}
	diff := func(a, b []float64) []float64 {
		out := make([]float64, len(a))
		for i := range a {
			out[i] = a[i] - b[i]
		}
		return out
	}
	_, vs, _, seVs := moments(s)
	_, vp, _, _ := moments(p)
	shocks, _, _, _ := moments(sq(sh, p))
	drift, _, _, _ := moments(sq(e, sh))
	chance, _, _, _ := moments(sq(s, e))
	t.Logf("variance of spend %.4g: parameters %.1f%%, shocks %.1f%%, drift %.1f%%, chance %.1f%%", vs, 100*vp/vs, 100*shocks/vs, 100*drift/vs, 100*chance/vs)
	within(t, "parameters + shocks + drift + chance", vp+shocks+drift+chance, vs, seVs)
	for _, x := range []struct {
		what string
		d    []float64
	}{{"E[E_s - E_p]", diff(sh, p)}, {"E[E - E_s]", diff(e, sh)}, {"E[S - E]", diff(s, e)}} {
		mean, _, se, _ := moments(x.d)
		within(t, x.what, mean, 0, se)
	}
}

// TestFormulaRegressionDilution: a need proxy measured with person-level
// error of SD σ attenuates the estimated need coefficient by the
// reliability ratio λ = V/(V + σ²), V the variance of the true log need
// among the sampled patients within their age-sex cells (regression
// dilution: Fuller, Measurement Error Models, 1987, §1.1). The two fits
// share their sample (the error's normals are drawn either way), so they
// differ by the error alone; the tolerance is 4 of the two coefficients'
// standard errors combined. With no error, the estimated formula fits
// practices about as well as the perfect one.
func TestFormulaRegressionDilution(t *testing.T) {
	m := simpleModel(100)
	p := m.Practices[0]
	m.Practices = nil
	var d sim.Draws
	d.Reseed(sim.Key{Seed: 1}, sim.PurposePopulation)
	for i := range 200 {
		q := p
		q.ID = fmt.Sprint("P", i)
		q.Need = math.Exp(0.3*d.Norm() - 0.045)
		q.Count[sim.Male][8] = 500 + i*10
		m.Practices = append(m.Practices, q)
	}
	for s := range sim.NStreams {
		m.Streams[s].NeedElasticity = 1
	}
	exact, err := sim.EstimateFormula(m, sim.FormulaSpec{SampleSize: 400_000}, 7)
	if err != nil {
		t.Fatal(err)
	}
	const sd = 0.3
	noisy, err := sim.EstimateFormula(m, sim.FormulaSpec{SampleSize: 400_000, ErrorSD: sd}, 7)
	if err != nil {
		t.Fatal(err)
	}
	// V: the list-weighted variance of log need (one cell: need does not
	// depend on age or sex here).
	sum, sum2, n := 0.0, 0.0, 0.0
	for _, q := range m.Practices {
		w := float64(q.ListSize())
		l := math.Log(q.Need)
		sum += w * l
		sum2 += w * l * l
		n += w
	}
	v := sum2/n - (sum/n)*(sum/n)
	lambda := v / (v + sd*sd)
	within(t, "attenuated need coefficient", noisy.NeedCoef, lambda*exact.NeedCoef, math.Hypot(noisy.Fit.NeedCoefSE, lambda*exact.Fit.NeedCoefSE))
	t.Logf("fit without error: %+v", exact.Fit)
	if exact.Fit.PracticeR2 < exact.Fit.PerfectPracticeR2-0.05 {
		t.Errorf("with an exact proxy the formula's practice-level R² %.3f is far below the perfect formula's %.3f", exact.Fit.PracticeR2, exact.Fit.PerfectPracticeR2)
	}
	if noisy.Fit.PracticeR2 >= exact.Fit.PracticeR2 {
		t.Errorf("a noisy proxy fits practices no worse (R² %.3f against %.3f)", noisy.Fit.PracticeR2, exact.Fit.PracticeR2)
	}
}

// TestOneWay: a one-way variant holds its parameter at the prior's 10th or
// 90th percentile and every other uncertain parameter at its point value,
// in every replication; the base holds all at their points.
func TestOneWay(t *testing.T) {
	m := simpleModel(200)
	m.Effects.Trend[sim.Prescribing].Demand = 0.04
	m.Streams[sim.Emergency].RateUncertaintySD = 0.1
	m.Uncertainty.Priors = []sim.Prior{
		{Param: sim.Param{Kind: sim.ParamCost, Stream: sim.Prescribing}, Dist: sim.DistLognormal, SD: 0.1},
		{Param: sim.Param{Kind: sim.ParamDemand, Stream: sim.Prescribing}, Dist: sim.DistNormal, SD: 0.01},
	}
	ows := m.OneWays(0.1, 0.9)
	if len(ows) != 3 {
		t.Fatalf("%d one-way ranges, want 3 (rate.emergency, cost.prescribing, demand_growth.prescribing)", len(ows))
	}
	z := 1.2815515655446004 // Φ⁻¹(0.9)
	d := ows[2]
	if d.Prior.Param.String() != "demand_growth.prescribing" || math.Abs(d.Low-(0.04-0.01*z)) > 1e-12 || math.Abs(d.High-(0.04+0.01*z)) > 1e-12 {
		t.Errorf("demand growth range %+v, want 0.04 ∓ 0.01·%.4f", d, z)
	}
	for _, f := range []*sim.Model{m.Fixing(), m.Fixing(sim.Fixed{Param: ows[1].Prior.Param, Value: ows[1].High})} {
		if u := f.Uncertain(); len(u) != 0 {
			t.Errorf("a sensitivity model leaves %v uncertain", u)
		}
		for rep := range 3 {
			v, err := sim.ReplicationParams(f, 1, rep)
			if err != nil || len(v) != 0 {
				t.Fatalf("replication %d: %v, %v", rep, v, err)
			}
		}
	}
	hi := m.Fixing(sim.Fixed{Param: ows[1].Prior.Param, Value: ows[1].High})
	rows := run(t, hi, sim.Options{Seed: 2, FirstRep: 0, LastRep: 3, Years: 1, Workers: 1})
	mean := m.Streams[sim.Prescribing].MeanCost()
	for _, r := range rows {
		if unit := r.Spend[sim.Prescribing] / float64(r.Events[sim.Prescribing]); math.Abs(unit/(mean*ows[1].High)-1) > 0.1 {
			t.Errorf("cost per item %.3f with cost.prescribing at its 90th percentile %.3f", unit, ows[1].High)
		}
	}
}

// TestNeedAcrossStreams: a synthetic area's need indices have log-SD NeedSD
// in every stream and correlate 1 − NeedOwn between streams (4,000
// practices: SE of a correlation (1−r²)/√n ≈ 0.0024, of a variance about
// 2.2%); with NeedOwn 0 the streams share one index, drawn as before.
func TestNeedAcrossStreams(t *testing.T) {
	syn := sim.Synthetic{Practices: 4000, ListMean: 5000, ListSD: 1000, MinList: 1000, MaxList: 10000, NeedSD: 0.27, NeedOwn: 0.08, IDPrefix: "P"}
	for c := range sim.NCells {
		syn.AgeShare[c/sim.NBands][c%sim.NBands] = 1
	}
	ps, err := syn.Generate(1, [sim.NStreams]float64{})
	if err != nil {
		t.Fatal(err)
	}
	logs := func(s sim.Stream) []float64 {
		var out []float64
		for i := range ps {
			out = append(out, math.Log(ps[i].StreamNeed(s)))
		}
		return out
	}
	ga, rx := logs(sim.Emergency), logs(sim.Prescribing)
	_, v, _, seV := moments(ga)
	within(t, "variance of log need (emergency)", v, 0.27*0.27, seV)
	r, se := corr(ga, rx)
	within(t, "correlation of need between streams", r, 0.92, se)
	syn.NeedOwn = 0
	one, err := syn.Generate(1, [sim.NStreams]float64{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range one {
		if one[i].NeedDev != ([sim.NStreams]float64{}) || one[i].StreamNeed(sim.AE) != one[i].Need {
			t.Fatalf("practice %d: streams' own need %v with NeedOwn 0", i, one[i].NeedDev)
		}
	}
}
