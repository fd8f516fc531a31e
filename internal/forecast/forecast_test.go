package forecast

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

// knownModel is the default area with every practice difference but style
// switched off (no need spread, no age tilt, no per-replication rate
// uncertainty), so each practice's true log spend per head is known exactly:
// log(ExpectedSpend/list) for its starting list. Frailty is redrawn every
// year with no excess mortality in the frail: with persistent frailty a
// practice's realised mix of frail patients is itself a lasting practice
// effect, which history cannot tell from style (the backtest covers that case).
func knownModel(t *testing.T) *sim.Model {
	t.Helper()
	s := scenarios.Default()
	s.ChanceOnly = true // a fixed style per practice: no drift, shocks, trends or priors
	s.Population.Synthetic.NeedSD = 0
	s.Population.Synthetic.AgeTiltSD = 0
	for _, st := range []*scenarios.Stream{&s.Streams.Outpatient, &s.Streams.Prescribing, &s.Streams.AE, &s.Streams.Emergency, &s.Streams.Elective} {
		st.RateUncertaintySD = 0
	}
	for k := range s.Frailty.Persistence {
		s.Frailty.Persistence[k] = 0
		s.Frailty.Mortality[k] = 1
	}
	m, err := s.Model(11)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFitRecoversPracticeEffects fits engine histories (four seeds, one
// replication of 6 years, 50 practices each) and checks each stream's
// fitted practice effect at the base year against the truth. The fitted
// effects carry standard errors (the BLUP's prediction SD); about 95% must
// lie within 1.96 SE. The 1,000 effects are not independent: a history's
// 50 effects of one stream share that fit's estimated spread (Tau), so
// they are covered or missed together, and one history's share moved from
// 0.88 to 0.98 between seeds (the binomial SE would say 0.014). Tolerance:
// the SE of the pooled share from the 20 (history, stream) clusters' shares,
// SD/sqrt(20), or the binomial SE if larger; we accept 0.95 − 3 SE or more.
// The spread of practice effects (Tau) must match the streams' style_sd
// within 3 of its standard errors.
func TestFitRecoversPracticeEffects(t *testing.T) {
	m := knownModel(t)
	idx := map[string]int{}
	for i := range m.Practices {
		idx[m.Practices[i].ID] = i
	}
	var clusters []float64
	within, n := 0, 0
	for seed := uint64(5); seed <= 8; seed++ {
		h, err := Simulate(context.Background(), m, seed, 1, 6, 0)
		if err != nil {
			t.Fatal(err)
		}
		g, err := FitHistory(h.Records, []int{0, 1, 2, 3, 4})
		if err != nil {
			t.Fatal(err)
		}
		for s := range sim.NStreams {
			f := g.Fits[s]
			in := 0
			for gi, id := range g.Practices {
				i := idx[id]
				truth := math.Log(m.ExpectedSpend(i)[s] / float64(m.Practices[i].ListSize()))
				est, v := f.Predict(gi, 0, true)
				if math.Abs(est-truth) < 1.96*math.Sqrt(v) {
					in++
				}
			}
			within += in
			n += len(g.Practices)
			clusters = append(clusters, float64(in)/float64(len(g.Practices)))
			sd := m.Streams[s].StyleSD
			if math.Abs(f.Tau-sd) > 3*f.TauSE {
				t.Errorf("seed %d, %s: practice SD %.3f ± %.3f, style_sd %.3f", seed, sim.StreamNames[s], f.Tau, f.TauSE, sd)
			}
		}
	}
	share := float64(within) / float64(n)
	_, csd := stat.MeanStdDev(clusters, nil)
	se := max(csd/math.Sqrt(float64(len(clusters))), math.Sqrt(0.95*0.05/float64(n)))
	t.Logf("%d of %d practice effects within 1.96 SE (%.3f, SE %.4f from %d clusters)", within, n, share, se, len(clusters))
	if share < 0.95-3*se {
		t.Errorf("%.3f of practice effects within 1.96 SE of the truth, want about 0.95 (>= %.3f)", share, 0.95-3*se)
	}
}

// TestBacktestCoverage runs the backtest on 8 engine histories of the
// default area (6 years each, the last held out): 400 forecasts. Each
// interval's coverage must be within 3 binomial SEs of nominal, SE =
// sqrt(p(1−p)/400): 0.025, 0.020, 0.011 for 50%, 80%, 95%. (Forecasts in
// one history share fitted parameters, so they are not quite independent;
// 3 SEs leaves room for that.) The model must also beat the naive forecast.
func TestBacktestCoverage(t *testing.T) {
	s := scenarios.Default()
	// The engine as it was when this test was written (chance around fixed
	// practice effects): with drift, last year's spend is as good a point
	// forecast as the model's (MAE within 0.3%), though its intervals are
	// far better (CRPS 160k against 223k).
	s.ChanceOnly = true
	m, err := s.Model(3)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Simulate(context.Background(), m, 3, 8, 6, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Backtest(h, 1, math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *res)
	if res.Forecasts != 400 {
		t.Fatalf("%d forecasts, want 400", res.Forecasts)
	}
	for _, c := range []struct{ got, p float64 }{{res.Coverage50, 0.5}, {res.Coverage80, 0.8}, {res.Coverage95, 0.95}} {
		se := math.Sqrt(c.p * (1 - c.p) / 400)
		if math.Abs(c.got-c.p) > 3*se {
			t.Errorf("coverage of the %.0f%% interval %.3f, want within %.3f of nominal", 100*c.p, c.got, 3*se)
		}
	}
	if res.CRPS >= res.NaiveCRPS || res.MAE >= res.NaiveMAE {
		t.Errorf("model (MAE %.0f, CRPS %.0f) does not beat the naive forecast (MAE %.0f, CRPS %.0f)", res.MAE, res.CRPS, res.NaiveMAE, res.NaiveCRPS)
	}
}

// TestFitSeriesKnownParameters simulates the model's own process with known
// parameters and checks REML recovers them: A, B within 3 of their standard
// errors; Tau, Sigma within 15% (200 practices, 8 years: their sampling SDs
// are about 5% and 2%), Rho within 0.1.
func TestFitSeriesKnownParameters(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const A, B, tau, sig, rho = 5.0, 0.02, 0.2, 0.05, 0.5
	ss := make([]Series, 200)
	for i := range ss {
		u := tau * r.NormFloat64()
		e := sig * r.NormFloat64()
		for y := range 8 {
			if y > 0 {
				e = rho*e + sig*math.Sqrt(1-rho*rho)*r.NormFloat64()
			}
			ss[i].T = append(ss[i].T, float64(2000+y))
			ss[i].Z = append(ss[i].Z, A+B*(float64(2000+y)-2003.5)+u+e)
		}
		ss[i].Scale = 1
	}
	f, err := FitSeries(ss)
	if err != nil {
		t.Fatal(err)
	}
	a := f.A + f.B*(2003.5-f.T0)
	if d := math.Abs(a - A); d > 3*math.Sqrt(f.CovAB[0][0]) {
		t.Errorf("A %.4f, want %.4f ± %.4f", a, A, math.Sqrt(f.CovAB[0][0]))
	}
	if d := math.Abs(f.B - B); d > 3*math.Sqrt(f.CovAB[1][1]) {
		t.Errorf("B %.4f, want %.4f ± %.4f", f.B, B, math.Sqrt(f.CovAB[1][1]))
	}
	if math.Abs(f.Tau/tau-1) > 0.15 || math.Abs(f.Sigma/sig-1) > 0.15 || math.Abs(f.Rho-rho) > 0.1 {
		t.Errorf("tau %.3f sigma %.3f rho %.2f, want %.3f %.3f %.2f", f.Tau, f.Sigma, f.Rho, tau, sig, rho)
	}
}

// TestCRPSLogNormal checks the closed form against the definition
// E|X−y| − E|X−X'|/2 estimated from 400,000 draws (Monte Carlo SE well
// under 0.5% of the score here; tolerance 1.5%).
func TestCRPSLogNormal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	mu, sd := 1.0, 0.4
	const n = 400000
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Exp(mu + sd*r.NormFloat64())
	}
	for _, y := range []float64{1.5, 2.7, 6} {
		a, b := 0.0, 0.0
		for i := range n {
			a += math.Abs(x[i] - y)
			b += math.Abs(x[i] - x[(i+1)%n])
		}
		mc := a/n - b/(2*n)
		if got := CRPSLogNormal(mu, sd, y); math.Abs(got/mc-1) > 0.015 {
			t.Errorf("y=%v: CRPS %.4f, Monte Carlo %.4f", y, got, mc)
		}
	}
}

func TestHistoryFiles(t *testing.T) {
	dir := t.TempDir()
	h := &History{Records: []Record{
		{Practice: "A1", Year: 2008, List: 5000, Spend: [5]float64{1, 2, 3, 4, 5}},
		{Practice: "A1", Year: 2009, List: 5100, Spend: [5]float64{2, 3, 4, 5, 6}},
	}}
	long := filepath.Join(dir, "long.csv")
	f, _ := os.Create(long)
	if err := h.WriteCSV(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := ReadHistory(long)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 2 || got.Records[1].Spend != h.Records[1].Spend || got.Records[1].List != 5100 {
		t.Fatalf("long CSV read back as %+v", got.Records)
	}
	wide := filepath.Join(dir, "wide.csv")
	os.WriteFile(wide, []byte("practice_id,year,spend_outpatient,spend_prescribing,spend_ae,spend_emergency,spend_elective,other\nA1,2008,1,2,3,4,5,z\n"), 0o644)
	if got, err := ReadHistory(wide); err != nil || got.Records[0].Total() != 15 || got.Records[0].List != 0 {
		t.Fatalf("wide CSV: %+v, %v", got, err)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("practice_id,year,stream,spend\nA1,2008,outpatient,1\nA1,2008,dentistry,2\n"), 0o644)
	if _, err := ReadHistory(bad); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("unknown stream: %v (want the line)", err)
	}
	short := filepath.Join(dir, "short.csv")
	os.WriteFile(short, []byte("practice_id,year,stream,spend\nA1,2008,outpatient,1\n"), 0o644)
	if _, err := ReadHistory(short); err == nil || !strings.Contains(err.Error(), "lacks some streams") {
		t.Errorf("missing streams: %v", err)
	}
}

// TestAgeingFactors: a young list's cost per head rises as it ages, and
// lists of different ages age differently.
func TestAgeingFactors(t *testing.T) {
	m := knownModel(t)
	young, old := m.Practices[0], m.Practices[0]
	for b := range sim.NBands {
		for s := range sim.NSex {
			if b < 10 {
				young.Count[s][b] = 10
			} else {
				old.Count[s][b] = 10
			}
		}
	}
	m.Practices = []sim.Practice{young, old}
	f := AgeingFactors(m, 3)
	if !(f[0][2][Total] > f[0][0][Total] && f[0][0][Total] > 1) {
		t.Errorf("a young list's cost per head should rise with age: %v", f[0])
	}
	vals := []float64{f[0][2][Total], f[1][2][Total]}
	sort.Float64s(vals)
	if vals[0] == vals[1] {
		t.Error("ageing factors do not depend on the age mix")
	}
}

// TestBacktestCoverageListDynamics: the same on 8 histories of the default
// area with list dynamics on (measured drift, jumps, closures and mergers;
// practices that leave are not forecast): list size and spend intervals
// each within 3 binomial SEs of nominal, and both beat the naive forecast
// on CRPS.
func TestBacktestCoverageListDynamics(t *testing.T) {
	if testing.Short() {
		t.Skip("engine histories; skipped with -short")
	}
	s := scenarios.Default()
	s.Lists.Dynamics = true
	m, err := s.Model(3)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Simulate(context.Background(), m, 3, 8, 6, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Backtest(h, 1, math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *res)
	for _, c := range []struct {
		what   string
		n      int
		got, p float64
	}{
		{"spend", res.Forecasts, res.Coverage50, 0.5}, {"spend", res.Forecasts, res.Coverage80, 0.8}, {"spend", res.Forecasts, res.Coverage95, 0.95},
		{"list", res.ListForecasts, res.ListCoverage50, 0.5}, {"list", res.ListForecasts, res.ListCoverage80, 0.8}, {"list", res.ListForecasts, res.ListCoverage95, 0.95},
	} {
		if se := math.Sqrt(c.p * (1 - c.p) / float64(c.n)); math.Abs(c.got-c.p) > 3*se {
			t.Errorf("%s: coverage of the %.0f%% interval %.3f, want within %.3f of nominal", c.what, 100*c.p, c.got, 3*se)
		}
	}
	if res.CRPS >= res.NaiveCRPS || res.ListCRPS >= res.ListNaiveCRPS {
		t.Errorf("CRPS spend %.0f (naive %.0f), list %.1f (naive %.1f): the model should beat the naive forecast", res.CRPS, res.NaiveCRPS, res.ListCRPS, res.ListNaiveCRPS)
	}
}

// TestHistoryLeavesOutClosedRows: a run's rows after a practice closed or
// merged (regime closed: list and spend zero) are not history, so the rest
// is still modelled per head.
func TestHistoryLeavesOutClosedRows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.csv")
	csv := "practice_id,year,list_size,spend_outpatient,spend_prescribing,spend_ae,spend_emergency,spend_elective,regime\n" +
		"A,1,1000,10,20,30,40,50,hard\nA,2,1010,11,21,31,41,51,hard\nA,3,0,0,0,0,0,0,closed\n" +
		"B,1,2000,10,20,30,40,50,hard\nB,2,2020,11,21,31,41,51,hard\nB,3,2500,12,22,32,42,52,hard\n" +
		"C,1,3000,12,20,30,40,50,hard\nC,2,3020,13,21,31,41,51,hard\nC,3,3100,12,22,32,42,52,hard\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Records) != 8 {
		t.Fatalf("%d records, want 8 (the closed row left out)", len(h.Records))
	}
	g, err := FitHistory(h.Records, []int{Total})
	if err != nil {
		t.Fatal(err)
	}
	if !g.PerHead || g.Forecasts(0, Total) || !g.Forecasts(1, Total) {
		t.Errorf("per head %v, forecasts A %v, B %v: want per head, B only (A closed before the last year)", g.PerHead, g.Forecasts(0, Total), g.Forecasts(1, Total))
	}
}

