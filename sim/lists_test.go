package sim

import (
	"context"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// testLists are list dynamics with two jump components and no leaving.
func testLists() *ListDynamics {
	return &ListDynamics{
		Drift: 0.01, DriftSD: 0.02, DriftSDList: 5000, DriftSDExponent: 0.75,
		Persistence: 0.5, PersistenceLimit: 0.06, PersistenceCentre: 0.015,
		Jumps:     []ListJump{{P: 0.18, Mean: 0.04, SD: 0.065}, {P: 0.03, Mean: 0.19, SD: 0.25}},
		JumpLimit: 2, Leaving: []LeavingBand{{}}, Neighbours: 3,
	}
}

// quietModel is cohortTestModel without deaths, births or turnover, so
// lists move only by list dynamics.
func quietModel(l *ListDynamics, lists ...int) *Model {
	m := cohortTestModel()
	m.Demography = Demography{MaleBirthShare: 0.5}
	m.Lists = l
	m.Practices = nil
	for i, n := range lists {
		p := Practice{ID: "Q" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Need: 1, Style: [NStreams]float64{1, 1, 1, 1, 1}}
		for c := range NCells {
			p.Count[c/NBands][c%NBands] = n / NCells
		}
		p.Count[Female][8] += n % NCells
		m.Practices = append(m.Practices, p)
	}
	return m
}

// mixtureCDF is the CDF of the measured change X for a list of n with no
// last change known, before the limit, and its mean and variance.
func mixtureCDF(lp *listPrep, n float64) (cdf func(float64) float64, mean, vari float64) {
	l := lp.d
	type comp struct{ w, m, s float64 }
	pi := 0.0
	var cs []comp
	for _, j := range l.Jumps {
		cs = append(cs, comp{j.P, j.Mean, j.SD})
		pi += j.P
	}
	cs = append(cs, comp{1 - pi, l.Drift, math.Sqrt(lp.driftVar(int(n), l.Drift))})
	for _, c := range cs {
		mean += c.w * c.m
		vari += c.w * (c.s*c.s + c.m*c.m)
	}
	vari -= mean * mean
	return func(x float64) float64 {
		p := 0.0
		for _, c := range cs {
			p += c.w * distuv.UnitNormal.CDF((x-c.m)/c.s)
		}
		return p
	}, mean, vari
}

// TestListChangeMixture draws 40,000 annual changes X (D + the engine's
// own growth) and checks them against the mixture's analytic distribution:
// a one-sample Kolmogorov-Smirnov test at level 0.001 (critical distance
// 1.95/√N), the share beyond ±0.15 of the drift (the jumps' frequency: a
// binomial with its SE, 4 SE), the mean and variance (4 SE, the variance's
// from the fourth moment), at two list sizes so the drift's size scaling
// is tested too, net of the variance the demography already gives. Then the
// limit: the share of draws at ±JumpLimit is the mass beyond it, and
// persistence: the mean moves by Persistence × (winsorised x − centre).
func TestListChangeMixture(t *testing.T) {
	m := cohortTestModel()
	m.Lists = testLists()
	p, err := prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	lp := p.lists
	if lp.own == 0 || lp.demoVar <= 0 {
		t.Fatalf("own growth %v, demography variance %v: want both non-zero (births, deaths, turnover)", lp.own, lp.demoVar)
	}
	const N = 40000
	var d Draws
	for _, n := range []int{5000, 40000} {
		d.Reseed(Key{Seed: 3, Rep: n}, PurposeLists)
		xs := make([]float64, N)
		for k := range xs {
			xs[k] = lp.change(&d, n, math.NaN(), 0) + lp.own
		}
		cdf, mean, vari := mixtureCDF(lp, float64(n))
		slices.Sort(xs)
		ks := 0.0
		for k, x := range xs {
			c := cdf(x)
			ks = math.Max(ks, math.Max(math.Abs(float64(k+1)/N-c), math.Abs(c-float64(k)/N)))
		}
		if crit := 1.95 / math.Sqrt(N); ks > crit {
			t.Errorf("list %d: Kolmogorov-Smirnov distance %.4f from the mixture, critical %.4f", n, ks, crit)
		}
		far := 0
		for _, x := range xs {
			if math.Abs(x-m.Lists.Drift) > 0.15 {
				far++
			}
		}
		pFar := cdf(m.Lists.Drift-0.15) + 1 - cdf(m.Lists.Drift+0.15)
		se := math.Sqrt(pFar * (1 - pFar) / N)
		if got := float64(far) / N; math.Abs(got-pFar) > 4*se {
			t.Errorf("list %d: %.4f of changes beyond ±0.15 of the drift, want %.4f (SE %.4f)", n, got, pFar, se)
		}
		mo := momentsOf(xs)
		if math.Abs(mo.mean-mean) > 4*mo.seMean || math.Abs(mo.vari-vari) > 4*mo.seVar {
			t.Errorf("list %d: mean %.5f (SE %.5f) and variance %.6f (SE %.6f), want %.5f and %.6f", n, mo.mean, mo.seMean, mo.vari, mo.seVar, mean, vari)
		}
	}
	// The limit: draws beyond it are kept at it.
	m.Lists.JumpLimit = 0.2
	d.Reseed(Key{Seed: 4}, PurposeLists)
	at := 0
	for range N {
		if x := lp.change(&d, 5000, math.NaN(), 0) + lp.own; math.Abs(math.Abs(x)-0.2) < 1e-12 {
			at++
		}
	}
	cdf, _, _ := mixtureCDF(lp, 5000)
	pAt := cdf(-0.2) + 1 - cdf(0.2)
	if se := math.Sqrt(pAt * (1 - pAt) / N); math.Abs(float64(at)/N-pAt) > 4*se {
		t.Errorf("%.4f of changes at the limit ±0.2, want %.4f (SE %.4f)", float64(at)/N, pAt, se)
	}
	// Persistence: last year's change of 0.3 is winsorised at 0.06; a
	// common shock of 0.01 moves the drift too.
	m.Lists.JumpLimit, m.Lists.Jumps = 2, nil
	d.Reseed(Key{Seed: 5}, PurposeLists)
	xs := make([]float64, N)
	for k := range xs {
		xs[k] = lp.change(&d, 5000, 0.3, 0.01) + lp.own
	}
	want := m.Lists.Drift + 0.01 + m.Lists.Persistence*(m.Lists.PersistenceLimit-m.Lists.PersistenceCentre)
	if mo := momentsOf(xs); math.Abs(mo.mean-want) > 4*mo.seMean {
		t.Errorf("with last change 0.3 and shock 0.01: mean %.5f (SE %.5f), want %.5f", mo.mean, mo.seMean, want)
	}
}

// TestListEventRates checks closures and mergers against their hazards,
// by band of the starting list, over 400 practices × 6 years × 40
// replications (binomial SEs, 4 SE), and that an absorber is drawn in
// proportion to its list among a merged practice's open neighbours: the
// number of absorbers that are the large practices is compared with the
// sum of each event's probability (SE from the sum of p(1−p)).
func TestListEventRates(t *testing.T) {
	l := testLists()
	l.Leaving = []LeavingBand{{Below: 3000, Closure: 0.03, Merger: 0.08}, {Closure: 0.01, Merger: 0.02}}
	sizes := make([]int, 400)
	for i := range sizes {
		sizes[i] = 2000 + 6000*(i%2)
	}
	m := quietModel(l, sizes...)
	p, err := prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	const reps, years = 40, 6
	var atRisk, closed, merged [2]float64
	bigAbsorbers, wantBig, varBig := 0.0, 0.0, 0.0
	for r := range reps {
		ev := p.drawListEvents(9, r, years, true, nil)
		for i, n := range sizes {
			b := 0
			if n >= 3000 {
				b = 1
			}
			y := int(ev.leave[i])
			if y == 0 {
				atRisk[b] += years
				continue
			}
			atRisk[b] += float64(y)
			if ev.merge[i] {
				merged[b]++
				if len(ev.out[i]) != 1 || ev.out[i][0].share != 1 {
					t.Fatalf("a merger moves its list to %d practices", len(ev.out[i]))
				}
				// Its candidates: the open neighbours that year.
				leaveAt := make([]int32, len(sizes))
				for j := range sizes {
					if ev.leave[j] != 0 && int(ev.leave[j]) <= y {
						leaveAt[j] = ev.leave[j]
					}
				}
				big, tot := 0.0, 0.0
				for _, c := range p.neighbours(leaveAt, i) {
					n := float64(sizes[c.to])
					tot += n
					if n >= 3000 {
						big += n
					}
				}
				wantBig += big / tot
				varBig += big / tot * (1 - big/tot)
				if sizes[ev.out[i][0].to] >= 3000 {
					bigAbsorbers++
				}
			} else {
				closed[b]++
				if len(ev.out[i]) != l.Neighbours {
					t.Errorf("a closure disperses to %d practices, want %d", len(ev.out[i]), l.Neighbours)
				}
			}
		}
	}
	for b, band := range l.Leaving {
		for _, c := range []struct {
			what      string
			n, hazard float64
		}{{"closures", closed[b], band.Closure}, {"mergers", merged[b], band.Merger}} {
			got := c.n / atRisk[b]
			se := math.Sqrt(c.hazard * (1 - c.hazard) / atRisk[b])
			if math.Abs(got-c.hazard) > 4*se {
				t.Errorf("band %d: %s at %.4f a practice-year, want %.4f (SE %.4f, %v at risk)", b, c.what, got, c.hazard, se, atRisk[b])
			}
		}
	}
	if math.Abs(bigAbsorbers-wantBig) > 4*math.Sqrt(varBig) {
		t.Errorf("%v mergers into a large practice, want %.1f (SE %.1f)", bigAbsorbers, wantBig, math.Sqrt(varBig))
	}
}

// lists is a sink that keeps each replication's list sizes and regimes.
type listRows struct{ rows []PracticeYear }

func (c *listRows) Write(rep *Replication) error {
	c.rows = append(c.rows, rep.Rows...)
	return nil
}

// TestListConservation: with no deaths, births, turnover or list change
// (the drift set to the closures' expected inflow, which the engine takes
// off every list, so that D is exactly 0), closures and mergers only move
// patients, so every replication's total list is the same in every year,
// exactly, in both modes; a practice that
// leaves has zero rows (regime closed) from then on; and the run's ledger
// audit passes. Runs with 1 and 3 workers give the same rows (receivers
// wait for their donors whatever the schedule).
func TestListConservation(t *testing.T) {
	l := testLists()
	l.DriftSD, l.Jumps, l.Persistence = 0, nil, 0
	l.Leaving = []LeavingBand{{Closure: 0.06, Merger: 0.06}}
	sizes := make([]int, 30)
	total := 0
	for i := range sizes {
		sizes[i] = 400 + 37*i
		total += sizes[i]
	}
	m := quietModel(l, sizes...)
	p, err := prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.lists.own-0.06) > 1e-9 {
		t.Fatalf("expected inflow %v a head, want the closure rate 0.06", p.lists.own)
	}
	l.Drift = p.lists.own
	for _, cohort := range []bool{false, true} {
		var rows [2]listRows
		for k, w := range []int{1, 3} {
			if err := Run(context.Background(), m, Options{Seed: 5, LastRep: 12, Years: 6, Workers: w, Cohort: cohort}, &rows[k]); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.EqualFunc(rows[0].rows, rows[1].rows, func(a, b PracticeYear) bool {
			return a.ListSize == b.ListSize && a.SpendTotal == b.SpendTotal && a.Regime == b.Regime
		}) {
			t.Errorf("cohort %v: rows differ between 1 and 3 workers", cohort)
		}
		sums := map[[2]int]int{}
		closedAt := map[[2]int]int{}
		left := 0
		for _, r := range rows[0].rows {
			sums[[2]int{r.Replication, r.Year}] += r.ListSize
			key := [2]int{r.Replication, r.Practice}
			if r.Regime == RegimeClosed {
				if r.ListSize != 0 || r.Budget != 0 || r.SpendTotal != 0 || r.CommissionerPaid != 0 {
					t.Fatalf("a closed row has list %d, budget %v, spend %v", r.ListSize, r.Budget, r.SpendTotal)
				}
				if _, ok := closedAt[key]; !ok {
					closedAt[key] = r.Year
					left++
				}
			} else if y, ok := closedAt[key]; ok && r.Year > y {
				t.Fatalf("practice %d reopens in year %d after closing in %d", r.Practice, r.Year, y)
			}
		}
		for k, s := range sums {
			if s != total {
				t.Errorf("cohort %v: replication %d, year %d: %d patients, want %d", cohort, k[0], k[1], s, total)
			}
		}
		if left < 50 {
			t.Errorf("cohort %v: only %d practices left in 12 replications", cohort, left)
		}
	}
}

// TestTransferKeepsMix: a leaving practice's patients reach its receivers
// with its own age-sex mix and frailty states: the receivers' group counts
// rise by exactly the donor's, group by group, at patient level and in
// cohort mode.
func TestTransferKeepsMix(t *testing.T) {
	l := testLists()
	l.Leaving = []LeavingBand{{Closure: 1}}
	m := quietModel(l, 3000, 1000, 2000, 1500)
	m.Practices[0].Count[Male][17] += 400 // an old donor
	m.Practices[0].Count[Female][0] += 300
	p, err := prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	g := NCells * p.k
	for _, cohort := range []bool{false, true} {
		ev := &listEvents{leave: []int32{1, 0, 0, 0}, merge: make([]bool, 4), shock: make([]float64, 2)}
		ev.out = [][]listMove{p.neighbours(ev.leave, 0), nil, nil, nil}
		ev.done = []chan struct{}{make(chan struct{}), nil, nil, nil}
		ev.in = make([][]int32, 4)
		for _, mv := range ev.out[0] {
			ev.in[mv.to] = []int32{0}
		}
		w := &worker{p: p}
		var s simulator = patients{w}
		if cohort {
			s = cohorts{w}
		}
		s.start(TaskKey(1, 0, 0))
		donor := make([]int64, g)
		s.(listMover).groups(donor)
		var d Draws
		d.Reseed(Key{Seed: 1}, PurposeLists)
		w.publish(&d, s.(listMover), ev, 0)
		if s.(listMover).size() != 0 {
			t.Fatal("the donor's list is not empty after it left")
		}
		got := make([]int64, g)
		for _, mv := range ev.out[0] {
			r := &worker{p: p}
			var rs simulator = patients{r}
			if cohort {
				rs = cohorts{r}
			}
			rs.start(TaskKey(1, 0, int(mv.to)))
			before := make([]int64, g)
			rs.(listMover).groups(before)
			rs.(listMover).receive(&d, mv.counts)
			after := make([]int64, g)
			rs.(listMover).groups(after)
			for k := range got {
				got[k] += after[k] - before[k]
			}
			if !cohort {
				var cells [NCells]int32
				for _, row := range r.pop.row {
					cells[int(row)/p.k]++
				}
				if cells != r.pop.cells {
					t.Fatal("a receiver's cell counts do not match its patients")
				}
			}
		}
		if !slices.Equal(got, donor) {
			t.Errorf("cohort %v: receivers gained %v by group, the donor had %v", cohort, got, donor)
		}
	}
}

// TestListsCohortAgrees: list sizes agree between patient level and cohort
// mode in mean and variance (4.5 combined SE) for every practice and year,
// with list changes, closures and mergers, on cohortTestModel (flat rates
// and mortality, where the modes agree exactly in distribution).
func TestListsCohortAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical comparison of two modes; skipped with -short")
	}
	m := cohortTestModel()
	m.Lists = testLists()
	m.Lists.Leaving = []LeavingBand{{Closure: 0.05, Merger: 0.05}}
	m.Lists.Neighbours = 1
	const reps, years = 1500, 3
	var pat, coh listRows
	if err := Run(context.Background(), m, Options{Seed: 21, LastRep: reps, Years: years}, &pat); err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), m, Options{Seed: 22, LastRep: reps, Years: years, Cohort: true}, &coh); err != nil {
		t.Fatal(err)
	}
	np := len(m.Practices)
	for y := 1; y <= years; y++ {
		for i := range np {
			var a, b []float64
			for _, r := range pat.rows {
				if r.Year == y && r.Practice == i {
					a = append(a, float64(r.ListSize))
				}
			}
			for _, r := range coh.rows {
				if r.Year == y && r.Practice == i {
					b = append(b, float64(r.ListSize))
				}
			}
			ma, mb := momentsOf(a), momentsOf(b)
			if d, se := ma.mean-mb.mean, math.Hypot(ma.seMean, mb.seMean); math.Abs(d) > 4.5*se {
				t.Errorf("practice %d, year %d: mean list %.1f (patients) vs %.1f (cohorts), SE %.1f", i, y, ma.mean, mb.mean, se)
			}
			if d, se := ma.vari-mb.vari, math.Hypot(ma.seVar, mb.seVar); math.Abs(d) > 4.5*se {
				t.Errorf("practice %d, year %d: list variance %.0f vs %.0f, SE %.0f", i, y, ma.vari, mb.vari, se)
			}
		}
	}
}

