package analysis

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpbudget/gpbudget/output/runfolder"
)

// TestRiskCurveWrite: the CSV and Parquet files carry every column, with the SE
// beside each figure, and NaN as an empty cell.
func TestRiskCurveWrite(t *testing.T) {
	dir := t.TempDir()
	rows := []RiskCurveRow{{HolderSize: 5000, Holders: 10, SDVsBenchmark: 0.05, SDVsBenchmarkSE: 0.001, ScenarioMSR: math.NaN(), Mode: "cohort"}}
	if err := WriteRiskCurve(dir, rows, map[string]string{"gpbudget.seed": "1"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, runfolder.RiskCurveCSV))
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := strings.Cut(string(b), "\n")
	for _, c := range []string{"holder_size", "holders", "replications", "sd_vs_benchmark", "sd_vs_benchmark_se", "sd_own", "sd_shared", "false_reward_p10", "false_reward_p90", "cv_spend_level", "p_over_5", "p_over_5_se", "p_under_5", "p_under_5_se",
		"reserve_95", "reserve_95_se", "false_reward", "false_reward_se", "false_penalty", "false_penalty_se", "power_2pct", "power_2pct_se",
		"msr_for_5pct_false_reward", "msr_for_5pct_false_reward_se", "medicare_msr"} {
		if !strings.Contains(","+head+",", ","+c+",") {
			t.Errorf("CSV lacks %s", c)
		}
	}
	if !strings.Contains(body, ",cohort,0.05,0.001,") || !strings.Contains(body, ",,0\n") {
		t.Errorf("CSV row %q", body)
	}
	if st, err := os.Stat(filepath.Join(dir, runfolder.RiskCurveParquet)); err != nil || st.Size() == 0 {
		t.Errorf("no Parquet file: %v", err)
	}
	back, meta, err := ReadRiskCurve(dir)
	if err != nil || len(back) != 1 || back[0].SDVsBenchmark != 0.05 || meta["gpbudget.seed"] != "1" || !IsRiskCurve(dir) {
		t.Errorf("read back %+v, %v, %v", back, meta, err)
	}
}
