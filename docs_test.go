package main

// The nightly examples in docs/ are parsed and checked for the fields
// reprove relies on, so that an edit that breaks them (a shard count changed
// in one place only, a secret lost, a flag misspelt) fails here.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/reprove/reprove/rebuild/history"
)

// The Kubernetes objects, only as far as reprove relies on them.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		JobTemplate struct {
			Spec k8sJobSpec `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

type k8sJobSpec struct {
	CompletionMode string `yaml:"completionMode"`
	Completions    *int   `yaml:"completions"`
	Parallelism    *int   `yaml:"parallelism"`
	Template       struct {
		Spec struct {
			RestartPolicy string         `yaml:"restartPolicy"`
			Containers    []k8sContainer `yaml:"containers"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

type k8sContainer struct {
	Name string   `yaml:"name"`
	Args []string `yaml:"args"`
	Env  []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom struct {
			SecretKeyRef struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
}

// historySecret is where a container's REPROVE_HISTORY comes from.
func (c k8sContainer) historySecret() (name, key string, ok bool) {
	for _, e := range c.Env {
		if e.Name == "REPROVE_HISTORY" {
			r := e.ValueFrom.SecretKeyRef
			return r.Name, r.Key, e.Value == "" && r.Name != "" && r.Key != ""
		}
	}
	return "", "", false
}

func readK8s(t *testing.T, path string) map[string]k8sObject {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		objs[o.Metadata.Name] = o
	}
}

// batchFlags are the flags the real reprove batch command defines, which
// the examples may use.
var batchFlags = func() []string {
	var names []string
	for _, f := range batchCommand().Flags {
		for _, n := range f.Names() {
			names = append(names, "--"+n)
		}
	}
	return names
}()

// flagValue is the value following flag in args, "" when absent.
func flagValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
	}
	return ""
}

func checkBatchArgs(t *testing.T, where string, args []string) {
	t.Helper()
	if len(args) == 0 || args[0] != "batch" {
		t.Fatalf("%s: args %q do not run reprove batch", where, args)
	}
	for _, a := range args[1:] {
		name, _, _ := strings.Cut(a, "=")
		if strings.HasPrefix(a, "-") && !slices.Contains(batchFlags, name) {
			t.Errorf("%s: %s is not a flag of reprove batch (%v)", where, a, batchFlags)
		}
	}
	if flagValue(args, "--out") == "" || flagValue(args, "--junit") == "" {
		t.Errorf("%s: args %q lack --out DIR or --junit FILE", where, args)
	}
}

