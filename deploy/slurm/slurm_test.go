// Package slurm tests the Slurm deployment (gpbudget-array.sbatch and
// submit.sh) on a real one-node Slurm cluster that the test starts on
// localhost: munged, slurmctld and slurmd from Debian's munge and slurm-wlm.
package slurm

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpbudget/gpbudget/output/runfolder"
	"github.com/parquet-go/parquet-go"
)

// need skips the test, visibly, when a system service is absent, and fails
// it instead under CI (CI=true), where .ci/run has installed it.
func need(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s (.ci/run installs slurm-wlm and munge)", why)
	}
	t.Skipf("SKIPPED, no Slurm test: %s (apt-get install slurm-wlm munge, run as root)", why)
}

// lookPath finds a program on PATH or in the sbin folders, where Debian puts
// the daemons.
func lookPath(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if p := filepath.Join(d, name); isExec(p) {
			return p, true
		}
	}
	return "", false
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cluster is a one-node Slurm cluster in a temporary folder.
type cluster struct {
	dir string
	env []string
}

// daemon starts a foreground daemon and stops it (by its own process id)
// when the test ends.
func (c *cluster) daemon(t *testing.T, name string, args ...string) {
	t.Helper()
	path, _ := lookPath(name)
	cmd := exec.Command(path, args...)
	cmd.Env = c.env
	log, err := os.Create(filepath.Join(c.dir, name+".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		// SIGTERM lets slurmctld stop its helper (slurmscriptd) too.
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		log.Close()
	})
}

// logs is every log file of the cluster and its jobs, for failure messages.
func (c *cluster) logs() string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(c.dir, "*.log"))
	outs, _ := filepath.Glob(filepath.Join(c.dir, "*.out"))
	for _, f := range append(files, outs...) {
		data, _ := os.ReadFile(f)
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		fmt.Fprintf(&b, "==> %s <==\n%s\n", f, data)
	}
	return b.String()
}

