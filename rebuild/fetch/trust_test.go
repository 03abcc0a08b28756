package fetch

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// A manifest may only read below its own folder: each way out is refused
// before anything is read, and the refusal names no digest of the file.
func TestFileInputsAreConfined(t *testing.T) {
	base := t.TempDir()
	manifestDir := filepath.Join(base, "project")
	outside := filepath.Join(base, "secret.txt")
	secret := []byte("the auditor's secret\n")
	must(t, os.MkdirAll(manifestDir, 0o755))
	must(t, os.WriteFile(outside, secret, 0o600))
	must(t, os.Symlink(outside, filepath.Join(manifestDir, "link-out")))
	must(t, os.Symlink("/proc/self/environ", filepath.Join(manifestDir, "environ")))
	must(t, syscall.Mkfifo(filepath.Join(manifestDir, "fifo"), 0o644))
	must(t, os.Symlink("/dev/zero", filepath.Join(manifestDir, "zero")))
	anyDigest := "sha256:" + strings.Repeat("0", 64)
	for name, uri := range map[string]string{
		"climbing out":             "file:../secret.txt",
		"absolute path outside":    "file://" + outside,
		"/etc/passwd":              "file:///etc/passwd",
		"/proc/self/environ":       "file:///proc/self/environ",
		"a link leading out":       "file:link-out",
		"a link into /proc":        "file:environ",
		"a FIFO":                   "file:fifo",
		"a link to a device":       "file:zero",
		"a folder named as a file": "file:.",
	} {
		t.Run(name, func(t *testing.T) {
			c := newCache(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := New(c).Fetch(ctx, Request{URI: uri, Digest: anyDigest, Dir: manifestDir})
			if !errors.Is(err, ErrConfined) {
				t.Fatalf("Fetch %s: got %v, want an error wrapping ErrConfined", uri, err)
			}
			if !strings.Contains(err.Error(), uri) {
				t.Errorf("the error does not name the input %s: %v", uri, err)
			}
			if strings.Contains(err.Error(), digest.FromBytes(secret).Encoded()[:12]) {
				t.Errorf("the error prints the refused file's digest: %v", err)
			}
			if got := cacheFiles(t, c); len(got) != 0 {
				t.Errorf("the refused input reached the cache: %v", got)
			}
		})
	}
}

// --allow-path widens the readable folders to exactly the folder given.
func TestAllowPathWidensExactly(t *testing.T) {
	base := t.TempDir()
	manifestDir := filepath.Join(base, "project")
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	for _, d := range []string{manifestDir, a, b} {
		must(t, os.MkdirAll(d, 0o755))
	}
	inA, inB := []byte("in a\n"), []byte("in b\n")
	must(t, os.WriteFile(filepath.Join(a, "f"), inA, 0o644))
	must(t, os.WriteFile(filepath.Join(b, "f"), inB, 0o644))
	must(t, os.Symlink(filepath.Join(b, "f"), filepath.Join(a, "to-b")))
	for _, tc := range []struct {
		uri     string
		body    []byte
		allowed bool
	}{
		{"file://" + filepath.Join(a, "f"), inA, true},
		{"file:../a/f", inA, true},
		{"file://" + filepath.Join(b, "f"), inB, false},
		{"file://" + filepath.Join(a, "to-b"), inB, false}, // inside a, but leads to b
		{"file://" + filepath.Join(a, "../b/f"), inB, false},
	} {
		// A fresh cache each time: a cached blob of the same digest would
		// be used without reading the path at all.
		f := New(newCache(t), WithAllowPaths(a))
		_, err := f.Fetch(context.Background(), Request{URI: tc.uri, Digest: sha(tc.body), Dir: manifestDir})
		if tc.allowed && err != nil {
			t.Errorf("%s with --allow-path %s: %v", tc.uri, a, err)
		}
		if !tc.allowed && !errors.Is(err, ErrConfined) {
			t.Errorf("%s with --allow-path %s: got %v, want ErrConfined", tc.uri, a, err)
		}
	}
}

// A cached blob is hashed again when used: one changed in the cache is
// quarantined and fetched again from its URI, never used.
func TestPoisonedBlobIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	honest := []byte("#!/bin/sh\necho honest\n")
	must(t, os.WriteFile(filepath.Join(dir, "src.sh"), honest, 0o644))
	c := newCache(t)
	req := Request{URI: "file:src.sh", Digest: sha(honest), Dir: dir}
	it, err := New(c).Fetch(context.Background(), req)
	must(t, err)
	poison(t, it.Path, []byte("#!/bin/sh\necho EVIL!\n"))

	it2, err := New(c).Fetch(context.Background(), req)
	must(t, err)
	if got, _ := os.ReadFile(it2.Path); !bytes.Equal(got, honest) {
		t.Errorf("Fetch used the poisoned blob: %q", got)
	}
	if len(it2.Quarantined) != 1 || !strings.HasPrefix(it2.Quarantined[0], c.QuarantineDir()) {
		t.Fatalf("Quarantined = %v, want the poisoned blob in %s", it2.Quarantined, c.QuarantineDir())
	}
	if got, _ := os.ReadFile(it2.Quarantined[0]); !bytes.Contains(got, []byte("EVIL")) {
		t.Errorf("the quarantine does not hold the poisoned bytes: %q", got)
	}
	if it2.Source != SourceFile {
		t.Errorf("Source = %q, want %q: the blob came again from its URI", it2.Source, SourceFile)
	}

	// Offline, there is nothing to fetch it again from: an error, never the
	// poisoned bytes.
	poison(t, it2.Path, []byte("#!/bin/sh\necho EVIL!\n"))
	_, err = New(c, WithOffline()).Fetch(context.Background(), req)
	if !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("offline Fetch of a poisoned blob: got %v, want ErrOffline naming the damaged copy", err)
	}
}

