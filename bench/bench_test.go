package bench

import (
	"context"
	"testing"
	"time"

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

// BenchmarkKernel is the per-patient-year kernel: events, costs and
// demography for one practice-year of the default scenario's practices in
// turn, with the practice's count tables built (set-up untimed).
func BenchmarkKernel(b *testing.B) {
	m := model(b, "default")
	k, err := sim.NewKernel(m, 3, false)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	py := int64(0)
	var el time.Duration
	for i := 0; b.Loop(); i++ {
		p, rep := i%len(m.Practices), 1+i/len(m.Practices)
		b.StopTimer()
		k.Start(1, rep, p)
		b.StartTimer()
		t0 := time.Now()
		for y := range 4 {
			py += k.Year(1, rep, p, y)
		}
		el += time.Since(t0)
	}
	b.ReportMetric(float64(py)/el.Seconds(), "patient-years/s")
	b.ReportMetric(float64(el.Nanoseconds())/float64(py), "ns/patient-year")
}

// BenchmarkPracticeTask is one (replication, practice) task as a run's
// workers do it: starting list, lazily built count tables, base year and 3
// years. One op is one practice.
func BenchmarkPracticeTask(b *testing.B) {
	m := model(b, "default")
	k, err := sim.NewKernel(m, 3, false)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := kernelPass(context.Background(), k, m, 1, 0, 1); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
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
