package analysis

import (
	"os"
	"path/filepath"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// RiskCurveRow is one holder size's figures in a risk curve (written by
// package riskcurve, 'gpbudget risk-curve'). Proportions and rates are fractions;
// each has its Monte Carlo standard error beside it (_se).
type RiskCurveRow struct {
	HolderSize         int64  `parquet:"holder_size"`          // people per holder
	Holders            int64  `parquet:"holders"`              // holders of this size in each replication
	PracticesPerHolder int64  `parquet:"practices_per_holder"` // practices making up a holder
	Replications       int64  `parquet:"replications"`
	Years              int64  `parquet:"years"`
	HolderYears        int64  `parquet:"holder_years"` // holders x replications x years
	Mode               string `parquet:"mode"`         // cohort or patient
	// The spread of x = (benchmark - measured spend) / benchmark over
	// holder-years at the priors' point values: what the holder could not
	// know when the benchmark was set. SDVsBenchmark² = SDOwn² + SDShared²
	// (up to Monte Carlo error): SDOwn is the spread between holders within
	// a replication-year (the holder's own: drift, chance, the shocks of
	// its own neighbourhoods and places), SDShared the spread of the
	// replication-year's mean across replications (what every holder of the
	// run shares: a region's shock, national growth a benchmark does not
	// follow).
	SDVsBenchmark   float64 `parquet:"sd_vs_benchmark"`
	SDVsBenchmarkSE float64 `parquet:"sd_vs_benchmark_se"`
	SDOwn           float64 `parquet:"sd_own"`
	SDOwnSE         float64 `parquet:"sd_own_se"`
	SDShared        float64 `parquet:"sd_shared"`
	SDSharedSE      float64 `parquet:"sd_shared_se"`
	// CVSpendLevel is the SD of a holder's annual measured spend across
	// replications over its mean: the spread of its level, not a surprise
	// against a benchmark (a benchmark from the holder's history already
	// holds most of it).
	CVSpendLevel      float64 `parquet:"cv_spend_level"`
	CVSpendLevelSE    float64 `parquet:"cv_spend_level_se"`
	MeanSavingsRate   float64 `parquet:"mean_savings_rate"` // mean of (benchmark - spend) / benchmark: the benchmark's bias
	MeanSavingsRateSE float64 `parquet:"mean_savings_rate_se"`
	POver5            float64 `parquet:"p_over_5"` // P(spend > 1.05 x benchmark)
	POver5SE          float64 `parquet:"p_over_5_se"`
	PUnder5           float64 `parquet:"p_under_5"` // P(spend < 0.95 x benchmark)
	PUnder5SE         float64 `parquet:"p_under_5_se"`
	Reserve95         float64 `parquet:"reserve_95"` // 95th percentile of (spend - benchmark) / benchmark
	Reserve95SE       float64 `parquet:"reserve_95_se"`
	FalseReward       float64 `parquet:"false_reward"` // P(rewarded | no real change)
	FalseRewardSE     float64 `parquet:"false_reward_se"`
	// FalseRewardP10 and P90 are the 10th and 90th percentiles of false
	// reward across draws of the priors (what the modeller does not know),
	// each draw run over the same chance worlds (common random numbers).
	FalseRewardP10 float64 `parquet:"false_reward_p10"`
	FalseRewardP90 float64 `parquet:"false_reward_p90"`
	PriorDraws     int64   `parquet:"prior_draws"`
	FalsePenalty   float64 `parquet:"false_penalty"` // P(penalised | no real change)
	FalsePenaltySE float64 `parquet:"false_penalty_se"`
	Power2pct      float64 `parquet:"power_2pct"` // P(rewarded | a true 2% cut)
	Power2pctSE    float64 `parquet:"power_2pct_se"`
	MSRFor5pct     float64 `parquet:"msr_for_5pct_false_reward"` // 95th percentile of the savings rate
	MSRFor5pctSE   float64 `parquet:"msr_for_5pct_false_reward_se"`
	// Level is the real level whose units are the holders (pcn, place,
	// icb, region: risk-curve --holders); empty for holders of equal,
	// synthetic size. HolderSize is then their mean size.
	Level       string  `parquet:"level"`
	ScenarioMSR float64 `parquet:"scenario_msr"` // the scenario's own MSR in contract year 1 at this size (NaN: not a contract)
	MedicareMSR float64 `parquet:"medicare_msr"` // the Medicare sliding scale at this size
}

// WriteRiskCurve writes rows to DIR/risk_curve.csv and
// DIR/risk_curve.parquet (with meta as the Parquet file's key-value
// metadata), each atomically. NaN is an empty CSV cell.
func WriteRiskCurve(dir string, rows []RiskCurveRow, meta map[string]string) error {
	return writeRows(dir, runfolder.RiskCurveParquet, runfolder.RiskCurveCSV, rows, meta)
}

// IsRiskCurve says whether dir holds a risk curve.
func IsRiskCurve(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, runfolder.RiskCurveParquet))
	return err == nil
}

// ReadRiskCurve reads DIR/risk_curve.parquet: its rows and key-value
// metadata; a damaged file is a CorruptError naming it, never a panic.
func ReadRiskCurve(dir string) ([]RiskCurveRow, map[string]string, error) {
	return readTable[RiskCurveRow](dir, runfolder.RiskCurveParquet, "a risk curve", "gpbudget risk-curve ...")
}
