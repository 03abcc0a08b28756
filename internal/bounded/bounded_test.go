package bounded

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	os.WriteFile(small, []byte("hello"), 0o644)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(small, 5); err != nil || string(b) != "hello" {
		t.Errorf("ReadFile(small, 5) = %q, %v; want hello", b, err)
	}
	var tl *TooLargeError
	if _, err := ReadFile(small, 4); !errors.As(err, &tl) || tl.Size != 5 || tl.Max != 4 || err.Error() != "5 bytes, over the 4-byte limit" {
		t.Errorf("ReadFile(small, 4): %v; want 5 bytes over the 4-byte limit", err)
	}
	if _, err := ReadFile(dir, 1<<20); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadFile(a folder): %v; want not a regular file", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(fifo, 1<<20); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadFile(a FIFO): %v; want not a regular file", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadFile(a FIFO) waited for a writer")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if b, err := ReadFileIn(root, "small", 5); err != nil || string(b) != "hello" {
		t.Errorf("ReadFileIn(small) = %q, %v", b, err)
	}
	if _, err := ReadFileIn(root, "out", 1<<20); err == nil {
		t.Error("ReadFileIn followed a link out of its root")
	}
	if _, err := ReadFileIn(root, "fifo", 1<<20); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadFileIn(a FIFO): %v; want not a regular file", err)
	}
}
