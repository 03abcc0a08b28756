package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/rebuild/image/imagetest"
	"github.com/reprove/reprove/rebuild/sandbox"
)

// needRunc skips when runc cannot be used here, and fails instead on CI.
func needRunc(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "runc tests need root"
	} else if _, err := exec.LookPath("runc"); err != nil {
		why = "runc not installed (apt-get install -y runc)"
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// busyboxImage is the fixtures' busybox image, built by reprove's image
// builder once per test process and machine.
func busyboxImage(t testing.TB) (layout, digest string) {
	t.Helper()
	return imagetest.Build(t, imagetest.Busybox)
}

// env is one test's sandbox: its own runc state folder and cache.
type env struct {
	r     *sandbox.Runc
	root  string
	cache string
	base  sandbox.Spec
}

func newEnv(t *testing.T) *env {
	t.Helper()
	needRunc(t)
	layout, digest := busyboxImage(t)
	root, err := os.MkdirTemp("/run", "reprove-runc-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	r, err := sandbox.NewRunc(sandbox.RuncOptions{Root: root, KillWait: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	return &env{r: r, root: root, cache: cache, base: sandbox.Spec{
		ImageLayout: layout, ImageDigest: digest, CacheDir: cache,
		Output: "/out/x", Timeout: 30 * time.Second,
	}}
}

func (e *env) spec(t *testing.T, script string) sandbox.Spec {
	s := e.base
	s.RunDir = filepath.Join(t.TempDir(), "run")
	s.Script = script
	return s
}

// assertClean checks that no container, state, bundle or mount is left.
func (e *env) assertClean(t *testing.T, runDir string) {
	t.Helper()
	out, err := exec.Command("runc", "--root", e.root, "list", "-q").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("runc list after the run: %q, %v; want no containers", out, err)
	}
	ents, _ := os.ReadDir(e.root)
	if len(ents) != 0 {
		t.Errorf("runc state folder %s still holds %d entries", e.root, len(ents))
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.Contains(l, runDir) || strings.Contains(l, e.cache) {
			t.Errorf("mount left behind: %s", l)
		}
	}
	ents, _ = os.ReadDir(runDir)
	for _, de := range ents {
		if strings.HasPrefix(de.Name(), ".bundle-") {
			t.Errorf("bundle left behind: %s", filepath.Join(runDir, de.Name()))
		}
	}
}

func TestRunOutputs(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, script, output string
		want                 map[string]string // file under the output → content; "" key: the output itself
	}{
		{name: "file", script: "echo hi > /out/x", output: "/out/x", want: map[string]string{"": "hi\n"}},
		{name: "folder", script: "mkdir /out/d && echo a > /out/d/a && echo b > /out/d/b", output: "/out/d", want: map[string]string{"a": "a\n", "b": "b\n"}},
		{name: "whole /out", script: "echo z > /out/z", output: "/out", want: map[string]string{"z": "z\n"}},
		{name: "symlink inside /out", script: "echo hi > /out/real && ln -s real /out/x", output: "/out/x", want: map[string]string{"": "hi\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.spec(t, tt.script)
			s.Output = tt.output
			res, err := e.r.Run(context.Background(), s)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			for rel, want := range tt.want {
				b, err := os.ReadFile(filepath.Join(res.Output, rel))
				if err != nil || string(b) != want {
					t.Errorf("output %s: got %q, %v; want %q", rel, b, err, want)
				}
			}
			if !strings.HasPrefix(res.Output, s.RunDir) {
				t.Errorf("Result.Output %s is not under RunDir %s", res.Output, s.RunDir)
			}
			if res.Log != filepath.Join(s.RunDir, "build.log") || res.ExitCode != 0 {
				t.Errorf("Result = %+v; want Log in RunDir and ExitCode 0", res)
			}
			e.assertClean(t, s.RunDir)
		})
	}
}