// TestListGrowthAsMeasured: with the demography on, a list's annual log
// change has the measured mixture's mean and, in years without a jump, its
// drift variance at that list, as the engine supplies part of each itself
// (its births, deaths and turnover). 60 practices of 5,000 (the drift SD's
// reference list) × 2 changes × 600 replications, in cohort mode (which
// moves lists as patient level does: TestListsCohortAgrees); mean and
// variance within 4 SE.
func TestListGrowthAsMeasured(t *testing.T) {
	if testing.Short() {
		t.Skip("statistical; skipped with -short")
	}
	l := testLists()
	l.Persistence = 0
	sizes := make([]int, 60)
	for i := range sizes {
		sizes[i] = 5000
	}
	m := quietModel(l, sizes...)
	m.Demography = cohortTestModel().Demography
	m.Demography.Turnover = 0.12
	for sex := range NSex {
		for b := range NBands {
			m.Demography.Mortality[sex][b] = 0.02 // the engine's own growth about -1%
		}
	}
	const reps = 600
	p, err := prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	var c listRows
	if err := Run(context.Background(), m, Options{Seed: 8, LastRep: reps, Years: 3, Cohort: true}, &c); err != nil {
		t.Fatal(err)
	}
	np := len(sizes)
	var all []float64
	for j := np; j < len(c.rows); j++ {
		r, q := c.rows[j], c.rows[j-np]
		if r.Year > 1 && q.Replication == r.Replication && q.Practice == r.Practice {
			all = append(all, math.Log(float64(r.ListSize)/float64(q.ListSize)))
		}
	}
	_, mean, _ := mixtureCDF(p.lists, 5000)
	if mo := momentsOf(all); math.Abs(mo.mean-mean) > 4*mo.seMean {
		t.Errorf("mean annual log change %.5f (SE %.5f), want the mixture's %.5f", mo.mean, mo.seMean, mean)
	}
	// Drift years only: jumps off.
	m.Lists.Jumps = nil
	c.rows = nil
	if err := Run(context.Background(), m, Options{Seed: 9, LastRep: reps, Years: 3, Cohort: true}, &c); err != nil {
		t.Fatal(err)
	}
	var drift []float64
	for j := np; j < len(c.rows); j++ {
		r, q := c.rows[j], c.rows[j-np]
		if r.Year > 1 && q.Replication == r.Replication && q.Practice == r.Practice {
			drift = append(drift, math.Log(float64(r.ListSize)/float64(q.ListSize)))
		}
	}
	want := l.DriftSD * l.DriftSD
	if mo := momentsOf(drift); math.Abs(mo.vari-want) > 4*mo.seVar || math.Abs(mo.mean-l.Drift) > 4*mo.seMean {
		t.Errorf("drift years: mean %.5f (SE %.5f), variance %.3g (SE %.2g); want %.5f and %.3g", mo.mean, mo.seMean, mo.vari, mo.seVar, l.Drift, want)
	}
}

