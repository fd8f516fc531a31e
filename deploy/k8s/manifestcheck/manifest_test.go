// Package manifestcheck tests the Kubernetes manifests in deploy/k8s: each
// decodes strictly (an unknown or misspelt field is an error) into its
// k8s.io/api type, and the Indexed Job gives each pod the shard that gpbudget
// then reads. It is a module of its own so that the main module does not
// carry k8s.io/api; it imports nothing of the main module (it builds and runs
// the gpbudget command instead), so the main module's dependencies can change
// without touching this go.mod.
package manifestcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// decodeStrict reads YAML into v as the API server's strict field
// validation does: unknown fields, duplicate fields, field names in the wrong
// case and wrong types are errors. (encoding/json, which
// yaml.UnmarshalStrict uses, would match field names ignoring case.)
func decodeStrict(b []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// decode reads a manifest of deploy/k8s strictly into v.
func decode(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", file))
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func job(t *testing.T, file string) *batchv1.Job {
	t.Helper()
	var j batchv1.Job
	decode(t, file, &j)
	if j.APIVersion != "batch/v1" || j.Kind != "Job" {
		t.Fatalf("%s: apiVersion %q kind %q, want batch/v1 Job", file, j.APIVersion, j.Kind)
	}
	if len(j.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%s: want one container, found %d", file, len(j.Spec.Template.Spec.Containers))
	}
	return &j
}

func envValue(c *corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expand does what the kubelet does to args: $(NAME) becomes the value of
// the container's env var NAME.
func expand(c *corev1.Container, s string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		if e, ok := envValue(c, ref[2:len(ref)-1]); ok && e.ValueFrom == nil {
			return e.Value
		}
		return ref
	})
}

// shardsEnv is the variable gpbudget reads the shard count from when the
// scheduler gives only an index (shardsEnv in the main module).
const shardsEnv = "GPBUDGET_SHARDS"

// flag is the value of --name=V or --name V in args.
func flag(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}

// podEnv is what gpbudget's os.Getenv sees in pod index i: the container's
// env, with the completion-index annotation resolved as the Job controller
// sets it, and JOB_COMPLETION_INDEX, which Kubernetes 1.22+ sets itself.
func podEnv(t *testing.T, c *corev1.Container, i int) map[string]string {
	t.Helper()
	env := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i)}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']":
			env[e.Name] = strconv.Itoa(i)
		default:
			t.Fatalf("env %s comes from %+v, which this test cannot resolve", e.Name, e.ValueFrom)
		}
	}
	return env
}

func TestIndexedJobGivesEachPodItsShard(t *testing.T) {
	j := job(t, "job.yaml")
	s := j.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		mode := "unset"
		if s.CompletionMode != nil {
			mode = string(*s.CompletionMode)
		}
		t.Fatalf("job.yaml: completionMode %s, want Indexed (pods get JOB_COMPLETION_INDEX)", mode)
	}
	if s.Completions == nil || *s.Completions < 1 {
		t.Fatalf("job.yaml: completions must be set: it is the shard count")
	}
	n := int(*s.Completions)
	if s.Parallelism != nil && (*s.Parallelism < 1 || int(*s.Parallelism) > n) {
		t.Errorf("job.yaml: parallelism %d, want 1 to completions (%d)", *s.Parallelism, n)
	}
	c := &s.Template.Spec.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "run" {
		t.Fatalf("job.yaml: args %q, want gpbudget's run command", c.Args)
	}
	if _, ok := flag(c.Args, "shard"); ok {
		t.Fatalf("job.yaml: --shard in args overrides the completion index")
	}
	shards := 0
	if v, ok := flag(c.Args, "shards"); ok {
		shards, _ = strconv.Atoi(expand(c, v))
	}
	// Kubernetes 1.22+ sets JOB_COMPLETION_INDEX itself; where the manifest
	// states it (for older clusters), it must come from the index annotation.
	if e, ok := envValue(c, "JOB_COMPLETION_INDEX"); ok && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
		e.ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']") {
		t.Errorf("job.yaml: JOB_COMPLETION_INDEX is %+v, not the completion index annotation", e)
	}
	if e, _ := envValue(c, shardsEnv); e.Value != strconv.Itoa(n) && shards != n {
		t.Errorf("job.yaml: %s is %q but completions is %d: they must agree, or shards are lost or run twice", shardsEnv, e.Value, n)
	}
	// The output folder is on the shared volume, which every pod mounts.
	out, ok := flag(c.Args, "out")
	if !ok || !strings.HasPrefix(expand(c, out), mountOf(t, c, "results")+"/") {
		t.Errorf("job.yaml: --out %q is not on the shared results volume", expand(c, out))
	}
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever && s.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("job.yaml: restartPolicy %q: a Job needs Never or OnFailure", s.Template.Spec.RestartPolicy)
	}
}

func mountOf(t *testing.T, c *corev1.Container, volume string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return strings.TrimSuffix(m.MountPath, "/")
		}
	}
	t.Fatalf("container %s does not mount volume %q", c.Name, volume)
	return ""
}

func claimOf(t *testing.T, j *batchv1.Job, volume string) string {
	t.Helper()
	for _, v := range j.Spec.Template.Spec.Volumes {
		if v.Name == volume && v.PersistentVolumeClaim != nil {
			return v.PersistentVolumeClaim.ClaimName
		}
	}
	t.Fatalf("job %s has no volume %q from a PersistentVolumeClaim", j.Name, volume)
	return ""
}

