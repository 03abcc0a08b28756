package runc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// A build with Spec.ChrootDir chroots into a tree it was given (as
// `chroot /target dpkg --configure -a` does) and finds there what it finds
// at its own root: /proc and a read-only /sys, mounted by runc in the
// build's namespaces and masked as the build's own are, and a read-only
// /dev holding the same device nodes, staged like every other mount. The
// capabilities, seccomp profile, network and limits are every build's.

// errRootlessChroot refuses Spec.ChrootDir in rootless mode.
var errRootlessChroot = errors.New("runc backend (rootless): a build that chroots into a tree (Spec.ChrootDir, as reprove image build's maintainer-script step) runs in root mode only: an ordinary user cannot give the tree the owners the build's id range needs; run reprove as root")

// ChrootIDs is the build's host id range in root mode; rootless mode
// cannot run ChrootDir builds and says so.
func (r *Runc) ChrootIDs() (sandbox.IDRange, error) {
	if r.rootless {
		return sandbox.IDRange{}, errRootlessChroot
	}
	return sandbox.IDRange{UID: r.ids.UID, GID: r.ids.GID, Size: r.ids.Size}, nil
}

// stageChroot makes, in the staged root, the chroot's mount points and its
// /dev: a read-only folder of the bundle holding the links and a mount
// point per device, bound at ChrootDir/dev, with each host device bound
// on its mount point (nosuid, noexec; the device cgroup allows the same
// devices as for /dev).
func (b *bundle) stageChroot(dir string) error {
	root := b.path("rootfs")
	chroot, err := sandbox.ResolveIn(root, strings.TrimPrefix(dir, "/"), "/", false)
	if err != nil {
		return fmt.Errorf("Spec.ChrootDir %s: %w", dir, err)
	}
	for _, sub := range sandbox.ChrootSubdirs {
		p := filepath.Join(chroot, sub)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			err = os.Mkdir(p, 0o755)
		case err == nil && !fi.IsDir():
			err = fmt.Errorf("it is a %v, not a folder", fi.Mode().Type())
		}
		if err != nil {
			return fmt.Errorf("Spec.ChrootDir %s: %s: %w", dir, sub, err)
		}
	}
	devDir := b.path("chroot-dev")
	if err := makeChrootDev(devDir); err != nil {
		return err
	}
	if err := bindInto(root, bind{src: devDir, dest: dir + "/dev"}); err != nil {
		return err
	}
	for _, d := range sandbox.ChrootDevices {
		if err := bindDevice("/dev/"+d, filepath.Join(chroot, "dev", d)); err != nil {
			return err
		}
	}
	return nil
}

// makeChrootDev makes the folder bound as the chroot's /dev.
func makeChrootDev(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("creating the chroot's /dev: %w", err)
	}
	for _, d := range sandbox.ChrootDevices {
		f, err := os.OpenFile(filepath.Join(dir, d), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("creating the chroot's /dev: %w", err)
		}
		f.Close()
	}
	for name, to := range sandbox.ChrootDevLinks {
		if err := os.Symlink(to, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("creating the chroot's /dev: %w", err)
		}
	}
	return nil
}

// bindDevice binds the host device node src on the mount point target.
func bindDevice(src, target string) error {
	if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("binding %s in the chroot: %w", src, err)
	}
	if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_NOSUID|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("binding %s in the chroot: %w", src, err)
	}
	return nil
}

// chrootMounts are the chroot's /proc and /sys, mounted by runc in the
// build's namespaces as the build's own are; none without a ChrootDir.
func chrootMounts(dir string) []specs.Mount {
	if dir == "" {
		return nil
	}
	var out []specs.Mount
	for _, m := range systemMounts() {
		if m.Destination == "/proc" || m.Destination == "/sys" {
			m.Destination = dir + m.Destination
			out = append(out, m)
		}
	}
	return out
}

// chrootPaths are paths (masked or read-only ones under /proc and /sys)
// as they also are under the chroot: none without a ChrootDir.
func chrootPaths(dir string, paths []string) []string {
	out := append([]string(nil), paths...)
	if dir == "" {
		return out
	}
	for _, p := range paths {
		out = append(out, dir+p)
	}
	return out
}
