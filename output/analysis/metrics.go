package analysis

import "strings"

// Units of a compared metric (Metric.Unit).
const (
	UnitMoney       = "£"
	UnitProbability = "probability"
)

// Metric says what a compared metric measures: its name (a CompareRow's
// Metric, a SensitivityRow's Output), its label in words and its unit. The
// comparison and sensitivity pages and the what-if page all label metrics
// from here.
type Metric struct {
	Name, Label, Unit string
}

// metricLabels are the labels of Compare's metrics with fixed names, all
// money; MetricOf adds the families named by a threshold, a level or a
// class.
var metricLabels = map[string]string{
	"commissioner_cost":      "Commissioner's cost, total over the run",
	"commissioner_outlay":    "Commissioner's net payments, total over the run (from the ledger)",
	"savings_retained":       "Savings kept by budget holders, total over the run",
	"deficit_carried":        "Deficits carried at the end of the last year",
	"shared_savings_paid":    "Shared savings paid to holders",
	"shared_losses_received": "Shared losses paid by holders",
	"incentives_paid":        "Incentive payments to holders",
	"spend_truncated":        "Spend left out by per-patient truncation",
}

// MetricOf is the named metric: one of metricLabels; p_overspend_N and
// p_underspend_N (the chance a practice-year is N% of budget over or
// under, before any pool); reserve_pN (the reserve enough in N% of
// replications); CLASS_net (a class of parties' net position). A name it
// does not know is labelled by itself, with no unit.
func MetricOf(name string) Metric {
	m := Metric{Name: name, Unit: UnitMoney}
	if l, ok := metricLabels[name]; ok {
		m.Label = l
		return m
	}
	switch {
	case strings.HasPrefix(name, "reserve_p"):
		m.Label = "Reserve for the worst year, enough in " + strings.TrimPrefix(name, "reserve_p") + "% of replications (chance worlds)"
	case strings.HasPrefix(name, "p_overspend_"):
		m.Label, m.Unit = "Chance a practice overspends its budget by more than "+strings.TrimPrefix(name, "p_overspend_")+"% in a year, before any pool", UnitProbability
	case strings.HasPrefix(name, "p_underspend_"):
		m.Label, m.Unit = "Chance a practice underspends its budget by more than "+strings.TrimPrefix(name, "p_underspend_")+"% in a year", UnitProbability
	case strings.HasSuffix(name, "_net"):
		m.Label = "Net position of the " + strings.ReplaceAll(strings.TrimSuffix(name, "_net"), "_", " ") + ", total over the run"
	default:
		m.Label, m.Unit = strings.ReplaceAll(name, "_", " "), ""
	}
	return m
}

// Shown is how a page draws the metric: money in £ thousand, a
// probability in percentage points; the unit's words and the factor from
// the metric's own unit.
func (m Metric) Shown() (unit string, scale float64) {
	switch m.Unit {
	case UnitMoney:
		return "£ thousand", 1e-3
	case UnitProbability:
		return "percentage points", 100
	}
	return m.Unit, 1
}
