package sandboxtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/rebuild/sandbox"
)

func (s *suite) outputs(t *testing.T) {
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
			sp := s.spec(t, tt.script)
			sp.Output = tt.output
			res := mustRun(t, s, sp)
			for rel, want := range tt.want {
				b, err := os.ReadFile(filepath.Join(res.Output, rel))
				if err != nil || string(b) != want {
					t.Errorf("output %s: got %q, %v; want %q", rel, b, err, want)
				}
			}
			if !strings.HasPrefix(res.Output, sp.RunDir+"/out") {
				t.Errorf("Result.Output %s is not under RunDir/out %s", res.Output, sp.RunDir)
			}
			if res.Log != filepath.Join(sp.RunDir, "build.log") || res.ExitCode != 0 {
				t.Errorf("Result = %+v; want Log in RunDir and ExitCode 0", res)
			}
			assertOnlyKept(t, sp.RunDir)
		})
	}
	t.Run("setuid and world-writable bits are dropped", func(t *testing.T) {
		sp := s.spec(t, "mkdir /out/d && echo x > /out/d/f && chmod 4777 /out/d/f && chmod 1777 /out/d")
		sp.Output = "/out/d"
		res := mustRun(t, s, sp)
		for _, p := range []string{res.Output, filepath.Join(res.Output, "f")} {
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			if m := fi.Mode(); m&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky) != 0 || m.Perm()&0o002 != 0 {
				t.Errorf("%s kept mode %v; want no setuid, setgid, sticky or world-write bit", p, m)
			}
		}
	})
	t.Run("unreadable files and other users' files are collected", func(t *testing.T) {
		sp := s.spec(t, "mkdir /out/d && echo x > /out/d/x && echo y > /out/d/y && chmod 000 /out/d/x && "+
			"{ chown 5:5 /out/d/y /out/d 2>/dev/null || true; } && chmod 600 /out/d/y && chmod 700 /out/d")
		sp.Output = "/out/d"
		res := mustRun(t, s, sp)
		for name, want := range map[string]string{"x": "x\n", "y": "y\n"} {
			if b, err := os.ReadFile(filepath.Join(res.Output, name)); err != nil || string(b) != want {
				t.Errorf("output %s: %q, %v; want %q", name, b, err, want)
			}
		}
	})
	t.Run("a link out of /out is refused", func(t *testing.T) {
		_, err := s.run(t, s.spec(t, "ln -s /etc/passwd /out/x"))
		if err == nil || !strings.Contains(err.Error(), "leaves its root") {
			t.Errorf("Run: got %v; want an error saying the output leaves its root", err)
		}
	})
}

// assertOnlyKept checks that the run folder holds only build.log and out/.
func assertOnlyKept(t *testing.T, runDir string) {
	t.Helper()
	ents, _ := os.ReadDir(runDir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"build.log", "out"}, names); diff != "" {
		t.Errorf("run folder %s after the run (-want +got):\n%s", runDir, diff)
	}
}

