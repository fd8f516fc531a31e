package sim

import "fmt"

// holderYear is one budget holder's year under one regime: its member rows
// (b.members[lo:hi], indices into the year's rows), their budgets' total,
// and its result as the settlement works on it.
type holderYear struct {
	h      int // holder index: HolderParty(h) is its party
	lo, hi int
	budget float64
	net    float64
}

// book is the ledger of one replication as settlement writes it. Every
// payment is an Entry attributed to a row: a row's own flows to that row, a
// holder's flows split over its members in proportion to their budgets
// (equally if every budget is zero).
type book struct {
	year    int32
	rows    []PracticeYear // the year's rows, one per practice
	members []int          // holder-years' member rows, grouped
	u       []float64      // the year's rule draws: two uniforms per practice
	entries []Entry
}

// payRow records that from pays to amount for why, attributed to row j.
// Nothing is recorded for a zero amount.
func (b *book) payRow(from, to Party, why Reason, amount float64, j int) {
	if amount == 0 {
		return
	}
	b.entries = append(b.entries, Entry{Year: b.year, Practice: int32(j), From: from, To: to, Reason: why, Amount: amount})
}

// weight is row j's share of holder-year hy.
func (b *book) weight(hy *holderYear, j int) float64 {
	if hy.budget > 0 {
		return b.rows[j].Budget / hy.budget
	}
	return 1 / float64(hy.hi-hy.lo)
}

// pay records a holder-level payment, split over the holder's members.
func (b *book) pay(from, to Party, why Reason, amount float64, hy *holderYear) {
	if amount == 0 {
		return
	}
	if hy.hi-hy.lo == 1 {
		b.payRow(from, to, why, amount, b.members[hy.lo])
		return
	}
	for _, j := range b.members[hy.lo:hy.hi] {
		b.payRow(from, to, why, b.weight(hy, j)*amount, j)
	}
}

// pooling records that row j's own result moved amount into its
// consortium's common result (negative: out of it). It moves no money
// between parties, so it is the one entry whose amount may be negative.
func (b *book) pooling(h Party, j int, amount float64) {
	b.payRow(h, h, ReasonConsortiumPooling, amount, j)
}

// carry sets the members' share of what the holder still owes at year end.
func (b *book) carry(hy *holderYear, owed float64) {
	for _, j := range b.members[hy.lo:hy.hi] {
		b.rows[j].DeficitCarried = b.weight(hy, j) * owed
	}
}

// settlement settles a replication's rows year by year and keeps the
// buffers it reuses from one replication to the next.
type settlement struct {
	p       *prepared
	book    book
	hs      []holderYear
	count   []int     // per holder: member rows in the regime this year
	next    []int     // per holder: where its next member row goes
	kept    []float64 // per holder: savings kept this year (for an incentive)
	rules   Draws     // the rules' chance events
	targets Draws     // whether holders meet an incentive's targets
	met     []float64 // the year's target draws: one uniform per practice
}

// settle fills the rule columns of a replication's rows (year-major) and
// returns its ledger, appended to entries. k keys the replication's rules
// streams (Practice and Year -1). Chance events draw two uniforms for every
// practice-year in a fixed order, and an incentive's targets one more from
// a stream of their own, so a practice's draws do not depend on other
// practices' regimes or on which policy is in force (common random
// numbers).
func (s *settlement) settle(rows []PracticeYear, k Key, entries []Entry) ([]Entry, error) {
	p := s.p
	np := len(p.m.Practices)
	if np == 0 || len(rows)%np != 0 {
		return entries, fmt.Errorf("%d rows do not divide into %d practices", len(rows), np)
	}
	regs := p.m.Policy.regimes()
	var st [nRegimes]settler
	for r := regimeStart; r < nRegimes; r++ {
		if regs[r] != nil {
			st[r] = regs[r].settler(len(p.names) - int(firstHolder))
		}
	}
	b := &s.book
	b.entries = entries
	b.u = grow(b.u, 2*np)[:2*np]
	b.members = grow(b.members, np)[:np]
	nh := len(p.names) - int(firstHolder)
	s.count = grow(s.count, nh)[:nh]
	s.next = grow(s.next, nh)[:nh]
	s.kept = grow(s.kept, nh)[:nh]
	s.met = grow(s.met, np)[:np]
	s.rules.Reseed(k, PurposeRules)
	s.targets.Reseed(k, PurposeTargets)
	inc := p.m.Policy.Incentive
	names := p.names
	for y0 := 0; y0 < len(rows); y0 += np {
		year := rows[y0 : y0+np]
		b.year, b.rows = int32(year[0].Year), year
		for j := range b.u {
			b.u[j] = s.rules.Float64()
		}
		if inc != nil {
			for j := range s.met {
				s.met[j] = s.targets.Float64()
			}
		}
		for j := range year {
			x := &year[j]
			x.DeficitCarried, x.Truncated = 0, 0
			if x.regime == regimeNone {
				x.Regime, x.Holder = RegimeNone, names[Commissioner]
				x.Variance = x.Budget - x.SpendTotal
				b.payRow(Commissioner, Providers, ReasonProviderPayment, x.SpendTotal, j)
				continue
			}
			x.Regime = regs[x.regime].Name()
			x.Holder = names[HolderParty(p.holder[j])]
		}
		for r := regimeStart; r < nRegimes; r++ {
			if hs := s.group(year, uint8(r)); len(hs) > 0 {
				from := len(b.entries)
				st[r].settleYear(b, hs)
				if inc != nil {
					s.incentive(inc, hs, b.entries[from:])
				}
			}
		}
	}
	columns(rows, np, b.entries)
	for i := range rows {
		if rows[i].closed {
			rows[i].Regime = RegimeClosed
		}
	}
	return b.entries, nil
}

