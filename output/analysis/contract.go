package analysis

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/gpbudget/gpbudget/output/runfolder"
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
	// MeasuredOver is the area's measured spend (spend less what
	// truncation leaves out) less its benchmarks: what the contracts settle
	// on. The commissioner table's area overspend is MeasuredOver plus
	// Truncated, as its budgets (the benchmarks) are set on measured spend
	// and it pays providers for all of it. ProbMeasuredOver is the share of
	// replications in which MeasuredOver is above 0; ContractNet is shared
	// savings paid less shared losses received, what the contracts moved.
	MeasuredOver     float64 `parquet:"measured_over_benchmark_mean"`
	MeasuredOverSE   float64 `parquet:"measured_over_benchmark_se"`
	ProbMeasuredOver float64 `parquet:"prob_measured_over_benchmark"`
	ContractNet      float64 `parquet:"contract_net_paid_mean"`
	ContractNetSE    float64 `parquet:"contract_net_paid_se"`
}

// nContractSums is how many sums contractAcc keeps per (replication, year): the
// four contractColumns, then budget and spend.
const nContractSums = 6

// contractColumns are read, with the summary's own, where a run has
// contract payments.
var contractColumns = []runfolder.Column{
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

// contractAcc sums the practice-years' contract columns by replication and
// year, in the summary's scan, for sum.Contract: for a run whose scenario
// is a contract or pays an incentive (older runs, and other rules, have
// nothing to show).
type contractAcc struct {
	tot  map[repYear]*[nContractSums]float64
	last repYear
	cur  *[nContractSums]float64
}

type repYear struct{ rep, year int32 }

// newContractAcc is nil where the run has no contract payments to show.
func newContractAcc(man *runfolder.Manifest) *contractAcc {
	t := termsOf(man)
	if t.Rule.Type != "shared_savings" && t.Incentive == nil {
		return nil
	}
	return &contractAcc{tot: map[repYear]*[nContractSums]float64{}}
}

// add takes a batch's rows: rep and year, and the four contractColumns'
// values, the budget and the spend after them.
func (a *contractAcc) add(n int, rep, year []int32, cols [nContractSums][]float64) {
	for r := range n {
		k := repYear{rep[r], year[r]}
		if a.cur == nil || k != a.last {
			a.cur = a.tot[k]
			if a.cur == nil {
				a.cur = &[nContractSums]float64{}
				a.tot[k] = a.cur
			}
			a.last = k
		}
		for c := range cols {
			a.cur[c] += cols[c][r]
		}
	}
}

// finish sets sum.Contract: each year's payments and all years', as means
// over replications with their SEs.
func (a *contractAcc) finish(sum *Summary) {
	tot := a.tot
	var years []int32
	for k := range tot {
		if !slices.Contains(years, k.year) {
			years = append(years, k.year)
		}
	}
	slices.Sort(years)
	whole := map[int32]*[nContractSums]float64{}
	row := func(label string, per map[int32]*[nContractSums]float64) ContractStats {
		var m [4]Moments
		var over, net Moments
		overs := 0
		for _, rep := range slices.Sorted(maps.Keys(per)) { // in order: the same bits every time
			v := per[rep]
			for c := range m {
				m[c].Add(v[c])
			}
			o := v[5] - v[3] - v[4] // spend - truncated - budget
			over.Add(o)
			if o > 0 {
				overs++
			}
			net.Add(v[0] - v[1])
		}
		st := ContractStats{Year: label, Replications: len(per)}
		st.SharedSavings, st.SharedSavingsSE = m[0].Mean(), m[0].SE()
		st.SharedLoss, st.SharedLossSE = m[1].Mean(), m[1].SE()
		st.Incentive, st.IncentiveSE = m[2].Mean(), m[2].SE()
		st.Truncated, st.TruncatedSE = m[3].Mean(), m[3].SE()
		st.MeasuredOver, st.MeasuredOverSE = over.Mean(), over.SE()
		st.ContractNet, st.ContractNetSE = net.Mean(), net.SE()
		if len(per) > 0 {
			st.ProbMeasuredOver = float64(overs) / float64(len(per))
		}
		return st
	}
	for _, y := range years {
		per := map[int32]*[nContractSums]float64{}
		for k, v := range tot {
			if k.year != y {
				continue
			}
			per[k.rep] = v
			w := whole[k.rep]
			if w == nil {
				w = &[nContractSums]float64{}
				whole[k.rep] = w
			}
			for c := range v {
				w[c] += v[c]
			}
		}
		sum.Contract = append(sum.Contract, row(strconv.Itoa(int(y)), per))
	}
	sum.Contract = append(sum.Contract, row(AllBands, whole))
}
