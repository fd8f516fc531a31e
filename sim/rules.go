package sim

import (
	"fmt"
	"math"
)

// Rule settles budgets: given a replication's practice-years with budgets and
// spend, it decides who keeps savings and who bears overspends, and fills the
// rule columns. Rules see a whole replication (year-major rows) so that rules
// that pool risk across practices or carry balances between years fit the
// same interface. Money must be conserved: for every row,
//
//	SpendTotal = CommissionerPaid + HolderPaid - PoolTransfer - SavingsRetained
//
// i.e. providers are paid in full; the commissioner pays what the holder did
// not bear and what a risk pool did not pay (PoolTransfer < 0 is the pool
// paying for this row, > 0 this row's underspend paid into the pool), plus any
// savings it lets the holder keep. PoolTransfer sums to zero over a pool's
// members in a year, so over a pool spend = commissioner + holder - retained.
type Rule interface {
	Name() string
	Settle(rows []PracticeYear, practices []Practice, d *Draws) error
}

// Regime names as written to the regime column.
const (
	RegimeNone       = "none"       // practice not engaged: the commissioner pays everything
	RegimeIndicative = "indicative" // practice-based commissioning's indicative budget
	RegimeHard       = "hard"       // hard budget held by the practice or its consortium
)

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

// Indicative is practice-based commissioning's indicative budget: the
// commissioner carries every overspend; a practice that underspends keeps
// RetentionShare of the underspend ("freed-up resources") to reinvest in
// patient services, subject to:
//   - BusinessCase (nil: none needed): retention only if approved in time;
//   - MakeUpOverspends: earlier overspends not yet made up are first offset
//     against the underspend (DeficitCarried shows what is still to make up;
//     the practice never pays it, the commissioner already has);
//   - RefuseInDeficit: in a year when the commissioner overspends its total
//     (budgets plus top-slice), it lets no practice retain anything.
type Indicative struct {
	RetentionShare   float64
	BusinessCase     *BusinessCase
	MakeUpOverspends bool
	RefuseInDeficit  bool
}

func (Indicative) Name() string { return RegimeIndicative }

// Settle applies the rule to every row.
func (r Indicative) Settle(rows []PracticeYear, practices []Practice, d *Draws) error {
	for i := range rows {
		rows[i].Regime = RegimeIndicative
	}
	return settleYears(rows, practices, d, &r, nil)
}

// indicativeState is what the indicative rule carries between years.
type indicativeState struct {
	owed []float64 // overspend still to be made up, per practice
}

func (r *Indicative) settle(x *PracticeYear, st *indicativeState, approved, refuse bool) {
	i := x.Practice
	x.SavingsRetained, x.HolderPaid, x.PoolTransfer, x.StopLossPaid = 0, 0, 0, 0
	v := x.Variance
	if r.MakeUpOverspends {
		if v < 0 {
			st.owed[i] += -v
		} else {
			m := math.Min(st.owed[i], v)
			st.owed[i] -= m
			v -= m
		}
	}
	if v > 0 && approved && !refuse {
		x.SavingsRetained = r.RetentionShare * v
	}
	x.Reinvested = x.SavingsRetained
	x.DeficitCarried = 0
	if r.MakeUpOverspends {
		x.DeficitCarried = st.owed[i]
	}
	x.CommissionerPaid = x.SpendTotal + x.SavingsRetained
}