func TestRunEnvironment(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	s := e.spec(t, `{ hostname; umask; echo "$TZ|$LANG|$HOME|$PATH|$FOO|$LANG2"; pwd; date +%Z; ls /sys/class/net; id -u; } > /out/x`)
	s.Env = map[string]string{"FOO": "bar", "LANG2": "x"}
	s.Workdir = "/src"
	s.Mounts = []sandbox.Mount{{Source: src, Dest: "/src"}}
	res, err := e.r.Run(context.Background(), s)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got, _ := os.ReadFile(res.Output)
	want := strings.Join([]string{
		"reprove",
		"0022",
		"UTC|C.UTF-8|/tmp|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|bar|x",
		"/src",
		"UTC",
		"lo", // the network namespace has only loopback
		"0",
	}, "\n") + "\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

func TestRunCannotReachHostLoopback(t *testing.T) {
	e := newEnv(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "reached")
	}))
	defer srv.Close()
	// Control: the host itself reaches the server.
	if _, err := http.Get(srv.URL); err != nil {
		t.Fatalf("host cannot reach its own test server: %v", err)
	}
	hits.Store(0)
	s := e.spec(t, "wget -q -T 3 -O /out/x "+srv.URL+"/")
	_, err := e.r.Run(context.Background(), s)
	if !errors.Is(err, sandbox.ErrBuildFailed) {
		t.Errorf("Run: got %v; want ErrBuildFailed (wget must not connect)", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the host's test server got %d requests from the build; want 0", n)
	}
	e.assertClean(t, s.RunDir)
}

func TestRunReadOnly(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		script   string
		writable bool
		wantErr  error
	}{
		{name: "write to read-only source", script: "echo x > /src/new && echo ok > /out/x", wantErr: sandbox.ErrBuildFailed},
		{name: "change read-only source", script: "echo x >> /src/f && echo ok > /out/x", wantErr: sandbox.ErrBuildFailed},
		{name: "write to the root", script: "touch /etc/new && echo ok > /out/x", wantErr: sandbox.ErrBuildFailed},
		{name: "write to a writable mount", script: "echo x > /src/new && echo ok > /out/x", writable: true},
		{name: "write to /tmp", script: "echo x > /tmp/t && cp /tmp/t /out/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			os.WriteFile(filepath.Join(src, "f"), []byte("orig"), 0o644)
			s := e.spec(t, tt.script)
			s.Mounts = []sandbox.Mount{{Source: src, Dest: "/src", Writable: tt.writable}}
			_, err := e.r.Run(context.Background(), s)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Run: got %v; want %v", err, tt.wantErr)
			}
			if b, _ := os.ReadFile(filepath.Join(src, "f")); string(b) != "orig" {
				t.Errorf("source file changed to %q", b)
			}
			_, err = os.Stat(filepath.Join(src, "new"))
			if created := err == nil; created != tt.writable && strings.Contains(tt.script, "/src/new") {
				t.Errorf("/src/new created: %v; want %v", created, tt.writable)
			}
			e.assertClean(t, s.RunDir)
		})
	}
	// The cached rootfs is untouched by builds (runc's mount points go to
	// the overlay's upper layer).
	if _, err := os.Stat(filepath.Join(sandbox.RootfsPath(e.cache, e.base.ImageDigest), "src")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the mount point /src was created in the cached rootfs (stat: %v)", err)
	}
}

