package rebuild

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/rebuild/sandbox"
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

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{&manifest.Error{Source: "m", Problems: []manifest.Problem{{Field: "name", Msg: "required"}}}, 2},
		{fmt.Errorf("sources[0]: %w", &fetch.DigestMismatchError{URI: "x", Want: "a", Got: "b"}), 2},
		{fmt.Errorf("x: %w", fetch.ErrUnpinned), 2},
		{fmt.Errorf("%w: bad flag", ErrUsage), 2},
		{fmt.Errorf("building: %w", sandbox.ErrTimeout), 3},
		{fmt.Errorf("building: %w", sandbox.ErrBuildFailed), 3},
		{errors.New("connection refused"), 3},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v): want %d, got %d", tt.err, tt.want, got)
		}
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
