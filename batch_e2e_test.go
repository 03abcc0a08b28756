package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reprove/reprove/rebuild/batch"
	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
)

// The nightly job: a list of targets, run in parallel over one cache, each
// with its evidence, one summary, one JUnit file, history and regressions.
func TestBatch(t *testing.T) {
	sandboxtest.Need(t, true)
	image := layoutRef(t)
	hello, dated := fixture(t, "hello", image), fixture(t, "hello-dated", image)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("apiVersion: reprove/v1\nname: broken\nnmae: typo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(dir, "nightly.txt")
	if err := os.WriteFile(list, []byte("# tonight\n"+hello+"\n"+dated+"\nbroken.yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache, out, db := t.TempDir(), filepath.Join(dir, "out"), filepath.Join(dir, "history.db")
	junit := filepath.Join(dir, "junit.xml")

	r := reprove(t, cache, "batch", "-q", "--jobs", "2", "--out", out, "--junit", junit, "--history", db, list)
	if r.code != 3 {
		t.Fatalf("batch with an error target: exit %d, want 3 (errors win)\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, line := range []string{"✓ hello reproducible ", "✗ hello-dated not-reproducible (timestamps) ", "! broken error (class 2: ", "3 targets: 1 reproducible, 1 not reproducible, 1 errors", "No regressions."} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, r.stdout)
		}
	}
	for _, f := range []string{"index.html", "summary.json", "hello/result.json", "hello/report.html", "hello/report.md", "hello/build.log", "hello-dated/result.json", "broken/result.json"} {
		fi, err := os.Stat(filepath.Join(out, f))
		if err != nil || (fi.Size() == 0 && f != "hello/build.log") { // hello's build prints nothing
			t.Errorf("%s not written: %v", f, err)
		}
	}
	var sum batch.SummaryJSON
	b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Counts["reproducible"] != 1 || sum.Counts["not-reproducible"] != 1 || sum.Counts["error"] != 1 || len(sum.Targets) != 3 {
		t.Errorf("summary counts %v, %d targets", sum.Counts, len(sum.Targets))
	}
	if res := readResult(t, filepath.Join(out, "hello", "result.json")); res.BuildLog != filepath.Join(out, "hello", "build.log") {
		t.Errorf("the result points at build log %s, want the copy kept with the reports", res.BuildLog)
	}
	if j, _ := os.ReadFile(junit); strings.Count(string(j), "<testcase ") != 3 || !strings.Contains(string(j), `failures="1" errors="1"`) {
		t.Errorf("JUnit: want 3 test cases, 1 failure, 1 error:\n%s", j)
	}
	if runs, _ := filepath.Glob(filepath.Join(cache, "runs", "*")); len(runs) != 0 {
		t.Errorf("batch left run folders in the cache: %v", runs)
	}

	// Tonight the vendor re-publishes hello: it regresses, and says so last.
	pub := filepath.Join(filepath.Dir(hello), "published", "hello-1.0.tar.gz")
	other, _ := os.ReadFile(filepath.Join(filepath.Dir(dated), "published", "hello-1.0.tar.gz"))
	if err := os.WriteFile(pub, other, 0o644); err != nil {
		t.Fatal(err)
	}
	r = reprove(t, cache, "batch", "-q", "--history", db, "--fail-on", "regression", hello, dated)
	if r.code != 1 {
		t.Errorf("--fail-on regression with a regression: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	tail := r.stdout[strings.LastIndex(r.stdout, "REGRESSIONS"):]
	if !strings.HasPrefix(tail, "REGRESSIONS (1):\n  hello: ") {
		t.Errorf("the regressions block is not last, or not hello:\n%s", r.stdout)
	}
	// With nothing regressing, --fail-on regression is 0 even though
	// hello-dated is not reproducible.
	if r := reprove(t, cache, "batch", "-q", "--history", db, "--fail-on", "regression", dated); r.code != 0 {
		t.Errorf("--fail-on regression with none: exit %d, want 0\n%s", r.code, r.stdout)
	}
}

// Shards 0/2 and 1/2 together verify every target exactly once.
func TestBatchShards(t *testing.T) {
	sandboxtest.Need(t, true)
	image := layoutRef(t)
	targets := []string{fixture(t, "hello", image), fixture(t, "hello-dated", image)}
	cache := t.TempDir()
	var seen []string
	for _, s := range []string{"0/2", "1/2"} {
		r := reprove(t, cache, append([]string{"batch", "-q", "--shard", s}, targets...)...)
		if r.code > 1 {
			t.Fatalf("shard %s: exit %d\n%s", s, r.code, r.stderr)
		}
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(l, "✓ ") || strings.HasPrefix(l, "✗ ") {
				seen = append(seen, strings.Fields(l)[1])
			}
		}
	}
	sort.Strings(seen)
	if strings.Join(seen, " ") != "hello hello-dated" {
		t.Errorf("shards verified %v, want each target once", seen)
	}
	if r := reprove(t, cache, "batch", "--shard", "2/2", targets[0]); r.code != 2 {
		t.Errorf("--shard 2/2: exit %d, want 2", r.code)
	}
}
