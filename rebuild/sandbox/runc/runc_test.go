package runc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/sandbox/runc"
	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
	"github.com/reprove/reprove/rebuild/tree"
)

func TestMain(m *testing.M) {
	own := os.Getenv(testDirEnv) == ""
	if own {
		dir, err := makeTestDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Setenv(testDirEnv, dir)
	}
	code := m.Run()
	if own {
		if r, err := runc.New(options()); err == nil {
			r.Reclaim()
		}
		os.RemoveAll(os.Getenv(testDirEnv))
	}
	sandboxtest.Cleanup()
	os.Exit(code)
}

// needRoot skips a root-mode test when not root.
func needRoot(t testing.TB) {
	t.Helper()
	sandboxtest.Need(t, false)
	if os.Geteuid() != 0 {
		t.Skip("a root-mode test; TestConformanceRootless covers rootless mode")
	}
}

// testKey authenticates the tests' rootfs records (never the user's key).
var testKey = tree.Key(bytes.Repeat([]byte{7}, 32))

// testDirEnv names the folder holding this test process's cache and, in
// root mode, its runc state and bundle folders. TestMain makes it and
// passes it to the helper processes it starts (the parent-death and reclaim
// checks), so the backend they make and the one that reclaims after them
// share their folders. Other worktrees' tests use the default folders at
// the same time.
const testDirEnv = "REPROVE_RUNC_TEST_DIR"

// options are the backend options of this test process (TestMain sets
// testDirEnv).
func options() runc.Options {
	dir := os.Getenv(testDirEnv)
	opts := runc.Options{CacheDir: filepath.Join(dir, "cache"), KillWait: 3 * time.Second, TreeKey: testKey}
	if os.Geteuid() == 0 {
		opts.Root, opts.BundleDir = filepath.Join(dir, "state"), filepath.Join(dir, "bundles")
	}
	return opts
}

// makeTestDir makes the folder testDirEnv names: under /run as root (the
// bundles must be on a file system the build's range can traverse),
// else in the temp folder.
func makeTestDir() (string, error) {
	parent := os.TempDir()
	if os.Geteuid() == 0 {
		parent = "/run"
	}
	dir, err := os.MkdirTemp(parent, "reprove-runc-test-")
	if err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o711)
}

