package sandbox

import (
	"fmt"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// chrootDevices are the device nodes a chroot step sees in its /dev, bound
// from the host as container engines do for a container's own /dev.
var chrootDevices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// chrootMounts are the mounts of Spec.ChrootDir: the sandbox's /proc and
// /sys again, a fresh /dev with the usual device nodes, so that programs
// run after chroot(2) into it (dpkg's maintainer scripts) find them. None
// when dir is empty.
func chrootMounts(dir string) []specs.Mount {
	if dir == "" {
		return nil
	}
	dir = path.Clean(dir)
	ms := []specs.Mount{
		{Destination: dir + "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: dir + "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: dir + "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
	}
	for _, d := range chrootDevices {
		ms = append(ms, specs.Mount{Destination: dir + "/dev/" + d, Type: "bind", Source: "/dev/" + d, Options: []string{"bind", "nosuid"}})
	}
	return ms
}

// validateChroot checks that Spec.ChrootDir names a writable mount.
func validateChroot(s Spec) error {
	if s.ChrootDir == "" {
		return nil
	}
	for _, m := range s.Mounts {
		if m.Writable && path.Clean(m.Dest) == path.Clean(s.ChrootDir) {
			return nil
		}
	}
	return fmt.Errorf("sandbox: Spec.ChrootDir %q is not the Dest of a writable mount", s.ChrootDir)
}
