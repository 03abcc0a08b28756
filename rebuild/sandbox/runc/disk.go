package runc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// disk is where a build's /out and /tmp live: out/ and tmp/ in Dir.
type disk interface {
	Dir() string
	// Limit is how many bytes the build may keep on it.
	Limit() int64
	// Watch runs while the build does; it calls kill when the build passes
	// the limit and the disk cannot stop it by itself.
	Watch(ctx context.Context, kill func())
	// Full says whether the build reached the limit.
	Full() bool
	// Reclaim makes what the build left readable and removable by
	// reprove, once the build is dead.
	Reclaim() error
	Close() error
}

// loopDisk is a sparse ext4 image of the limit's size, on a loop device,
// mounted in the bundle: past the limit writes fail with ENOSPC. It needs
// root (mkfs.ext4 from e2fsprogs, a loop device, mount).
type loopDisk struct {
	image, dir string
	limit      int64
	mounted    bool
}

// newLoopDisk copies an empty image of the limit's size from the
// templates folder (making the template first if needed) to image, and
// mounts it at dir, with out/ and tmp/ owned by container root.
func newLoopDisk(ctx context.Context, templates, image, dir string, limit int64, ids IDMap) (*loopDisk, error) {
	d := &loopDisk{image: image, dir: dir, limit: limit}
	tmpl, err := diskTemplate(ctx, templates, limit)
	if err != nil {
		return d, err
	}
	if err := copySparse(tmpl, image); err != nil {
		return d, fmt.Errorf("creating the build's disk: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return d, fmt.Errorf("creating the build's disk: %w", err)
	}
	if err := mountLoop(image, dir); err != nil {
		return d, err
	}
	d.mounted = true
	for _, sub := range []struct {
		name string
		mode os.FileMode
	}{{"out", 0o755}, {"tmp", 0o777 | os.ModeSticky}} {
		p := filepath.Join(dir, sub.name)
		if err := os.Mkdir(p, 0o700); err != nil {
			return d, fmt.Errorf("creating the build's disk: %w", err)
		}
		if err := os.Lchown(p, int(ids.UID), int(ids.GID)); err != nil {
			return d, fmt.Errorf("creating the build's disk: %w", err)
		}
		if err := os.Chmod(p, sub.mode); err != nil {
			return d, fmt.Errorf("creating the build's disk: %w", err)
		}
	}
	return d, nil
}

// diskTemplate returns an empty formatted image of size bytes in dir,
// made once per size. dir must be root's alone (root mode keeps it beside
// the bundles, under /run): an image is mounted by the kernel as root, so
// one made by anyone else could be a crafted file system, and the cache is
// not trusted that far.
func diskTemplate(ctx context.Context, dir string, size int64) (string, error) {
	p := filepath.Join(dir, fmt.Sprintf(".disk-%d.img", size))
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Size() == size {
		return p, nil
	}
	tmp, err := os.CreateTemp(dir, ".disk-new-")
	if err != nil {
		return "", fmt.Errorf("creating the build's disk: %w", err)
	}
	tmp.Close()
	os.Remove(tmp.Name())
	if err := makeImage(ctx, tmp.Name(), size); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("creating the build's disk: %w", err)
	}
	return p, nil
}

