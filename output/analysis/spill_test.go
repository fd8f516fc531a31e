package analysis

import (
	"os"
	"reflect"
	"testing"
)

// Records written interleaved come back grouped by practice, each
// practice's in the order written, every practice from its own partition.
func TestSpillGroupsByPractice(t *testing.T) {
	tmp := t.TempDir()
	sp, err := newSpill(tmp, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.remove()
	want := map[int][][2]float32{}
	for i := range 30 {
		p := []int{4, 0, 7, 2, 5}[i%5]
		v := [][2]float32{{float32(i), -float32(i)}}
		if i%7 == 0 {
			v = append(v, [2]float32{float32(100 + i), 0})
		}
		sp.write(p, v)
		want[p] = append(want[p], v...)
	}
	if err := sp.finish(); err != nil {
		t.Fatal(err)
	}
	got := map[int][][2]float32{}
	var seen []int
	for k := range sp.parts {
		if err := sp.read(k, func(p int, vals [][2]float32) {
			if p%2 != k {
				t.Errorf("practice %d read from partition %d", p, k)
			}
			seen = append(seen, p)
			got[p] = append([][2]float32(nil), vals...)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(seen, []int{0, 2, 4, 5, 7}) {
		t.Fatalf("read back %v (order %v), want %v", got, seen, want)
	}
	sp.remove()
	// A spill given up before it is read (an error in the pass) goes too.
	sp2, err := newSpill(tmp, 4)
	if err != nil {
		t.Fatal(err)
	}
	sp2.write(3, [][2]float32{{1, 2}})
	sp2.remove()
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Fatalf("spill left %v behind (%v)", left, err)
	}
}