func (c *cluster) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	path, _ := lookPath(name)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env, cmd.Dir = c.env, c.dir
	return cmd
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	for _, p := range []string{"munged", "slurmctld", "slurmd", "sbatch", "sinfo"} {
		_, ok := lookPath(p)
		need(t, ok, p+" is not installed")
	}
	need(t, os.Geteuid() == 0, "slurmd must run as root to start jobs")
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".")
	dir := t.TempDir()
	c := &cluster{dir: dir}
	for _, d := range []string{"state", "spool", "munge"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}

	// munged with its own key and socket, so that it neither needs nor
	// disturbs a system munged.
	key := make([]byte, 1024)
	rand.Read(key)
	keyFile := filepath.Join(dir, "munge", "munge.key")
	if err := os.WriteFile(keyFile, key, 0o400); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "munge", "munge.socket")
	c.env = append(os.Environ(), "SLURM_CONF="+filepath.Join(dir, "slurm.conf"))
	c.daemon(t, "munged", "--foreground", "--force", "--socket="+sock, "--key-file="+keyFile,
		"--pid-file="+filepath.Join(dir, "munge", "munged.pid"), "--log-file="+filepath.Join(dir, "munged.log"),
		"--seed-file="+filepath.Join(dir, "munge", "munged.seed"))
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i > 100 {
			t.Fatalf("munged did not start:\n%s", c.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}

	conf := fmt.Sprintf(`# A one-node cluster for gpbudget's tests.
ClusterName=gpbtest
SlurmctldHost=%[1]s(127.0.0.1)
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
AuthType=auth/munge
AuthInfo=socket=%[4]s
SlurmUser=root
SlurmdUser=root
StateSaveLocation=%[5]s/state
SlurmdSpoolDir=%[5]s/spool
SlurmctldPidFile=%[5]s/slurmctld.pid
SlurmdPidFile=%[5]s/slurmd.pid
SlurmctldLogFile=%[5]s/slurmctld.log
SlurmdLogFile=%[5]s/slurmd.log
# No cgroups: a container may not delegate them.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=gpbnode NodeHostname=%[1]s NodeAddr=127.0.0.1 CPUs=%[6]d State=UNKNOWN
PartitionName=test Nodes=gpbnode Default=YES MaxTime=INFINITE State=UP
`, host, freePort(t), freePort(t), sock, dir, runtime.NumCPU())
	if err := os.WriteFile(filepath.Join(dir, "slurm.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.daemon(t, "slurmctld", "-D")
	c.daemon(t, "slurmd", "-D", "-N", "gpbnode")
	// Cleanups run last-registered first: cancel any job still running (a
	// failed test) before the daemons stop, so no task outlives the test.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, ok := lookPath("scancel"); ok {
			c.cmd(ctx, "scancel", "--partition=test").Run()
			time.Sleep(500 * time.Millisecond)
		}
	})

	// Wait for the node to be up.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		out, _ := c.cmd(ctx, "sinfo", "-h", "-N", "-o", "%T").Output()
		if s := strings.TrimSpace(string(out)); s == "idle" {
			return c
		}
		if ctx.Err() != nil {
			t.Fatalf("the Slurm node did not come up (sinfo says %q):\n%s", out, c.logs())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// readRows reads a run's rows (the files its manifest lists), sorted.
func readRows(t *testing.T, dir string) (*runfolder.Manifest, []runfolder.Row) {
	t.Helper()
	man, err := runfolder.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rows []runfolder.Row
	files, err := man.TableFiles(runfolder.PracticeYears)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		r, err := parquet.ReadFile[runfolder.Row](filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	slices.SortFunc(rows, func(a, b runfolder.Row) int {
		return cmp.Or(cmp.Compare(a.Replication, b.Replication), cmp.Compare(a.Year, b.Year), cmp.Compare(a.PracticeID, b.PracticeID))
	})
	return man, rows
}

const scenario = `name: slurm-test
population:
  synthetic:
    practices: 6
`

// A 4-task Slurm job array of the real CLI, submitted with submit.sh and
// merged by its dependent job, gives row for row the results of one process
// with the same scenario and seed.
func TestSlurmArrayEqualsOneProcess(t *testing.T) {
	c := startCluster(t)
	gpb := filepath.Join(c.dir, "gpbudget")
	build := exec.Command("go", "build", "-o", gpb, "github.com/gpbudget/gpbudget/cmd/gpbudget")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	scen := filepath.Join(c.dir, "slurm-test.yaml")
	os.WriteFile(scen, []byte(scenario), 0o644)
	flags := "--reps 10 --years 2 --seed 2026"

	one := filepath.Join(c.dir, "one")
	single := exec.Command(gpb, append([]string{"run", "--scenario", scen, "--workers", "2", "--out", one, "--shard", "off"}, strings.Fields(flags)...)...)
	if out, err := single.CombinedOutput(); err != nil {
		t.Fatalf("single-process run: %v\n%s", err, out)
	}

	sharded := filepath.Join(c.dir, "sharded")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	script, err := filepath.Abs("submit.sh") // the test runs in deploy/slurm
	if err != nil {
		t.Fatal(err)
	}
	// Submitted from the cluster's folder, where the job logs then go.
	sub := c.cmd(ctx, "bash", script, "4", "--cpus-per-task=1")
	sub.Env = append(c.env, "GPBUDGET="+gpb, "GPBUDGET_OUT="+sharded, "GPBUDGET_SCENARIO="+scen,
		"GPBUDGET_ARGS="+flags, "GPBUDGET_WAIT=1")
	var out bytes.Buffer
	sub.Stdout, sub.Stderr = &out, &out
	if err := sub.Run(); err != nil {
		t.Fatalf("submit.sh (array, then merge with --wait): %v\n%s\n%s", err, out.String(), c.logs())
	}
	t.Logf("submit.sh: %s", out.String())

	// Each task took its shard from the Slurm array's variables.
	logs, _ := filepath.Glob(filepath.Join(c.dir, "gpbudget-*_*.log"))
	if len(logs) != 4 {
		t.Fatalf("want 4 array task logs, found %v\n%s", logs, c.logs())
	}
	for i := range 4 {
		found := false
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			found = found || strings.Contains(string(b), fmt.Sprintf("shard %d/4 (Slurm array task %d)", i, i))
		}
		if !found {
			t.Errorf("no array task ran shard %d/4 from SLURM_ARRAY_TASK_ID:\n%s", i, c.logs())
		}
	}

	manOne, a := readRows(t, one)
	manSh, b := readRows(t, sharded)
	if !manSh.Completed || len(manSh.Merged) != 4 {
		t.Fatalf("the merge job did not mark the run complete: completed %v, merged from %v\n%s", manSh.Completed, manSh.Merged, c.logs())
	}
	if len(a) != 10*2*6 || len(a) != len(b) || manOne.Rows != manSh.Rows {
		t.Fatalf("one process wrote %d rows, the array %d; want %d", len(a), len(b), 10*2*6)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d differs:\none process %+v\nSlurm array %+v", i, a[i], b[i])
		}
	}
}

// The array script, run as Slurm would run a task (its variables set by
// hand, no cluster needed): a first attempt runs the shard; a requeued
// attempt (SLURM_RESTART_COUNT > 0) resumes it instead of starting again.
func TestArrayScriptRunsThenResumesWhenRequeued(t *testing.T) {
	dir := t.TempDir()
	gpb := filepath.Join(dir, "gpbudget")
	if out, err := exec.Command("go", "build", "-o", gpb, "github.com/gpbudget/gpbudget/cmd/gpbudget").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	scen := filepath.Join(dir, "s.yaml")
	os.WriteFile(scen, []byte(scenario), 0o644)
	script, _ := filepath.Abs("gpbudget-array.sbatch")
	task := func(restarts string) string {
		cmd := exec.Command("bash", script)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GPBUDGET=" + gpb, "GPBUDGET_OUT=" + filepath.Join(dir, "out"),
			"GPBUDGET_SCENARIO=" + scen, "GPBUDGET_ARGS=--reps 4 --years 1 --seed 5",
			"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=2", "SLURM_ARRAY_TASK_COUNT=2",
			"SLURM_CPUS_PER_TASK=1", "SLURM_RESTART_COUNT=" + restarts}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("array task (restarts %s): %v\n%s", restarts, err, out)
		}
		return string(out)
	}
	if out := task("0"); !strings.Contains(out, "shard 1/2 (Slurm array task 2): replications 2 to 3") {
		t.Fatalf("first attempt: %s", out)
	}
	if out := task("1"); !strings.Contains(out, "shard 1/2 of "+filepath.Join(dir, "out")+" is already complete") {
		t.Fatalf("requeued attempt did not resume: %s", out)
	}
}
