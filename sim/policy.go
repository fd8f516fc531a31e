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

// Regime is how an engaged practice's budget is settled: indicative budgets
// (Indicative), hard budgets (Hard) or fundholding (Fundholding). A regime
// names itself, says what its budget covers and how its holders behave, and
// settles its holders' years into the ledger. Adding a regime is adding a
// type here and a scenario field; the runner never asks which regime it has.
type Regime interface {
	// Name is the regime column's value.
	Name() string
	// Holds says whether the budget is money the holder is given and owes
	// for (a hard budget), rather than a figure it is measured against.
	Holds() bool
	// Answers says whether the holder answers for less than all spend: the
	// covered streams, net of the per-patient threshold (a held budget's
	// stop-loss, a contract's truncation). Its budget is then set on that
	// spend.
	Answers() bool
	// Covers is the streams the budget covers; nil is all of them.
	Covers() *[NStreams]bool
	// Effects are the behaviour effects on the rates of practices in the regime.
	Effects() *[NStreams]Effect
	// settler returns the state that settles one replication's years of the
	// regime, for holders numbered 0..holders-1.
	settler(holders int) settler
}

// settler settles a regime's holder-years one year at a time, keeping what
// carries over between years (debts, amounts still to make up).
type settler interface {
	settleYear(b *book, hs []holderYear)
}

// EarnedAutonomy moves an engaged practice from its starting regime to Then
// after Years consecutive years with spend within Band (a fraction) of its
// budget.
type EarnedAutonomy struct {
	Years int
	Band  float64
	Then  Regime
}

// Policy is a whole budget policy for an area: which practices take part
// (practices with at least MinList patients are eligible; Participation is
// the share of them engaged, each practice's engagement a chance event per
// replication), the regime engaged practices start in, earned autonomy, and
// how a fall in one stream moves another. Practices not engaged are paid
// for by the commissioner (regime "none"). Practices with the same
// Practice.Group hold one budget (a consortium); the scenario's grouping
// step sets the groups.
type Policy struct {
	Participation float64
	MinList       int // practices with smaller starting lists cannot take part
	Start         Regime
	Autonomy      *EarnedAutonomy
	// Substitution: a fall in outpatient referrals raises A&E attendances by
	// SubstitutionAE times the proportional fall, and a fall in elective
	// admissions raises emergency admissions by SubstitutionEmergency times
	// its proportional fall.
	SubstitutionAE        float64
	SubstitutionEmergency float64
	// Incentive (nil: none) pays engaged holders for taking part or meeting
	// local targets, against the savings they keep.
	Incentive *Incentive
}

// Everyone returns the policy in which every practice holds regime r.
func Everyone(r Regime) *Policy { return &Policy{Participation: 1, Start: r} }

// Name is the starting regime's name.
func (p *Policy) Name() string {
	if p.Start == nil {
		return RegimeNone
	}
	return p.Start.Name()
}

// RegimeNone is the regime column of a practice not engaged: the
// commissioner pays for its care and no budget is settled.
const RegimeNone = "none"

// Regime indices in a row: none, the starting regime, the regime earned
// autonomy leads to.
const (
	regimeNone = iota
	regimeStart
	regimeEarned
	nRegimes
)

// regimes is the policy's regime table, indexed by a row's regime index.
func (p *Policy) regimes() [nRegimes]Regime {
	var out [nRegimes]Regime
	out[regimeStart] = p.Start
	if p.Autonomy != nil {
		out[regimeEarned] = p.Autonomy.Then
	}
	return out
}

// multipliers returns the rate multipliers of a practice under a regime
// with effects eff (nil: none), behaviour draws z and strength the share of
// the year left after budgets are issued: 1 + strength·effect, with
// substitution.
func (p *Policy) multipliers(eff *[NStreams]Effect, z *[NStreams]float64, strength float64) [NStreams]float64 {
	out := [NStreams]float64{1, 1, 1, 1, 1}
	if eff == nil {
		return out
	}
	var e [NStreams]float64
	for s := range NStreams {
		e[s] = strength * eff[s].draw(z[s])
		out[s] = 1 + e[s]
	}
	out[AE] *= 1 + p.SubstitutionAE*math.Max(0, -e[Outpatient])
	out[Emergency] *= 1 + p.SubstitutionEmergency*math.Max(0, -e[Elective])
	return out
}
