package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
	"github.com/reprove/reprove/report"
)

// TestVerifyAlsoOutputs: a manifest's also files are compared with what
// the build left beside the artifact under /out (the whole folder comes
// out of the sandbox), and one that differs makes the verdict.
func TestVerifyAlsoOutputs(t *testing.T) {
	sandboxtest.Need(t, true)
	l, d := busyboxImage(t)
	for _, tt := range []struct {
		name     string
		docs     string // what the published docs file holds; the build writes "docs 1.0\n"
		code     int
		verdict  report.Verdict
		alsoVerd report.Verdict
	}{
		{"all reproduced", "docs 1.0\n", 0, report.Reproducible, report.Reproducible},
		{"the other file differs", "docs 0.9\n", 1, report.NotReproducible, report.NotReproducible},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(filepath.Join(dir, "image"), os.DirFS(l)); err != nil {
				t.Fatal(err)
			}
			write := func(name, content string) string {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(content)))
			}
			binD := write("tool-1.0", "tool 1.0\n")
			docD := write("tool-doc-1.0", tt.docs)
			m := fmt.Sprintf(`apiVersion: reprove/v1
name: tool-1.0
artifact: {uri: "file:tool-1.0", digest: "%s"}
also:
  - {uri: "file:tool-doc-1.0", digest: "%s", output: /out/pkgs/tool-doc-1.0}
builder: {image: "oci-layout:image@%s"}
build:
  script: mkdir -p /out/pkgs && echo "tool 1.0" > /out/pkgs/tool-1.0 && echo "docs 1.0" > /out/pkgs/tool-doc-1.0
  output: /out/pkgs/tool-1.0
`, binD, docD, d)
			mp := filepath.Join(dir, "reprove.yaml")
			if err := os.WriteFile(mp, []byte(m), 0o644); err != nil {
				t.Fatal(err)
			}
			js := filepath.Join(dir, "r.json")
			r := reprove(t, t.TempDir(), "verify", "-q", "--json", js, mp)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			res := readResult(t, js)
			if res.Verdict != tt.verdict || len(res.Also) != 1 || res.Also[0].Verdict != tt.alsoVerd {
				t.Fatalf("verdict %s, also %+v; want %s and one also %s", res.Verdict, res.Also, tt.verdict, tt.alsoVerd)
			}
			if res.Rebuilt == nil || res.Rebuilt.Digest != binD {
				t.Errorf("the artifact was compared with %+v, want the build's /out/pkgs/tool-1.0 (%s)", res.Rebuilt, binD)
			}
			if tt.code == 1 && !strings.Contains(r.stdout, "tool-doc-1.0") {
				t.Errorf("the report does not name the file that differs:\n%s", r.stdout)
			}
		})
	}
}

// TestVerifyAlsoOutputLeavesOut: an also output the build made a link out
// of /out (to the host's /etc/passwd, which the published file copies) is
// not followed: the verify stops naming the output, and nothing is called
// reproducible.
func TestVerifyAlsoOutputLeavesOut(t *testing.T) {
	sandboxtest.Need(t, true)
	l, d := busyboxImage(t)
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "image"), os.DirFS(l)); err != nil {
		t.Fatal(err)
	}
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"tool-1.0": []byte("tool 1.0\n"), "passwd": passwd} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := fmt.Sprintf(`apiVersion: reprove/v1
name: tool-1.0
artifact: {uri: "file:tool-1.0", digest: "sha256:%x"}
also:
  - {uri: "file:passwd", digest: "sha256:%x", output: /out/pkgs/passwd}
builder: {image: "oci-layout:image@%s"}
build:
  script: mkdir -p /out/pkgs && echo "tool 1.0" > /out/pkgs/tool-1.0 && ln -s /etc/passwd /out/pkgs/passwd
  output: /out/pkgs/tool-1.0
`, sha256.Sum256([]byte("tool 1.0\n")), sha256.Sum256(passwd), d)
	mp := filepath.Join(dir, "reprove.yaml")
	if err := os.WriteFile(mp, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	r := reprove(t, t.TempDir(), "verify", "-q", mp)
	if r.code != 3 || !strings.Contains(r.stderr, "also[0].output") || strings.Contains(r.stdout, "reproducible (") {
		t.Fatalf("exit %d, want 3 naming also[0].output and no verdict\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