func (s *suite) environment(t *testing.T) {
	src := t.TempDir()
	sp := s.spec(t, `{ hostname; umask; echo "$TZ|$LANG|$HOME|$PATH|$FOO|$LANG2"; pwd; date +%Z; ls /sys/class/net; id -u; } > /out/x`)
	sp.Env = map[string]string{"FOO": "bar", "LANG2": "x"}
	sp.Workdir = "/src"
	sp.Mounts = []sandbox.Mount{{Source: src, Dest: "/src"}}
	res := mustRun(t, s, sp)
	got, _ := os.ReadFile(res.Output)
	want := strings.Join([]string{
		"reprove",
		"0022",
		"UTC|C.UTF-8|/tmp|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|bar|x",
		"/src",
		"UTC",
		"lo", // the network namespace has only loopback
		"0",  // root, inside the build's user namespace
	}, "\n") + "\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

// The build's stdout and stderr share one pipe: the log has them in the
// order they were written, and Spec.OnLogLine (live progress) sees each
// line as it comes, a last line without a newline included.
func (s *suite) logOrder(t *testing.T) {
	spec := s.spec(t, "echo out1; echo err1 >&2; echo out2; echo err2 >&2; printf last >&2; echo > /out/x")
	var (
		mu    sync.Mutex
		lines []string
	)
	spec.OnLogLine = func(l string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, l)
	}
	res := mustRun(t, s, spec)
	got, _ := os.ReadFile(res.Log)
	if want := "out1\nerr1\nout2\nerr2\nlast"; string(got) != want {
		t.Errorf("build log %q; want %q", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{"out1", "err1", "out2", "err2", "last"}, lines); diff != "" {
		t.Errorf("OnLogLine lines (-want +got):\n%s", diff)
	}
}

// A log past sandbox.MaxLog keeps its tail, and the Result says how much
// was dropped.
func (s *suite) logTail(t *testing.T) {
	const extra = 3 << 20
	script := fmt.Sprintf("echo first-line; head -c %d /dev/zero | tr '\\0' 'x'; echo; echo last-line; echo > /out/x", sandbox.MaxLog+extra)
	res := mustRun(t, s, s.spec(t, script))
	total := int64(len("first-line\n") + sandbox.MaxLog + extra + len("\nlast-line\n"))
	if want := total - sandbox.MaxLog; res.LogDropped != want {
		t.Errorf("LogDropped = %d; want %d", res.LogDropped, want)
	}
	fi, err := os.Stat(res.Log)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > sandbox.MaxLog+200 {
		t.Errorf("build log is %d bytes; want at most MaxLog (%d) and a header line", fi.Size(), sandbox.MaxLog)
	}
	tail := sandbox.LogTail(res.Log, 1)
	head, _ := os.ReadFile(res.Log)
	if !strings.Contains(tail, "last-line") || strings.Contains(string(head[:min(len(head), 200)]), "first-line") ||
		!strings.HasPrefix(string(head), fmt.Sprintf("[reprove: the first %d bytes", res.LogDropped)) {
		t.Errorf("log keeps %q… and ends %q; want the dropped count first, the last line kept and the first gone", head[:min(len(head), 120)], tail)
	}
}

func (s *suite) failures(t *testing.T) {
	// Long enough for the container to start and print on a loaded
	// machine: the log's tail must be in the timeout's error.
	const timeout = 3 * time.Second
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
		{name: "no output", script: "echo nothing", wantErr: sandbox.ErrNoOutput, wantLog: "nothing"},
		{name: "timeout", script: "echo started; sleep 60", timeout: timeout, wantErr: sandbox.ErrTimeout, wantLog: "started"},
		{name: "background child survives the script", script: "(sleep 60 &) ; echo started; sleep 60", timeout: timeout, wantErr: sandbox.ErrTimeout, wantLog: "started"},
		{name: "cancel", script: "sleep 60", cancel: 500 * time.Millisecond, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := s.spec(t, tt.script)
			if tt.timeout > 0 {
				sp.Timeout = tt.timeout
			}
			ctx := context.Background()
			if tt.cancel > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tt.cancel, cancel)
			}
			res, err := s.cfg.New(t).Run(ctx, sp)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run: got %v; want %v", err, tt.wantErr)
			}
			if tt.wantLog != "" && !strings.Contains(err.Error(), tt.wantLog) {
				t.Errorf("error %q does not show the log tail (want %q in it)", err, tt.wantLog)
			}
			if tt.wantCode != 0 && (res == nil || res.ExitCode != tt.wantCode) {
				t.Errorf("Result = %+v; want ExitCode %d", res, tt.wantCode)
			}
			assertOnlyKept(t, sp.RunDir)
		})
	}
}

// With no limits in the Spec, the defaults apply and the Result says so.
func (s *suite) defaultLimits(t *testing.T) {
	sp := s.spec(t, "echo > /out/x")
	res := mustRun(t, s, sp)
	l := res.Limits
	if l.Pids != sandbox.DefaultPids || l.Memory != sandbox.DefaultMemory() || l.Disk != sandbox.DefaultDisk || l.Timeout != sp.Timeout {
		t.Errorf("Limits = %+v; want pids %d, memory %d, disk %d, timeout %s", l, sandbox.DefaultPids, sandbox.DefaultMemory(), int64(sandbox.DefaultDisk), sp.Timeout)
	}
	if l.DiskMethod != sandbox.DiskFilesystem && l.DiskMethod != sandbox.DiskWatch {
		t.Errorf("Limits.DiskMethod = %q; want %q or %q", l.DiskMethod, sandbox.DiskFilesystem, sandbox.DiskWatch)
	}
	for _, n := range l.NotEnforced {
		if n.Limit == "" || n.Reason == "" {
			t.Errorf("NotEnforced entry %+v names no limit or no reason", n)
		}
		if n.Limit == "disk" || n.Limit == "timeout" {
			t.Errorf("%s is not enforced (%s); the disk limit and the timeout must always hold", n.Limit, n.Reason)
		}
	}
}

// Memory and pids limits bite where the backend enforces them; where it
// does not, it says why.
func (s *suite) limitsBite(t *testing.T) {
	tests := []struct {
		name, limit, script string
		memory, pids        int64
		wantErr             error
	}{
		// 20 background sleeps need more than 8 processes.
		{name: "pids limit bites", limit: "pids", pids: 8, script: "for i in $(seq 20); do sleep 5 & done; echo ok > /out/x", wantErr: sandbox.ErrBuildFailed},
		{name: "pids limit leaves room", limit: "pids", pids: 64, script: "for i in $(seq 20); do sleep 0.1 & done; wait; echo ok > /out/x"},
		// A 128 MiB string cannot be made in 32 MiB.
		{name: "memory limit bites", limit: "memory", memory: 32 << 20, script: `awk 'BEGIN { s = "x"; while (length(s) < 128*1024*1024) s = s s; print length(s) }' > /out/x`, wantErr: sandbox.ErrBuildFailed},
		{name: "memory limit leaves room", limit: "memory", memory: 1 << 30, script: `awk 'BEGIN { s = "x"; while (length(s) < 128*1024*1024) s = s s; print length(s) }' > /out/x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := s.spec(t, tt.script)
			sp.Memory, sp.Pids = tt.memory, tt.pids
			res, err := s.run(t, sp)
			if res != nil && !res.Limits.Enforced(tt.limit) {
				t.Skipf("the backend does not enforce %s here and says so: %+v", tt.limit, res.Limits.NotEnforced)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Run: got %v; want %v", err, tt.wantErr)
			}
		})
	}
}