// Unpacked trees and git checkouts are checked against their records: a
// changed file is quarantined with its entry and the tree derived again.
func TestPoisonedTreesAreQuarantined(t *testing.T) {
	base := t.TempDir()
	repo, rev, _, _ := gitRepo(t, base)
	tgz := makeArchive(t, FormatTarGzip, []entry{file("hello.sh", "echo honest\n", 0o755)})
	must(t, os.WriteFile(filepath.Join(base, "src.tgz"), tgz, 0o644))
	for _, tc := range []struct {
		name string
		req  Request
		file string
	}{
		{"unpacked archive", Request{URI: "file:src.tgz", Digest: sha(tgz), Unpack: true, Dir: base}, "hello.sh"},
		{"git checkout", Request{URI: "git+file:" + filepath.Base(repo), Rev: rev, Dir: base}, "a.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t)
			it, err := New(c).Fetch(context.Background(), tc.req)
			must(t, err)
			p := filepath.Join(it.Path, tc.file)
			honest, err := os.ReadFile(p)
			must(t, err)
			poison(t, p, []byte("echo EVIL!\n"))

			it2, err := New(c).Fetch(context.Background(), tc.req)
			must(t, err)
			if got, _ := os.ReadFile(filepath.Join(it2.Path, tc.file)); !bytes.Equal(got, honest) {
				t.Errorf("the poisoned tree was used: %s holds %q", tc.file, got)
			}
			if len(it2.Quarantined) != 1 {
				t.Fatalf("Quarantined = %v, want the poisoned entry", it2.Quarantined)
			}
			if got, _ := os.ReadFile(filepath.Join(it2.Quarantined[0], "root", tc.file)); !bytes.Contains(got, []byte("EVIL")) {
				t.Errorf("the quarantine does not hold the poisoned tree: %q", got)
			}
			// A checkout's .git differs from clone to clone (logs, index
			// times); an unpacked archive is the same tree every time.
			if tc.name == "unpacked archive" && it2.TreeDigest != it.TreeDigest {
				t.Errorf("re-derived tree digest %s, want the first one %s", it2.TreeDigest, it.TreeDigest)
			}
		})
	}
}

// poison overwrites a cache file the way another user of the cache folder
// could.
func poison(t *testing.T, p string, b []byte) {
	t.Helper()
	must(t, os.Chmod(p, 0o644))
	must(t, os.WriteFile(p, b, 0o644))
}

// The cache grants nothing to other users: private folders, and no setuid,
// setgid or world-writable bits in what it unpacks.
func TestCacheGrantsNothing(t *testing.T) {
	tgz := makeArchive(t, FormatTarGzip, []entry{
		dir("pkg/", 0o777),
		file("pkg/shared", "anyone may write me\n", 0o666),
		file("pkg/suid", "#!/bin/sh\n", 0o4755),
		file("pkg/sgid", "#!/bin/sh\n", 0o2755),
	})
	srv := newServer(t, map[string][]byte{"/pkg.tgz": tgz}, nil)
	c := newCache(t)
	it, err := New(c).Fetch(context.Background(), Request{URI: srv.URL + "/pkg.tgz", Digest: sha(tgz), Unpack: true})
	must(t, err)
	err = filepath.WalkDir(c.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if m := fi.Mode(); m&(fs.ModeSetuid|fs.ModeSetgid) != 0 || m.Perm()&0o002 != 0 {
			t.Errorf("%s has mode %v: setuid, setgid or world-writable in the cache", p, m)
		}
		return nil
	})
	must(t, err)
	for _, d := range []string{c.Root, filepath.Join(c.Root, "blobs"), filepath.Join(c.Root, "trees")} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v (%v), want 0700", d, fi.Mode().Perm(), err)
		}
	}
	if fi, err := os.Stat(filepath.Join(it.Path, "pkg/suid")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("pkg/suid unpacked with mode %v (%v), want 0755", fi.Mode(), err)
	}
}

// A work folder left by a killed process is removed by the next one; a live
// process's folder is never touched.
func TestTempFoldersOfDeadRunsAreReclaimed(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	c := newCache(t)
	live, err := c.TempDir("live-")
	must(t, err)
	defer live.Remove()
	dead, err := c.TempDir("dead-")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dead.Path, "partial"), []byte("half a download"), 0o600))
	// Hand the dead folder's lock to another process, then kill it.
	dead.lock.Close()
	// -o: the lock is held by flock itself, not by its child.
	holder := exec.Command("flock", "-o", "-x", filepath.Join(dead.Path, tempLock), "sleep", "30")
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, holder.Start())
	defer syscall.Kill(-holder.Process.Pid, syscall.SIGKILL)
	time.Sleep(200 * time.Millisecond)
	if got := c.ReclaimTemp(); len(got) != 0 {
		t.Fatalf("reclaimed %v while their owners live", got)
	}
	must(t, holder.Process.Signal(syscall.SIGKILL))
	holder.Wait()

	got := c.ReclaimTemp()
	if len(got) != 1 || got[0] != dead.Path {
		t.Errorf("ReclaimTemp = %v, want only %s", got, dead.Path)
	}
	if _, err := os.Stat(live.Path); err != nil {
		t.Errorf("the live folder is gone: %v", err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