func TestRunFailures(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		script   string
		timeout  time.Duration
		cancel   time.Duration
		wantErr  error
		wantCode int
		wantLog  string
	}{
		{name: "non-zero exit", script: "echo boom-line; exit 3", wantErr: sandbox.ErrBuildFailed, wantCode: 3, wantLog: "boom-line"},
		{name: "no output", script: "echo nothing", wantErr: sandbox.ErrNoOutput},
		{name: "timeout", script: "echo started; sleep 60", timeout: 500 * time.Millisecond, wantErr: sandbox.ErrTimeout, wantLog: "started"},
		{name: "background child survives the script", script: "(sleep 60 &) ; echo started; sleep 60", timeout: 500 * time.Millisecond, wantErr: sandbox.ErrTimeout, wantLog: "started"},
		{name: "cancel", script: "sleep 60", cancel: 500 * time.Millisecond, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.spec(t, tt.script)
			if tt.timeout > 0 {
				s.Timeout = tt.timeout
			}
			ctx := context.Background()
			if tt.cancel > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tt.cancel, cancel)
			}
			start := time.Now()
			res, err := e.r.Run(ctx, s)
			took := time.Since(start)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run: got %v; want %v", err, tt.wantErr)
			}
			if took > 10*time.Second {
				t.Errorf("Run took %s; the container was not killed promptly", took)
			}
			if tt.wantLog != "" && !strings.Contains(err.Error(), tt.wantLog) {
				t.Errorf("error %q does not show the log tail (want %q in it)", err, tt.wantLog)
			}
			if tt.wantCode != 0 && (res == nil || res.ExitCode != tt.wantCode) {
				t.Errorf("Result = %+v; want ExitCode %d", res, tt.wantCode)
			}
			e.assertClean(t, s.RunDir)
		})
	}
}

func TestRunLimits(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		script  string
		memory  int64
		pids    int64
		wantErr error
	}{
		// 20 background sleeps need more than 8 processes.
		{name: "pids limit bites", pids: 8, script: "for i in $(seq 20); do sleep 5 & done; echo ok > /out/x", wantErr: sandbox.ErrBuildFailed},
		{name: "pids limit leaves room", pids: 64, script: "for i in $(seq 20); do sleep 0.1 & done; wait; echo ok > /out/x"},
		// A 128 MiB string cannot be made in 32 MiB.
		{name: "memory limit bites", memory: 32 << 20, script: `awk 'BEGIN { s = "x"; while (length(s) < 128*1024*1024) s = s s; print length(s) }' > /out/x`, wantErr: sandbox.ErrBuildFailed},
		{name: "memory limit leaves room", memory: 1 << 30, script: `awk 'BEGIN { s = "x"; while (length(s) < 128*1024*1024) s = s s; print length(s) }' > /out/x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.spec(t, tt.script)
			s.Memory, s.Pids = tt.memory, tt.pids
			_, err := e.r.Run(context.Background(), s)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Run: got %v; want %v", err, tt.wantErr)
			}
			e.assertClean(t, s.RunDir)
		})
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
	ents, _ := os.ReadDir(filepath.Join(e.cache, "rootfs"))
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	want := []string{"sha256-" + e.base.ImageDigest[7:], "sha256-" + e.base.ImageDigest[7:] + ".lock"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("rootfs cache entries (-want +got):\n%s", diff)
	}
}

func TestRootfsUnpackedOnce(t *testing.T) {
	needRunc(t)
	layout, digest := busyboxImage(t)
	cache := t.TempDir()
	var wg sync.WaitGroup
	var unpacks atomic.Int32
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, unpacked, err := sandbox.Rootfs(context.Background(), layout, digest, cache)
			if err != nil {
				t.Error(err)
			}
			if unpacked {
				unpacks.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := unpacks.Load(); n != 1 {
		t.Errorf("three concurrent Rootfs calls unpacked %d times; want 1", n)
	}
	dir, unpacked, err := sandbox.Rootfs(context.Background(), layout, digest, cache)
	if err != nil || unpacked {
		t.Errorf("Rootfs on a warm cache: unpacked=%v, err=%v; want false, nil", unpacked, err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "bin", "sh")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("unpacked rootfs has no /bin/sh link: %v", err)
	}
}

func TestRootfsRefusesWrongDigest(t *testing.T) {
	layout, _ := busyboxImage(t)
	_, _, err := sandbox.Rootfs(context.Background(), layout, "sha256:"+strings.Repeat("0", 64), t.TempDir())
	if err == nil {
		t.Fatal("Rootfs with a digest not in the layout: got no error")
	}
}