// The merge Job reads the folder the shards wrote, on the same claim.
func TestMergeJobMergesTheShardsFolder(t *testing.T) {
	run, merge := job(t, "job.yaml"), job(t, "merge-job.yaml")
	rc, mc := &run.Spec.Template.Spec.Containers[0], &merge.Spec.Template.Spec.Containers[0]
	if len(mc.Args) != 2 || mc.Args[0] != "merge" {
		t.Fatalf("merge-job.yaml: args %q, want merge DIR", mc.Args)
	}
	out, _ := flag(rc.Args, "out")
	runDir := strings.TrimPrefix(expand(rc, out), mountOf(t, rc, "results"))
	mergeDir := strings.TrimPrefix(expand(mc, mc.Args[1]), mountOf(t, mc, "results"))
	if runDir != mergeDir {
		t.Errorf("the shards write %s but the merge reads %s (both on the results volume)", runDir, mergeDir)
	}
	if a, b := claimOf(t, run, "results"), claimOf(t, merge, "results"); a != b {
		t.Errorf("the shards write to claim %q but the merge reads claim %q", a, b)
	}
	if rc.Image != mc.Image {
		t.Errorf("the merge runs image %s but the shards %s: merge refuses shards of another version anyway", mc.Image, rc.Image)
	}
	if merge.Spec.CompletionMode != nil && *merge.Spec.CompletionMode == batchv1.IndexedCompletion {
		t.Errorf("merge-job.yaml: one merge, not indexed")
	}
}

func TestVolumeClaimIsSharedReadWriteMany(t *testing.T) {
	var pvc corev1.PersistentVolumeClaim
	decode(t, "pvc.yaml", &pvc)
	if pvc.Kind != "PersistentVolumeClaim" || pvc.Name != claimOf(t, job(t, "job.yaml"), "results") {
		t.Fatalf("pvc.yaml: %s %s is not the claim job.yaml mounts", pvc.Kind, pvc.Name)
	}
	if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("pvc.yaml: access modes %v: pods on several nodes write at once, so ReadWriteMany", pvc.Spec.AccessModes)
	}
}

// Strict decoding does catch a misspelt field (so the tests above would).
func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	b, err := os.ReadFile("../job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, to, want string }{
		{"completionMode:", "completionmode:", "completionmode"},
		{"parallelism:", "paralelism:", "paralelism"},
		{"fieldPath:", "fieldpath:", "fieldpath"},
		{"backoffLimit: 8", "backoffLimit: 8\n  completions: 5", "completions"},
		{"completions: 4", "completions: four", "completions"},
	} {
		bad := strings.Replace(string(b), c.from, c.to, 1)
		var j batchv1.Job
		if err := decodeStrict([]byte(bad), &j); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q for %q was accepted (or not named): %v", c.to, c.from, err)
		}
	}
}

// The pods, played as processes: the real gpbudget, with each pod's args and
// environment (a small scenario and a temporary folder in place of the
// ConfigMap and the volume), then the merge Job's args. The merged run must
// be complete.
func TestPodsAsProcessesMerge(t *testing.T) {
	run, merge := job(t, "job.yaml"), job(t, "merge-job.yaml")
	rc, mc := &run.Spec.Template.Spec.Containers[0], &merge.Spec.Template.Spec.Containers[0]
	tmp := t.TempDir()
	gpb := filepath.Join(tmp, "gpbudget")
	build := exec.Command("go", "-C", "../../..", "build", "-o", gpb, "./cmd/gpbudget")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building gpbudget: %v\n%s", err, out)
	}
	scen := filepath.Join(tmp, "scenario.yaml")
	os.WriteFile(scen, []byte("name: k8s-test\npopulation:\n  synthetic:\n    practices: 3\n"), 0o644)
	results := filepath.Join(tmp, "results")
	vol := mountOf(t, rc, "results")
	n := int(*run.Spec.Completions)
	// Enough replications for every shard, few enough to be quick.
	small := map[string]string{"scenario": scen, "reps": strconv.Itoa(n), "workers": "1"}
	for i := range n {
		var args []string
		for _, a := range rc.Args {
			a = expand(rc, a)
			if name, _, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok && small[name] != "" {
				a = "--" + name + "=" + small[name]
			}
			args = append(args, strings.Replace(a, vol, results, 1))
		}
		cmd := exec.Command(gpb, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range podEnv(t, rc, i) {
			cmd.Env = append(cmd.Env, k+"="+strings.Replace(v, vol, results, 1))
		}
		// gpbudget says which shard it read, and from where.
		want := fmt.Sprintf("shard %d/%d (Kubernetes completion index %d)", i, n, i)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("pod %d: gpbudget %q: %v\n%s\n(want it to say %q)", i, args, err, out, want)
		}
	}
	args := []string{expand(mc, mc.Args[0]), strings.Replace(expand(mc, mc.Args[1]), mountOf(t, mc, "results"), results, 1)}
	out, err := exec.Command(gpb, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("merge pod: gpbudget %q: %v\n%s", args, err, out)
	}
	b, err := os.ReadFile(filepath.Join(args[1], "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Completed    bool     `json:"completed"`
		Merged       []string `json:"merged_from"`
		Replications int      `json:"replications"`
		Years        int      `json:"years"`
		Rows         int      `json:"rows"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	if !man.Completed || len(man.Merged) != n || man.Replications != n || man.Rows != n*man.Years*3 {
		t.Fatalf("merged manifest: completed %v, merged from %v, %d replications, %d rows (want %d)",
			man.Completed, man.Merged, man.Replications, man.Rows, n*man.Years*3)
	}
}
