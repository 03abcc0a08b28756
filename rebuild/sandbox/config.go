package sandbox

import (
	"fmt"
	"path"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// BaseEnv is the environment every build starts from; Spec.Env is laid
// over it.
var BaseEnv = map[string]string{
	"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME": "/tmp",
	"TZ":   "UTC",
	"LANG": "C.UTF-8",
}

// DefaultHostname is the container's hostname when Spec.Hostname is empty.
const DefaultHostname = "reprove"

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

// reservedDests are container paths the sandbox itself mounts.
var reservedDests = []string{"/", "/proc", "/dev", "/sys", "/out", "/tmp"}

// validateSpec checks the fields the sandbox relies on; errors name the field.
func validateSpec(s Spec) error {
	if s.ImageLayout == "" || s.ImageDigest == "" {
		return fmt.Errorf("sandbox: Spec.ImageLayout and Spec.ImageDigest are required (the builder image as an OCI layout and its manifest digest)")
	}
	if s.RunDir == "" {
		return fmt.Errorf("sandbox: Spec.RunDir is empty; give a folder for this run's log and output")
	}
	if strings.TrimSpace(s.Script) == "" {
		return fmt.Errorf("sandbox: Spec.Script is empty; the build needs a script")
	}
	if s.Workdir != "" && !path.IsAbs(s.Workdir) {
		return fmt.Errorf("sandbox: Spec.Workdir %q must be an absolute container path", s.Workdir)
	}
	if _, err := outputRel(s.Output); err != nil {
		return err
	}
	for k := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("sandbox: Spec.Env has a bad variable name %q", k)
		}
	}
	for i, m := range s.Mounts {
		if !path.IsAbs(m.Source) && !strings.HasPrefix(m.Source, "/") {
			return fmt.Errorf("sandbox: Spec.Mounts[%d].Source %q must be an absolute host path", i, m.Source)
		}
		if !path.IsAbs(m.Dest) {
			return fmt.Errorf("sandbox: Spec.Mounts[%d].Dest %q must be an absolute container path", i, m.Dest)
		}
		d := path.Clean(m.Dest)
		for _, r := range reservedDests {
			if d == r || (r != "/" && strings.HasPrefix(d, r+"/")) {
				return fmt.Errorf("sandbox: Spec.Mounts[%d].Dest %q is inside %s, which the sandbox provides itself", i, m.Dest, r)
			}
		}
	}
	if err := validateChroot(s); err != nil {
		return err
	}
	if s.Memory < 0 || s.Pids < 0 || s.Timeout < 0 {
		return fmt.Errorf("sandbox: Spec.Memory, Spec.Pids and Spec.Timeout must not be negative")
	}
	return nil
}

// outputRel returns Spec.Output relative to /out ("" for /out itself).
func outputRel(output string) (string, error) {
	if output == "" {
		return "", fmt.Errorf("sandbox: Spec.Output is empty; name the file or folder under /out the build leaves")
	}
	c := path.Clean(output)
	if c == "/out" {
		return "", nil
	}
	if !strings.HasPrefix(c, "/out/") {
		return "", fmt.Errorf("sandbox: Spec.Output %q must be /out or a path under /out", output)
	}
	return strings.TrimPrefix(c, "/out/"), nil
}

// buildEnv is BaseEnv overlaid by env, sorted, as KEY=VALUE.
func buildEnv(env map[string]string) []string {
	all := map[string]string{}
	for k, v := range BaseEnv {
		all[k] = v
	}
	for k, v := range env {
		all[k] = v
	}
	out := make([]string, 0, len(all))
	for k, v := range all {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// runtimeConfig is the OCI runtime config of one build. rootfs is the
// (read-only) root; outDir and tmpDir are the host folders behind /out and
// /tmp.
func runtimeConfig(s Spec, rootfs, outDir, tmpDir string, memSwap bool) *specs.Spec {
	hostname := s.Hostname
	if hostname == "" {
		hostname = DefaultHostname
	}
	cwd := s.Workdir
	if cwd == "" {
		cwd = "/"
	}
	umask := uint32(0o022)
	caps := append([]string(nil), Capabilities...)
	if s.ChrootDir != "" {
		caps = append(caps, "CAP_SYS_CHROOT")
	}

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
	user := append([]Mount(nil), s.Mounts...)
	// Parents before children, whatever order they were declared in.
	sort.SliceStable(user, func(i, j int) bool {
		di, dj := path.Clean(user[i].Dest), path.Clean(user[j].Dest)
		ni, nj := strings.Count(di, "/"), strings.Count(dj, "/")
		if ni != nj {
			return ni < nj
		}
		return di < dj
	})
	for _, m := range user {
		opts := []string{"rbind", "nosuid", "nodev"}
		if !m.Writable {
			opts = append(opts, "ro")
		}
		mounts = append(mounts, specs.Mount{Destination: path.Clean(m.Dest), Type: "bind", Source: m.Source, Options: opts})
	}
	mounts = append(mounts, chrootMounts(s.ChrootDir)...)

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
			Env:  buildEnv(s.Env),
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
