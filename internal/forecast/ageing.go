package forecast

import "github.com/gpbudget/gpbudget/sim"

// AgeingFactors projects each practice's list h = 1..horizon years on
// deterministically (survival by the model's mortality, a fifth of each band
// moving up a band a year, births to women 15-44 at the model's birth rate;
// joiners and leavers are assumed to balance with the practice's own mix)
// and returns, per practice, horizon and quantity, the ratio of expected
// spend per head at that age-sex mix to today's, under the model's rates.
// Element [i][h][q] has h = 0 meaning one year ahead.
func AgeingFactors(m *sim.Model, horizon int) [][][NQuantities]float64 {
	out := make([][][NQuantities]float64, len(m.Practices))
	perHead := func(n *[sim.NSex][sim.NBands]float64) (e [NQuantities]float64) {
		tot := 0.0
		for sex := range sim.NSex {
			for b := range sim.NBands {
				tot += n[sex][b]
				for s := range sim.NStreams {
					sp := &m.Streams[s]
					v := n[sex][b] * sp.Rate[sex][b] * sp.MeanCost()
					e[s] += v
					e[Total] += v
				}
			}
		}
		for q := range e {
			e[q] /= tot
		}
		return e
	}
	d := &m.Demography
	for i := range m.Practices {
		var n [sim.NSex][sim.NBands]float64
		for sex := range sim.NSex {
			for b := range sim.NBands {
				n[sex][b] = float64(m.Practices[i].Count[sex][b])
			}
		}
		e0 := perHead(&n)
		out[i] = make([][NQuantities]float64, horizon)
		for h := range horizon {
			var next [sim.NSex][sim.NBands]float64
			women := 0.0
			for b := 3; b <= 8; b++ { // 15-44
				women += n[sim.Female][b]
			}
			for sex := range sim.NSex {
				for b := range sim.NBands {
					alive := n[sex][b] * (1 - d.Mortality[sex][b])
					if b == sim.NBands-1 {
						next[sex][b] += alive
						continue
					}
					next[sex][b] += 0.8 * alive
					next[sex][b+1] += 0.2 * alive
				}
			}
			births := d.BirthRate * women
			next[sim.Male][0] += births * d.MaleBirthShare
			next[sim.Female][0] += births * (1 - d.MaleBirthShare)
			n = next
			e := perHead(&n)
			for q := range e {
				if e0[q] > 0 {
					out[i][h][q] = e[q] / e0[q]
				} else {
					out[i][h][q] = 1
				}
			}
		}
	}
	return out
}
