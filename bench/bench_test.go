package bench

import (
	"context"
	"testing"

	"github.com/gpbudget/gpbudget/scenarios"
	"github.com/gpbudget/gpbudget/sim"
)

func model(b *testing.B, name string) *sim.Model {
	b.Helper()
	s, err := scenarios.Load(name)
	if err != nil {
		b.Fatal(err)
	}
	m, err := s.Model(1)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkKernel is the patient-level kernel: one practice's list set-up,
// count tables, events, costs and demography over a base year and 3 years,
// on one goroutine. One op is one practice (the default scenario's, in turn).
func BenchmarkKernel(b *testing.B) {
	m := model(b, "default")
	k, err := sim.NewKernel(m, 3, false)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := kernelPass(context.Background(), k, m, 1, 0, 1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	py := int64(0)
	for i := 0; b.Loop(); i++ {
		n, err := k.Practice(1, 1+i/len(m.Practices), i%len(m.Practices))
		if err != nil {
			b.Fatal(err)
		}
		py += n
	}
	b.ReportMetric(float64(py)/b.Elapsed().Seconds(), "patient-years/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(py), "ns/patient-year")
}

// BenchmarkFloor draws 5 uniforms (one per stream) per op from the same
// generator: the floor the kernel is measured against.
func BenchmarkFloor(b *testing.B) {
	n := 0
	for b.Loop() {
		sink ^= sim.Floor(1, 5*1000)
		n += 1000
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/patient-year")
}
