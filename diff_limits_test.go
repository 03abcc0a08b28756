package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// writeGzipLines writes a gzip of n text lines, the last one tail.
func writeGzipLines(t *testing.T, p string, n int, tail string) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	bw := bufio.NewWriterSize(zw, 1<<20)
	for i := range n {
		fmt.Fprintf(bw, "line %09d of a long text that takes a while to unpack\n", i)
	}
	bw.WriteString(tail)
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// A SIGKILLed `reprove diff` leaves its temporary folder behind; the next
// run removes it, and never a folder a live run holds.
func TestDiffKilledLeavesNoTemp(t *testing.T) {
	bin := reproveBin(t)
	tmp := t.TempDir()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.gz"), filepath.Join(dir, "b.gz")
	writeGzipLines(t, a, 4_000_000, "left\n")
	writeGzipLines(t, b, 4_000_000, "right\n")

	cmd := exec.Command(bin, "diff", a, b)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "NO_COLOR=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	left := waitForTemp(t, tmp)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(left); err != nil {
		t.Fatalf("the killed run left nothing to reclaim (%v): the test did not kill it in time", err)
	}

	// A live run's folder, locked as every run locks its own.
	live, err := os.MkdirTemp(tmp, "reprove-diff-")
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(live, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}

	small := filepath.Join(dir, "s1")
	os.WriteFile(small, []byte("x\n"), 0o644)
	next := exec.Command(bin, "diff", small, small)
	next.Env = append(os.Environ(), "TMPDIR="+tmp, "NO_COLOR=1")
	if out, err := next.CombinedOutput(); err != nil {
		t.Fatalf("the next run: %v\n%s", err, out)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the killed run's %s is still there after the next run (%v)", left, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the live run's folder was removed: %v", err)
	}
}

// waitForTemp returns the reprove-diff-* folder once a member is being
// unpacked into it.
func waitForTemp(t *testing.T, tmp string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ms, _ := filepath.Glob(filepath.Join(tmp, "reprove-diff-*", "member-*"))
		for _, m := range ms {
			if fi, err := os.Stat(m); err == nil && fi.Size() > 1<<20 {
				return filepath.Dir(m)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no temporary member appeared under %s", tmp)
	return ""
}

// The archive limit flags reach the diff: a pair past --max-entries is
// compared as bytes and the report names the flag; raising it lists the
// members again.
func TestDiffLimitFlags(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, side := range []string{"a", "b"} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for i := range 3 {
			body := fmt.Sprintf("%s %d\n", side, i)
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%d", i), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
			tw.Write([]byte(body))
		}
		tw.Close()
		p := filepath.Join(dir, side+".tar")
		os.WriteFile(p, buf.Bytes(), 0o644)
		paths = append(paths, p)
	}
	r := reprove(t, t.TempDir(), "diff", "--max-entries", "2", paths[0], paths[1])
	if r.code != 1 || !strings.Contains(r.stdout, "entry count limit") || !strings.Contains(r.stdout, "--max-entries") {
		t.Errorf("diff --max-entries 2: want exit 1 naming the entry count limit and --max-entries, got %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = reprove(t, t.TempDir(), "diff", "--max-entries", "3", paths[0], paths[1])
	if r.code != 1 || strings.Contains(r.stdout, "--max-entries") || !strings.Contains(r.stdout, "f2") {
		t.Errorf("diff --max-entries 3: want the members listed, got %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
