package history

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/report"
)

func writeResult(t *testing.T, path string, res *report.Result) {
	t.Helper()
	var b bytes.Buffer
	if err := report.WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b.String())
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		h := openDB(t, dsn)
		dir := t.TempDir()
		out := filepath.Join(dir, "out")
		// What shards leave: a result per target, and files that are not results.
		for i, r := range nightly {
			writeResult(t, filepath.Join(out, "shard-"+string(rune('a'+i%3)), r.name+"-"+r.at.Format("0102"), "result.json"), r.result())
		}
		writeFile(t, filepath.Join(out, "summary.json"), `{"targets": 13}`)
		writeFile(t, filepath.Join(out, "notes.txt"), "not JSON, not .json")
		if err := os.Symlink("/etc/passwd", filepath.Join(out, "link.json")); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(out, "fifo.json"), 0o644); err != nil {
			t.Fatal(err)
		}
		broken := nightly[0].result()
		broken.Name = "broken"
		broken.FinishedAt = broken.FinishedAt.AddDate(1, 0, 0)
		var b bytes.Buffer
		report.WriteJSON(&b, broken)
		writeFile(t, filepath.Join(out, "broken", "result.json"), strings.Replace(b.String(), `"verdict": "reproducible"`, `"verdict": "maybe"`, 1))

		st, err := h.Import(context.Background(), out)
		if !errors.Is(err, ErrImport) || len(st.Failed) != 1 || !strings.HasSuffix(st.Failed[0].Path, filepath.Join("broken", "result.json")) {
			t.Fatalf("Import: %v, failed %v; want only broken/result.json failed", err, st.Failed)
		}
		if !strings.Contains(st.Failed[0].Err.Error(), "verdict") {
			t.Errorf("failure names %q, want the verdict field", st.Failed[0].Err)
		}
		if st.Added != len(nightly) || st.Existing != 0 || len(st.Entries) != len(nightly) {
			t.Errorf("added %d (entries %d), existing %d; want %d added", st.Added, len(st.Entries), st.Existing, len(nightly))
		}
		if want := []string{filepath.Join(out, "summary.json")}; !cmp.Equal(st.Skipped, want) {
			t.Errorf("skipped %v, want %v", st.Skipped, want)
		}
		if diff := cmp.Diff(wantNightly, summarize(allEntries(t, h))); diff != "" {
			t.Errorf("imported runs (-want +got):\n%s", diff)
		}

		// Importing again adds nothing.
		st, err = h.Import(context.Background(), filepath.Join(out, "shard-a"), filepath.Join(out, "shard-b"))
		if err != nil || st.Added != 0 || st.Existing != 9 {
			t.Errorf("second import: %v, added %d, existing %d; want 0 added, 9 existing", err, st.Added, st.Existing)
		}
	})
}

func TestImportRefusesFiles(t *testing.T) {
	h := openDB(t, filepath.Join(t.TempDir(), "h.db"))
	h.MaxResultSize = 4096
	dir := t.TempDir()
	big := nightly[1].result()
	big.Error = strings.Repeat("x", 5000)
	writeResult(t, filepath.Join(dir, "big.json"), big)
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "summary.json"), `{"targets": 1}`)
	writeFile(t, filepath.Join(dir, "diff.json"), mustJSON(t, func() *report.Result {
		r := nightly[0].result()
		r.Mode = report.ModeDiff
		return r
	}()))
	cases := []struct{ path, want string }{
		{filepath.Join(dir, "big.json"), "over the 4096-byte limit"},
		{fifo, "not a regular file"}, // refused without blocking on the FIFO
		{filepath.Join(dir, "summary.json"), "no schemaVersion field"},
		{filepath.Join(dir, "diff.json"), "not a verification"},
		{filepath.Join(dir, "missing.json"), "no such file"},
	}
	for _, c := range cases {
		st, err := h.Import(context.Background(), c.path)
		if !errors.Is(err, ErrImport) || len(st.Failed) != 1 || !strings.Contains(st.Failed[0].Error(), c.want) {
			t.Errorf("Import(%s): %v %v; want a failure containing %q", filepath.Base(c.path), err, st.Failed, c.want)
		}
		if st.Added != 0 {
			t.Errorf("Import(%s) added %d", filepath.Base(c.path), st.Added)
		}
	}
}

func mustJSON(t *testing.T, res *report.Result) string {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// FuzzParseResult: result files come from other machines (shards); no
// input may crash the importer, and whatever it accepts can be recorded.
func FuzzParseResult(f *testing.F) {
	for _, r := range nightly[:5] {
		var b bytes.Buffer
		report.WriteJSON(&b, r.result())
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"schemaVersion": "reprove.result/v1"}`))
	f.Add([]byte(`{"schemaVersion": "reprove.result/v1", "verdict": "error", "name": "x", "finishedAt": "2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseResult(data)
		if err != nil {
			return
		}
		if _, err := newRow(res, recordOptions{}, t0); err != nil {
			t.Fatalf("ParseResult accepted a result newRow refuses: %v", err)
		}
		if KeyOf(res) == "" {
			t.Fatal("accepted a result with no key")
		}
	})
}
