package rundir

import (
	"context"
	"github.com/gpbudget/gpbudget/output/runfolder"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFullDisk runs into a 192 KiB tmpfs: the run fails with "no space left
// on device", leaves no part file (complete or not), and its manifest says it
// did not complete. Mounting needs root; elsewhere the test says why it skips.
func TestFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tiny")
	os.MkdirAll(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" && os.Geteuid() == 0 {
			t.Fatalf("cannot mount a tmpfs as root in CI: %v %s", err, out)
		}
		t.Skipf("SKIP: cannot mount a small tmpfs to fill (needs root): %v %s", err, strings.TrimSpace(string(out)))
	}
	defer syscall.Unmount(dir, 0)
	sp := smallSpec(t, 400)
	sp.Dir = filepath.Join(dir, "run")
	_, err := Execute(context.Background(), sp)
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("run on a full disk: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(sp.Dir, "practice_years", "*"))
	hidden, _ := filepath.Glob(filepath.Join(sp.Dir, "practice_years", ".*"))
	if len(files)+len(hidden) > 0 {
		t.Errorf("files left on the full disk: %v %v", files, hidden)
	}
	if m, err := runfolder.ReadManifest(sp.Dir); err == nil && m.Completed {
		t.Error("manifest says complete")
	}
	if _, err := runfolder.RequireComplete(sp.Dir); err == nil {
		t.Error("RequireComplete accepted the failed run")
	}
}
