package main

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reprove/reprove/report"
)

func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// TestImageBuildCLI: reprove image build writes a lock and a layout, prints
// a reference a manifest can use, and reuses the lock and the image.
func TestImageBuildCLI(t *testing.T) {
	requireSandbox(t)
	testImage(t, "fixtures/recipes/busybox.yaml") // fills .cache/debs
	dir := t.TempDir()
	recipe := filepath.Join(dir, "bb.yaml")
	data, _ := os.ReadFile("fixtures/recipes/busybox.yaml")
	os.WriteFile(recipe, data, 0o644)
	debs := os.Getenv("REPROVE_TEST_DEBS")
	if debs == "" {
		debs = filepath.Join(".cache", "debs")
	}
	cache := t.TempDir()
	out := filepath.Join(dir, "img")
	r := reprove(t, cache, "image", "build", "--debs", debs, "-o", out, recipe)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ref := strings.TrimSpace(r.stdout)
	if !regexp.MustCompile(`^oci-layout:` + regexp.QuoteMeta(out) + `@sha256:[0-9a-f]{64}$`).MatchString(ref) {
		t.Fatalf("stdout %q, want oci-layout:%s@sha256:…", ref, out)
	}
	lock, err := os.ReadFile(recipe + ".lock")
	if err != nil || !regexp.MustCompile(`(?m)^busybox-static \S+ sha256:[0-9a-f]{64} \d+ pool/\S+\.deb$`).Match(lock) {
		t.Fatalf("lock beside the recipe: %v\n%s", err, lock)
	}
	if _, err := os.Stat(filepath.Join(out, "index.json")); err != nil {
		t.Fatalf("no OCI layout in %s: %v", out, err)
	}
	again := reprove(t, cache, "image", "build", "--debs", debs, "-o", out, recipe)
	if again.code != 0 || strings.TrimSpace(again.stdout) != ref || !strings.Contains(again.stderr, "reused from the cache") {
		t.Errorf("second build: exit %d, %q, stderr %s; want the same reference, reused", again.code, again.stdout, again.stderr)
	}
	if bad := reprove(t, cache, "image", "build", "-o", out, filepath.Join(dir, "missing.yaml")); bad.code != 2 || !strings.Contains(bad.stderr, "built-ins are") {
		t.Errorf("missing recipe: exit %d, stderr %s; want 2 naming the built-ins", bad.code, bad.stderr)
	}
}

// TestVerifyCgoBinaryInGoCgoImage: the go-cgo built-in (gcc, libc6-dev, git)
// builds a cgo Go binary; a second build in a fresh container reproduces it
// bit for bit.
func TestVerifyCgoBinaryInGoCgoImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the go-cgo image and compiles with cgo in containers")
	}
	requireSandbox(t)
	l, d := testImage(t, "go-cgo")
	proxy := goProxy(t)
	zip, ver := localToolchain(t)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "src"), 0o755)
	os.MkdirAll(filepath.Join(root, "published"), 0o755)
	if err := os.CopyFS(filepath.Join(root, "image"), os.DirFS(l)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "src/go.mod"), []byte("module example.com/cgohello\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(root, "src/main.go"), []byte(`package main

// #include <stdio.h>
// static void hello(void) { printf("hello from C\n"); fflush(stdout); }
import "C"

func main() { C.hello() }
`), 0o644)
	pub := filepath.Join(root, "published/hello")
	os.WriteFile(pub, []byte("not yet built\n"), 0o644)
	manifest := filepath.Join(root, "reprove.yaml")
	write := func(artifact string) {
		os.WriteFile(manifest, []byte(`apiVersion: reprove/v1
name: cgo-hello
artifact: {uri: file:published/hello, digest: `+artifact+`}
sources:
  - {uri: "gomod:golang.org/toolchain@`+ver+`", digest: "`+fileSHA256(t, zip)+`", dest: /opt/go, unpack: true}
  - {uri: file:src/go.mod, digest: "`+fileSHA256(t, filepath.Join(root, "src/go.mod"))+`", dest: /src/go.mod}
  - {uri: file:src/main.go, digest: "`+fileSHA256(t, filepath.Join(root, "src/main.go"))+`", dest: /src/main.go}
builder: {image: "oci-layout:image@`+d+`"}
build:
  env: {CGO_ENABLED: "1", GOCACHE: /tmp/gocache, HOME: /tmp, GOTOOLCHAIN: local, GOFLAGS: -buildvcs=false, GOPROXY: "off"}
  script: |
    set -e
    cp -r /src /tmp/src && cd /tmp/src
    /opt/go/bin/go build -trimpath -o /out/hello .
  output: /out/hello
`), 0o644)
	}
	write(fileSHA256(t, pub))
	cache := t.TempDir()
	js := filepath.Join(root, "first.json")
	first := reproveEnv(t, cache, []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js, manifest)
	if first.code != 1 {
		t.Fatalf("first build against a placeholder: exit %d, want 1\n%s%s", first.code, first.stdout, first.stderr)
	}
	rebuilt := readResult(t, js).Rebuilt.Path
	f, err := elf.Open(rebuilt)
	if err != nil {
		t.Fatal(err)
	}
	interp := false
	for _, p := range f.Progs {
		interp = interp || p.Type == elf.PT_INTERP
	}
	f.Close()
	if !interp {
		t.Fatal("the rebuilt binary has no ELF interpreter: it was not linked by gcc with cgo")
	}
	data, _ := os.ReadFile(rebuilt)
	os.WriteFile(pub, data, 0o755)
	write(fileSHA256(t, pub))
	js = filepath.Join(root, "second.json")
	second := reproveEnv(t, cache, []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js, manifest)
	if second.code != 0 || readResult(t, js).Verdict != report.Reproducible {
		t.Fatalf("second build: exit %d, want 0 (reproducible)\n%s%s", second.code, second.stdout, second.stderr)
	}
}
