package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResolveInStrict(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "d"), 0o755)
	os.WriteFile(filepath.Join(root, "d", "f"), []byte("x"), 0o644)
	os.Symlink("d/f", filepath.Join(root, "rel"))
	os.Symlink("/out/d", filepath.Join(root, "abs"))
	os.Symlink("/etc/passwd", filepath.Join(root, "outside"))
	os.Symlink("../../etc/passwd", filepath.Join(root, "up"))
	tests := []struct {
		rel, want string
		escapes   bool
	}{
		{rel: "d/f", want: "d/f"},
		{rel: "rel", want: "d/f"},
		{rel: "abs/f", want: "d/f"},
		{rel: "missing", want: "missing"},
		{rel: "outside", escapes: true},
		{rel: "up", escapes: true},
	}
	for _, tt := range tests {
		got, err := ResolveIn(root, tt.rel, "/out", true)
		if tt.escapes {
			if !errors.Is(err, ErrEscapes) {
				t.Errorf("ResolveIn(%q) = %q, %v; want an ErrEscapes error", tt.rel, got, err)
			}
			continue
		}
		if err != nil || got != filepath.Join(root, tt.want) {
			t.Errorf("ResolveIn(%q) = %q, %v; want %q", tt.rel, got, err, filepath.Join(root, tt.want))
		}
	}
}
