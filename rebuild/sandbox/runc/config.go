package runc

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// Capabilities are the only capabilities a build's processes hold: what a
// root build needs to set owners and modes on files it makes, and to signal
// its own processes. Nothing that reaches the kernel's or the network's
// configuration.
var Capabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
}

// runtimeConfig is the OCI runtime config of one build. rootfs is the
// (read-only) root; outDir and tmpDir are the host folders behind /out and
// /tmp.
func runtimeConfig(s sandbox.Spec, rootfs, outDir, tmpDir string, memSwap bool) *specs.Spec {
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

	mounts := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/tmp", Type: "bind", Source: tmpDir, Options: []string{"rbind", "nosuid", "nodev"}},
		{Destination: "/out", Type: "bind", Source: outDir, Options: []string{"rbind", "nosuid", "nodev"}},
	}
	for _, m := range sandbox.SortedMounts(s.Mounts) {
		opts := []string{"rbind", "nosuid", "nodev"}
		if !m.Writable {
			opts = append(opts, "ro")
		}
		mounts = append(mounts, specs.Mount{Destination: m.Dest, Type: "bind", Source: m.Source, Options: opts})
	}

	res := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	if s.Memory > 0 {
		mem := s.Memory
		res.Memory = &specs.LinuxMemory{Limit: &mem}
		if memSwap {
			swap := s.Memory // memory+swap = memory: no swap
			res.Memory.Swap = &swap
		}
	}
	if s.Pids > 0 {
		pids := s.Pids
		res.Pids = &specs.LinuxPids{Limit: &pids}
	}

	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Args: []string{"/bin/sh", "-c", s.Script},
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
		Root:     &specs.Root{Path: rootfs, Readonly: true},
		Hostname: hostname,
		Mounts:   mounts,
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
			},
			Resources: res,
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
			},
			ReadonlyPaths: []string{
				"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
			},
		},
	}
}
