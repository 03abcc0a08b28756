// Command probe runs inside a build and reports what the sandbox lets it
// do; rebuild/sandbox/sandboxtest builds it (static) and runs it in every
// backend. It tries each attack for real and reports the errno it got.
//
//	probe report             JSON Report on stdout
//	probe escape             break out of a chroot (chroot into a subfolder,
//	                         climb out with .., chroot there), then report
//	probe fill BYTES DIR…    write BYTES spread over the folders, print how far it got
//	probe heartbeat FILE     write a growing counter to FILE every 100 ms, forever
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Report is what `probe report` prints.
type Report struct {
	UIDMap   string            // /proc/self/uid_map
	GIDMap   string            // /proc/self/gid_map
	Seccomp  string            // the Seccomp: line of /proc/self/status (2: filter)
	CapEff   string            // hex, /proc/self/status
	CapBnd   string            // hex
	Syscalls map[string]string // refused system call → errno name, "ok" when it worked
	Writes   map[string]string // path written → errno name or "ok"
	Net      map[string]string // what was dialled → errno name or "ok"
	ProcKeys string            // /proc/keys as the build reads it
	Procs    []string          // pids visible in /proc
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe report | fill BYTES DIR… | heartbeat FILE")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "report":
		json.NewEncoder(os.Stdout).Encode(report())
	case "escape":
		if err := escape(); err != nil {
			fmt.Fprintln(os.Stderr, "probe: escape:", err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(report())
	case "fill":
		n, _ := strconv.ParseInt(os.Args[2], 10, 64)
		fill(n, os.Args[3:])
	case "heartbeat":
		heartbeat(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "probe: unknown command", os.Args[1])
		os.Exit(2)
	}
}

func report() Report {
	r := Report{
		UIDMap:   readFile("/proc/self/uid_map"),
		GIDMap:   readFile("/proc/self/gid_map"),
		Seccomp:  statusField("Seccomp"),
		CapEff:   statusField("CapEff"),
		CapBnd:   statusField("CapBnd"),
		Syscalls: syscalls(),
		Writes:   map[string]string{},
		Net:      network(),
		ProcKeys: readFile("/proc/keys"),
	}
	for _, p := range strings.Fields(os.Getenv("PROBE_WRITE")) {
		r.Writes[p] = errName(os.WriteFile(p, []byte("probe"), 0o644))
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			r.Procs = append(r.Procs, e.Name())
		}
	}
	return r
}

func readFile(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "error: " + errName(err)
	}
	return strings.TrimSpace(string(b))
}

func statusField(name string) string {
	for _, l := range strings.Split(readFile("/proc/self/status"), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// errName is "ok" for nil, else the errno's name (EPERM) or the error.
func errName(err error) string {
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if n := unix.ErrnoName(errno); n != "" {
			return n
		}
	}
	return err.Error()
}

func errnoName(e syscall.Errno) string {
	if e == 0 {
		return "ok"
	}
	return errName(e)
}

// syscalls tries each call a build must be refused, in a way that would
// do no harm if it were allowed.
func syscalls() map[string]string {
	desc, _ := unix.BytePtrFromString("reprove-probe")
	typ, _ := unix.BytePtrFromString("user")
	empty, _ := unix.BytePtrFromString("")
	res := map[string]string{}
	raw := func(name string, trap uintptr, a ...uintptr) {
		a = append(a, 0, 0, 0, 0, 0, 0)
		_, _, e := unix.RawSyscall6(trap, a[0], a[1], a[2], a[3], a[4], a[5])
		res[name] = errnoName(e)
	}
	raw("keyctl", unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, uintptr(0xfffffffd)) // user keyring
	raw("add_key", unix.SYS_ADD_KEY, uintptr(unsafe.Pointer(typ)), uintptr(unsafe.Pointer(desc)), uintptr(unsafe.Pointer(desc)), 5, uintptr(0xfffffffc))
	raw("request_key", unix.SYS_REQUEST_KEY, uintptr(unsafe.Pointer(typ)), uintptr(unsafe.Pointer(desc)), 0, 0)
	for _, f := range []struct {
		name string
		flag uintptr
	}{{"user", unix.CLONE_NEWUSER}, {"mount", unix.CLONE_NEWNS}, {"net", unix.CLONE_NEWNET}, {"pid", unix.CLONE_NEWPID}} {
		raw("unshare("+f.name+")", unix.SYS_UNSHARE, f.flag)
		res["clone("+f.name+")"] = cloneWith(f.flag)
	}
	res["clone3(user)"] = clone3With(unix.CLONE_NEWUSER)
	if fd, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY, 0); err == nil {
		raw("setns", unix.SYS_SETNS, uintptr(fd), 0)
		unix.Close(fd)
	}
	var params [120]byte
	raw("io_uring_setup", unix.SYS_IO_URING_SETUP, 1, uintptr(unsafe.Pointer(&params[0])))
	raw("io_uring_enter", unix.SYS_IO_URING_ENTER, 0, 0, 0, 0)
	raw("io_uring_register", unix.SYS_IO_URING_REGISTER, 0, 0, 0, 0)
	var battr [128]byte
	raw("bpf", unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&battr[0])), uintptr(len(battr)))
	var pattr unix.PerfEventAttr
	pattr.Type, pattr.Size, pattr.Config = unix.PERF_TYPE_SOFTWARE, uint32(unsafe.Sizeof(pattr)), unix.PERF_COUNT_SW_CPU_CLOCK
	raw("perf_event_open", unix.SYS_PERF_EVENT_OPEN, uintptr(unsafe.Pointer(&pattr)), 0, ^uintptr(0), ^uintptr(0), 0)
	raw("userfaultfd", unix.SYS_USERFAULTFD, 0)
	raw("kexec_load", unix.SYS_KEXEC_LOAD, 0, 0, 0, 0)
	raw("kexec_file_load", unix.SYS_KEXEC_FILE_LOAD, ^uintptr(0), ^uintptr(0), 0, uintptr(unsafe.Pointer(empty)), 0)
	raw("init_module", unix.SYS_INIT_MODULE, 0, 0, uintptr(unsafe.Pointer(empty)))
	raw("finit_module", unix.SYS_FINIT_MODULE, ^uintptr(0), uintptr(unsafe.Pointer(empty)), 0)
	raw("ptrace(attach 1)", unix.SYS_PTRACE, unix.PTRACE_ATTACH, 1)
	raw("ptrace(traceme)", unix.SYS_PTRACE, unix.PTRACE_TRACEME)
	res["mount"] = errName(unix.Mount("none", "/tmp", "tmpfs", 0, ""))
	res["chroot"] = errName(unix.Chroot("/"))
	return res
}

