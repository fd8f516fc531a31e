package sim

import "math"

// BusinessCase is the condition PBC attached to retaining freed-up
// resources: a plan the commissioner must approve. A decision takes an
// exponentially distributed time with mean TurnaroundWeeks; a decision later
// than LapseWeeks comes too late and the freed-up resources return to the
// commissioner; otherwise the case is approved with probability ApprovalProb.
// So P(retain) = ApprovalProb·(1 - exp(-LapseWeeks/TurnaroundWeeks)).
type BusinessCase struct {
	ApprovalProb    float64
	TurnaroundWeeks float64 // mean weeks to a decision; 0 = immediate
	LapseWeeks      float64 // weeks within which a decision must come; 0 = no limit
}

// approved decides one business case from two uniforms.
func (b *BusinessCase) approved(uApprove, uTime float64) bool {
	if uApprove >= b.ApprovalProb {
		return false
	}
	if b.TurnaroundWeeks <= 0 || b.LapseWeeks <= 0 {
		return true
	}
	wait := -b.TurnaroundWeeks * math.Log1p(-uTime) // exponential by inversion
	return wait <= b.LapseWeeks
}

// Indicative is practice-based commissioning's indicative budget: the budget
// is a figure, not money. The commissioner pays providers for all care and
// carries every overspend; a holder that underspends is paid RetentionShare
// of the underspend ("freed-up resources") to reinvest in patient services,
// subject to:
//   - BusinessCase (nil: none needed): only if a case is approved in time;
//   - MakeUpOverspends: earlier overspends not yet made up are first offset
//     against the underspend (DeficitCarried shows what is still to make up;
//     no money is owed or repaid: the commissioner has already paid);
//   - RefuseInDeficit: in a year when the commissioner overspends its total
//     (budgets plus top-slice), it lets no holder retain anything.
type Indicative struct {
	RetentionShare   float64
	BusinessCase     *BusinessCase
	MakeUpOverspends bool
	RefuseInDeficit  bool
	Behaviour        [NStreams]Effect
}

// Name implements Regime.
func (*Indicative) Name() string { return "indicative" }

// Holds implements Regime: an indicative budget is not money.
func (*Indicative) Holds() bool { return false }

// Answers implements Regime: an indicative budget is set on all spend.
func (*Indicative) Answers() bool { return false }

// Covers implements Regime.
func (*Indicative) Covers() *[NStreams]bool { return nil }

// Effects implements Regime.
func (r *Indicative) Effects() *[NStreams]Effect { return &r.Behaviour }

func (r *Indicative) settler(holders int) settler {
	return &indicativeSettler{r: r, owed: make([]float64, holders)}
}

type indicativeSettler struct {
	r    *Indicative
	owed []float64 // per holder: overspend still to make up
}

func (s *indicativeSettler) settleYear(b *book, hs []holderYear) {
	r := s.r
	refuse := false
	if r.RefuseInDeficit {
		spend, funds := 0.0, 0.0
		for j := range b.rows {
			spend += b.rows[j].SpendTotal
			funds += b.rows[j].Budget + b.rows[j].TopSlice
		}
		refuse = spend > funds
	}
	for k := range hs {
		hy := &hs[k]
		h := HolderParty(hy.h)
		v := 0.0
		for _, j := range b.members[hy.lo:hy.hi] {
			x := &b.rows[j]
			x.Variance = x.Budget - x.SpendTotal
			v += x.Variance
			b.payRow(Commissioner, Providers, ReasonProviderPayment, x.SpendTotal, j)
		}
		if r.MakeUpOverspends {
			if v < 0 {
				s.owed[hy.h] += -v
			} else {
				m := math.Min(s.owed[hy.h], v)
				s.owed[hy.h] -= m
				v -= m
			}
		}
		// A consortium's case is decided on its first member's draws.
		j0 := b.members[hy.lo]
		ok := r.BusinessCase == nil || r.BusinessCase.approved(b.u[2*j0], b.u[2*j0+1])
		if v > 0 && ok && !refuse {
			b.pay(Commissioner, h, ReasonSavingsKept, r.RetentionShare*v, hy)
		}
		b.carry(hy, s.owed[hy.h])
	}
}

