package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reprove/reprove/diff"
)

const (
	artifactDigest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	rebuiltDigest  = "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
	builderDigest  = "sha256:fd5a9f3b4c1d3a3a0f2b2e1c6c1b0e2f4d1c3b2a190807060504030201000fed"
	manifestDigest = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	srcDigest      = "sha256:b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c"
	toolchainDig   = "sha256:7d865e959b2466918c9863afca942d0fb89d7c9ac0c99bafc3749504ded97730"
)

// sampleTree is a realistic diff tree: a gzip holding a tar whose members
// differ in content (ELF and text), mode, order, and presence.
func sampleTree() *diff.Summary {
	elf := &diff.Node{
		Source1: "hello-1.0.tar.gz/hello-1.0.tar/hello-1.0/bin/hello",
		Source2: "rebuilt.tar.gz/rebuilt.tar/hello-1.0/bin/hello",
		Format:  "elf", Kind: diff.KindContent, Size1: 1834, Size2: 1834,
		Comments: []string{"section .note.go.buildid differs"},
		Hex: "@@ offset 0x0000f0 @@\n" +
			"-000000f0: 4743 4320 3a20 2844 6562 6961 6e20 3132  GCC : (Debian 12\n" +
			"+000000f0: 4743 4320 3a20 2844 6562 6961 6e20 3133  GCC : (Debian 13\n" +
			" 00000100: 2e32 2e30 2d31 3429 2031 322e 322e 3000  .2.0-14) 12.2.0.\n",
		Causes: []diff.CauseID{"build-path"},
	}
	readme := &diff.Node{
		Source1: "hello-1.0.tar.gz/hello-1.0.tar/hello-1.0/BUILDINFO",
		Source2: "rebuilt.tar.gz/rebuilt.tar/hello-1.0/BUILDINFO",
		Format:  "text", Kind: diff.KindContent, Size1: 58, Size2: 58,
		Unified: "--- a/hello-1.0/BUILDINFO\n+++ b/hello-1.0/BUILDINFO\n@@ -1,3 +1,3 @@\n name: hello\n-built: 2023-11-14T22:13:20Z | <b>x</b>\n+built: 2024-05-01T09:00:00Z | <b>x</b>\n path: /src\n",
		Causes:  []diff.CauseID{"timestamps"},
	}
	mode := &diff.Node{
		Source1: "hello-1.0.tar.gz/hello-1.0.tar/hello-1.0/share/doc",
		Source2: "rebuilt.tar.gz/rebuilt.tar/hello-1.0/share/doc",
		Kind:    diff.KindMetadata, Comments: []string{"mode 0644 → 0755", "mtime 2023-11-14 22:13:20 → 2024-05-01 09:00:00"},
		Causes:   []diff.CauseID{"timestamps", "file-mode"},
		Evidence: []diff.Evidence{{Cause: "timestamps", Text: "hello-1.0/share/doc: mtime 2023-11-14 22:13:20 → 2024-05-01 09:00:00"}},
	}
	order := &diff.Node{
		Source1: "hello-1.0.tar.gz/hello-1.0.tar", Source2: "rebuilt.tar.gz/rebuilt.tar",
		Kind: diff.KindOrder, Comments: []string{"entries in a different order: hello-1.0/bin before hello-1.0/share"},
		Causes: []diff.CauseID{"file-order"},
	}
	added := &diff.Node{Source2: "rebuilt.tar.gz/rebuilt.tar/hello-1.0/.buildstamp", Kind: diff.KindAdded, Size2: 11}
	removed := &diff.Node{Source1: "hello-1.0.tar.gz/hello-1.0.tar/hello-1.0/LICENSE", Kind: diff.KindRemoved, Size1: 1067}
	tar := &diff.Node{
		Source1: "hello-1.0.tar.gz/hello-1.0.tar", Source2: "rebuilt.tar.gz/rebuilt.tar",
		Format: "tar", Kind: diff.KindContainer,
		Details: []*diff.Node{order, elf, readme, mode, added, removed},
	}
	root := &diff.Node{
		Source1: "hello-1.0.tar.gz", Source2: "rebuilt.tar.gz", Format: "gzip", Kind: diff.KindContainer,
		Comments: []string{"gzip header mtime 1700000000 → 1714554000"},
		Size1:    4096, Size2: 4101,
		Details: []*diff.Node{tar},
	}
	return &diff.Summary{
		Root: root,
		// Ranked as the diff engine ranks them: most explaining first.
		Causes: []diff.Cause{
			{ID: "timestamps", Title: "Embedded timestamps", Fix: "Set SOURCE_DATE_EPOCH and clamp mtimes: tar --mtime=@$SOURCE_DATE_EPOCH --clamp-mtime", Members: []string{"hello-1.0/BUILDINFO", "hello-1.0/share/doc", "hello-1.0.tar.gz"}, Weight: 3},
			{ID: "build-path", Title: "Build path or toolchain version embedded", Fix: "Build with -trimpath in the same directory", Members: []string{"hello-1.0/bin/hello"}, Weight: 2},
			{ID: "file-order", Title: "Archive entries in a different order", Fix: "Sort entries: tar --sort=name", Members: []string{"hello-1.0.tar.gz/hello-1.0.tar"}, Weight: 1},
			{ID: "file-mode", Title: "File modes differ", Fix: "Set umask 022 and tar --mode=go-w", Members: []string{"hello-1.0/share/doc"}, Weight: 1},
		},
		Limits: []string{"stopped comparing share/ after 10000 members"},
	}
}

