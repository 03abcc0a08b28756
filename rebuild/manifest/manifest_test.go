package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const validYAML = `apiVersion: reprove/v1
name: hello-1.0
artifact:
  uri: https://example.org/hello-1.0.tar.gz
  digest: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
  member: hello-1.0/bin/hello
sources:
  - uri: git+https://example.org/hello.git
    rev: 4b825dc642cb6eb9a060e54bf8d69288fbee4904
    dest: /src
  - uri: gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64
    digest: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    dest: /opt/go
    unpack: true
deps:
  - kind: gomod
    source: /src
    dest: /deps/gomod
builder:
  image: oci://registry.example/library/debian@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
build:
  workdir: /src
  env: {SOURCE_DATE_EPOCH: "1700000000", CGO_ENABLED: "0"}
  script: |
    /opt/go/bin/go build -trimpath -o /out/hello ./cmd/hello
  output: /out/hello
  timeout: 30m
  resources: {memory: 4GiB, pids: 4096, disk: 40GiB}
`

func TestParseValid(t *testing.T) {
	m, err := Parse([]byte(validYAML), "reprove.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Manifest{
		APIVersion: APIVersion,
		Name:       "hello-1.0",
		Artifact: Artifact{
			URI:    "https://example.org/hello-1.0.tar.gz",
			Digest: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			Member: "hello-1.0/bin/hello",
		},
		Sources: []Source{
			{URI: "git+https://example.org/hello.git", Rev: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", Dest: "/src"},
			{URI: "gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64", Digest: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Dest: "/opt/go", Unpack: true},
		},
		Deps:    []Dep{{Kind: "gomod", Source: "/src", Dest: "/deps/gomod"}},
		Builder: Builder{Image: "oci://registry.example/library/debian@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		Build: Build{
			Workdir:   "/src",
			Env:       map[string]string{"SOURCE_DATE_EPOCH": "1700000000", "CGO_ENABLED": "0"},
			Script:    "/opt/go/bin/go build -trimpath -o /out/hello ./cmd/hello\n",
			Output:    "/out/hello",
			Timeout:   Duration(30 * time.Minute),
			Resources: Resources{Memory: 4 << 30, Pids: 4096, Disk: 40 << 30},
		},
	}
	if d := cmp.Diff(want, m); d != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", d)
	}
}

func TestParseJSONAndRoundTrip(t *testing.T) {
	m, err := Parse([]byte(validYAML), "reprove.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, m, "inferred by a test"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "# inferred by a test\n") {
		t.Errorf("Encode: header comment missing:\n%s", buf.String())
	}
	if i, j := strings.Index(buf.String(), "artifact:"), strings.Index(buf.String(), "build:"); i < 0 || j < i {
		t.Errorf("Encode: want artifact before build, got:\n%s", buf.String())
	}
	back, err := Parse(buf.Bytes(), "encoded")
	if err != nil {
		t.Fatalf("Parse(Encode(m)): %v\n%s", err, buf.String())
	}
	if d := cmp.Diff(m, back); d != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", d)
	}
	js := `{"apiVersion":"reprove/v1","name":"x","artifact":{"uri":"file:x","digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	"builder":{"image":"oci-layout:img@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	"build":{"script":"true","output":"/out/x","timeout":90}}`
	jm, err := Parse([]byte(js), "reprove.json")
	if err != nil {
		t.Fatalf("Parse JSON: %v", err)
	}
	if jm.Build.Timeout != Duration(90*time.Second) {
		t.Errorf("timeout from number: want 90s, got %v", jm.Build.Timeout)
	}
}

