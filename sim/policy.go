package sim

import "math"

// Effect is a behaviour effect: the proportional change in a stream's rate
// when a practice holds a budget under a regime, drawn once per replication
// as Mean + SD·z (z standard normal, shared by every regime and scenario of
// a run so that comparisons use common random numbers), and kept in [-0.9, 1].
type Effect struct {
	Mean, SD float64
}

func (e Effect) draw(z float64) float64 {
	return math.Min(math.Max(e.Mean+e.SD*z, -0.9), 1)
}

// Behaviour is how budget holders manage demand under each regime. A
// practice's rates in a year are multiplied by 1 + strength·effect, where
// strength = (52 - IssueWeek)/52 (a budget issued late leaves less of the
// year to act on it). Substitution: a fall in outpatient referrals raises
// A&E attendances by SubstitutionAE times the proportional fall, and a fall
// in elective admissions raises emergency admissions by
// SubstitutionEmergency times its proportional fall.
type Behaviour struct {
	Indicative            [NStreams]Effect
	Hard                  [NStreams]Effect
	SubstitutionAE        float64
	SubstitutionEmergency float64
}

// multipliers returns the rate multipliers for a regime with behaviour draws z.
func (b *Behaviour) multipliers(regime string, z *[NStreams]float64, strength float64) [NStreams]float64 {
	out := [NStreams]float64{1, 1, 1, 1, 1}
	var eff *[NStreams]Effect
	switch regime {
	case RegimeIndicative:
		eff = &b.Indicative
	case RegimeHard:
		eff = &b.Hard
	default:
		return out
	}
	var e [NStreams]float64
	for s := range NStreams {
		e[s] = strength * eff[s].draw(z[s])
		out[s] = 1 + e[s]
	}
	out[AE] *= 1 + b.SubstitutionAE*math.Max(0, -e[Outpatient])
	out[Emergency] *= 1 + b.SubstitutionEmergency*math.Max(0, -e[Elective])
	return out
}

// EarnedAutonomy moves an engaged practice from an indicative to a hard
// budget after Years consecutive years with spend within Band (a fraction)
// of its budget.
type EarnedAutonomy struct {
	Years int
	Band  float64
}

// Policy is a whole budget regime for an area: which practices take part
// (practices with at least MinList patients are eligible; Participation is
// the share of them engaged, each practice's engagement a chance event per
// replication), the regime engaged practices start in, earned
// autonomy, the indicative and hard rules, and behaviour. Practices not
// engaged are paid for by the commissioner (regime "none").
type Policy struct {
	Start         string // RegimeIndicative or RegimeHard
	Participation float64
	MinList       int // practices with smaller starting lists cannot take part
	Autonomy      *EarnedAutonomy
	Indicative    Indicative
	Hard          Hard
	Behaviour     Behaviour
}

// Name is the starting regime (or the hard rule's label).
func (p *Policy) Name() string {
	if p.Start == RegimeHard {
		return p.Hard.Name()
	}
	return p.Start
}

// Settle applies each row's regime, as the runner set it.
func (p *Policy) Settle(rows []PracticeYear, practices []Practice, d *Draws) error {
	return settleYears(rows, practices, d, &p.Indicative, &p.Hard)
}

// planOf returns the policy a run follows: the model's Policy, or a policy
// in which every practice holds the given plain rule. A value, so a task
// that takes its policy allocates nothing.
func planOf(r Rule) Policy {
	switch x := r.(type) {
	case *Policy:
		return *x
	case Indicative:
		return Policy{Start: RegimeIndicative, Participation: 1, Indicative: x}
	case *Indicative:
		return Policy{Start: RegimeIndicative, Participation: 1, Indicative: *x}
	case Hard:
		return Policy{Start: RegimeHard, Participation: 1, Hard: x}
	case *Hard:
		return Policy{Start: RegimeHard, Participation: 1, Hard: *x}
	}
	return Policy{Participation: 1}
}
