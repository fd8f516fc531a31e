package forecast

import (
	"math"

	"github.com/gpbudget/gpbudget/sim"
)

// PracticeFit is what a fit says about one practice, for a scenario.
type PracticeFit struct {
	ID string
	// Style multiplies the base rates of each stream so that the practice's
	// expected spend in the last fitted year matches its fitted effect.
	Style [sim.NStreams]float64
}

// Calibration maps a fit onto the engine's parameters: each stream's rates
// are scaled by RateScale and each practice gets a style, so that the
// engine's expected spend per head for the practice's age-sex mix equals
// the fitted practice effect exp(A + B(t−T0) + Û) in the last fitted year.
// StyleSD is the fitted SD of practice effects (Tau). Costs, dispersion and
// frailty are left as they are in the base model.
type Calibration struct {
	RateScale [sim.NStreams]float64
	StyleSD   [sim.NStreams]float64
	Practices []PracticeFit
}

// Calibrate computes the calibration of base (whose practices are those of
// g, in g.Practices order, with their age-sex lists) from the fit g.
func Calibrate(g *GroupFit, base *sim.Model) Calibration {
	var c Calibration
	np := len(g.Practices)
	c.Practices = make([]PracticeFit, np)
	for i := range np {
		c.Practices[i].ID = g.Practices[i]
	}
	for s := range sim.NStreams {
		f := g.Fits[s]
		if f == nil {
			c.RateScale[s], c.StyleSD[s] = 1, base.Streams[s].StyleSD
			for i := range np {
				c.Practices[i].Style[s] = 1
			}
			continue
		}
		logRatio := make([]float64, np)
		mean := 0.0
		for i := range np {
			z, _ := f.Predict(i, float64(g.LastYear), true)
			pr := &base.Practices[i]
			// The base model's expected spend per head with style 1.
			sp := &base.Streams[s]
			e := 0.0
			for sex := range sim.NSex {
				for b := range sim.NBands {
					e += float64(pr.Count[sex][b]) * sp.Rate[sex][b]
				}
			}
			e *= sp.MeanCost() * math.Pow(pr.Need, sp.NeedElasticity)
			n := float64(pr.ListSize())
			if !g.PerHead {
				n = 1 // effects are per practice
			}
			logRatio[i] = z - math.Log(e/n)
			mean += logRatio[i] / float64(np)
		}
		c.RateScale[s] = math.Exp(mean)
		c.StyleSD[s] = f.Tau
		for i := range np {
			c.Practices[i].Style[s] = math.Exp(logRatio[i] - mean)
		}
	}
	return c
}