// mutate applies a textual replacement to the valid manifest.
func mutate(old, new string) string { return strings.Replace(validYAML, old, new, 1) }

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		field string // the field path the error must name
		msg   string // a fragment of the message
	}{
		{"unknown top field", validYAML + "extra: 1\n", "extra", "unknown field"},
		{"typo suggests", mutate("  member:", "  membr:"), "artifact.membr", `did you mean "member"`},
		{"unknown nested in list", mutate("    dest: /src\n", "    dest: /src\n    digset: x\n"), "sources[0].digset", "did you mean"},
		{"missing artifact digest", mutate("  digest: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n  member", "  member"), "artifact.digest", "required"},
		{"bad digest", mutate("  digest: sha256:9f86", "  digest: md5:9f86"), "artifact.digest", "not a sha256 digest"},
		{"source digest missing", mutate("    digest: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n    dest: /opt/go", "    dest: /opt/go"), "sources[1].digest", "required"},
		{"git short rev", mutate("rev: 4b825dc642cb6eb9a060e54bf8d69288fbee4904", "rev: 4b825dc"), "sources[0].rev", "full commit id"},
		{"git tag", mutate("rev: 4b825dc642cb6eb9a060e54bf8d69288fbee4904", "rev: v1.0"), "sources[0].rev", "full commit id"},
		{"git no rev", mutate("    rev: 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n", ""), "sources[0].rev", "required"},
		{"image unpinned", mutate("debian@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "debian:12"), "builder.image", "not pinned"},
		{"image scheme", mutate("image: oci://", "image: docker://"), "builder.image", "oci://"},
		{"output outside out", mutate("output: /out/hello", "output: /src/hello"), "build.output", "under /out"},
		{"dest reserved", mutate("dest: /opt/go", "dest: /tmp/go"), "sources[1].dest", "reserved"},
		{"dest duplicate", mutate("dest: /opt/go", "dest: /src"), "sources[1].dest", "already used"},
		{"wrong type", mutate("unpack: true", "unpack: yes please"), "sources[1].unpack", "true or false"},
		{"env not string", mutate(`CGO_ENABLED: "0"`, "CGO_ENABLED: 0"), "build.env.CGO_ENABLED", "quote it"},
		{"bad timeout", mutate("timeout: 30m", "timeout: soon"), "build.timeout", "not a duration"},
		{"bad memory", mutate("memory: 4GiB", "memory: lots"), "build.resources.memory", "not a size"},
		{"bad disk", mutate("disk: 40GiB", "disk: plenty"), "build.resources.disk", "not a size"},
		{"tiny disk", mutate("disk: 40GiB", "disk: 1MiB"), "build.resources.disk", "too small: at least 16MiB"},
		{"negative disk", mutate("disk: 40GiB", "disk: -1"), "build.resources.disk", "too small"},
		{"api version", mutate("apiVersion: reprove/v1", "apiVersion: reprove/v2"), "apiVersion", "not supported"},
		{"deps source", mutate("    source: /src\n", "    source: /nowhere\n"), "deps[0].source", "dest of one of the sources"},
		{"deps kind", mutate("  - kind: gomod", "  - kind: cargo"), "deps[0].kind", "known"},
		{"member escapes", mutate("member: hello-1.0/bin/hello", "member: ../etc/passwd"), "artifact.member", "relative path"},
		{"not yaml", "a: [", "(file)", "not valid YAML"},
		{"empty", "", "(file)", "empty manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "reprove.yaml")
			if err == nil {
				t.Fatalf("Parse: want an error at %s, got none", tt.field)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("want errors.Is(err, ErrInvalid), got %T %v", err, err)
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("want *Error, got %T", err)
			}
			var found bool
			for _, p := range me.Problems {
				if p.Field == tt.field && strings.Contains(p.Msg, tt.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want a problem at %q containing %q, got %v", tt.field, tt.msg, err)
			}
			if !strings.HasPrefix(err.Error(), "reprove.yaml: ") {
				t.Errorf("error must name the file: %v", err)
			}
		})
	}
}

func TestLoadRelativeDir(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "reprove.yaml")
	if err := os.WriteFile(p, []byte(validYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	m, dgst, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if m.Dir != dir || m.Path != p {
		t.Errorf("Load: want Dir %q Path %q, got %q %q", dir, p, m.Dir, m.Path)
	}
	if !sha256Re.MatchString(dgst) {
		t.Errorf("Load: manifest digest %q is not sha256", dgst)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(validYAML))
	f.Add([]byte(`{"apiVersion":"reprove/v1"}`))
	f.Add([]byte("sources: [1, {uri: 2}]\nbuild: {env: {A: [1]}}"))
	f.Add([]byte("build: {timeout: -5, resources: {memory: -1}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, "fuzz")
		if err == nil && Validate(m) != nil {
			t.Fatalf("Parse accepted a manifest that Validate rejects")
		}
	})
}

// TestRoundTripEveryField: a manifest using every field (what reprove
// init writes for a .deb: sizes, build.writable, also, approximated)
// reads back as it was written.
func TestRoundTripEveryField(t *testing.T) {
	const d = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	m := &Manifest{
		APIVersion: APIVersion,
		Name:       "hello_1.0_amd64",
		Artifact:   Artifact{URI: "https://example.org/hello_1.0_amd64.deb", Digest: d, Size: 2048},
		Sources:    []Source{{URI: "https://example.org/hello_1.0.dsc", Digest: d, Dest: "/src/hello_1.0.dsc", Size: 512}},
		Builder:    Builder{Image: "oci-layout:img@" + d},
		Build: Build{
			Workdir: "/", Env: map[string]string{"DEB_BUILD_OPTIONS": "nocheck"}, Script: "dpkg-buildpackage -b -uc -us\n",
			Output: "/out/hello_1.0_amd64.deb", Timeout: Duration(3 * time.Hour),
			Resources: Resources{Memory: 1 << 30, Pids: 512, Disk: 2 << 30},
			Writable:  []string{"/build/reprove"},
		},
		Also:         []Also{{URI: "https://example.org/hello-dbgsym_1.0_amd64.deb", Digest: d, Output: "/out/hello-dbgsym_1.0_amd64.deb", Size: 4096}},
		Approximated: []string{"Build-Path: unknown; /build/reprove/hello-1.0 is used"},
	}
	var buf bytes.Buffer
	if err := Encode(&buf, m, "every field"); err != nil {
		t.Fatal(err)
	}
	back, err := Parse(buf.Bytes(), "encoded")
	if err != nil {
		t.Fatalf("Parse(Encode(m)): %v\n%s", err, buf.String())
	}
	if d := cmp.Diff(m, back); d != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", d)
	}
}