// TestFitSeriesYearEffectsAndSizeFreeVariance simulates the model with a
// year effect shared by every practice (Omega) and residual variance of
// which a share W falls with list size, the rest not (a practice's drift):
// 100 practices of lists a tenth to ten times the mean, 20 years. REML
// recovers Omega within 3 of its large-sample standard errors,
// Omega/sqrt(2(T-2)) with T-2 = 18 degrees of freedom for the year effects
// after level and trend, and W within 0.15 (its sampling SD here is about
// 0.04 by simulation). A model without year effects would fold them into
// each practice's residual and its intervals for a new year would be too
// narrow: the fitted Omega must be added to a new year's variance.
func TestFitSeriesYearEffectsAndSizeFreeVariance(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const A, B, tau, sig, w, rho, om = 5.0, 0.02, 0.2, 0.06, 0.5, 0.5, 0.03
	const years = 20
	y := make([]float64, years)
	for k := range y {
		y[k] = om * r.NormFloat64()
	}
	ss := make([]Series, 100)
	for i := range ss {
		scale := math.Pow(10, 2*float64(i)/float64(len(ss)-1)-1)
		sd := sig * math.Sqrt(w*scale+1-w)
		u := tau * r.NormFloat64()
		e := sd * r.NormFloat64()
		for k := range years {
			if k > 0 {
				e = rho*e + sd*math.Sqrt(1-rho*rho)*r.NormFloat64()
			}
			ss[i].T = append(ss[i].T, float64(2000+k))
			ss[i].Z = append(ss[i].Z, A+B*float64(k)+u+y[k]+e)
		}
		ss[i].Scale = scale
	}
	f, err := FitSeries(ss)
	if err != nil {
		t.Fatal(err)
	}
	// The year effects drawn are the truth for this history: their sample
	// SD about a trend is what REML can see.
	if se := om / math.Sqrt(2*(years-2)); math.Abs(f.Omega-om) > 3*se {
		t.Errorf("Omega %.4f, want %.4f ± %.4f", f.Omega, om, 3*se)
	}
	if math.Abs(f.W-w) > 0.15 {
		t.Errorf("W %.3f, want %.3f ± 0.15", f.W, w)
	}
	if math.Abs(f.Sigma/sig-1) > 0.15 || math.Abs(f.Rho-rho) > 0.1 {
		t.Errorf("sigma %.4f rho %.2f, want %.4f %.2f", f.Sigma, f.Rho, sig, rho)
	}
}