// Hard is a hard budget: the holder (the practice, or its consortium when
// Pooled) keeps RetentionShare of any underspend and carries overspends as a
// deficit it repays:
//   - RepayYears = 0: from later underspends, before it keeps any savings;
//   - RepayYears = n: each year's new deficit is deducted from the next n
//     years' budgets in equal parts (HolderPaid is the part due), whatever
//     the holder then spends.
//
// DeficitCap > 0 is the failure regime: outstanding deficit above DeficitCap
// times the year's budget is written off and paid from the commissioner's
// reserve. Pooled: practices with the same Practice.Group hold one budget and
// share its result in proportion to budgets; PoolTransfer records what each
// member's own result moved into (+) or out of (-) the pool. Cover (nil: all)
// lists the streams the budget covers (fundholding covered only some); the
// budget is then set on those streams and Variance is budget minus covered
// spend. Cost above a per-patient stop-loss is the commissioner's.
//
// PoolShare > 0 replaces carried deficits with an area-wide risk pool: each
// year every holder pays PoolShare of its budget into the pool (PoolTransfer
// +), the pool pays holders' overspends from its balance (PoolTransfer -),
// pro rata when it cannot pay them all, and the commissioner's reserve pays
// what the pool cannot. The balance carries over years.
type Hard struct {
	RetentionShare float64
	RepayYears     int
	DeficitCap     float64
	Pooled         bool
	Cover          *[NStreams]bool
	PoolShare      float64
	Label          string // regime column; "" = "hard"
}

func (r Hard) Name() string {
	if r.Label != "" {
		return r.Label
	}
	return RegimeHard
}

// Settle applies the rule to every row.
func (r Hard) Settle(rows []PracticeYear, practices []Practice, d *Draws) error {
	for i := range rows {
		rows[i].Regime = RegimeHard
	}
	return settleYears(rows, practices, d, nil, &r)
}

// covered is the spend a hard budget answers for (stop-loss excess excluded later).
func (r *Hard) covered(x *PracticeYear) float64 {
	if r.Cover == nil {
		return x.SpendTotal
	}
	s := 0.0
	for k, c := range r.Cover {
		if c {
			s += x.Spend[k]
		}
	}
	return s
}

// hardState carries each holder's deficit and repayment schedule.
type hardState struct {
	debt map[string]float64
	due  map[string][]float64 // due[h][k]: repayment due k+1 years from now
	pool float64              // balance of the area's risk pool (PoolShare > 0)
}

// hardYear settles one year's hard rows (indices into rows) holder by holder.
func (r *Hard) hardYear(rows []PracticeYear, idx []int, practices []Practice, st *hardState) {
	type acc struct {
		members     []int
		budget, net float64
	}
	holders := map[string]*acc{}
	var order []string
	for _, j := range idx {
		x := &rows[j]
		h := practices[x.Practice].ID
		if r.Pooled && practices[x.Practice].Group != "" {
			h = practices[x.Practice].Group
		}
		x.Holder = h
		x.StopLossPaid = x.StopLossExcess
		x.Variance = x.Budget - r.covered(x)
		a := holders[h]
		if a == nil {
			a = &acc{}
			holders[h] = a
			order = append(order, h)
		}
		a.members = append(a.members, j)
		a.budget += x.Budget
		// The holder answers for covered spend net of stop-loss.
		a.net += x.Variance + x.StopLossPaid
	}
	// Risk pool: every holder pays PoolShare of its budget in first; then
	// the pool pays overspends, pro rata if it cannot pay them all, and the
	// commissioner's reserve pays the rest. No deficit is carried.
	var contrib, payout map[string]float64
	if r.PoolShare > 0 {
		contrib, payout = map[string]float64{}, map[string]float64{}
		over := 0.0
		for _, h := range order {
			a := holders[h]
			contrib[h] = r.PoolShare * a.budget
			st.pool += contrib[h]
			over += math.Max(0, -(a.net - contrib[h]))
		}
		f := 1.0
		if over > st.pool {
			f = st.pool / over
		}
		for _, h := range order {
			a := holders[h]
			payout[h] = f * math.Max(0, -(a.net-contrib[h]))
			st.pool -= payout[h]
		}
		st.pool = math.Max(st.pool, 0) // rounding
	}
	for _, h := range order {
		a := holders[h]
		debt := st.debt[h]
		var holderPaid, retained float64
		net := a.net
		if r.PoolShare > 0 {
			net -= contrib[h]
			if net > 0 {
				retained = r.RetentionShare * net
			}
		} else if r.RepayYears > 0 {
			sched := st.due[h]
			if len(sched) > 0 {
				due := math.Min(sched[0], debt)
				st.due[h] = sched[1:]
				holderPaid = due
				debt -= due
				net -= due
			}
			if net >= 0 {
				retained = r.RetentionShare * net
			} else {
				debt += -net
				s := st.due[h]
				for len(s) < r.RepayYears {
					s = append(s, 0)
				}
				for k := range r.RepayYears {
					s[k] += -net / float64(r.RepayYears)
				}
				st.due[h] = s
			}
		} else if net >= 0 {
			repay := math.Min(debt, net)
			debt -= repay
			holderPaid = repay
			retained = r.RetentionShare * (net - repay)
		} else {
			debt += -net
		}
		if r.DeficitCap > 0 && debt > r.DeficitCap*a.budget {
			// Failure regime: the commissioner's reserve covers the excess.
			excess := debt - r.DeficitCap*a.budget
			debt -= excess
			if s := st.due[h]; len(s) > 0 {
				f := debt / (debt + excess)
				for k := range s {
					s[k] *= f
				}
			}
		}
		st.debt[h] = debt
		// Members share the holder's result in proportion to their budgets
		// (equally if every budget is zero).
		for _, j := range a.members {
			x := &rows[j]
			w := 1 / float64(len(a.members))
			if a.budget > 0 {
				w = x.Budget / a.budget
			}
			own := x.Variance + x.StopLossPaid
			x.PoolTransfer = 0
			if len(a.members) > 1 {
				x.PoolTransfer = own - w*a.net
			}
			if r.PoolShare > 0 {
				x.PoolTransfer += w * (contrib[h] - payout[h])
			}
			x.HolderPaid = w * holderPaid
			x.SavingsRetained = w * retained
			x.Reinvested = x.SavingsRetained
			x.DeficitCarried = w * debt
			x.CommissionerPaid = x.SpendTotal - x.HolderPaid + x.SavingsRetained + x.PoolTransfer
		}
	}
}