func newRunc(t testing.TB, opts runc.Options) *runc.Runc {
	t.Helper()
	r, err := runc.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestConformance runs the sandbox conformance suite against runc in the
// mode this process picks: root mode as root, rootless otherwise.
func TestConformance(t *testing.T) {
	sandboxtest.Need(t, false)
	sandboxtest.Run(t, sandboxtest.Config{New: func(t testing.TB) sandbox.Backend {
		return newRunc(t, options())
	}})
}

// TestConformanceRootless runs the suite again as an ordinary user with
// no subordinate ids, in runc's rootless mode with a one-id mapping.
func TestConformanceRootless(t *testing.T) {
	sandboxtest.Need(t, false)
	sandboxtest.RunAs(t, "reprove-test", "TestConformance")
}

// TestConformanceRootlessRange runs it as an ordinary user with a range
// in /etc/subuid and /etc/subgid: container ids from 1 map onto it
// through newuidmap.
func TestConformanceRootlessRange(t *testing.T) {
	sandboxtest.Need(t, false)
	if os.Geteuid() != 0 {
		t.Skip("runs as root, to re-run the suite as an ordinary user")
	}
	sandboxtest.User(t, "reprove-test-sub")
	// Far from runc.DefaultHostID's range and from useradd's (below 600100000).
	sandboxtest.SubIDs(t, "reprove-test-sub", 3_000_000_000, 65536)
	sandboxtest.RunAs(t, "reprove-test-sub", "TestConformance")
}

// env is one root-mode test's backend and base spec.
type env struct {
	r    *runc.Runc
	opts runc.Options
	base sandbox.Spec
}

func newEnv(t *testing.T) *env {
	t.Helper()
	needRoot(t)
	layout, digest := sandboxtest.Image(t)
	opts := options()
	opts.CacheDir = t.TempDir()
	return &env{r: newRunc(t, opts), opts: opts, base: sandbox.Spec{
		ImageLayout: layout, ImageDigest: digest, Output: "/out/x", Timeout: 30 * time.Second,
	}}
}

func (e *env) spec(t *testing.T, script string) sandbox.Spec {
	s := e.base
	s.RunDir = filepath.Join(t.TempDir(), "run")
	s.Script = script
	return s
}

// assertClean checks that no container, state, bundle, mount or loop
// device of the run is left.
func (e *env) assertClean(t *testing.T, runDir string) {
	t.Helper()
	out, err := exec.Command("runc", "--root", e.opts.Root, "list", "-q").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("runc list after the run: %q, %v; want no containers", out, err)
	}
	ents, _ := os.ReadDir(e.opts.BundleDir)
	for _, de := range ents {
		if de.IsDir() { // the disk templates stay
			t.Errorf("bundle left behind: %s", filepath.Join(e.opts.BundleDir, de.Name()))
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.Contains(l, runDir) || strings.Contains(l, e.opts.BundleDir) {
			t.Errorf("mount left behind: %s", l)
		}
	}
	if out, _ := exec.Command("losetup", "-a").Output(); strings.Contains(string(out), runDir) {
		t.Errorf("loop device left behind: %s", out)
	}
	ents, _ = os.ReadDir(runDir)
	for _, de := range ents {
		if de.Name() != "build.log" && de.Name() != "out" {
			t.Errorf("left in the run folder: %s", filepath.Join(runDir, de.Name()))
		}
	}
}

// In root mode container root is the host range: what the build writes
// on its disk and in a writable folder is owned by it, never by host root.
func TestRootModeOwners(t *testing.T) {
	e := newEnv(t)
	w := t.TempDir()
	s := e.spec(t, "echo hi > /w/made; id -u > /out/x; stat -c %u /w/made >> /out/x")
	s.Mounts = []sandbox.Mount{{Source: w, Dest: "/w", Writable: true}}
	res, err := e.r.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	ids := e.r.IDs()
	got, _ := os.ReadFile(res.Output)
	if string(got) != "0\n0\n" {
		t.Errorf("inside the build: id -u and the owner of a file it made: %q; want 0 and 0", got)
	}
	fi, err := os.Stat(filepath.Join(w, "made"))
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != ids.UID {
		t.Errorf("the file the build wrote is owned by host uid %d; want %d, the build's range", uid, ids.UID)
	}
	e.assertClean(t, s.RunDir)
}

// Sources are id-mapped: a 0600 file host root owns reads as container
// root's, and the source stays read-only.
func TestRootModeSourcesReadable(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "secret"), []byte("only root\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := e.spec(t, "cat /src/secret > /out/x; stat -c %u /src/secret >> /out/x; touch /src/secret 2>> /out/x || true")
	s.Mounts = []sandbox.Mount{{Source: src, Dest: "/src"}}
	res, err := e.r.Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(res.Output)
	if want := "only root\n0\ntouch: /src/secret: Read-only file system\n"; string(got) != want {
		t.Errorf("build saw %q; want %q", got, want)
	}
	// Builds never write the cached rootfs: mount points go to the
	// overlay's upper layer.
	entry := runc.RootfsPath(e.opts.CacheDir, e.base.ImageDigest, e.r.IDs())
	if _, err := os.Stat(filepath.Join(entry, "root", "src")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the mount point /src was created in the cached rootfs (stat: %v)", err)
	}
}

func TestRunConcurrentSameCache(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	specs := make([]sandbox.Spec, 3)
	for i := range specs {
		specs[i] = e.spec(t, fmt.Sprintf("echo %d > /out/x", i))
	}
	for i := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.r.Run(context.Background(), specs[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
			continue
		}
		if b, _ := os.ReadFile(filepath.Join(specs[i].RunDir, "out", "x")); string(b) != fmt.Sprintf("%d\n", i) {
			t.Errorf("run %d output %q", i, b)
		}
		e.assertClean(t, specs[i].RunDir)
	}
	ents, _ := os.ReadDir(filepath.Join(e.opts.CacheDir, "rootfs"))
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	entry := filepath.Base(runc.RootfsPath(e.opts.CacheDir, e.base.ImageDigest, e.r.IDs()))
	if diff := cmp.Diff([]string{entry, entry + ".lock"}, names); diff != "" {
		t.Errorf("rootfs cache entries (-want +got):\n%s", diff)
	}
}

func TestRootfsUnpackedOnce(t *testing.T) {
	sandboxtest.Need(t, false)
	layout, digest := sandboxtest.Image(t)
	cache := t.TempDir()
	var wg sync.WaitGroup
	var unpacks atomic.Int32
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := runc.Rootfs(context.Background(), runc.RootfsRequest{Layout: layout, Digest: digest, CacheDir: cache, Key: testKey})
			if err != nil {
				t.Error(err)
				return
			}
			if got.Unpacked {
				unpacks.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := unpacks.Load(); n != 1 {
		t.Errorf("three concurrent Rootfs calls unpacked %d times; want 1", n)
	}
	got, err := runc.Rootfs(context.Background(), runc.RootfsRequest{Layout: layout, Digest: digest, CacheDir: cache, Key: testKey})
	if err != nil || got.Unpacked {
		t.Fatalf("Rootfs on a warm cache: %+v, err=%v; want not unpacked, nil", got, err)
	}
	if fi, err := os.Lstat(filepath.Join(got.Dir, "bin", "sh")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("unpacked rootfs has no /bin/sh link: %v", err)
	}
}

func TestRootfsRefusesWrongDigest(t *testing.T) {
	layout, _ := sandboxtest.Image(t)
	_, err := runc.Rootfs(context.Background(), runc.RootfsRequest{Layout: layout, Digest: "sha256:" + strings.Repeat("0", 64), CacheDir: t.TempDir(), Key: testKey})
	if err == nil {
		t.Fatal("Rootfs with a digest not in the layout: got no error")
	}
}