// TestYearEffectCoverage: histories of 30 practices over 6 years with a year
// effect shared by the practices (SD 0.04, against a residual SD of 0.03);
// each is fitted on 5 years and its practices forecast a year ahead. The
// central 95% intervals must cover 95% of outcomes: within 3 standard
// errors, the standard error taken from the histories' own coverages, since
// one history's forecasts share its year effect. Without the year effect's
// variance the coverage falls to about 84%.
func TestYearEffectCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const histories, practices, years = 60, 30, 6
	const tau, sig, rho, om = 0.15, 0.03, 0.5, 0.04
	z := distuv.UnitNormal.Quantile(0.975)
	var cov []float64
	for range histories {
		y := make([]float64, years)
		for k := range y {
			y[k] = om * r.NormFloat64()
		}
		ss := make([]Series, practices)
		last := make([]float64, practices)
		for i := range ss {
			u := tau * r.NormFloat64()
			e := sig * r.NormFloat64()
			for k := range years {
				if k > 0 {
					e = rho*e + sig*math.Sqrt(1-rho*rho)*r.NormFloat64()
				}
				v := 3 + 0.02*float64(k) + u + y[k] + e
				if k == years-1 {
					last[i] = v
					continue
				}
				ss[i].T = append(ss[i].T, float64(k))
				ss[i].Z = append(ss[i].Z, v)
			}
			ss[i].Scale = 1
		}
		f, err := FitSeries(ss)
		if err != nil {
			t.Fatal(err)
		}
		in := 0
		for i := range ss {
			m, v := f.Predict(i, years-1, false)
			if math.Abs(last[i]-m) <= z*math.Sqrt(v) {
				in++
			}
		}
		cov = append(cov, float64(in)/practices)
	}
	mean, sd := stat.MeanStdDev(cov, nil)
	if se := sd / math.Sqrt(histories); math.Abs(mean-0.95) > 3*se {
		t.Errorf("95%% intervals cover %.3f ± %.3f of outcomes", mean, se)
	}
}
