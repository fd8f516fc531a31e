package riskcurve

import (
	"context"
	"testing"

	"github.com/gpbudget/gpbudget/scenarios"
)

// TestRunLevels: an ICB's real holders by level are its PCNs (nine in
// Shropshire, Telford and Wrekin) and the ICB itself, their sizes its
// patients over them; a PCN faces more risk against its benchmark than
// the whole ICB (at seed 5 and 10 replications: 3.59% against 1.83%, with
// Monte Carlo SEs of 0.25 and 0.34 points, some 4 SE apart).
func TestRunLevels(t *testing.T) {
	s, err := scenarios.Load("neighbourhood-shared-savings-2026")
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.UseEngland("QOC")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := RunLevels(context.Background(), s, Options{Reps: 10, Seed: 5, Workers: 2, PriorDraws: -1}, []string{"pcn", "icb"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Level != "pcn" || rows[1].Level != "icb" {
		t.Fatalf("rows %+v", rows)
	}
	if rows[0].Holders != 9 || rows[0].HolderSize != int64(a.Patients/9) || rows[1].Holders != 1 || rows[1].HolderSize != int64(a.Patients) {
		t.Errorf("holders: pcn %d of %d, icb %d of %d; want 9 of %d, 1 of %d", rows[0].Holders, rows[0].HolderSize, rows[1].Holders, rows[1].HolderSize, a.Patients/9, a.Patients)
	}
	p, i := rows[0], rows[1]
	if !(p.SDVsBenchmark > i.SDVsBenchmark) {
		t.Errorf("sd_vs_benchmark: PCNs %.4f±%.4f, the ICB %.4f±%.4f; want PCNs riskier", p.SDVsBenchmark, p.SDVsBenchmarkSE, i.SDVsBenchmark, i.SDVsBenchmarkSE)
	}
	t.Logf("pcn %.4f±%.4f icb %.4f±%.4f", p.SDVsBenchmark, p.SDVsBenchmarkSE, i.SDVsBenchmark, i.SDVsBenchmarkSE)
	if _, err := RunLevels(context.Background(), s, Options{Reps: 2}, []string{"ward"}); err == nil {
		t.Error("holders by ward accepted")
	}
}
