package riskcurve

import (
	"context"
	"fmt"

	"github.com/gpbudget/gpbudget/output/analysis"
	"github.com/gpbudget/gpbudget/scenarios"
)

// RunLevels measures the real holders of s's practices at each level
// (pcn, place, icb, region: every practice's unit at the level holds one
// budget, scenarios.Scenario.ForLevel), one row per level, as Run measures
// holders of one size: the same benchmark, rules and statistics, over
// holders of unequal size (HolderSize is their mean).
func RunLevels(ctx context.Context, s *scenarios.Scenario, o Options, levels []string) ([]analysis.RiskCurveRow, error) {
	if o.Reps < 1 {
		return nil, fmt.Errorf("replications %d: accepted 1 or more", o.Reps)
	}
	if o.Years == 0 {
		o.Years = 1
	}
	base, err := s.Model(o.Seed)
	if err != nil {
		return nil, err
	}
	threshold := 0.0
	if base.StopLoss.Active() {
		threshold = base.StopLoss.Threshold
	}
	var out []analysis.RiskCurveRow
	for _, l := range levels {
		hs, area, err := s.ForLevel(l, threshold)
		if err != nil {
			return nil, err
		}
		r, err := measureHolders(ctx, s, hs, o, area)
		if err != nil {
			return nil, fmt.Errorf("holders by %s: %w", l, err)
		}
		r.Level = l
		out = append(out, r)
	}
	return out, nil
}
