package analysis

import (
	"fmt"
	"math"
	"testing"
)

// Every name Compare can write has a label and a unit of its own (not the
// fallback), and the families read their number.
func TestMetricOfEveryComparedMetric(t *testing.T) {
	names := []string{"commissioner_cost", "savings_retained", "deficit_carried", "commissioner_outlay"}
	names = append(names, contractMetrics[:]...)
	for c := Providers; c < nClasses; c++ {
		names = append(names, ClassNames[c]+"_net")
	}
	for _, th := range Thresholds {
		names = append(names, "p_overspend_"+thresholdName(th), "p_underspend_"+thresholdName(th))
	}
	for _, q := range ReserveLevels {
		names = append(names, fmt.Sprintf("reserve_p%d", int(math.Round(q*100))))
	}
	for _, n := range names {
		if m := MetricOf(n); m.Unit == "" || m.Label == "" || m.Name != n {
			t.Errorf("%s: %+v: no label or unit of its own", n, m)
		}
	}
	for name, want := range map[string]Metric{
		"p_overspend_10": {"p_overspend_10", "Chance a practice overspends its budget by more than 10% in a year, before any pool", UnitProbability},
		"reserve_p99":    {"reserve_p99", "Reserve for the worst year, enough in 99% of replications (chance worlds)", UnitMoney},
		"holders_net":    {"holders_net", "Net position of the holders, total over the run", UnitMoney},
		"new_thing":      {"new_thing", "new thing", ""},
	} {
		if got := MetricOf(name); got != want {
			t.Errorf("MetricOf(%s) = %+v, want %+v", name, got, want)
		}
	}
	if u, s := MetricOf("p_overspend_5").Shown(); u != "percentage points" || s != 100 {
		t.Errorf("a probability is shown in %s x %v", u, s)
	}
	if u, s := MetricOf("commissioner_cost").Shown(); u != "£ thousand" || s != 1e-3 {
		t.Errorf("money is shown in %s x %v", u, s)
	}
}
