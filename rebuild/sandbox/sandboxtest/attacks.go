package sandboxtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// report is the probe's Report (see probe/main.go).
type report struct {
	UIDMap, GIDMap, Seccomp, CapEff, CapBnd, ProcKeys string
	Syscalls, Writes, Net                             map[string]string
	Procs                                             []string
}

// AllowedCaps are the capabilities a build may hold, all inside its user
// namespace: CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL,
// CAP_SETGID, CAP_SETUID and CAP_SYS_CHROOT.
const AllowedCaps = 1<<0 | 1<<1 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<18

// RefusedSyscalls are the probe's attempts that must fail with EPERM.
var RefusedSyscalls = []string{
	"keyctl", "add_key", "request_key",
	"unshare(user)", "unshare(mount)", "unshare(net)", "unshare(pid)",
	"clone(user)", "clone(mount)", "clone(net)", "clone(pid)",
	"setns", "io_uring_setup", "io_uring_enter", "io_uring_register",
	"bpf", "perf_event_open", "userfaultfd",
	"kexec_load", "kexec_file_load", "init_module", "finit_module",
	"ptrace(attach 1)", "ptrace(traceme)", "mount",
}

// listener counts connections made to it.
type listener struct {
	l    net.Listener
	hits atomic.Int32
}

func listen(t *testing.T, network, addr string) *listener {
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	ln := &listener{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			ln.hits.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	// Control: the host itself reaches it (and the count starts after).
	c, err := net.Dial(network, l.Addr().String())
	if err != nil {
		t.Fatalf("the host cannot reach its own %s listener: %v", network, err)
	}
	c.Close()
	for ln.hits.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ln.hits.Store(0)
	return ln
}

// probeChecks runs the probe's report and checks each attack got the
// errno it must.
func (s *suite) probeChecks(t *testing.T) {
	tcp := listen(t, "tcp", "127.0.0.1:0")
	abstract := listen(t, "unix", fmt.Sprintf("@reprove-sandboxtest-%d", os.Getpid()))
	src := t.TempDir()
	sp := s.probeSpec(t, "/probe/probe report > /out/x")
	sp.Mounts = append(sp.Mounts, sandbox.Mount{Source: src, Dest: "/src"})
	sp.Env = map[string]string{
		"PROBE_DIAL":  "tcp:" + tcp.l.Addr().String() + " unix:" + abstract.l.Addr().String() + " tcp:192.0.2.1:80",
		"PROBE_WRITE": "/src/x /etc/x /x /out/ok /tmp/ok",
	}
	res := mustRun(t, s, sp)
	var r report
	if b, err := os.ReadFile(res.Output); err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("probe report %q: %v", b, err)
	}
	t.Logf("uid_map %q, Seccomp %s, CapEff %s", r.UIDMap, r.Seccomp, r.CapEff)
	checkIdentity(t, r)
	for _, name := range RefusedSyscalls {
		if got := r.Syscalls[name]; got != "EPERM" {
			t.Errorf("%s in the build: got %s; want EPERM", name, got)
		}
	}
	// clone3's flags sit in memory seccomp cannot read: all of it is
	// refused, with ENOSYS so C libraries fall back to clone.
	if got := r.Syscalls["clone3(user)"]; got != "ENOSYS" {
		t.Errorf("clone3 with CLONE_NEWUSER: got %s; want ENOSYS", got)
	}
	if got := r.Syscalls["chroot"]; got != "ok" {
		t.Errorf("chroot: got %s; want ok (CAP_SYS_CHROOT, for chroot /target …)", got)
	}
	want := map[string]string{"/src/x": "EROFS", "/etc/x": "EROFS", "/x": "EROFS", "/out/ok": "ok", "/tmp/ok": "ok"}
	for p, w := range want {
		if got := r.Writes[p]; got != w {
			t.Errorf("writing %s: got %s; want %s", p, got, w)
		}
	}
	checkNetwork(t, r, tcp, abstract)
	if len(r.Procs) > 3 {
		t.Errorf("the build sees processes %v; want only its own (a new pid namespace)", r.Procs)
	}
}