// cloneWith calls clone with flag, like fork; a child, if the call is
// allowed, exits at once.
func cloneWith(flag uintptr) string {
	pid, _, e := unix.RawSyscall6(unix.SYS_CLONE, flag|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		return errnoName(e)
	}
	if pid == 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}
	var ws unix.WaitStatus
	unix.Wait4(int(pid), &ws, 0, nil)
	return "ok"
}

// cloneArgs is struct clone_args of clone3(2), as far as exit_signal.
type cloneArgs struct {
	Flags, Pidfd, ChildTid, ParentTid, ExitSignal, Stack, StackSize, TLS uint64
}

func clone3With(flag uint64) string {
	args := cloneArgs{Flags: flag, ExitSignal: uint64(unix.SIGCHLD)}
	pid, _, e := unix.RawSyscall(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args), 0)
	if e != 0 {
		return errnoName(e)
	}
	if pid == 0 {
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}
	var ws unix.WaitStatus
	unix.Wait4(int(pid), &ws, 0, nil)
	return "ok"
}

// network dials what PROBE_DIAL lists (tcp:HOST:PORT, unix:@NAME).
func network() map[string]string {
	res := map[string]string{}
	for _, target := range strings.Fields(os.Getenv("PROBE_DIAL")) {
		network, addr, _ := strings.Cut(target, ":")
		c, err := net.DialTimeout(network, addr, 2*time.Second)
		if err == nil {
			c.Write([]byte("probe\n"))
			c.Close()
		}
		res[target] = errName(err)
	}
	return res
}

// fill writes n bytes in 1 MiB files spread over dirs and prints how far
// it got and the error that stopped it.
func fill(n int64, dirs []string) {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*7 + 1)
	}
	var written int64
	var err error
	for i := 0; written < n && err == nil; i++ {
		var f *os.File
		f, err = os.Create(filepath.Join(dirs[i%len(dirs)], fmt.Sprintf("fill-%d", i)))
		if err != nil {
			break
		}
		var k int
		k, err = f.Write(buf[:min(int64(len(buf)), n-written)])
		written += int64(k)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	fmt.Printf("fill: %d bytes written, %s\n", written, errName(err))
	if err != nil {
		os.Exit(1)
	}
}

// escape leaves a chroot the classic way, with CAP_SYS_CHROOT: chroot
// into a subfolder keeping the working folder outside it, climb to the
// real root with "..", and chroot there.
func escape() error {
	if err := os.MkdirAll("/.escape", 0o755); err != nil {
		return err
	}
	if err := unix.Chroot("/.escape"); err != nil {
		return err
	}
	for range 64 {
		if err := unix.Chdir(".."); err != nil {
			return err
		}
	}
	return unix.Chroot(".")
}

func heartbeat(p string) {
	for i := 0; ; i++ {
		os.WriteFile(p, []byte(strconv.Itoa(i)), 0o644)
		time.Sleep(100 * time.Millisecond)
	}
}