// mtimeOnly are n members of the sample tar that differ only in mtime.
func mtimeOnly(n int) []*diff.Node {
	var out []*diff.Node
	for i := range n {
		name := fmt.Sprintf("hello-1.0/share/man/page%d", i)
		out = append(out, &diff.Node{
			Source1: "hello-1.0.tar.gz/hello-1.0.tar/" + name, Source2: "rebuilt.tar.gz/rebuilt.tar/" + name,
			Kind: diff.KindMetadata, Comments: []string{"mtime 2023-11-14 22:13:20 → 2024-05-01 09:00:00"},
			Unified: "@@ -1 +1 @@\n-drwxr-xr-x root/root 0 2023-11-14 22:13 " + name + "\n+drwxr-xr-x root/root 0 2024-05-01 09:00 " + name + "\n",
			Causes:  []diff.CauseID{diff.CauseTimestamps},
		})
	}
	return out
}

// sampleResult is a complete result of the given verdict.
func sampleResult(v Verdict) *Result {
	start := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	res := &Result{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "reprove", Version: "v0.3.0", ID: "https://github.com/reprove/reprove"},
		Name:          "hello-1.0",
		Manifest: Manifest{Path: "fixtures/hello/reprove.yaml", Digest: manifestDigest, Body: map[string]any{
			"apiVersion": "reprove/v1", "name": "hello-1.0",
			"artifact": map[string]any{"uri": "https://example.org/hello-1.0.tar.gz", "digest": artifactDigest},
			"build":    map[string]any{"script": "make dist", "output": "/out/hello-1.0.tar.gz"},
		}},
		Verdict: v,
		Artifact: Artifact{URI: "https://example.org/hello-1.0.tar.gz", Digest: artifactDigest, Declared: artifactDigest,
			File:   &File{Path: "/cache/9f86/hello-1.0.tar.gz", Digest: artifactDigest, Size: 4096},
			Source: "network", FetchedAt: start.Add(100 * time.Millisecond)},
		Rebuilt: &File{Path: "/tmp/reprove-out/hello-1.0.tar.gz", Digest: rebuiltDigest, Size: 4101},
		Inputs: []Input{
			{Kind: "source", URI: "git+https://example.org/hello.git", Digest: srcDigest, Rev: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", Dest: "/src"},
			{Kind: "source", URI: "gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64", Digest: toolchainDig, Dest: "/opt/go"},
		},
		Builder:     Builder{Image: "oci://registry.example/library/debian@" + builderDigest, Digest: builderDigest},
		Backend:     "runc",
		Environment: []string{"CGO_ENABLED=0", "LANG=C.UTF-8", "SOURCE_DATE_EPOCH=1700000000", "TZ=UTC"},
		StartedAt:   start,
		FinishedAt:  start.Add(12300 * time.Millisecond),
		Timings: []Timing{
			{Phase: "fetch", Duration: 1200 * time.Millisecond},
			{Phase: "build", Duration: 10 * time.Second},
			{Phase: "compare", Duration: 1100 * time.Millisecond},
		},
		BuildLog:     "/var/cache/reprove/logs/hello-1.0.log",
		BuildScript:  "set -e\nmake dist\n",
		BuildLogTail: []string{"cc -O2 -o hello hello.c", "tar czf hello-1.0.tar.gz hello-1.0"},
		Sandbox: &Sandbox{
			Limits: Limits{Timeout: 30 * time.Minute, Memory: 4 << 30, Pids: 4096, Disk: 16 << 30, DiskMethod: "watch",
				NotEnforced: []NotEnforced{{Limit: "memory", Reason: "the host uses cgroup v1"}}},
			LogDropped:  3 << 20,
			Quarantined: []Quarantined{{Entry: "/c/rootfs/sha256-ab", MovedTo: "/c/quarantine/x-sha256-ab", Reason: "content sha256:1, record sha256:2"}},
		},
		FirstDifference: -1,
	}
	switch v {
	case Reproducible:
		res.Rebuilt.Digest, res.Rebuilt.Size = artifactDigest, 4096
		res.Diff = &diff.Summary{Identical: true, Equivalent: true}
	case ReproducibleAfterNormalization:
		res.Diff = &diff.Summary{Equivalent: true, Normalizations: []string{"gzip-mtime", "tar-mtime"}}
	case NotReproducible:
		res.Diff = sampleTree()
		res.FirstDifference = 4
	case Error:
		res.Rebuilt = nil
		res.Error = "building hello-1.0: script exited with status 2\nmake: *** [Makefile:3: dist] Error 2"
		res.ErrorClass = "build"
		res.BuildLogTail = []string{"cc -O2 -o hello hello.c", "make: *** [Makefile:3: dist] Error 2"}
		res.Timings = res.Timings[:2]
	}
	return res
}

