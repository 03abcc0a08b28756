package report

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reprove/reprove/diff"
)

// writeTar writes a tar of one member name holding body.
func writeTar(t *testing.T, p, name, body string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg})
	tw.Write([]byte(body))
	tw.Close()
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Member names and diff lines from hostile archives carry escape
// sequences: the Markdown and text reports show them as \xNN, never raw.
func TestRenderEscapesControlCharacters(t *testing.T) {
	dir := t.TempDir()
	evil := "bin/\x1b]0;pwned\x07\x1b[31mred\r\x08x"
	a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
	writeTar(t, a, evil, "one \x1b[2J line\n")
	writeTar(t, b, evil, "two \x1b[2J line\n")
	s, err := diff.Run(context.Background(), a, b, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := ForDiff(a, b, s)
	for _, f := range []Format{FormatMarkdown, FormatText} {
		var out bytes.Buffer
		if err := Render(&out, f, res, RenderOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []byte{0x1b, 0x07, '\r', 0x08} {
			if i := bytes.IndexByte(out.Bytes(), c); i >= 0 {
				t.Errorf("%s report holds the raw byte 0x%02x at %d:\n%q", f, c, i, out.String())
			}
		}
		if !strings.Contains(out.String(), `\x1b]0;pwned\x07`) {
			t.Errorf("%s report does not show the escaped name:\n%s", f, out.String())
		}
	}
}
