package report

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWriteOutputs(t *testing.T) {
	dir := t.TempDir()
	res := sampleResult(NotReproducible)
	var stdout bytes.Buffer
	outs := []Output{
		{FormatJSON, filepath.Join(dir, "r.json")},
		{FormatHTML, filepath.Join(dir, "r.html")},
		{FormatMarkdown, filepath.Join(dir, "r.md")},
		{FormatJUnit, filepath.Join(dir, "r.xml")},
		{FormatText, "-"},
	}
	if err := WriteOutputs(&stdout, res, outs, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "stdout", stdout.String(), "✗ hello-1.0: not reproducible")
	for _, o := range outs[:4] {
		b, err := os.ReadFile(o.Path)
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", o.Path, err, len(b))
		}
	}
	// The saved JSON re-renders (reprove report RESULT.json --html F).
	f, _ := os.Open(outs[0].Path)
	defer f.Close()
	back, err := ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := Render(&again, FormatHTML, back, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(outs[1].Path)
	if !bytes.Equal(first, again.Bytes()) {
		t.Error("HTML re-rendered from the saved JSON differs from the HTML of the run")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("%d files in the output directory; want 4 (no temporary files left)", len(entries))
	}

	if err := WriteOutputs(&stdout, res, []Output{{FormatText, "-"}, {FormatJSON, "-"}}, RenderOptions{}); err == nil || !strings.Contains(err.Error(), "more than one") {
		t.Errorf("two outputs to stdout: error = %v", err)
	}
	if err := WriteOutputs(&stdout, res, []Output{{FormatJSON, filepath.Join(dir, "missing", "r.json")}}, RenderOptions{}); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestWriteToLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.html")
	os.WriteFile(p, []byte("old"), 0o644)
	boom := errors.New("boom")
	err := WriteTo(p, nil, func(w io.Writer) error { w.Write([]byte("half")); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("failed write replaced the file with %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("failed write left %d files", len(entries))
	}
}

func TestWriteToKeepsSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	if err := WriteTo(fifo, nil, func(w io.Writer) error { _, err := io.WriteString(w, "report"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: mode %v (%v)", fi.Mode(), err)
	}
	select {
	case s := <-got:
		if s != "report" {
			t.Errorf("reader of the FIFO got %q, want %q", s, "report")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing was written to the FIFO")
	}
}
