package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
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
	sandboxtest.Need(t, true)
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
