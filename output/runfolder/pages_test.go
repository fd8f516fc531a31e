package runfolder

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// Files whose few damaged bytes once made the Parquet decoder allocate
// gigabytes: they must be refused, naming what is wrong, without it.
func TestOpenParquetRefusesHugeClaims(t *testing.T) {
	for file, want := range map[string]string{
		"testdata/hostile/footer-4gib.parquet": "the footer claims 4244636670 bytes",
		"testdata/hostile/page-1gib.parquet":   "1152810710 bytes claimed where 58 are left",
	} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = OpenParquet(f, st.Size())
		runtime.ReadMemStats(&after)
		f.Close()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", file, err, want)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
			t.Errorf("%s: %d MiB allocated to refuse it", file, grew>>20)
		}
	}
}
