package sim

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
	w.setup()
	one := [NStreams]float64{1, 1, 1, 1, 1}
	for i := range m.Practices {
		k := TaskKey(seed, rep, i)
		w.initList(k)
		w.buildTables(i, &one)
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