func checkIdentity(t *testing.T, r report) {
	t.Helper()
	for name, m := range map[string]string{"uid_map": r.UIDMap, "gid_map": r.GIDMap} {
		f := strings.Fields(m)
		if len(f) < 3 || f[0] != "0" || f[1] == "0" {
			t.Errorf("%s %q: want container root mapped to an unprivileged host id, not host root", name, m)
		}
		if strings.Contains(m, "4294967295") {
			t.Errorf("%s %q maps the host's whole id space", name, m)
		}
	}
	if r.Seccomp != "2" {
		t.Errorf("Seccomp mode %q; want 2 (filter)", r.Seccomp)
	}
	for name, v := range map[string]string{"CapEff": r.CapEff, "CapBnd": r.CapBnd} {
		caps, err := strconv.ParseUint(v, 16, 64)
		if err != nil {
			t.Errorf("%s %q: %v", name, v, err)
			continue
		}
		if extra := caps &^ AllowedCaps; extra != 0 {
			t.Errorf("%s %#x holds capabilities beyond the allowed set: %#x", name, caps, extra)
		}
	}
}

func checkNetwork(t *testing.T, r report, tcp, abstract *listener) {
	t.Helper()
	for target, want := range map[string]string{
		"tcp:" + tcp.l.Addr().String():       "ECONNREFUSED", // the build's own loopback has nothing there
		"unix:" + abstract.l.Addr().String(): "ECONNREFUSED", // abstract sockets are per network namespace
		"tcp:192.0.2.1:80":                   "ENETUNREACH",  // no route out
	} {
		if got := r.Net[target]; got != want {
			t.Errorf("dialling %s from the build: got %s; want %s", target, got, want)
		}
	}
	if n := tcp.hits.Load() + abstract.hits.Load(); n != 0 {
		t.Errorf("the host's listeners got %d connections from the build; want 0", n)
	}
}

// diskLimit fills /out and /tmp past a small disk limit.
func (s *suite) diskLimit(t *testing.T) {
	const limit = 64 << 20
	sp := s.probeSpec(t, "/probe/probe fill 200000000 /out /tmp && echo > /out/x")
	sp.Disk = limit
	res, err := s.run(t, sp)
	if !errors.Is(err, sandbox.ErrDiskLimit) || !strings.Contains(err.Error(), "disk limit of 64 MiB reached") {
		t.Fatalf("Run: got %v; want ErrDiskLimit saying \"disk limit of 64 MiB reached\"", err)
	}
	if res == nil || res.Limits.Disk != limit {
		t.Fatalf("Result %+v; want Limits.Disk %d", res, limit)
	}
	log, _ := os.ReadFile(res.Log)
	switch res.Limits.DiskMethod {
	case sandbox.DiskFilesystem:
		m := regexp.MustCompile(`fill: (\d+) bytes written, (\S+)`).FindSubmatch(log)
		if m == nil || string(m[2]) != "ENOSPC" {
			t.Fatalf("log %q; want the probe's write to fail with ENOSPC", log)
		}
		if n, _ := strconv.ParseInt(string(m[1]), 10, 64); n > limit {
			t.Errorf("the build wrote %d bytes past a %d byte disk", n, limit)
		}
	case sandbox.DiskWatch:
		if strings.Contains(string(log), "fill: 200000000 bytes written, ok") && res.ExitCode == 0 {
			t.Logf("the build finished writing before the watch caught it; the usage check after it still did")
		}
	default:
		t.Errorf("Limits.DiskMethod %q", res.Limits.DiskMethod)
	}
	if _, err := os.Stat(filepath.Join(sp.RunDir, "out", "x")); err == nil {
		t.Errorf("a build past its disk limit left an output")
	}
	assertOnlyKept(t, sp.RunDir)
}
