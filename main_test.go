package main

// End-to-end tests: they build the reprove binary and run it on real
// manifests, real runc containers, a real in-process OCI registry and real
// git repositories. They need root and runc; on CI (CI=true) a missing
// prerequisite fails the test instead of skipping it.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/reprove/reprove/rebuild/image/imagetest"
	"github.com/reprove/reprove/rebuild/sandbox/runc"
	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
	"github.com/reprove/reprove/report"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// reproveBin builds the binary once per test process.
func reproveBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "reprove-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "reprove")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// testImage builds a builder image (a built-in recipe or a recipe file) with
// reprove's image builder, once per test process and once per machine (see
// imagetest).
func testImage(t *testing.T, recipe string) (layout, digest string) {
	t.Helper()
	return imagetest.Build(t, recipe)
}

// busyboxImage is the builder of the demo fixtures.
func busyboxImage(t *testing.T) (string, string) { return testImage(t, imagetest.Busybox) }

type runResult struct {
	code           int
	stdout, stderr string
}

func reprove(t *testing.T, cacheDir string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(reproveBin(t), args...)
	cmd.Env = append(os.Environ(), "REPROVE_CACHE_DIR="+cacheDir, "NO_COLOR=1")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := runResult{stdout: so.String(), stderr: se.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running reprove: %v", err)
	}
	return r
}

// fixture copies fixtures/NAME into a temp dir and renders its manifest
// with image as builder.image. An oci-layout: image is copied next to the
// manifest, as scripts/fixtures.sh does: a manifest reads only below its
// own folder.
func fixture(t *testing.T, name, image string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, name), os.DirFS(filepath.Join("fixtures", name))); err != nil {
		t.Fatal(err)
	}
	if rest, ok := strings.CutPrefix(image, "oci-layout:"); ok {
		at := strings.LastIndex(rest, "@")
		dst := filepath.Join(root, name, "image")
		os.RemoveAll(dst)
		if err := os.CopyFS(dst, os.DirFS(rest[:at])); err != nil {
			t.Fatal(err)
		}
		image = "oci-layout:image" + rest[at:]
	}
	tmpl, err := os.ReadFile(filepath.Join("fixtures", name, "reprove.yaml.in"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, name, "reprove.yaml")
	if err := os.WriteFile(p, bytes.ReplaceAll(tmpl, []byte("@BUSYBOX_IMAGE@"), []byte(image)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func layoutRef(t *testing.T) string {
	l, d := busyboxImage(t)
	return "oci-layout:" + l + "@" + d
}

func readResult(t *testing.T, path string) *report.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("result JSON not written: %v", err)
	}
	defer f.Close()
	res, err := report.ReadJSON(f)
	if err != nil {
		t.Fatalf("reading result JSON: %v", err)
	}
	return res
}

func TestCLIHelpAndVersion(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"verify", "diff", "init", "report", "key", "attestation", "Exit codes"}},
		{[]string{"--version"}, []string{"reprove "}},
		{[]string{"verify", "--help"}, []string{"MANIFEST | ARTIFACT[#MEMBER]", "--json", "--html", "--attestation", "--normalize", "--replace-source"}},
		{[]string{"diff", "--help"}, []string{"diffoscope-json", "tar-mtime"}},
	} {
		r := reprove(t, t.TempDir(), tt.args...)
		if r.code != 0 {
			t.Errorf("reprove %v: exit %d, stderr %s", tt.args, r.code, r.stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("reprove %v: output lacks %q:\n%s", tt.args, w, r.stdout)
			}
		}
	}
	if r := reprove(t, t.TempDir(), "verify"); r.code != 2 {
		t.Errorf("verify with no argument: want exit 2, got %d", r.code)
	}
	if r := reprove(t, t.TempDir(), "--bogus-flag"); r.code != 2 {
		t.Errorf("unknown flag: want exit 2, got %d", r.code)
	}
}