// TestBudgetsMeetTheMovedList: a year's list events come after its budget
// is set. Every list jumps by exactly +40% a year (no demography): the
// capitation budget, set on the list before the jump, falls 40% short of
// spend on the moved list, which the next year's budget catches up with.
func TestBudgetsMeetTheMovedList(t *testing.T) {
	l := testLists()
	l.Jumps = []ListJump{{P: 1, Mean: math.Log(1.4)}}
	m := quietModel(l, 20000, 30000)
	m.Budget = Budget{Setter: CapitationBudget{}}
	var c listRows
	if err := Run(context.Background(), m, Options{Seed: 2, LastRep: 40, Years: 3}, &c); err != nil {
		t.Fatal(err)
	}
	np := len(m.Practices)
	var ratio []float64
	for j, r := range c.rows {
		ratio = append(ratio, r.SpendTotal/r.Budget)
		if j >= np && c.rows[j-np].Replication == r.Replication {
			if g := float64(r.ListSize) / float64(c.rows[j-np].ListSize); math.Abs(g-1.4) > 0.02 {
				t.Fatalf("list grew by %.3f, want 1.4", g)
			}
		}
	}
	if mo := momentsOf(ratio); math.Abs(mo.mean-1.4) > 4*mo.seMean+0.01 {
		t.Errorf("spend / budget %.3f (SE %.3f), want about 1.4: the budget should not know the year's list change", mo.mean, mo.seMean)
	}
}

// TestListAllocations: list changes (joiners, Floyd's removals, the
// year's drift) allocate nothing per practice task once the worker's
// buffers have grown: list events cost per practice-year, not per patient.
func TestListAllocations(t *testing.T) {
	m := cohortTestModel()
	m.Lists = testLists()
	m.Lists.Jumps = append(m.Lists.Jumps, ListJump{P: 0.3, Mean: -0.2, SD: 0.1}) // removals too
	for _, cohort := range []bool{false, true} {
		k, err := NewKernel(m, 4, cohort)
		if err != nil {
			t.Fatal(err)
		}
		pass := func() {
			for r := range 3 {
				for i := range m.Practices {
					if _, err := k.Practice(1, r, i); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		pass()
		if a := testing.AllocsPerRun(3, pass); a > 0 {
			t.Errorf("cohort %v: %v allocations per pass of 6 practice tasks", cohort, a)
		}
	}
}
