package rebuild

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/reprove/reprove/report"
)

func TestFirstDifference(t *testing.T) {
	big := bytes.Repeat([]byte("reprove!"), 300_000) // 2.4 MB: spans several chunks
	changed := bytes.Clone(big)
	changed[1<<20+17] ^= 1
	tests := []struct {
		name string
		a, b []byte
		want int64
	}{
		{"equal", []byte("abc"), []byte("abc"), -1},
		{"both empty", nil, nil, -1},
		{"first byte", []byte("abc"), []byte("xbc"), 0},
		{"last byte", []byte("abc"), []byte("abx"), 2},
		{"prefix", []byte("abc"), []byte("abcd"), 3},
		{"empty vs not", nil, []byte("a"), 0},
		{"big equal", big, big, -1},
		{"big, second chunk", big, changed, 1<<20 + 17},
		{"big, truncated", big, big[:len(big)-1], int64(len(big) - 1)},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := filepath.Join(dir, fmt.Sprint(i, "a")), filepath.Join(dir, fmt.Sprint(i, "b"))
			os.WriteFile(a, tt.a, 0o644)
			os.WriteFile(b, tt.b, 0o644)
			got, err := firstDifference(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("firstDifference: want %d, got %d", tt.want, got)
			}
		})
	}
}

func TestArtifactName(t *testing.T) {
	tests := []struct {
		a    report.Artifact
		want string
	}{
		{report.Artifact{URI: "file:published/hello-1.0.tar.gz"}, "hello-1.0.tar.gz"},
		{report.Artifact{URI: "https://example.org/dl/hello-1.0.tar.gz?sig=1"}, "hello-1.0.tar.gz"},
		{report.Artifact{URI: "https://example.org/r.tgz", Member: "hello-1.0/bin/hello"}, "hello"},
		{report.Artifact{URI: "gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64?sum=h1:x", Member: "golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64/bin/gofmt"}, "gofmt"},
		{report.Artifact{URI: "npm:left-pad@1.3.0"}, "left-pad@1.3.0"},
		{report.Artifact{URI: "file:hello"}, "hello"},
		{report.Artifact{URI: ""}, "artifact"},
	}
	for _, tt := range tests {
		if got := artifactName(tt.a); got != tt.want {
			t.Errorf("artifactName(%+v): want %q, got %q", tt.a, tt.want, got)
		}
	}
}

// TestLogTail keeps the last lines of a build log, reading a bounded end
// of it however large it is.
func TestLogTail(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	for i := range 50_000 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	b.WriteString("no newline at the end")
	p := filepath.Join(dir, "build.log")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := logTail(p, 100)
	if len(got) != 100 || got[0] != "line 49901" || got[99] != "no newline at the end" {
		t.Errorf("logTail: %d lines, first %q, last %q", len(got), got[0], got[len(got)-1])
	}
	short := filepath.Join(dir, "short.log")
	os.WriteFile(short, []byte("one\ntwo\n"), 0o644)
	if got := logTail(short, 100); len(got) != 2 || got[1] != "two" {
		t.Errorf("logTail of a short log: %q", got)
	}
	empty := filepath.Join(dir, "empty.log")
	os.WriteFile(empty, nil, 0o644)
	if got := logTail(empty, 100); got != nil {
		t.Errorf("logTail of an empty log: %q", got)
	}
}
