package scenarios

import (
	"math"

	"github.com/gpbudget/gpbudget/sim"
)

// MaxStyleSD bounds a calibrated stream's style_sd: a fitted spread of
// practice effects beyond 3 (log scale) is a fit that failed, not a
// practice population.
const MaxStyleSD = 3

// Calibrate applies a calibration fitted to the scenario's listed
// practices (see forecast.Calibrate): each stream's rates scaled by
// rateScale, its style_sd set to styleSD (at most MaxStyleSD), and
// practice i given the fitted styles[i] (rounded to 4 decimals) of the
// streams fitted; the others' styles are left to be drawn from style_sd.
func (s *Scenario) Calibrate(rateScale, styleSD [sim.NStreams]float64, styles [][sim.NStreams]float64, fitted [sim.NStreams]bool) {
	st := &s.Streams
	for k, stream := range []*Stream{&st.Outpatient, &st.Prescribing, &st.AE, &st.Emergency, &st.Elective} {
		for b := range stream.Rate.Male {
			stream.Rate.Male[b] *= rateScale[k]
			stream.Rate.Female[b] *= rateScale[k]
		}
		stream.StyleSD = math.Min(styleSD[k], MaxStyleSD)
	}
	for i := range s.Population.Practices {
		p := &s.Population.Practices[i]
		p.Style = map[string]float64{}
		for k := range sim.NStreams {
			if fitted[k] {
				p.Style[sim.StreamNames[k]] = math.Round(styles[i][k]*1e4) / 1e4
			}
		}
	}
}
