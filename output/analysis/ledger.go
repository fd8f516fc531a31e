package analysis

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/gpbudget/gpbudget/sim"
)

// Class is a kind of party in the ledger: the commissioner, the providers,
// the risk pool, or the budget holders taken together.
type Class int

// Party classes.
const (
	Commissioner Class = iota
	Providers
	Pool
	Holders
	nClasses
)

// ClassNames name the classes in tables.
var ClassNames = [nClasses]string{"commissioner", "providers", "pool", "holders"}

// ClassOfName is the class of a party as the ledger files name it.
func ClassOfName(name string) Class {
	switch name {
	case "commissioner":
		return Commissioner
	case "providers":
		return Providers
	case "pool":
		return Pool
	}
	return Holders
}

// ClassOf is the class of an engine party.
func ClassOf(p sim.Party) Class {
	switch p {
	case sim.Commissioner:
		return Commissioner
	case sim.Providers:
		return Providers
	case sim.Pool:
		return Pool
	}
	return Holders
}

// Positions are the net positions of the party classes over some flows:
// what each received minus what it paid. Money between two holders nets to
// zero within Holders. Outlay is the commissioner's net outflow, -Net[Commissioner].
type Positions struct{ Net [nClasses]float64 }

// Move records that from paid to amount.
func (p *Positions) Move(from, to Class, amount float64) {
	p.Net[from] -= amount
	p.Net[to] += amount
}

// Outlay is what the commissioner paid out net of what it received.
func (p *Positions) Outlay() float64 { return -p.Net[Commissioner] }

// PositionStats is one row of the ledger table: in one year ("all": over
// the run) the mean across replications of each class's net position,
// summed from the ledger files' entries, never solved for as a residual.
// The commissioner's outlay is its net outflow; Balance, the sum of every
// class's net position, is zero when every entry has a payer and a payee in
// the ledger (a check, not an identity used to compute anything).
type PositionStats struct {
	Year              string  `parquet:"year"`
	Replications      int     `parquet:"replications"`
	OutlayMean        float64 `parquet:"commissioner_outlay_mean"`
	OutlaySE          float64 `parquet:"commissioner_outlay_se"`
	OutlayP95         float64 `parquet:"commissioner_outlay_p95"`
	ProvidersNetMean  float64 `parquet:"providers_net_mean"`
	PoolNetMean       float64 `parquet:"pool_net_mean"`
	HoldersNetMean    float64 `parquet:"holders_net_mean"`
	CommissionerNet   float64 `parquet:"commissioner_net_mean"`
	BalanceMaxAbs     float64 `parquet:"balance_max_abs"`
	EntriesPerRepMean float64 `parquet:"ledger_rows_mean"`
}

// FlowStats is one row of the ledger flows table: the mean per replication
// of what one class paid another for one reason, in one year ("all": summed
// over the run's years).
type FlowStats struct {
	Year         string  `parquet:"year"`
	Party        string  `parquet:"party"`
	Counterparty string  `parquet:"counterparty"`
	Reason       string  `parquet:"reason"`
	AmountMean   float64 `parquet:"amount_mean"`
}

var ledgerColumns = []runfolder.Column{
	{Name: "replication", Kind: runfolder.Int}, {Name: "year", Kind: runfolder.Int},
	{Name: "party", Kind: runfolder.String}, {Name: "counterparty", Kind: runfolder.String},
	{Name: "reason", Kind: runfolder.String}, {Name: "amount", Kind: runfolder.Float},
}

// flowKey is (year, from class, to class, reason); year -1 is the whole run.
type flowKey struct {
	year     int32
	from, to Class
	reason   string
}

