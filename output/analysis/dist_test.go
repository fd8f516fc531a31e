package analysis

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// A pooled exact Dist (practices merged by reference) gives the type-7
// quantiles and the VaR and ES of its values put together; a sketched one
// is within its relative error of them (on normal values, p05 to p95 and
// the 95% tail, where no quantile is near zero).
func TestDistPooledAndSketched(t *testing.T) {
	g := rand.New(rand.NewPCG(1, 2))
	q, err := Sketched(SketchRelError)
	if err != nil {
		t.Fatal(err)
	}
	pooled, sk := Exact().New(), q.New()
	var all []float64
	for range 7 {
		leaf := Exact().New()
		for range 1 + g.IntN(500) {
			v := float64(float32(100 + 30*g.NormFloat64()))
			leaf.Add(v)
			sk.Add(v)
			all = append(all, v)
		}
		pooled.Merge(leaf)
	}
	slices.Sort(all)
	if pooled.N() != len(all) {
		t.Fatalf("N %d, want %d", pooled.N(), len(all))
	}
	for _, p := range []float64{0, .05, .25, .5, .75, .95, 1} {
		if got, want := pooled.Quantile(p), Quantile(all, p); math.Abs(got-want) > 1e-9 {
			t.Errorf("p%.0f: pooled %v, want %v", 100*p, got, want)
		}
		if p > 0 && p < 1 {
			// DDSketch takes the order statistic at rank floor(p(n-1)): within
			// its relative error of that value.
			want := all[int(p*float64(len(all)-1))]
			if got := sk.Quantile(p); math.Abs(got-want) > SketchRelError*math.Abs(want) {
				t.Errorf("p%.0f: sketch %v, want within %.0f%% of %v", 100*p, got, 100*SketchRelError, want)
			}
		}
	}
	for _, neg := range []bool{false, true} {
		x := slices.Clone(all)
		if neg {
			for i := range x {
				x[i] = -x[i]
			}
		}
		v, es := Tail(x, .95)
		pv, pes := pooled.Tail(.95, neg)
		if math.Abs(pv-v) > 1e-9 || math.Abs(pes-es) > 1e-9 {
			t.Errorf("neg %v: pooled tail %v %v, want %v %v", neg, pv, pes, v, es)
		}
		sv, ses := sk.Tail(.95, neg)
		if math.Abs(sv-v) > SketchRelError*math.Abs(v) || math.Abs(ses-es) > SketchRelError*math.Abs(es) {
			t.Errorf("neg %v: sketch tail %v %v, want within 1%% of %v %v", neg, sv, ses, v, es)
		}
	}
}

// Every order statistic of a pooled Dist is the flat sorted values' own,
// with negative values, zeros of both signs, subnormals, ties across leaves
// and leaves of one value: of few leaves (bisection) and of many (a histogram), which
// give the same bits, a zero's sign included; and of many leaves whose
// histogram was counted elsewhere (countBins, as the summary counts its
// bands' while each practice's values are at hand).
func TestOrderStatEveryRank(t *testing.T) {
	for _, leaves := range []int{40, bisectLeaves + 100} {
		orderStatEveryRank(t, leaves)
	}
}

func orderStatEveryRank(t *testing.T, leaves int) {
	g := rand.New(rand.NewPCG(3, 4))
	pooled, counted := Exact().New(), Exact().New()
	var all []float32
	var counts []int32
	for i := range leaves {
		leaf := Exact().New()
		n := 1 + g.IntN(300)
		for range n {
			var v float32
			switch {
			case i%10 == 0:
				v = 7 // a leaf of one value, repeated
			case g.IntN(8) == 0:
				v = float32(g.IntN(5) - 2) // ties across leaves
			case g.IntN(20) == 0:
				v = float32(math.Copysign(0, float64(g.IntN(2)*2-1)))
			case g.IntN(40) == 0:
				// Subnormals of either sign: -0 lies in +0's bin, beside the
				// bin of the least negative subnormals.
				v = math.Float32frombits(uint32(1+g.IntN(1000)) | uint32(g.IntN(2))<<31)
			default:
				v = float32(1e3 * g.NormFloat64())
			}
			leaf.Add(float64(v))
			all = append(all, v)
		}
		pooled.Merge(leaf)
		counted.Merge(leaf)
		counts = countBins(counts, leaf.vals)
	}
	counted.index(counts)
	if leaves > bisectLeaves && counted.pool == nil {
		t.Fatalf("%d leaves: no pool from the counts", leaves)
	}
	slices.Sort(all)
	ls := pooled.leaves()
	for k, want := range all {
		got := pooled.orderStat(k)
		if got != float64(want) {
			t.Fatalf("%d leaves: order statistic %d of %d: %v, want %v", leaves, k, len(all), got, want)
		}
		if c := counted.orderStat(k); math.Float64bits(c) != math.Float64bits(got) {
			t.Fatalf("%d leaves: order statistic %d from counts: %v, want %v", leaves, k, c, got)
		}
		if k%16 != 0 && want != 0 {
			continue
		}
		if b := bisect(ls, k); math.Float64bits(b) != math.Float64bits(got) {
			t.Fatalf("%d leaves: order statistic %d: %v, bisection %v", leaves, k, got, b)
		}
	}
}

// The radix sort orders values as their keys do (-0 before +0), whatever
// their count, odd or even, and whichever bytes they share.
func TestRadixSort(t *testing.T) {
	g := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 3, 48, 49, 200, 201, 1000} {
		for _, scale := range []float64{1e-3, 10, 3e4, 0} {
			x := make([]float32, n)
			for i := range x {
				switch {
				case scale == 0:
					// In [1, 2): every key's top byte the same, so a pass
					// is skipped and the keys end in the scratch buffer.
					x[i] = float32(1 + g.Float64())
				case g.IntN(10) == 0:
					x[i] = float32(math.Copysign(0, float64(g.IntN(2)*2-1)))
				case g.IntN(9) == 0:
					x[i] = 7
				default:
					x[i] = float32(scale * g.NormFloat64())
				}
			}
			want := slices.Clone(x)
			slices.SortFunc(want, func(a, b float32) int { return cmp.Compare(key(a), key(b)) })
			radixSort(x)
			for i := range x {
				if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n %d scale %g: at %d %v, want %v", n, scale, i, x[i], want[i])
				}
			}
		}
	}
}

// key orders values as floats do, -0 just before +0, and value undoes it
// bit for bit.
func TestKey(t *testing.T) {
	inf, den := float32(math.Inf(1)), math.Float32frombits(1)
	neg0 := float32(math.Copysign(0, -1))
	asc := []float32{-inf, -math.MaxFloat32, -1.5, -1, -den, neg0, 0, den, 1, 1.5, math.MaxFloat32, inf}
	for i, v := range asc {
		if math.Float32bits(value(key(v))) != math.Float32bits(v) {
			t.Errorf("value(key(%v)) = %v", v, value(key(v)))
		}
		if i > 0 && key(asc[i-1]) >= key(v) {
			t.Errorf("key(%v) = %#x not above key(%v) = %#x", v, key(v), asc[i-1], key(asc[i-1]))
		}
	}
}