// Hard is a hard budget: real money the holder (the practice, or its
// consortium) answers for. The commissioner allocates the budget; the holder
// pays providers for the care it covers; the commissioner pays for care
// above a per-patient stop-loss. The holder returns an underspend and is
// paid RetentionShare of it to keep; Deficits decides what happens to an
// overspend (financed and repaid later, paid from a risk pool, written off
// beyond a cap).
type Hard struct {
	RetentionShare float64
	Deficits       DeficitPolicy
	Behaviour      [NStreams]Effect
}

// Name implements Regime.
func (*Hard) Name() string { return "hard" }

// Holds implements Regime.
func (*Hard) Holds() bool { return true }

// Answers implements Regime: the holder answers for covered spend net of
// the stop-loss.
func (*Hard) Answers() bool { return true }

// Covers implements Regime: a hard budget covers every stream.
func (*Hard) Covers() *[NStreams]bool { return nil }

// Effects implements Regime.
func (r *Hard) Effects() *[NStreams]Effect { return &r.Behaviour }

func (r *Hard) settler(holders int) settler {
	return &heldSettler{retention: r.RetentionShare, deficits: r.Deficits.start(holders)}
}

// Fundholding is 1990s GP fundholding: a hard budget over the streams in
// Cover only (staff, prescribing, outpatients and elective procedures, not
// emergencies); the commissioner pays for the other streams directly.
type Fundholding struct {
	Hard
	Cover [NStreams]bool
}

// Name implements Regime.
func (*Fundholding) Name() string { return "fundholding" }

// Covers implements Regime.
func (r *Fundholding) Covers() *[NStreams]bool { return &r.Cover }

func (r *Fundholding) settler(holders int) settler {
	return &heldSettler{retention: r.RetentionShare, cover: &r.Cover, deficits: r.Deficits.start(holders)}
}

// heldSettler settles held budgets (Hard, Fundholding).
type heldSettler struct {
	retention float64
	cover     *[NStreams]bool // nil: all streams
	deficits  deficits
}

func (s *heldSettler) settleYear(b *book, hs []holderYear) {
	for k := range hs {
		hy := &hs[k]
		h := HolderParty(hy.h)
		answered := 0.0
		for _, j := range b.members[hy.lo:hy.hi] {
			x := &b.rows[j]
			cov := coveredSpend(&x.Spend, s.cover)
			x.Variance = x.Budget - cov
			x.StopLossPaid = 0
			b.payRow(Commissioner, h, ReasonBudgetAllocation, x.Budget, j)
			b.payRow(h, Providers, ReasonProviderPayment, cov-x.StopLossExcess, j)
			b.payRow(Commissioner, Providers, ReasonStopLoss, x.StopLossExcess, j)
			b.payRow(Commissioner, Providers, ReasonProviderPayment, x.SpendTotal-cov, j)
			answered += cov - x.StopLossExcess
		}
		hy.net = hy.budget - answered
		if hy.hi-hy.lo > 1 {
			// Members pool their results: each member's own result moves
			// into the consortium and its budget share of the whole comes back.
			for _, j := range b.members[hy.lo:hy.hi] {
				x := &b.rows[j]
				own := x.Budget - (coveredSpend(&x.Spend, s.cover) - x.StopLossExcess)
				b.pooling(h, j, own-b.weight(hy, j)*hy.net)
			}
		}
	}
	s.deficits.before(b, hs)
	for k := range hs {
		hy := &hs[k]
		h := HolderParty(hy.h)
		switch {
		case hy.net < 0:
			s.deficits.finance(b, hy, -hy.net)
		case hy.net > 0:
			b.pay(h, Commissioner, ReasonUnderspendReturned, hy.net, hy)
			b.pay(Commissioner, h, ReasonSavingsKept, s.retention*hy.net, hy)
		}
		hy.net = 0
		b.carry(hy, s.deficits.debt(hy.h))
	}
}