// settleYears runs the indicative and hard rules year by year over rows
// (year-major), each row by its Regime; rows of any other regime are paid by
// the commissioner. Chance events draw two uniforms for every practice-year
// in a fixed order, so a practice's draws do not depend on other practices'
// regimes or on which rule is in force (common random numbers).
func settleYears(rows []PracticeYear, practices []Practice, d *Draws, ind *Indicative, hard *Hard) error {
	np := len(practices)
	if np == 0 || len(rows)%np != 0 {
		return fmt.Errorf("%d rows do not divide into %d practices", len(rows), np)
	}
	if ind != nil && ind.BusinessCase != nil && d == nil {
		return fmt.Errorf("business-case approval needs random draws")
	}
	ist := indicativeState{owed: make([]float64, np)}
	hst := hardState{debt: map[string]float64{}, due: map[string][]float64{}}
	var hardIdx []int
	for y0 := 0; y0 < len(rows); y0 += np {
		year := rows[y0 : y0+np]
		spend, funds := 0.0, 0.0
		for j := range year {
			spend += year[j].SpendTotal
			funds += year[j].Budget + year[j].TopSlice
		}
		refuse := ind != nil && ind.RefuseInDeficit && spend > funds
		hardIdx = hardIdx[:0]
		for j := range year {
			x := &year[j]
			var u1, u2 float64
			if d != nil {
				u1, u2 = d.Float64(), d.Float64()
			}
			switch {
			case x.Regime == RegimeIndicative && ind != nil:
				ok := ind.BusinessCase == nil || ind.BusinessCase.approved(u1, u2)
				if x.Holder == "" {
					x.Holder = practices[x.Practice].ID
				}
				ind.settle(x, &ist, ok, refuse)
			case hard != nil && x.Regime == RegimeHard:
				hardIdx = append(hardIdx, y0+j)
				if hard.Label != "" {
					x.Regime = hard.Label
				}
			default:
				x.Regime = RegimeNone
				x.Holder = "commissioner"
				x.SavingsRetained, x.HolderPaid, x.PoolTransfer, x.StopLossPaid = 0, 0, 0, 0
				x.Reinvested, x.DeficitCarried = 0, 0
				x.CommissionerPaid = x.SpendTotal
			}
		}
		if len(hardIdx) > 0 {
			hard.hardYear(rows, hardIdx, practices, &hst)
		}
	}
	return nil
}