// ledgerPass streams the run's ledger files into sum.Ledger and sum.Flows.
// Memory is a few numbers per replication and year.
func ledgerPass(ctx context.Context, dir string, man *runfolder.Manifest, readers int, sum *Summary) error {
	files, err := man.TableFiles(runfolder.Ledger)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if err := man.CheckListed(dir, runfolder.Ledger); err != nil {
		return err
	}
	// Rows come in runs of one replication and year, so the accumulator
	// of the last (replication, year) and of the last year's flows are
	// kept at hand; reasons are numbered, so a row's flow is an index, not
	// a string hashed.
	type posAcc struct {
		p    Positions
		rows float64
	}
	type flowCell struct {
		v    float64
		seen bool
	}
	type yearFlows [nClasses * nClasses][]flowCell // [from·nClasses+to][reason]
	acc := map[repYear]*posAcc{}
	flowsBy := map[int32]*yearFlows{}
	rid := map[string]int{}
	var reasons []string
	var cls [2][]Class
	var rids []int
	// A row group's batches share its dictionaries (a party for each
	// holder: thousands): each is mapped once, for its first batch.
	var mapped [3]uint64
	n, err := runfolder.Scan(ctx, dir, files, ledgerColumns, readers, func(b *runfolder.Batch) error {
		rep, year, amount := b.Int(0), b.Int(1), b.Float(5)
		var idx [3][]int32
		var dict [3][]string
		for c := range 3 {
			idx[c], dict[c] = b.String(2 + c)
		}
		for c := range 2 {
			if id := b.DictID(2 + c); id != mapped[c] || len(cls[c]) != len(dict[c]) {
				cls[c] = cls[c][:0]
				for _, d := range dict[c] {
					cls[c] = append(cls[c], ClassOfName(d))
				}
				mapped[c] = id
			}
		}
		if id := b.DictID(4); id != mapped[2] || len(rids) != len(dict[2]) {
			rids = rids[:0]
			for _, d := range dict[2] {
				i, ok := rid[d]
				if !ok {
					i = len(reasons)
					rid[d] = i
					reasons = append(reasons, d)
				}
				rids = append(rids, i)
			}
			mapped[2] = id
		}
		var last repYear
		var cur *posAcc
		var curFlows *yearFlows
		// The columns and lookups in locals, each cut to the batch: the
		// closure's own variables would be loaded again a row.
		n := b.N
		rep, year, amount = rep[:n], year[:n], amount[:n]
		from0, to0, why := idx[0][:n], idx[1][:n], idx[2][:n]
		fromCls, toCls, reasonID := cls[0], cls[1], rids
		for r := range n {
			if k := (repYear{rep[r], year[r]}); cur == nil || k != last {
				if cur = acc[k]; cur == nil {
					cur = &posAcc{}
					acc[k] = cur
				}
				if curFlows == nil || k.year != last.year {
					if curFlows = flowsBy[k.year]; curFlows == nil {
						curFlows = &yearFlows{}
						flowsBy[k.year] = curFlows
					}
				}
				last = k
			}
			from, to, v := fromCls[from0[r]], toCls[to0[r]], amount[r]
			cur.p.Move(from, to, v)
			cur.rows++
			cell := &curFlows[int(from)*int(nClasses)+int(to)]
			if id, c := reasonID[why[r]], *cell; id < len(c) {
				c[id].v += v
				c[id].seen = true
			} else {
				*cell = append(c, make([]flowCell, id+1-len(c))...)
				(*cell)[id] = flowCell{v, true}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	flows := map[flowKey]float64{}
	for y, f := range flowsBy {
		for ft, cells := range f {
			for id, c := range cells {
				if c.seen {
					flows[flowKey{y, Class(ft / int(nClasses)), Class(ft % int(nClasses)), reasons[id]}] = c.v
				}
			}
		}
	}
	sum.LedgerRows = n
	var reps, years []int32
	for k := range acc {
		if !slices.Contains(reps, k.rep) {
			reps = append(reps, k.rep)
		}
		if !slices.Contains(years, k.year) {
			years = append(years, k.year)
		}
	}
	slices.Sort(reps)
	slices.Sort(years)
	nrep := float64(man.Replications)
	whole := make([]Positions, man.Replications)
	wholeRows := make([]float64, man.Replications)
	row := func(label string, ps []Positions, rows []float64) PositionStats {
		var out, prov, pool, hold, comm, ent Moments
		outs := make([]float64, len(ps))
		bal := 0.0
		for i, p := range ps {
			outs[i] = p.Outlay()
			out.Add(p.Outlay())
			prov.Add(p.Net[Providers])
			pool.Add(p.Net[Pool])
			hold.Add(p.Net[Holders])
			comm.Add(p.Net[Commissioner])
			ent.Add(rows[i])
			b := p.Net[Commissioner] + p.Net[Providers] + p.Net[Pool] + p.Net[Holders]
			bal = max(bal, b, -b)
		}
		slices.Sort(outs)
		return PositionStats{Year: label, Replications: len(ps), OutlayMean: out.Mean(), OutlaySE: out.SE(), OutlayP95: Quantile(outs, .95),
			ProvidersNetMean: prov.Mean(), PoolNetMean: pool.Mean(), HoldersNetMean: hold.Mean(), CommissionerNet: comm.Mean(),
			BalanceMaxAbs: bal, EntriesPerRepMean: ent.Mean()}
	}
	if len(years) == 0 {
		for y := 1; y <= man.Years; y++ {
			years = append(years, int32(y))
		}
	}
	for _, y := range years {
		ps := make([]Positions, man.Replications)
		rows := make([]float64, man.Replications)
		for i := range man.Replications {
			if a := acc[repYear{int32(i), y}]; a != nil {
				ps[i], rows[i] = a.p, a.rows
			}
			for c := range ps[i].Net {
				whole[i].Net[c] += ps[i].Net[c]
			}
			wholeRows[i] += rows[i]
		}
		sum.Ledger = append(sum.Ledger, row(fmt.Sprint(y), ps, rows))
	}
	sum.Ledger = append(sum.Ledger, row(AllBands, whole, wholeRows))

	byKey := func(a, b flowKey) int {
		ay, by := a.year, b.year
		if ay < 0 {
			ay = 1 << 30
		}
		if by < 0 {
			by = 1 << 30
		}
		return cmp.Or(cmp.Compare(ay, by), cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to), cmp.Compare(a.reason, b.reason))
	}
	// Totals are summed in key order, not the map's, so a summary is the
	// same to the last bit every time.
	keys := slices.SortedFunc(maps.Keys(flows), byKey)
	total := map[flowKey]float64{}
	for _, k := range keys {
		total[flowKey{-1, k.from, k.to, k.reason}] += flows[k]
	}
	keys = append(keys, slices.SortedFunc(maps.Keys(total), byKey)...)
	for _, k := range keys {
		v, label := flows[k], fmt.Sprint(k.year)
		if k.year < 0 {
			v, label = total[k], AllBands
		}
		sum.Flows = append(sum.Flows, FlowStats{Year: label, Party: ClassNames[k.from], Counterparty: ClassNames[k.to], Reason: k.reason, AmountMean: v / nrep})
	}
	return nil
}

// LedgerColumns are the ledger columns a summary reads.
func LedgerColumns() []runfolder.Column { return slices.Clone(ledgerColumns) }
