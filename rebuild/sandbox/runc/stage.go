package runc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// A build's mounts, as root mode makes them in the host's mount namespace
// before runc starts. runc's own mounts happen inside the build's user
// namespace, as container root — an id that cannot read the cache, which
// reprove keeps 0700 — so root mode hands runc a finished tree instead:
// the overlay root, the sources and deps bound into it, /out and /tmp from
// the build's disk. runc then only adds /proc, /dev and /sys.

// bind is one mount into the staged root.
type bind struct {
	src, dest string
	writable  bool
	userns    *os.File // id-map the mount through it, when set
}

// mountOverlay mounts the root overlay at dir: lower is the cached
// rootfs, upper and work are fresh folders beside dir. The upper folder
// is owned by container root, as the merged root's top takes its owner.
func mountOverlay(dir, lower string, ids IDMap) error {
	upper, work := dir+".upper", dir+".work"
	for _, d := range []string{dir, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("creating bundle: %w", err)
		}
	}
	if err := os.Lchown(upper, int(ids.UID), int(ids.GID)); err != nil {
		return fmt.Errorf("creating bundle: %w", err)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work)
	if err := unix.Mount("overlay", dir, "overlay", unix.MS_NODEV|unix.MS_NOSUID, opts); err != nil {
		return fmt.Errorf("mounting the image rootfs (overlay over %s, upper in %s; the bundle folder must not be on overlayfs): %w", lower, upper, err)
	}
	if err := unix.Mount("", dir, "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making the build's root mount private: %w", err)
	}
	return nil
}

// bindInto binds b.src at b.dest inside the staged root, read-only unless
// writable, never setuid or device-capable. The destination is resolved as
// the container would see it, so a link in the image cannot send the
// mount outside the root.
func bindInto(root string, b bind) error {
	target, err := sandbox.ResolveIn(root, strings.TrimPrefix(b.dest, "/"), "/", false)
	if err != nil {
		return fmt.Errorf("mount point %s: %w", b.dest, err)
	}
	fi, err := os.Stat(b.src)
	if err != nil {
		return fmt.Errorf("mount source %s: %w", b.src, err)
	}
	if err := mountPoint(target, fi.IsDir()); err != nil {
		return fmt.Errorf("mount point %s: %w", b.dest, err)
	}
	if b.userns != nil {
		err := bindIDMapped(b.src, target, b.userns, b.writable)
		if !errors.Is(err, errNoIDMap) {
			return err
		}
	}
	if err := unix.Mount(b.src, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding %s at %s: %w", b.src, b.dest, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_NOSUID | unix.MS_NODEV)
	if !b.writable {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", target, "", flags, ""); err != nil {
		return fmt.Errorf("binding %s at %s: %w", b.src, b.dest, err)
	}
	return nil
}

// mountPoint makes an empty folder or file at p (already resolved) unless
// one of that kind is there.
func mountPoint(p string, dir bool) error {
	fi, err := os.Lstat(p)
	if err == nil {
		if fi.IsDir() != dir || fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("the image has a %v there, the mount needs a %s", fi.Mode().Type(), map[bool]string{true: "folder", false: "file"}[dir])
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if dir {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// unmountTree detaches the mount at p and every mount below it.
func unmountTree(p string) error {
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting %s: %w", p, err)
	}
	return nil
}
