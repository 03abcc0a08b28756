package runc

import (
	"fmt"
	"slices"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Refused are the system calls a build is never allowed, whatever the
// default profile says: the kernel's keyrings, new namespaces, io_uring,
// BPF, perf, userfaultfd, kernel loading and mounts. Each fails with EPERM
// (the profile's default action). clone and clone3 are handled apart (see
// seccompProfile).
var Refused = []string{
	"keyctl", "add_key", "request_key",
	"unshare", "setns",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"bpf", "perf_event_open", "userfaultfd",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick",
	"pivot_root", "swapon", "swapoff", "reboot", "acct", "quotactl",
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	"lookup_dcookie", "name_to_handle_at", "open_by_handle_at",
}

// nsFlags are the clone flags that make new namespaces.
const nsFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
	unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// seccompProfile is moby's default profile for a process with caps,
// tightened for builds: every Refused call is dropped from its allow
// rules, clone is allowed only without namespace flags, and clone3 — whose
// flags sit in memory seccomp cannot read — fails with ENOSYS, so C
// libraries fall back to clone (as moby's profile does for processes
// without CAP_SYS_ADMIN).
func seccompProfile(caps []string) (*specs.LinuxSeccomp, error) {
	p, err := seccomp.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}})
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != uint(unix.EPERM) {
		return nil, fmt.Errorf("seccomp profile: the default profile's default action is %s, want ERRNO(EPERM)", p.DefaultAction)
	}
	drop := append(slices.Clone(Refused), "clone", "clone3")
	var calls []specs.LinuxSyscall
	for _, c := range p.Syscalls {
		c.Names = slices.DeleteFunc(slices.Clone(c.Names), func(n string) bool { return slices.Contains(drop, n) })
		if len(c.Names) > 0 {
			calls = append(calls, c)
		}
	}
	enosys := uint(unix.ENOSYS)
	calls = append(calls,
		specs.LinuxSyscall{Names: []string{"clone"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: nsFlags, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
		specs.LinuxSyscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
	)
	p.Syscalls = calls
	return p, nil
}
