package variate

import (
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestAlias checks the alias table's outcome shares against its weights
// (chi-square, 200,000 draws, p < 1e-4), including zero weights, which must
// never be drawn.
func TestAlias(t *testing.T) {
	const draws = 200_000
	w := []float64{0.3, 0, 2.5, 0.01, 1, 0, 7, 0.2}
	var a Alias
	var sc AliasScratch
	a.Build(w, &sc)
	g := src(14)
	counts := make([]float64, len(w))
	for range draws {
		counts[a.Rand(g)]++
	}
	total := 0.0
	for _, x := range w {
		total += x
	}
	chi, df := 0.0, -1
	for k, x := range w {
		if x == 0 {
			if counts[k] != 0 {
				t.Errorf("outcome %d has weight 0 but was drawn %v times", k, counts[k])
			}
			continue
		}
		e := draws * x / total
		chi += (counts[k] - e) * (counts[k] - e) / e
		df++
	}
	if crit := (distuv.ChiSquared{K: float64(df)}).Quantile(1 - 1e-4); chi > crit {
		t.Errorf("alias: chi-square %.1f on %d df, critical %.1f (counts %v)", chi, df, crit, counts)
	}
}