// copySparse copies src to the new file dst, writing only src's data:
// the copy is as sparse as the template.
func copySparse(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	err = copyData(in, out, fi.Size())
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyData copies the data extents of in (SEEK_DATA, SEEK_HOLE) to the
// same offsets of out, then sizes out as in.
func copyData(in, out *os.File, size int64) error {
	for off := int64(0); off < size; {
		data, err := unix.Seek(int(in.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		if err != nil {
			return err
		}
		hole, err := unix.Seek(int(in.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			return err
		}
		if _, err := io.Copy(io.NewOffsetWriter(out, data), io.NewSectionReader(in, data, hole-data)); err != nil {
			return err
		}
		off = hole
	}
	return out.Truncate(size)
}

// makeImage writes an empty ext4 file system of size bytes into a sparse
// file: no journal (the disk dies with the run), no reserved blocks, no
// room to grow (resize_inode), group metadata packed together (-G 128) and
// inode tables initialised lazily, so it costs a few hundred KiB whatever
// its size.
func makeImage(ctx context.Context, image string, size int64) error {
	f, err := os.OpenFile(image, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("creating the build's disk: %w", err)
	}
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("creating the build's disk: %w", err)
	}
	cmd := exec.CommandContext(ctx, mkfs(), "-q", "-F", "-O", "^has_journal,^resize_inode", "-G", "128", "-m", "0",
		"-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", image)
	if out, err := cmd.CombinedOutput(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("creating the build's disk: mkfs.ext4 not found; install e2fsprogs (apt-get install -y e2fsprogs)")
		}
		return fmt.Errorf("creating the build's disk: mkfs.ext4: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// mkfs is mkfs.ext4 from PATH or the sbin folders, which an ordinary
// PATH may lack.
func mkfs() string {
	if p, err := exec.LookPath("mkfs.ext4"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "mkfs.ext4"
}

// mountLoop attaches image to a free loop device that frees itself once
// unmounted, and mounts it at dir.
func mountLoop(image, dir string) error {
	f, err := os.OpenFile(image, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("the build's disk needs a loop device: %w", err)
	}
	defer ctl.Close()
	for try := 0; ; try++ {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return fmt.Errorf("finding a free loop device: %w", err)
		}
		dev := fmt.Sprintf("/dev/loop%d", n)
		lf, err := attachLoop(dev, f)
		if errors.Is(err, unix.EBUSY) && try < 20 {
			continue // another process took it first
		}
		if err != nil {
			return err
		}
		// Autoclear frees the device when its last user goes: keep it
		// open until the mount holds it, then the unmount frees it.
		err = unix.Mount(dev, dir, "ext4", unix.MS_NOSUID|unix.MS_NODEV, "")
		lf.Close()
		if err != nil {
			return fmt.Errorf("mounting the build's disk %s: %w", dev, err)
		}
		return nil
	}
}

// attachLoop backs the loop device dev by backing, to be freed
// automatically; the returned file keeps it until closed.
func attachLoop(dev string, backing *os.File) (*os.File, error) {
	lf, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", dev, err)
	}
	cfg := unix.LoopConfig{Fd: uint32(backing.Fd())}
	cfg.Info.Flags = unix.LO_FLAGS_AUTOCLEAR
	if err := unix.IoctlLoopConfigure(int(lf.Fd()), &cfg); err != nil {
		lf.Close()
		return nil, fmt.Errorf("attaching %s: %w", dev, err)
	}
	return lf, nil
}

func (d *loopDisk) Dir() string                         { return d.dir }
func (d *loopDisk) Watch(ctx context.Context, _ func()) { <-ctx.Done() }

func (d *loopDisk) Limit() int64 { return d.limit }

// Reclaim has nothing to do: root reads and removes anything.
func (d *loopDisk) Reclaim() error { return nil }

// Full says whether less than 1 MiB or no inode is left.
func (d *loopDisk) Full() bool {
	var st unix.Statfs_t
	if err := unix.Statfs(d.dir, &st); err != nil {
		return false
	}
	return int64(st.Bavail)*st.Bsize < 1<<20 || st.Ffree == 0
}

// Close unmounts the disk (the loop device frees itself) and removes
// its image.
func (d *loopDisk) Close() error {
	var errs []error
	if d.mounted {
		if err := unmountTree(d.dir); err != nil {
			errs = append(errs, err)
		}
		d.mounted = false
	}
	if err := os.Remove(d.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := os.Remove(d.image); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// watchedDisk is a plain folder whose usage is measured while the build
// runs; past the limit the build is killed. Rootless mode uses it: an
// ordinary user cannot mount a size-limited file system.
type watchedDisk struct {
	dir   string
	limit int64
	every time.Duration
	full  chan struct{}
	sub   *subIDs // the build's subordinate range, if it has one
}

func newWatchedDisk(dir string, limit int64, sub *subIDs) (*watchedDisk, error) {
	for _, p := range []string{dir, filepath.Join(dir, "out"), filepath.Join(dir, "tmp")} {
		if err := os.Mkdir(p, 0o700); err != nil {
			return nil, fmt.Errorf("creating the build's scratch folder: %w", err)
		}
	}
	return &watchedDisk{dir: dir, limit: limit, every: 200 * time.Millisecond, full: make(chan struct{}), sub: sub}, nil
}

func (d *watchedDisk) Dir() string  { return d.dir }
func (d *watchedDisk) Limit() int64 { return d.limit }

// Watch measures the folder every 200 ms (plus the time a walk takes)
// and kills the build the first time it holds more than the limit.
func (d *watchedDisk) Watch(ctx context.Context, kill func()) {
	t := time.NewTicker(d.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if usage(d.dir) > d.limit {
			close(d.full)
			kill()
			return
		}
	}
}

func (d *watchedDisk) Full() bool {
	select {
	case <-d.full:
		return true
	default:
		return usage(d.dir) > d.limit
	}
}

// Reclaim gives everything the build left back to the user, readable and
// writable (see reown), so it can be copied and removed.
func (d *watchedDisk) Reclaim() error { return reown(d.dir, d.sub) }

func (d *watchedDisk) Close() error {
	if _, err := os.Lstat(d.dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := d.Reclaim(); err != nil {
		return err
	}
	return os.RemoveAll(d.dir)
}

// usage is the disk space the files under dir take (allocated blocks,
// each inode once), ignoring what vanishes while it is walked.
func usage(dir string) int64 {
	var total int64
	seen := map[uint64]bool{}
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return nil
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || seen[st.Ino] {
			return nil
		}
		if st.Nlink > 1 {
			seen[st.Ino] = true
		}
		total += st.Blocks * 512
		return nil
	})
	return total
}
