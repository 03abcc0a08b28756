package sandboxtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// chrootScript fills the writable tree at /target with a shell and the
// probe, then runs them chrooted into it: the probe's report, the same
// after it broke out of the chroot, and what the chroot's /dev and a
// masked /proc file hold.
const chrootScript = `set -e
mkdir -p /target/bin /target/etc /out/r
cp "$(readlink -f /bin/sh)" /target/bin/busybox
ln -s busybox /target/bin/sh
cp /probe/probe /target/probe
chroot /target /probe report > /out/r/inside.json
chroot /target /probe escape > /out/r/escaped.json
chroot /target /bin/sh -c 'ls /dev; wc -c < "$PROBE_MASKED"; echo ok > /dev/null' > /out/r/shell
`

// maskedProbe is a /proc file every engine masks (binds /dev/null over)
// that this host's kernel has: kernels built without kcore or sysrq lack
// those files, and then there is nothing of them to hide.
func maskedProbe(t *testing.T) string {
	for _, p := range []string{"/proc/kcore", "/proc/timer_list", "/proc/keys", "/proc/sched_debug"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("this kernel has none of /proc/kcore, /proc/timer_list, /proc/keys, /proc/sched_debug to check masking with")
	return ""
}

// chroot checks Spec.ChrootDir: the build chroots into the tree it was
// given, finds /proc, /sys and /dev there, and gains nothing — the same
// identity, refused system calls and network inside, read-only /sys and
// /dev, masked and read-only /proc paths; and a build that breaks out of
// the chroot is still in the sandbox. A backend that cannot run such
// builds must refuse them, saying so.
func (s *suite) chroot(t *testing.T) {
	tcp := listen(t, "tcp", "127.0.0.1:0")
	abstract := listen(t, "unix", fmt.Sprintf("@reprove-sandboxtest-chroot-%d", os.Getpid()))
	target := t.TempDir()
	sp := s.probeSpec(t, chrootScript)
	sp.Output = "/out/r"
	sp.Mounts = append(sp.Mounts, sandbox.Mount{Source: target, Dest: "/target", Writable: true})
	sp.ChrootDir = "/target"
	sp.Env = map[string]string{
		"PROBE_DIAL":   "tcp:" + tcp.l.Addr().String() + " unix:" + abstract.l.Addr().String() + " tcp:192.0.2.1:80",
		"PROBE_WRITE":  "/x /etc/x /target/x /dev/x /dev/null /sys/kernel/x /proc/sys/kernel/domainname /proc/sysrq-trigger",
		"PROBE_MASKED": maskedProbe(t),
	}
	be := s.cfg.New(t)
	c, ok := be.(sandbox.Chrooter)
	var idsErr error
	if ok {
		_, idsErr = c.ChrootIDs()
	}
	if !ok || idsErr != nil {
		_, err := s.run(t, sp)
		if err == nil || !strings.Contains(err.Error(), "ChrootDir") {
			t.Fatalf("Run with a ChrootDir on a backend that cannot run it (%v): got %v; want an error naming Spec.ChrootDir", idsErr, err)
		}
		t.Logf("refused, as it must be: %v", err)
		return
	}
	res := mustRun(t, s, sp)
	inside, escaped := readReport(t, res.Output, "inside.json"), readReport(t, res.Output, "escaped.json")
	checkIdentity(t, inside)
	for _, name := range RefusedSyscalls {
		if got := inside.Syscalls[name]; got != "EPERM" {
			t.Errorf("%s in the chroot: got %s; want EPERM", name, got)
		}
	}
	checkNetwork(t, inside, tcp, abstract)
	wantWrites := map[string]string{
		"/x": "ok", "/etc/x": "ok", // the tree itself is the build's to write
		"/dev/x": "EROFS", "/dev/null": "ok", "/sys/kernel/x": "EROFS",
		"/proc/sys/kernel/domainname": "EROFS", "/proc/sysrq-trigger": "EROFS",
	}
	if _, err := os.Stat("/proc/sysrq-trigger"); errors.Is(err, os.ErrNotExist) {
		wantWrites["/proc/sysrq-trigger"] = "ENOENT" // a kernel without magic SysRq
	}
	checkWrites(t, "in the chroot", inside, wantWrites)
	// Out of the chroot, the build is at its own root: still read-only.
	checkWrites(t, "after breaking out of the chroot", escaped, map[string]string{"/x": "EROFS", "/etc/x": "EROFS", "/target/x": "ok"})
	checkNetwork(t, escaped, tcp, abstract)
	if len(inside.Procs) > 3 {
		t.Errorf("the chroot's /proc shows processes %v; want only the build's own", inside.Procs)
	}
	shell, _ := os.ReadFile(filepath.Join(res.Output, "shell"))
	wantShell := strings.Join(append(sortedDev(), "0"), "\n") + "\n" // the masked file is empty, as in /proc
	if string(shell) != wantShell {
		t.Errorf("the chroot's /dev and %s: got %q; want %q", sp.Env["PROBE_MASKED"], shell, wantShell)
	}
}

func readReport(t *testing.T, dir, name string) report {
	t.Helper()
	var r report
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil || json.Unmarshal(b, &r) != nil {
		t.Fatalf("probe report %s %q: %v", name, b, errors.Join(err, json.Unmarshal(b, &r)))
	}
	return r
}

func checkWrites(t *testing.T, where string, r report, want map[string]string) {
	t.Helper()
	for p, w := range want {
		if got := r.Writes[p]; got != w {
			t.Errorf("writing %s %s: got %s; want %s", p, where, got, w)
		}
	}
}

// sortedDev is what ls shows of the chroot's /dev.
func sortedDev() []string {
	names := append([]string(nil), sandbox.ChrootDevices...)
	for n := range sandbox.ChrootDevLinks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