func TestNightlyDocs(t *testing.T) {
	t.Run("kubernetes", func(t *testing.T) {
		objs := readK8s(t, filepath.Join("docs", "nightly-kubernetes.yaml"))
		nightly, ok := objs["reprove-nightly"]
		if !ok || nightly.Kind != "CronJob" {
			t.Fatalf("no CronJob reprove-nightly in %v", objs)
		}
		job := nightly.Spec.JobTemplate.Spec
		if job.CompletionMode != "Indexed" {
			t.Errorf("completionMode %q, want Indexed (JOB_COMPLETION_INDEX is the shard index)", job.CompletionMode)
		}
		if job.Completions == nil || job.Parallelism == nil || *job.Completions != *job.Parallelism || *job.Completions < 2 {
			t.Fatalf("completions %s and parallelism %s must be equal: one pod per shard, all at once", intText(job.Completions), intText(job.Parallelism))
		}
		if job.Template.Spec.RestartPolicy != "Never" {
			t.Errorf("restartPolicy %q, want Never (podFailurePolicy needs it)", job.Template.Spec.RestartPolicy)
		}
		c := job.Template.Spec.Containers[0]
		checkBatchArgs(t, "reprove-nightly", c.Args)
		if got := flagValue(c.Args, "--shard-count"); got != strconv.Itoa(*job.Completions) {
			t.Errorf("--shard-count %q, want the completions, %d", got, *job.Completions)
		}
		if flagValue(c.Args, "--fail-on") != "regression" {
			t.Errorf("args %q: want --fail-on regression, so that a pod fails for regressions only", c.Args)
		}
		secret, key, ok := c.historySecret()
		if !ok {
			t.Errorf("reprove-nightly: REPROVE_HISTORY must come from a secret (secretKeyRef), not a value")
		}

		regressions := objs["reprove-regressions"].Spec.JobTemplate.Spec.Template.Spec.Containers
		if len(regressions) != 1 || !slices.Equal(regressions[0].Args, []string{"history", "regressions", "--since", "24h"}) {
			t.Fatalf("reprove-regressions: containers %+v, want one running history regressions --since 24h", regressions)
		}
		if s, k, ok := regressions[0].historySecret(); !ok || s != secret || k != key {
			t.Errorf("reprove-regressions reads REPROVE_HISTORY from %s/%s, the shards write to %s/%s", s, k, secret, key)
		}
		checkHistoryCommand(t, regressions[0].Args)
	})

	t.Run("github-actions", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("docs", "nightly-github-actions.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]ghJob `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(b, &wf); err != nil {
			t.Fatal(err)
		}
		verify, ok := wf.Jobs["verify"]
		if !ok {
			t.Fatalf("no job verify in %v", wf.Jobs)
		}
		shards := verify.Strategy.Matrix.Shard
		for i, s := range shards {
			if s != i {
				t.Fatalf("matrix shard %v: want 0, 1, … N-1", shards)
			}
		}
		if len(shards) < 2 || verify.Strategy.FailFast == nil || *verify.Strategy.FailFast {
			t.Errorf("matrix %v, fail-fast %v: want 2 or more shards, and fail-fast false so that every shard runs", shards, verify.Strategy.FailFast)
		}
		batch := verify.commandLine("reprove\" batch", "reprove batch")
		// One field for the matrix expression, as the shell sees it after
		// GitHub substituted it.
		batch = strings.ReplaceAll(batch, "${{ matrix.shard }}", "${{matrix.shard}}")
		args := strings.Fields(batch[strings.Index(batch, "batch"):])
		checkBatchArgs(t, "verify", args)
		if got, want := flagValue(args, "--shard"), "${{matrix.shard}}/"+strconv.Itoa(len(shards)); got != want {
			t.Errorf("--shard %q, want %q", got, want)
		}
		if !verify.uploads(flagValue(args, "--out")) {
			t.Errorf("verify does not upload its --out folder %q", flagValue(args, "--out"))
		}

		last, ok := wf.Jobs["regressions"]
		if !ok || !slices.Contains(last.needs(), "verify") || last.If != "always()" {
			t.Fatalf("job regressions: needs %v, if %q; want it after verify, always", last.needs(), last.If)
		}
		if !strings.HasPrefix(last.Env["REPROVE_HISTORY"], "${{ secrets.") {
			t.Errorf("regressions: REPROVE_HISTORY %q, want it from a secret", last.Env["REPROVE_HISTORY"])
		}
		imp := strings.Fields(last.commandLine("reprove history import"))
		reg := strings.Fields(last.commandLine("reprove history regressions"))
		if len(imp) < 4 || len(reg) < 3 {
			t.Fatalf("regressions job runs %q and %q; want history import then history regressions", imp, reg)
		}
		checkHistoryCommand(t, reg[1:])
	})
}

func intText(p *int) string {
	if p == nil {
		return "(unset)"
	}
	return strconv.Itoa(*p)
}

// ghJob is a GitHub Actions job, as far as the check needs.
type ghJob struct {
	Needs    any               `yaml:"needs"`
	If       string            `yaml:"if"`
	Env      map[string]string `yaml:"env"`
	Strategy struct {
		FailFast *bool `yaml:"fail-fast"`
		Matrix   struct {
			Shard []int `yaml:"shard"`
		} `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []struct {
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]string `yaml:"with"`
	} `yaml:"steps"`
}

func (j ghJob) needs() []string {
	switch n := j.Needs.(type) {
	case string:
		return []string{n}
	case []any:
		var out []string
		for _, v := range n {
			s, _ := v.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// commandLine is the first line of a run step containing any of subs.
func (j ghJob) commandLine(subs ...string) string {
	for _, s := range j.Steps {
		for _, line := range strings.Split(s.Run, "\n") {
			for _, sub := range subs {
				if strings.Contains(line, sub) {
					return line[strings.Index(line, "reprove"):]
				}
			}
		}
	}
	return ""
}

func (j ghJob) uploads(dir string) bool {
	for _, s := range j.Steps {
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") && strings.TrimSuffix(s.With["path"], "/") == strings.TrimSuffix(dir, "/") && dir != "" {
			return true
		}
	}
	return false
}

// checkHistoryCommand runs a documented history command (args after
// "reprove") with the built binary on an empty database: it must parse and
// find nothing.
func checkHistoryCommand(t *testing.T, args []string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "history.db")
	h, err := history.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	t.Setenv("REPROVE_HISTORY", db)
	r := reprove(t, t.TempDir(), args...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "no regressions since ") {
		t.Errorf("reprove %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
}
