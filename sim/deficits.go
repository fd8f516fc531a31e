package sim

import "math"

// DeficitPolicy is what a hard budget does with an overspend: finance it as
// a debt repaid later (RepayFromUnderspends, RepayOverYears), pay it from an
// area risk pool (RiskPool), or write off what lies beyond a cap
// (WriteOffAbove, around another policy). Policies are interchangeable: a
// Hard regime takes any of them.
type DeficitPolicy interface {
	// start returns the policy's state for one replication's holders.
	start(holders int) deficits
}

// deficits is a deficit policy's state over one replication. Each year,
// once the holders' results (hy.net: budget minus what each answers for)
// are known, before settles what comes first (repayments due, the risk
// pool), changing hy.net; then finance takes each overspend left.
type deficits interface {
	before(b *book, hs []holderYear)
	finance(b *book, hy *holderYear, over float64)
	debt(h int) float64
}

// RepayFromUnderspends: the commissioner finances an overspend, and the
// holder repays it out of later underspends before it keeps any savings.
type RepayFromUnderspends struct{}

func (RepayFromUnderspends) start(holders int) deficits {
	return &fromUnderspends{owed: make([]float64, holders)}
}

type fromUnderspends struct{ owed []float64 }

func (d *fromUnderspends) before(b *book, hs []holderYear) {
	for k := range hs {
		hy := &hs[k]
		if r := math.Min(d.owed[hy.h], hy.net); r > 0 {
			b.pay(HolderParty(hy.h), Commissioner, ReasonDeficitRepaid, r, hy)
			d.owed[hy.h] -= r
			hy.net -= r
		}
	}
}

func (d *fromUnderspends) finance(b *book, hy *holderYear, over float64) {
	b.pay(Commissioner, HolderParty(hy.h), ReasonDeficitFinanced, over, hy)
	d.owed[hy.h] += over
}

func (d *fromUnderspends) debt(h int) float64 { return d.owed[h] }

// MaxRepayYears bounds RepayOverYears.Years.
const MaxRepayYears = 15

// RepayOverYears: the commissioner finances an overspend, and each year's
// new deficit is deducted from the next Years budgets in equal parts,
// whatever the holder then spends (a deduction that leaves the holder
// short is a new deficit, financed in turn).
type RepayOverYears struct{ Years int }

func (p RepayOverYears) start(holders int) deficits {
	n := min(max(p.Years, 1), MaxRepayYears)
	return &overYears{n: n, owed: make([]float64, holders), due: make([][MaxRepayYears + 1]float64, holders)}
}

type overYears struct {
	n    int
	owed []float64
	// due[h][t % (n+1)]: the part of holder h's debt deducted in year t.
	due [][MaxRepayYears + 1]float64
}

func (d *overYears) before(b *book, hs []holderYear) {
	t := int(b.year) % (d.n + 1)
	for k := range hs {
		hy := &hs[k]
		due := &d.due[hy.h][t]
		if r := math.Min(*due, d.owed[hy.h]); r > 0 {
			b.pay(HolderParty(hy.h), Commissioner, ReasonDeficitRepaid, r, hy)
			d.owed[hy.h] -= r
			hy.net -= r
		}
		*due = 0
	}
}

func (d *overYears) finance(b *book, hy *holderYear, over float64) {
	b.pay(Commissioner, HolderParty(hy.h), ReasonDeficitFinanced, over, hy)
	d.owed[hy.h] += over
	for k := 1; k <= d.n; k++ {
		d.due[hy.h][(int(b.year)+k)%(d.n+1)] += over / float64(d.n)
	}
}

func (d *overYears) debt(h int) float64 { return d.owed[h] }

// RiskPool replaces carried deficits with an area-wide risk pool: each year
// every holder pays Share of its budget into the pool; the pool then pays
// holders' overspends (net of their contributions) from its balance, pro
// rata when it cannot pay them all, and the commissioner's reserve pays
// what it cannot. The balance carries over years; nothing is owed.
type RiskPool struct{ Share float64 }

func (p RiskPool) start(int) deficits { return &pool{share: p.Share} }

type pool struct {
	share   float64
	balance float64
}

func (d *pool) before(b *book, hs []holderYear) {
	need := 0.0
	for k := range hs {
		hy := &hs[k]
		c := d.share * hy.budget
		b.pay(HolderParty(hy.h), Pool, ReasonPoolContribution, c, hy)
		d.balance += c
		hy.net -= c
		need += math.Max(0, -hy.net)
	}
	f := 1.0
	if need > d.balance {
		f = d.balance / need
	}
	for k := range hs {
		hy := &hs[k]
		if hy.net >= 0 {
			continue
		}
		p := math.Min(f*-hy.net, d.balance)
		b.pay(Pool, HolderParty(hy.h), ReasonPoolPayout, p, hy)
		d.balance -= p
		hy.net += p
		d.finance(b, hy, -hy.net)
		hy.net = 0
	}
}

// finance: what the pool cannot pay, the commissioner's reserve does.
func (d *pool) finance(b *book, hy *holderYear, over float64) {
	b.pay(Commissioner, HolderParty(hy.h), ReasonPoolShortfall, over, hy)
}

func (d *pool) debt(int) float64 { return 0 }

// WriteOffAbove is the failure regime: the commissioner will not let a
// holder's debt exceed Cap times the year's budget. The part of an
// overspend that would take it further is paid from the commissioner's
// reserve and never owed (a write-off); Then finances the rest.
type WriteOffAbove struct {
	Cap  float64
	Then DeficitPolicy
}

func (p WriteOffAbove) start(holders int) deficits {
	return &capped{cap: p.Cap, then: p.Then.start(holders)}
}

type capped struct {
	cap  float64
	then deficits
}

func (d *capped) before(b *book, hs []holderYear) { d.then.before(b, hs) }

func (d *capped) finance(b *book, hy *holderYear, over float64) {
	room := math.Max(0, d.cap*hy.budget-d.then.debt(hy.h))
	lent := math.Min(over, room)
	b.pay(Commissioner, HolderParty(hy.h), ReasonWriteOff, over-lent, hy)
	if lent > 0 {
		d.then.finance(b, hy, lent)
	}
}

func (d *capped) debt(h int) float64 { return d.then.debt(h) }