// bigResult is a not-reproducible result with many nodes and a long diff.
func bigResult(nodes, lines int) *Result {
	res := sampleResult(NotReproducible)
	var b strings.Builder
	b.WriteString("@@ -1,1 +1,1 @@\n")
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "-line %d old\n+line %d new\n", i, i)
	}
	var kids []*diff.Node
	for i := 0; i < nodes; i++ {
		kids = append(kids, &diff.Node{
			Source1: fmt.Sprintf("big.tar/f%04d.txt", i), Source2: fmt.Sprintf("big.tar/f%04d.txt", i),
			Format: "text", Kind: diff.KindContent, Unified: b.String(), Causes: []diff.CauseID{"timestamps"},
		})
	}
	res.Diff.Root = &diff.Node{Source1: "big.tar", Source2: "big.tar", Format: "tar", Kind: diff.KindContainer, Details: kids}
	return res
}

func allVerdicts() []Verdict {
	return []Verdict{Reproducible, ReproducibleAfterNormalization, NotReproducible, Error}
}

// mustContain fails the test for every want that s lacks.
func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s: missing %q\n--- got ---\n%s", what, w, clip(s))
		}
	}
}

func mustNotContain(t *testing.T, what, s string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(s, w) {
			t.Errorf("%s: unexpected %q\n--- got ---\n%s", what, w, clip(s))
		}
	}
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "\n…(clipped)"
	}
	return s
}
