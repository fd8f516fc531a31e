package sim

import (
	"fmt"
	"slices"
)

// patientYear simulates the base year (of replication k.Rep) of practice
// k.Practice patient by patient, drawing each patient's own costs, and
// calls each with every patient's cost by stream. It is for calibration and
// thresholds, not for runs: costs are drawn event by event.
func (w *worker) patientYear(k Key, each func(cost *[NStreams]float64)) {
	w.setup()
	w.startPractice(k.Seed, k.Rep, k.Practice)
	w.reseedYear(k.At(0))
	var c [NStreams]float64
	g := &w.counts.G
	for _, row := range w.pop.row {
		base := int(row) * NStreams
		u, _ := patientUniforms(g.Uint64(), g.Uint64(), g.Uint64())
		for s := range NStreams {
			c[s] = 0
			if u[s] >= w.tab.zero[base+s] {
				c[s] = w.costSum(s, w.tab.sample(base+s, u[s]))
			}
		}
		each(&c)
	}
}

// PatientYearCosts simulates one year (the base year of replication rep) of
// every patient of every practice and returns each patient's hospital cost
// (outpatient, A&E, emergency and elective) and total cost. It is for
// calibration, such as checking how concentrated costs are, not for runs: it
// keeps one value per patient.
func PatientYearCosts(m *Model, seed uint64, rep int) (hospital, total []float64) {
	p, err := prepare(m)
	if err != nil {
		panic(err)
	}
	w := &worker{p: p}
	for i := range m.Practices {
		w.patientYear(TaskKey(seed, rep, i), func(c *[NStreams]float64) {
			h, a := 0.0, 0.0
			for s, v := range c {
				a += v
				if Stream(s) != Prescribing {
					h += v
				}
			}
			hospital = append(hospital, h)
			total = append(total, a)
		})
	}
	return hospital, total
}

// MaxQuantilePatients bounds the patients PatientSpends simulates.
const MaxQuantilePatients = 2_000_000

// PatientSpends returns, sorted ascending, a patient's cost in a year over
// the streams in cover, patient by patient: what the truncation point "at
// a percentile" of per-person spend is a quantile of, as Medicare truncates
// at the national 99th percentile (42 CFR 425.604); the caller takes the
// quantile (type 7, internal/stats). It simulates the base year of the
// model's practices with the seed's replication -1 (one no run simulates);
// an area of more than MaxQuantilePatients patients is sampled by taking
// every k-th practice, so the result is fixed by the model and seed. It
// fails where there is no patient.
func PatientSpends(m *Model, seed uint64, cover [NStreams]bool) ([]float64, error) {
	p, err := prepare(m)
	if err != nil {
		return nil, err
	}
	total := 0
	for i := range m.Practices {
		total += m.Practices[i].ListSize()
	}
	stride := max(1, (total+MaxQuantilePatients-1)/MaxQuantilePatients)
	w := &worker{p: p}
	costs := make([]float64, 0, min(total, 2*MaxQuantilePatients))
	for i := 0; i < len(m.Practices); i += stride {
		w.patientYear(TaskKey(seed, -1, i), func(c *[NStreams]float64) {
			t := 0.0
			for s, v := range c {
				if cover[s] {
					t += v
				}
			}
			costs = append(costs, t)
		})
	}
	if len(costs) == 0 {
		return nil, fmt.Errorf("no patients to take a quantile of")
	}
	slices.Sort(costs)
	return costs, nil
}