func TestVerifyFixtures(t *testing.T) {
	sandboxtest.Need(t, true)
	image := layoutRef(t)
	tests := []struct {
		fixture string
		code    int
		verdict report.Verdict
		cause   string // a cause the diff must name
	}{
		{"hello", 0, report.Reproducible, ""},
		{"hello-dated", 1, report.NotReproducible, "timestamps"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			m := fixture(t, tt.fixture, image)
			js := filepath.Join(t.TempDir(), "result.json")
			// Flags after the argument, as people type them.
			r := reprove(t, t.TempDir(), "verify", m, "--json", js)
			if r.code != tt.code {
				t.Fatalf("exit code: want %d, got %d\nstdout: %s\nstderr: %s", tt.code, r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout, strings.ReplaceAll(string(tt.verdict), "-", " ")) {
				t.Errorf("stdout lacks the verdict %q:\n%s", tt.verdict, r.stdout)
			}
			res := readResult(t, js)
			if res.Verdict != tt.verdict {
				t.Errorf("JSON verdict: want %s, got %s", tt.verdict, res.Verdict)
			}
			if res.Builder.Digest == "" || len(res.Inputs) != 2 || res.Artifact.File == nil {
				t.Errorf("JSON lacks builder digest, inputs or artifact: %+v", res)
			}
			if tt.cause == "" {
				return
			}
			if res.Diff == nil {
				t.Fatalf("not-reproducible result has no diff")
			}
			var ids []string
			for _, c := range res.Diff.Causes {
				ids = append(ids, string(c.ID))
			}
			if !contains(ids, tt.cause) {
				t.Errorf("causes: want %q among %v", tt.cause, ids)
			}
			if !strings.Contains(r.stdout, "BUILDINFO") {
				t.Errorf("text report does not show the differing member BUILDINFO:\n%s", r.stdout)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// editManifest rewrites the rendered fixture manifest.
func editManifest(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("manifest %s lacks %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDigestMismatchStopsBeforeBuild(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	// Change the README source so its declared digest no longer matches.
	readme := filepath.Join(filepath.Dir(m), "src", "README")
	if err := os.WriteFile(readme, []byte("tampered\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	r := reprove(t, cache, "verify", m)
	if r.code != 2 {
		t.Fatalf("want exit 2 for a digest mismatch, got %d\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"digest mismatch", "sha256:0a145b12f48c987a28a32f9f477277d10934f27c290160bb0a3b75b528d895df", "sources[1]"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "runs")); err == nil {
		t.Errorf("a run folder was made: a build started despite the mismatch")
	}
}

func TestVerifyInputErrors(t *testing.T) {
	sandboxtest.Need(t, true)
	image := layoutRef(t)
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"unpinned image", "image@sha256:", "image:latest#", "builder.image"},
		{"unknown field", "name: hello", "name: hello\nnmae: x", "nmae: unknown field"},
		{"no digest", "    digest: sha256:0b670a46", "    # digest: sha256:0b670a46", "sources[0].digest: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixture(t, "hello", image)
			editManifest(t, m, tt.old, tt.new)
			r := reprove(t, t.TempDir(), "verify", m)
			if r.code != 2 {
				t.Fatalf("want exit 2, got %d\n%s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
		})
	}
}

// TestVerifyBuildFailures: a build that fails, times out, writes to its
// read-only sources or reaches for the network exits 3, says why once (on
// stderr, stdout empty), points at the log as the build starts, and leaves
// the evidence: a JSON and JUnit error result with the error class, the
// inputs fetched and the end of the build log, which names the specific
// failure.
func TestVerifyBuildFailures(t *testing.T) {
	sandboxtest.Need(t, true)
	image := layoutRef(t)
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		fmt.Fprintln(w, "reached")
	}))
	defer srv.Close()
	tests := []struct {
		name   string
		script string
		want   string // on stderr
		log    string // in the build log's tail
	}{
		{"timeout", "echo started; sleep 120", "timed out", "started"},
		{"writes to sources", "echo x > /src/README", "build failed", "Read-only file system"},
		// The network namespace has only lo: the host's loopback server
		// is not there, so the connection is refused.
		{"network", "nc -w 2 " + strings.Replace(strings.TrimPrefix(srv.URL, "http://"), ":", " ", 1) + " </dev/null > /out/hello-1.0.tar.gz", "build failed", "nc: can't connect to remote host (127.0.0.1): Connection refused"},
		{"exit code", "echo out1; echo err1 >&2; exit 7", "build failed", "err1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fixture(t, "hello", image)
			editManifest(t, m, "    set -eu\n", "    set -eu\n    "+tt.script+"\n")
			editManifest(t, m, "timeout: 5m", "timeout: 3s")
			dir := t.TempDir()
			js, junit := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.xml")
			r := reprove(t, t.TempDir(), "verify", m, "--json", js, "--junit", junit)
			if r.code != 3 {
				t.Fatalf("want exit 3, got %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout is not empty for a failed build:\n%s", r.stdout)
			}
			if n := strings.Count(r.stderr, "reprove: building hello"); n != 1 {
				t.Errorf("the failure is printed %d times on stderr, want once:\n%s", n, r.stderr)
			}
			res := readResult(t, js)
			if res.Verdict != report.Error || res.ErrorClass != "build" || !strings.Contains(res.Error, tt.want) {
				t.Errorf("JSON: verdict %s, class %q, error %q; want an error of class build", res.Verdict, res.ErrorClass, res.Error)
			}
			for _, in := range res.Inputs {
				if !in.Fetched {
					t.Errorf("JSON: input %s not marked fetched", in.URI)
				}
			}
			if tail := strings.Join(res.BuildLogTail, "\n"); !strings.Contains(tail, tt.log) {
				t.Errorf("build log tail lacks %q:\n%s", tt.log, tail)
			}
			if want := "build    log: " + res.BuildLog + "\n"; !strings.Contains(r.stderr, want) ||
				strings.Index(r.stderr, want) > strings.Index(r.stderr, "build    failed after") {
				t.Errorf("stderr does not give the log path %s as the build starts:\n%s", res.BuildLog, r.stderr)
			}
			if b, err := os.ReadFile(junit); err != nil || !bytes.Contains(b, []byte(`errors="1"`)) {
				t.Errorf("JUnit has no error test case (%v):\n%s", err, b)
			}
		})
	}
	if hits != 0 {
		t.Errorf("the sandboxed build reached the host's server %d times", hits)
	}
}

// TestVerifyEvidenceForInputErrors: a manifest that does not load, or an
// artifact nothing can be inferred from, still leaves a JSON, JUnit,
// Markdown and HTML report saying so.
func TestVerifyEvidenceForInputErrors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("verify builds its runc backend first, which needs root")
	}
	f := newCLIFiles(t)
	for _, tc := range []struct {
		target, class, want string
	}{
		{f.badManifest, "input", "nmae: unknown field"},
		{f.notGo, "input", "no Go build info"},
		{f.fetchFails, "fetch", "127.0.0.1:1"},
	} {
		dir := t.TempDir()
		out := func(n string) string { return filepath.Join(dir, n) }
		r := reprove(t, t.TempDir(), "verify", tc.target, "--json", out("r.json"), "--junit", out("r.xml"), "--markdown", out("r.md"), "--html", out("r.html"))
		res := readResult(t, out("r.json"))
		if res.Verdict != report.Error || res.ErrorClass != tc.class || !strings.Contains(res.Error, tc.want) {
			t.Errorf("%s: exit %d; JSON verdict %s, class %q, error %q; want class %s with %q", tc.target, r.code, res.Verdict, res.ErrorClass, res.Error, tc.class, tc.want)
		}
		if res.Manifest.Path == "" && res.Artifact.URI == "" {
			t.Errorf("%s: the result names neither the manifest nor the artifact", tc.target)
		}
		for _, n := range []string{"r.xml", "r.md", "r.html"} {
			if b, err := os.ReadFile(out(n)); err != nil || !bytes.Contains(b, []byte("error")) {
				t.Errorf("%s: %s not written or says no error (%v)", tc.target, n, err)
			}
		}
	}
}

func TestVerifyRelativeCacheDir(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	cmd := exec.Command(reproveBin(t), "verify", "-q", "--cache-dir", "cache", m)
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("verify with a relative --cache-dir: %v\n%s", err, out)
	}
}

func TestVerifyConcurrentRunsShareCache(t *testing.T) {
	sandboxtest.Need(t, true)
	image := layoutRef(t)
	cache := t.TempDir()
	var wg sync.WaitGroup
	results := make([]runResult, 2)
	for i := range results {
		m := fixture(t, "hello", image)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = reprove(t, cache, "verify", "-q", m)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("run %d: exit %d\n%s", i, r.code, r.stderr)
		}
	}
}

