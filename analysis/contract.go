package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/gpbudget/gpbudget/runfolder"
)

// ContractStats is one row of the contract table: what contracts' settlement
// moved in one year ("all": summed over the run's years), as area totals per
// replication, their mean and its standard error across replications:
// shared savings the commissioner paid holders, shared losses holders paid
// it from their own money, incentive payments, and spend left out of the
// measured spend by per-patient truncation (not money: providers were paid
// for it).
type ContractStats struct {
	Year            string  `parquet:"year"`
	Replications    int     `parquet:"replications"`
	SharedSavings   float64 `parquet:"shared_savings_paid_mean"`
	SharedSavingsSE float64 `parquet:"shared_savings_paid_se"`
	SharedLoss      float64 `parquet:"shared_losses_received_mean"`
	SharedLossSE    float64 `parquet:"shared_losses_received_se"`
	Incentive       float64 `parquet:"incentives_paid_mean"`
	IncentiveSE     float64 `parquet:"incentives_paid_se"`
	Truncated       float64 `parquet:"spend_truncated_mean"`
	TruncatedSE     float64 `parquet:"spend_truncated_se"`
}

var contractColumns = []runfolder.Column{
	{Name: "replication", Kind: runfolder.Int}, {Name: "year", Kind: runfolder.Int},
	{Name: "shared_savings", Kind: runfolder.Float}, {Name: "shared_loss", Kind: runfolder.Float},
	{Name: "incentive_paid", Kind: runfolder.Float}, {Name: "spend_truncated", Kind: runfolder.Float},
}

// runTerms are what a summary needs to know of a run's scenario: whether
// it has contracts' payments to read, and what to call the commissioner.
type runTerms struct {
	Rule struct {
		Type string `json:"type"`
	} `json:"rule"`
	Incentive         any    `json:"incentive"`
	CommissionerLabel string `json:"commissioner_label"`
}

// termsOf reads the run's scenario as its manifest records it (resolved).
func termsOf(man *runfolder.Manifest) runTerms {
	var t runTerms
	if b, err := json.Marshal(man.Scenario); err == nil {
		_ = json.Unmarshal(b, &t) // a manifest without these fields is an older run: none
	}
	return t
}

// contractPass reads the practice-years' contract columns into
// sum.Contract, for a run whose scenario is a contract or pays an
// incentive (older runs, and other rules, have nothing to show).
func contractPass(ctx context.Context, dir string, man *runfolder.Manifest, files []string, readers int, sum *Summary) error {
	t := termsOf(man)
	if t.Rule.Type != "shared_savings" && t.Incentive == nil {
		return nil
	}
	type repYear struct{ rep, year int32 }
	tot := map[repYear]*[4]float64{}
	_, err := runfolder.Scan(ctx, dir, files, contractColumns, readers, func(b *runfolder.Batch) error {
		rep, year := b.Int(0), b.Int(1)
		cols := [4][]float64{b.Float(2), b.Float(3), b.Float(4), b.Float(5)}
		for r := range b.N {
			k := repYear{rep[r], year[r]}
			v := tot[k]
			if v == nil {
				v = &[4]float64{}
				tot[k] = v
			}
			for c := range cols {
				v[c] += cols[c][r]
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: contract payments: %w", dir, err)
	}
	var years []int32
	for k := range tot {
		if !slices.Contains(years, k.year) {
			years = append(years, k.year)
		}
	}
	slices.Sort(years)
	whole := map[int32]*[4]float64{}
	row := func(label string, per map[int32]*[4]float64) ContractStats {
		var m [4]Moments
		for _, v := range per {
			for c := range m {
				m[c].Add(v[c])
			}
		}
		st := ContractStats{Year: label, Replications: len(per)}
		st.SharedSavings, st.SharedSavingsSE = m[0].Mean(), m[0].SE()
		st.SharedLoss, st.SharedLossSE = m[1].Mean(), m[1].SE()
		st.Incentive, st.IncentiveSE = m[2].Mean(), m[2].SE()
		st.Truncated, st.TruncatedSE = m[3].Mean(), m[3].SE()
		return st
	}
	for _, y := range years {
		per := map[int32]*[4]float64{}
		for k, v := range tot {
			if k.year != y {
				continue
			}
			per[k.rep] = v
			w := whole[k.rep]
			if w == nil {
				w = &[4]float64{}
				whole[k.rep] = w
			}
			for c := range v {
				w[c] += v[c]
			}
		}
		sum.Contract = append(sum.Contract, row(strconv.Itoa(int(y)), per))
	}
	sum.Contract = append(sum.Contract, row(AllBands, whole))
	return nil
}
