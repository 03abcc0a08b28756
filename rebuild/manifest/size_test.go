package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A 5 MiB manifest is refused before parsing, naming the file and the limit;
// one just under the limit is parsed (and fails on its content instead).
func TestLoadRefusesLargeManifest(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	body := "apiVersion: reprove/v1\n# " + strings.Repeat("x", 5<<20) + "\n"
	if err := os.WriteFile(big, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(big)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "4 MiB") ||
		!strings.Contains(err.Error(), "refused before parsing") {
		t.Fatalf("Load of a 5 MiB manifest = %v, want an invalid-manifest error naming %s and the 4 MiB limit", err, big)
	}
	if _, err := Parse([]byte(body), "stdin"); err == nil || !strings.Contains(err.Error(), "refused before parsing") {
		t.Errorf("Parse of 5 MiB = %v, want the size error", err)
	}
	under := filepath.Join(dir, "under.yaml")
	os.WriteFile(under, []byte(body[:MaxSize-10]+"\n"), 0o644)
	if _, _, err := Load(under); err == nil || strings.Contains(err.Error(), "refused before parsing") {
		t.Errorf("Load of a manifest under the limit = %v, want it parsed (and refused for its content)", err)
	}
}