func TestVerifyRegistryImageAndGitSource(t *testing.T) {
	sandboxtest.Need(t, true)
	l, d := busyboxImage(t)
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	p, err := layout.FromPath(l)
	if err != nil {
		t.Fatal(err)
	}
	h, err := v1Hash(d)
	if err != nil {
		t.Fatal(err)
	}
	img, err := p.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, err := name.ParseReference(host+"/builders/busybox:1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("pushing to the in-process registry: %v", err)
	}

	// A git repository with the fixture's two source files.
	repo := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	for _, f := range []string{"hello.sh.in", "README"} {
		b, err := os.ReadFile(filepath.Join("fixtures", "hello", "src", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", ".")
	git("commit", "-qm", "hello 1.0")
	rev := git("rev-parse", "HEAD")
	// A later commit changes README: the pinned commit must be the one used.
	if err := os.WriteFile(filepath.Join(repo, "README"), []byte("changed later\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-qam", "later")

	m := fixture(t, "hello", "oci://"+host+"/builders/busybox@"+d)
	b, err := os.ReadFile(m)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start, end := strings.Index(s, "sources:\n"), strings.Index(s, "builder:\n")
	s = s[:start] + fmt.Sprintf("sources:\n  - uri: git+file://%s\n    rev: %s\n    dest: /src\n", repo, rev) + s[end:]
	if err := os.WriteFile(m, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	js := filepath.Join(t.TempDir(), "r.json")
	// The repository is outside the manifest's folder: refused until
	// --allow-path names it.
	if r := reprove(t, t.TempDir(), "verify", m); r.code != 2 || !strings.Contains(r.stderr, "--allow-path") {
		t.Fatalf("git+file: outside the manifest's folder: want exit 2 naming --allow-path, got %d\n%s", r.code, r.stderr)
	}
	r := reprove(t, t.TempDir(), "verify", "--allow-path", repo, "--json", js, m)
	if r.code != 0 {
		t.Fatalf("want exit 0, got %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	res := readResult(t, js)
	if res.Builder.Digest != d {
		t.Errorf("builder digest: want %s, got %s", d, res.Builder.Digest)
	}
	if len(res.Inputs) != 1 || res.Inputs[0].Rev != rev {
		t.Errorf("inputs: want the git source at %s, got %+v", rev, res.Inputs)
	}
}

func TestReportRerender(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello-dated", layoutRef(t))
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	if r := reprove(t, t.TempDir(), "verify", "-q", "--json", js, m); r.code != 1 {
		t.Fatalf("want exit 1, got %d\n%s", r.code, r.stderr)
	}
	html, md, junit := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.md"), filepath.Join(dir, "r.xml")
	r := reprove(t, t.TempDir(), "report", "--html", html, "--markdown", md, "--junit", junit, js)
	if r.code != 0 {
		t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
	}
	for _, f := range []string{html, md, junit} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("hello-dated")) {
			t.Errorf("%s does not name the artifact", f)
		}
	}
	var v map[string]any
	b, _ := os.ReadFile(js)
	if err := json.Unmarshal(b, &v); err != nil || v["schemaVersion"] != report.SchemaVersion {
		t.Errorf("result JSON schemaVersion: %v (%v)", v["schemaVersion"], err)
	}
}

func v1Hash(d string) (v1.Hash, error) { return v1.NewHash(d) }

func TestVerifyAllFormatsAndAttestations(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pub")
	if r := reprove(t, dir, "key", "generate", "--private", priv, "--public", pub); r.code != 0 {
		t.Fatalf("key generate: exit %d\n%s", r.code, r.stderr)
	}
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: want 0600, got %v (%v)", fi.Mode().Perm(), err)
	}
	out := func(n string) string { return filepath.Join(dir, n) }
	r := reprove(t, t.TempDir(), "verify", "-q",
		"--json", out("r.json"), "--html", out("r.html"), "--markdown", out("r.md"), "--junit", out("r.xml"),
		"--attestation", out("vsa.json"), "--provenance", out("prov.json"), "--sign-key", priv, m)
	if r.code != 0 {
		t.Fatalf("verify: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "PRIVATE KEY") {
		t.Errorf("the private key reached the output")
	}
	for _, f := range []string{"r.json", "r.html", "r.md", "r.xml", "vsa.json", "prov.json"} {
		if fi, err := os.Stat(out(f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	for _, f := range []string{"vsa.json", "prov.json"} {
		r := reprove(t, dir, "attestation", "verify", "--key", pub, out(f))
		if r.code != 0 {
			t.Errorf("attestation verify %s: exit %d\n%s", f, r.code, r.stderr)
		}
	}
	r = reprove(t, dir, "attestation", "verify", "--key", pub, out("vsa.json"))
	if !strings.Contains(r.stdout, "PASSED") {
		t.Errorf("attestation verify does not show PASSED:\n%s", r.stdout)
	}
	// Tamper with the payload: the signature must no longer verify.
	var env map[string]any
	b, _ := os.ReadFile(out("vsa.json"))
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	env["payload"] = strings.Replace(env["payload"].(string), "A", "B", 1)
	b, _ = json.Marshal(env)
	if err := os.WriteFile(out("tampered.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := reprove(t, dir, "attestation", "verify", "--key", pub, out("tampered.json")); r.code == 0 {
		t.Errorf("a tampered attestation verified")
	}
	// A different key must not verify it either.
	priv2, pub2 := filepath.Join(dir, "k2.pem"), filepath.Join(dir, "k2.pub")
	if r := reprove(t, dir, "key", "generate", "--private", priv2, "--public", pub2); r.code != 0 {
		t.Fatalf("key generate: exit %d\n%s", r.code, r.stderr)
	}
	if r := reprove(t, dir, "attestation", "verify", "--key", pub2, out("vsa.json")); r.code != 1 || !strings.Contains(r.stderr, "not by the given key") {
		t.Errorf("an attestation checked with the wrong key: exit %d (want 1)\n%s", r.code, r.stderr)
	}
}

// attestation verify checks what a statement says, not only who signed it:
// which artifact it is about and whether it PASSED.
func TestAttestationVerifyChecksSubjectAndResult(t *testing.T) {
	sandboxtest.Need(t, true)
	dir := t.TempDir()
	out := func(n string) string { return filepath.Join(dir, n) }
	priv, pub := out("key.pem"), out("key.pub")
	if r := reprove(t, dir, "key", "generate", "--private", priv, "--public", pub); r.code != 0 {
		t.Fatalf("key generate: exit %d\n%s", r.code, r.stderr)
	}
	cache := t.TempDir()
	for _, f := range []struct {
		name string
		code int
	}{{"hello", 0}, {"hello-dated", 1}} {
		m := fixture(t, f.name, layoutRef(t))
		if r := reprove(t, cache, "verify", "-q", "--attestation", out(f.name+".vsa.json"), "--sign-key", priv, m); r.code != f.code {
			t.Fatalf("verify %s: exit %d, want %d\n%s", f.name, r.code, f.code, r.stderr)
		}
	}
	published := filepath.Join("fixtures", "hello", "published", "hello-1.0.tar.gz")
	other := filepath.Join("fixtures", "hello-dated", "published", "hello-1.0.tar.gz")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		output string
	}{
		{"the artifact and PASSED", []string{"--artifact", published, "--expect", "PASSED", out("hello.vsa.json")}, 0, "is its subject, and the result is PASSED"},
		{"signature only", []string{out("hello.vsa.json")}, 0, "Only the signature was checked"},
		{"other bytes", []string{"--artifact", other, out("hello.vsa.json")}, 1, "is not a subject of the statement"},
		{"PASSED expected of a FAILED summary", []string{"--expect", "PASSED", out("hello-dated.vsa.json")}, 1, "the verification result is FAILED, not PASSED"},
		{"FAILED expected of a FAILED summary", []string{"--artifact", other, "--expect", "FAILED", out("hello-dated.vsa.json")}, 0, "the result is FAILED"},
		{"bad --expect", []string{"--expect", "OK", out("hello.vsa.json")}, 2, "use PASSED or FAILED"},
		{"missing key file", []string{"--key", out("nope.pub"), out("hello.vsa.json")}, 2, "--key"},
		{"missing attestation", []string{out("nope.json")}, 2, "reading the attestation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"attestation", "verify", "--key", pub}, tc.args...)
			r := reprove(t, dir, args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.output) {
				t.Errorf("attestation verify %v: exit %d (want %d), want output containing %q\nstdout %s\nstderr %s", tc.args, r.code, tc.code, tc.output, r.stdout, r.stderr)
			}
		})
	}
}

func TestDiffCommand(t *testing.T) {
	a := filepath.Join("fixtures", "hello", "published", "hello-1.0.tar.gz")
	b := filepath.Join("fixtures", "hello-dated", "published", "hello-1.0.tar.gz")
	if r := reprove(t, t.TempDir(), "diff", a, a); r.code != 0 {
		t.Errorf("diff of a file with itself: want exit 0, got %d\n%s", r.code, r.stderr)
	}
	r := reprove(t, t.TempDir(), "diff", a, b)
	if r.code != 1 {
		t.Fatalf("diff of different files: want exit 1, got %d\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"BUILDINFO", "timestamps", "file-order"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("text diff lacks %q", w)
		}
	}
	if r := reprove(t, t.TempDir(), "diff", a, filepath.Join(t.TempDir(), "missing")); r.code != 2 {
		t.Errorf("diff with a missing file: want exit 2, got %d", r.code)
	}
	if r := reprove(t, t.TempDir(), "diff", "--format", "yaml", a, b); r.code != 2 {
		t.Errorf("diff with an unknown format: want exit 2, got %d", r.code)
	}
	if r := reprove(t, t.TempDir(), "diff", "--normalize", "no-such-pass", a, b); r.code != 2 {
		t.Errorf("diff with an unknown normalization: want exit 2, got %d", r.code)
	}
	for _, f := range []string{"json", "diffoscope-json", "markdown", "html"} {
		out := filepath.Join(t.TempDir(), "out")
		if r := reprove(t, t.TempDir(), "diff", "--format", f, "--output", out, a, b); r.code != 1 {
			t.Errorf("diff --format %s: want exit 1, got %d\n%s", f, r.code, r.stderr)
			continue
		}
		body, err := os.ReadFile(out)
		if err != nil || !bytes.Contains(body, []byte("BUILDINFO")) {
			t.Errorf("diff --format %s output lacks BUILDINFO (%v)", f, err)
		}
		if strings.HasSuffix(f, "json") && !json.Valid(body) {
			t.Errorf("diff --format %s is not valid JSON", f)
		}
	}
	var d map[string]any
	out := filepath.Join(t.TempDir(), "d.json")
	reprove(t, t.TempDir(), "diff", "--format", "diffoscope-json", "--output", out, a, b)
	body, _ := os.ReadFile(out)
	if err := json.Unmarshal(body, &d); err != nil || d["diffoscope-json-version"] != float64(1) {
		t.Errorf("diffoscope-json: want diffoscope-json-version 1, got %v (%v)", d["diffoscope-json-version"], err)
	}
	// Only the order and mtimes differ between the two tarballs' metadata,
	// but BUILDINFO's content differs too: normalizing must not hide it.
	if r := reprove(t, t.TempDir(), "diff", "--normalize", "tar-mtime", "--normalize", "tar-order", a, b); r.code != 1 {
		t.Errorf("normalized diff with a content difference: want exit 1, got %d", r.code)
	}
	// "*" stays within one folder level: */BUILDINFO misses the nested
	// BUILDINFO, says so, and the difference stays; **/BUILDINFO excludes
	// it, and the tar normalizations then hold through the gzip layer.
	r = reprove(t, t.TempDir(), "diff", "--exclude", "*/BUILDINFO", "--normalize", "tar-mtime", "--normalize", "tar-order", a, b)
	if r.code != 1 || !strings.Contains(r.stderr, `warning: --exclude "*/BUILDINFO" matched no member`) {
		t.Errorf("--exclude */BUILDINFO: want exit 1 and a warning, got %d\n%s", r.code, r.stderr)
	}
	r = reprove(t, t.TempDir(), "diff", "--exclude", "**/BUILDINFO", "--normalize", "tar-mtime", "--normalize", "tar-order", a, b)
	if r.code != 0 || strings.Contains(r.stderr, "warning") || !strings.Contains(r.stdout, "tar-mtime at ") {
		t.Errorf("--exclude **/BUILDINFO with tar normalizations: want exit 0, no warning and where tar-mtime applied, got %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestVerifyInterruptCleansUp(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	editManifest(t, m, "    set -eu\n", "    set -eu\n    echo started; sleep 120\n")
	cache := t.TempDir()
	containers := func() map[string]bool {
		out, _ := exec.Command("runc", "--root", runc.DefaultRoot, "list", "-q").Output()
		ids := map[string]bool{}
		for _, id := range strings.Fields(string(out)) {
			ids[id] = true
		}
		return ids
	}
	before := containers()
	cmd := exec.Command(reproveBin(t), "verify", m)
	cmd.Env = append(os.Environ(), "REPROVE_CACHE_DIR="+cache, "NO_COLOR=1")
	var se bytes.Buffer
	cmd.Stderr = &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the build is running (its log says so), then interrupt.
	deadline := time.Now().Add(60 * time.Second)
	for {
		logs, _ := filepath.Glob(filepath.Join(cache, "runs", "*", "build.log"))
		if len(logs) == 1 {
			if b, _ := os.ReadFile(logs[0]); bytes.Contains(b, []byte("started")) {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the build never started:\n%s", se.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var ours []string
	for id := range containers() {
		if !before[id] {
			ours = append(ours, id)
		}
	}
	if len(ours) == 0 {
		t.Errorf("no new runc container is listed while the build runs")
	}
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("interrupted verify: want exit 3, got %v\n%s", err, se.String())
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("interrupted verify took %s to stop", d)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if bytes.Contains(mounts, []byte(cache)) {
		t.Errorf("mounts under the cache are left after an interrupt")
	}
	after := containers()
	for _, id := range ours {
		if after[id] {
			t.Errorf("container %s is left after an interrupt", id)
		}
	}
	if bundles, _ := filepath.Glob(filepath.Join(cache, "runs", "*", ".bundle-*")); len(bundles) > 0 {
		t.Errorf("bundles left after an interrupt: %v", bundles)
	}
}

func TestSliceFlagsKeepCommas(t *testing.T) {
	// A comma inside --replace-source must not split it into two rewrites.
	r := reprove(t, t.TempDir(), "verify", "--replace-source", "git+https://a,b/=git+file:///x", filepath.Join(t.TempDir(), "missing.yaml"))
	if strings.Contains(r.stderr, "write OLD=NEW") {
		t.Errorf("--replace-source was split at its comma:\n%s", r.stderr)
	}
}

// The common flags work before and after the command; the one after it
// wins, and either beats REPROVE_CACHE_DIR. Where the cache went is seen
// from the blob `reprove init URL` pins (the file is no Go binary, so init
// then fails with exit 3, after pinning).
func TestCacheDirFlagPositions(t *testing.T) {
	body := []byte("not a Go binary\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	sum := sha256.Sum256(body)
	blob := filepath.Join("blobs", "sha256", hex.EncodeToString(sum[:]))
	url := srv.URL + "/artifact"

	tests := []struct {
		name string
		env  string   // REPROVE_CACHE_DIR, as a key of dirs
		args []string // with keys of dirs in place of folders
		want string   // the key of the cache that must hold the blob
	}{
		{"global flag", "", []string{"--cache-dir", "a", "init", url}, "a"},
		{"flag after the command", "", []string{"init", "--cache-dir", "a", url}, "a"},
		{"inner flag wins", "", []string{"--cache-dir", "a", "init", "--cache-dir", "b", url}, "b"},
		{"env alone", "e", []string{"init", url}, "e"},
		{"global flag beats env", "e", []string{"--cache-dir", "a", "init", url}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dirs := map[string]string{"a": t.TempDir(), "b": t.TempDir(), "e": t.TempDir()}
			args := slices.Clone(tt.args)
			for i, a := range args {
				if d, ok := dirs[a]; ok {
					args[i] = d
				}
			}
			cmd := exec.Command(reproveBin(t), args...)
			cmd.Env = append(os.Environ(), "REPROVE_CACHE_DIR="+dirs[tt.env], "HOME="+t.TempDir(), "XDG_CACHE_HOME=")
			out, _ := cmd.CombinedOutput()
			for key, d := range dirs {
				_, err := os.Stat(filepath.Join(d, blob))
				if has := err == nil; has != (key == tt.want) {
					t.Errorf("cache %s holds the blob: %v, want %v\n%s", key, has, key == tt.want, out)
				}
			}
		})
	}
}
