package sim

// PatientYearCosts simulates one year (the base year of replication rep) of
// every patient of every practice and returns each patient's hospital cost
// (outpatient, A&E, emergency and elective) and total cost. It is for
// calibration, such as checking how concentrated costs are, not for runs: it
// keeps one value per patient.
func PatientYearCosts(m *Model, seed uint64, rep int) (hospital, total []float64) {
	w := calibrationWorker(m)
	for i := range m.Practices {
		k := w.startPractice(seed, rep, i)
		w.reseedYear(k.At(0))
		for _, row := range w.pop.row {
			base := int(row) * NStreams
			h, a := 0.0, 0.0
			for s := range NStreams {
				u := w.counts.G.Uint64()
				if u < w.tab.zero[base+s] {
					continue
				}
				c := w.costSum(s, w.tab.sample(base+s, u))
				a += c
				if Stream(s) != Prescribing {
					h += c
				}
			}
			hospital = append(hospital, h)
			total = append(total, a)
		}
	}
	return hospital, total
}
