package runc

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// Capabilities are the only capabilities a build's processes hold, all
// inside the build's user namespace: what a root build needs to set owners
// and modes on files it makes, to signal its own processes and to chroot
// into a tree it built (as `chroot /target dpkg --configure -a` does).
// Nothing that reaches the kernel's or the network's configuration.
var Capabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SYS_CHROOT",
}

// maskedPaths and readonlyPaths hide or freeze what /proc and /sys show of
// the host, as container engines do.
var (
	maskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
		"/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

// plan is what one build's config is made of besides its Spec.
type plan struct {
	root      string         // the root folder runc mounts
	rootMount *specs.Mount   // mounted over the root first (rootless: the overlay), if any
	ids       IDMap          // container root → host ids
	sub       *subIDs        // rootless: the user's subordinate range for container ids from 1, if any
	mounts    []specs.Mount  // the engine's own mounts after /proc, /dev, /sys
	limits    sandbox.Limits // pids and memory, applied when cgroups is set
	cgroups   bool           // whether to ask runc for cgroup limits
	memSwap   bool           // whether the memory cgroup can cap swap too
	seccomp   *specs.LinuxSeccomp
}

// runtimeConfig is the OCI runtime config of one build.
func runtimeConfig(s sandbox.Spec, p plan) *specs.Spec {
	hostname := s.Hostname
	if hostname == "" {
		hostname = sandbox.DefaultHostname
	}
	cwd := s.Workdir
	if cwd == "" {
		cwd = "/"
	}
	umask := uint32(0o022)
	caps := append([]string(nil), Capabilities...)
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			// runc copies the container's stdout and stderr through pipes
			// of its own, one goroutine each, which loses their order:
			// one stream from the start keeps it.
			Args: []string{"/bin/sh", "-c", "exec 2>&1; " + s.Script},
			Env:  sandbox.BuildEnv(s.Env),
			Cwd:  cwd,
			User: specs.User{UID: 0, GID: 0, Umask: &umask},
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  caps,
				Effective: caps,
				Permitted: caps,
			},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: p.root, Readonly: true},
		Hostname: hostname,
		Mounts:   append(mounts(p), chrootMounts(s.ChrootDir)...),
		Linux: &specs.Linux{
			UIDMappings: p.mappings(p.ids.UID, p.sub.uids()),
			GIDMappings: p.mappings(p.ids.GID, p.sub.gids()),
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.UserNamespace},
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
				{Type: specs.CgroupNamespace},
			},
			Resources:     resources(p),
			Seccomp:       p.seccomp,
			MaskedPaths:   chrootPaths(s.ChrootDir, maskedPaths),
			ReadonlyPaths: chrootPaths(s.ChrootDir, readonlyPaths),
		},
	}
}

// mappings map container root (and ids from 1 through a subordinate range,
// if any) to host ids.
func (p plan) mappings(host uint32, sub [2]uint32) []specs.LinuxIDMapping {
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: host, Size: p.ids.Size}}
	if sub[1] > 0 {
		m = append(m, specs.LinuxIDMapping{ContainerID: 1, HostID: sub[0], Size: sub[1]})
	}
	return m
}

// mounts are the root mount, if any, /proc, /dev and /sys, then the plan's.
func mounts(p plan) []specs.Mount {
	var ms []specs.Mount
	if p.rootMount != nil {
		ms = append(ms, *p.rootMount)
	}
	ms = append(ms, systemMounts()...)
	return append(ms, p.mounts...)
}

// systemMounts are /proc, /dev and /sys as every build sees them.
func systemMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
	}
}

// resources are the cgroup limits: no devices, and memory and pids when
// this mode can use cgroups.
func resources(p plan) *specs.LinuxResources {
	res := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}
	if !p.cgroups {
		return nil
	}
	mem := p.limits.Memory
	res.Memory = &specs.LinuxMemory{Limit: &mem}
	if p.memSwap {
		swap := mem // memory+swap = memory: no swap
		res.Memory.Swap = &swap
	}
	pids := p.limits.Pids
	res.Pids = &specs.LinuxPids{Limit: &pids}
	return res
}

// bindMount is a spec bind mount with the sandbox's options.
func bindMount(src, dest string, writable bool) specs.Mount {
	opts := []string{"rbind", "nosuid", "nodev"}
	if !writable {
		opts = append(opts, "ro")
	}
	return specs.Mount{Destination: dest, Type: "bind", Source: src, Options: opts}
}
