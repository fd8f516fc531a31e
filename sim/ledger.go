package sim

import "fmt"

// Party is who pays or receives money in a ledger entry: the commissioner,
// the providers of care, the area's risk pool, or a budget holder (a
// practice holding its own budget, or a consortium of practices).
// Holder parties are numbered after the fixed ones: practice i is
// HolderParty(i), and consortium g (in Model.Groups order) is
// HolderParty(len(Practices)+g).
type Party int32

// The fixed parties.
const (
	Commissioner Party = iota // the PCT, ICB or health authority that funds care
	Providers                 // hospitals, pharmacies and other providers, paid for activity
	Pool                      // an area-wide risk pool funded from holders' budgets
	firstHolder
)

// HolderParty returns the party of holder h (see Party).
func HolderParty(h int) Party { return firstHolder + Party(h) }

// Holder returns the holder index of p, and whether p is a holder.
func (p Party) Holder() (int, bool) { return int(p - firstHolder), p >= firstHolder }

// Reason says why money moved.
type Reason uint8

// Reasons. Each entry is a payment of Amount pounds From one party To
// another; amounts are never negative, but for ReasonConsortiumPooling.
const (
	_ Reason = iota
	// ProviderPayment: care paid for at the providers' price, by the
	// commissioner (care outside any budget a holder answers for) or by a
	// holder out of its budget.
	ReasonProviderPayment
	// BudgetAllocation: the commissioner funds a hard budget (after any
	// top-slice and any deduction to repay an earlier deficit).
	ReasonBudgetAllocation
	// SavingsKept: the part of an underspend the holder keeps to reinvest.
	ReasonSavingsKept
	// UnderspendReturned: the rest of a hard budget's underspend, returned.
	ReasonUnderspendReturned
	// DeficitFinanced: the commissioner pays a hard budget's overspend,
	// which the holder then owes.
	ReasonDeficitFinanced
	// DeficitRepaid: the holder repays an earlier deficit, out of a later
	// budget (a deduction) or a later underspend.
	ReasonDeficitRepaid
	// StopLoss: the commissioner pays providers for care above a holder's
	// per-patient stop-loss.
	ReasonStopLoss
	// PoolContribution: a holder pays a share of its budget into the risk pool.
	ReasonPoolContribution
	// PoolPayout: the risk pool pays a holder's overspend.
	ReasonPoolPayout
	// PoolShortfall: the commissioner's reserve pays the part of holders'
	// overspends the risk pool cannot.
	ReasonPoolShortfall
	// WriteOff: the commissioner's reserve pays an overspend that would take
	// a holder's debt above its cap (the failure regime); it is never owed.
	ReasonWriteOff
	// ConsortiumPooling: a consortium member's own result (its budget less
	// what it answers for) moves into the consortium's common result, and its
	// budget share of that result comes back: the net, attributed to the
	// member's row, may be negative. It moves no money between parties (From
	// and To are the consortium), so the ledger files leave it out.
	ReasonConsortiumPooling
	// SharedSavings: under a shared-savings contract, the commissioner pays
	// a holder its share of savings beyond the corridor (SharedSavings).
	ReasonSharedSavings
	// SharedLoss: under a two-sided contract, a holder pays the commissioner
	// its share of losses beyond the corridor, from its own money.
	ReasonSharedLoss
	// Incentive: the commissioner pays a holder for taking part or meeting
	// local targets (Incentive).
	ReasonIncentive
	nReasons
)

// ReasonNames are the reasons as written to the ledger's reason column.
var ReasonNames = [nReasons]string{
	"", "provider_payment", "budget_allocation", "savings_kept", "underspend_returned",
	"deficit_financed", "deficit_repaid", "stop_loss", "pool_contribution", "pool_payout",
	"pool_shortfall", "write_off", "consortium_pooling", "shared_savings", "shared_loss", "incentive",
}