// incentive pays the holder-years hs an incentive, against the savings each
// kept in the entries its regime just settled. A consortium's targets are
// decided on its first member's draw.
func (s *settlement) incentive(inc *Incentive, hs []holderYear, settled []Entry) {
	b := &s.book
	for k := range hs {
		s.kept[hs[k].h] = 0
	}
	for _, e := range settled {
		if h, ok := e.To.Holder(); ok && (e.Reason == ReasonSavingsKept || e.Reason == ReasonSharedSavings) {
			s.kept[h] += e.Amount
		}
	}
	for k := range hs {
		hy := &hs[k]
		if s.met[b.members[hy.lo]] >= inc.TargetProb {
			continue
		}
		n := 0.0
		for _, j := range b.members[hy.lo:hy.hi] {
			n += float64(b.rows[j].ListSize)
		}
		b.pay(Commissioner, HolderParty(hy.h), ReasonIncentive, inc.Pay(n, s.kept[hy.h]), hy)
	}
}

// group gathers the year's rows in regime r by holder, in order of each
// holder's first member, without allocating once buffers have grown.
func (s *settlement) group(year []PracticeYear, r uint8) []holderYear {
	b := &s.book
	clear(s.count)
	for j := range year {
		if year[j].regime == r {
			s.count[s.p.holder[j]]++
		}
	}
	s.hs = s.hs[:0]
	pos := 0
	for j := range year {
		h := s.p.holder[j]
		if n := s.count[h]; year[j].regime == r && n > 0 {
			s.next[h] = pos
			s.hs = append(s.hs, holderYear{h: h, lo: pos, hi: pos + n})
			s.count[h] = 0 // placed
			pos += n
		}
	}
	for j := range year {
		if year[j].regime == r {
			h := s.p.holder[j]
			b.members[s.next[h]] = j
			s.next[h]++
		}
	}
	for k := range s.hs {
		hy := &s.hs[k]
		for _, j := range b.members[hy.lo:hy.hi] {
			hy.budget += year[j].Budget
		}
	}
	return s.hs
}

// columns sets each row's money columns from the ledger: every column is
// the sum of the row's entries of its reason (commissioner_paid: what the
// commissioner paid less what it was paid).
func columns(rows []PracticeYear, np int, entries []Entry) {
	for i := range rows {
		x := &rows[i]
		x.CommissionerPaid = 0
		for c := range nMoneyCols {
			*x.money(c) = 0
		}
	}
	for _, e := range entries {
		x := &rows[int(e.Year-1)*np+int(e.Practice)]
		if e.From == Commissioner {
			x.CommissionerPaid += e.Amount
		}
		if e.To == Commissioner {
			x.CommissionerPaid -= e.Amount
		}
		for _, c := range reasonColumns[e.Reason] {
			*x.money(c.col) += c.sign * e.Amount
		}
	}
}

// Settler settles replications of a model outside Run, on the runner's own
// code path (for benchmarks, and for programs that bring their own rows).
// Rows must come from a run of a model with the same policy regimes.
type Settler struct{ s settlement }

// NewSettler prepares m's parties and holders for settling.
func NewSettler(m *Model) *Settler {
	return &Settler{settlement{p: &prepared{m: m, names: m.PartyNames(), holder: holders(m)}}}
}

// Settle fills the rule columns of replication rep's rows (year-major) and
// returns its ledger appended to ledger; the rules' chance events are those
// of a run with the given seed.
func (s *Settler) Settle(rows []PracticeYear, seed uint64, rep int, ledger []Entry) ([]Entry, error) {
	return s.s.settle(rows, Key{Seed: seed, Rep: rep, Practice: -1, Year: -1}, ledger)
}