func (r Reason) String() string {
	if r > 0 && r < nReasons {
		return ReasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Entry is one movement of money in a replication: in year Year, From pays
// To Amount pounds for Reason. Practice is the row (index into
// Model.Practices) the entry is attributed to: a practice's own flows, or
// its share of its consortium's (in proportion to budgets).
type Entry struct {
	Year     int32
	Practice int32
	From, To Party
	Reason   Reason
	Amount   float64
}

// Replication is one replication's results as a Sink receives them: the
// practice-year rows, year-major (all practices of year 1, then year 2,
// ...), and the ledger of every movement of money, in year order. The row
// columns that are money are sums of the ledger's entries attributed to the
// row.
type Replication struct {
	Rep    int
	Rows   []PracticeYear
	Ledger []Entry
	// Params are the values the uncertain parameters (Model.Uncertain, in
	// order) took in this replication.
	Params []float64
}

// Sink receives results, one replication per call. Calls come in
// replication order from a single goroutine, so output is identical whatever
// the worker count. The Replication and its slices are reused after Write
// returns.
type Sink interface {
	Write(r *Replication) error
}

// PartyNames returns each party's name, indexed by Party: "commissioner",
// "providers", "pool", then every practice's ID, then every consortium's
// group name (Model.Groups).
func (m *Model) PartyNames() []string {
	out := []string{"commissioner", "providers", "pool"}
	for i := range m.Practices {
		out = append(out, m.Practices[i].ID)
	}
	return append(out, m.Groups()...)
}

// Groups lists the practices' budget-holding groups (Practice.Group), in
// order of first appearance.
func (m *Model) Groups() []string {
	var out []string
	seen := map[string]bool{}
	for i := range m.Practices {
		if g := m.Practices[i].Group; g != "" && !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// moneyCol names a practice-year's money column that is the sum of the
// row's ledger entries of some reasons.
type moneyCol uint8

const (
	colSavingsRetained moneyCol = iota
	colReinvested
	colSharedSavings
	colIncentivePaid
	colHolderPaid
	colSharedLoss
	colStopLossPaid
	colDeficitRepaid
	colPoolTransfer
	nMoneyCols
)

// moneyColNames are the columns as written to the practice-year files.
var moneyColNames = [nMoneyCols]string{
	"savings_retained", "reinvested", "shared_savings", "incentive_paid", "holder_paid",
	"shared_loss", "stop_loss_paid", "deficit_repaid", "pool_transfer",
}

// signedCol is a column an entry adds its amount to (sign +1) or takes it
// from (sign -1).
type signedCol struct {
	col  moneyCol
	sign float64
}

// reasonColumns is the one map from a ledger reason to the money columns
// its entries sum into: settlement fills the rows' columns from it
// (columns) and the audit checks the rows and conservation against it.
// A reason not listed moves money no money column reports (provider
// payments and budget allocations, for example, are spend_total and the
// commissioner's column).
var reasonColumns = [nReasons][]signedCol{
	ReasonSavingsKept:       {{colSavingsRetained, 1}, {colReinvested, 1}},
	ReasonSharedSavings:     {{colSavingsRetained, 1}, {colReinvested, 1}, {colSharedSavings, 1}},
	ReasonIncentive:         {{colSavingsRetained, 1}, {colIncentivePaid, 1}},
	ReasonSharedLoss:        {{colHolderPaid, 1}, {colSharedLoss, 1}},
	ReasonStopLoss:          {{colStopLossPaid, 1}},
	ReasonDeficitRepaid:     {{colDeficitRepaid, 1}},
	ReasonPoolContribution:  {{colPoolTransfer, 1}},
	ReasonConsortiumPooling: {{colPoolTransfer, 1}},
	ReasonPoolPayout:        {{colPoolTransfer, -1}},
}

// money is the row's field for column c.
func (x *PracticeYear) money(c moneyCol) *float64 {
	switch c {
	case colSavingsRetained:
		return &x.SavingsRetained
	case colReinvested:
		return &x.Reinvested
	case colSharedSavings:
		return &x.SharedSavings
	case colIncentivePaid:
		return &x.IncentivePaid
	case colHolderPaid:
		return &x.HolderPaid
	case colSharedLoss:
		return &x.SharedLoss
	case colStopLossPaid:
		return &x.StopLossPaid
	case colDeficitRepaid:
		return &x.DeficitRepaid
	case colPoolTransfer:
		return &x.PoolTransfer
	}
	panic(fmt.Sprintf("sim: no money column %d", c))
}
