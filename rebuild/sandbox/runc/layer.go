package runc

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/tree"
)

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// layerApplier applies image layers, lowest first, onto a root folder the
// way a container engine does, honouring OCI whiteouts. It never writes
// outside root: member names with "..", hardlinks to outside and relative
// symlinks that climb above the root are refused, and existing symlinks are
// followed only as the container would see them (inside root).
//
// Modes go through tree.SafePerm: the image's setuid, setgid, sticky and
// world-writable bits never reach the disk. Owners are the image's mapped
// through ids (container id n → host id base+n), or left to the unpacking
// user when ids is nil (rootless: that user is container root).
type layerApplier struct {
	root     string
	ids      *IDMap
	dirTimes map[string]time.Time // host dir → mtime, set once all layers are in
}

func newLayerApplier(root string, ids *IDMap) *layerApplier {
	return &layerApplier{root: root, ids: ids, dirTimes: map[string]time.Time{}}
}

// chown gives target the image's owner, mapped into the host range.
// Container ids the range does not hold become its nobody (65534), or its
// root when the range is smaller.
func (a *layerApplier) chown(target string, uid, gid int) error {
	if a.ids == nil {
		return nil
	}
	hu, ok := a.ids.host(uid, a.ids.UID)
	if !ok {
		hu, ok = a.ids.host(65534, a.ids.UID)
		if !ok {
			hu = int(a.ids.UID)
		}
	}
	hg, ok := a.ids.host(gid, a.ids.GID)
	if !ok {
		hg, ok = a.ids.host(65534, a.ids.GID)
		if !ok {
			hg = int(a.ids.GID)
		}
	}
	return os.Lchown(target, hu, hg)
}

// memberName cleans a member name to a relative path or refuses it.
func memberName(name string) (string, error) {
	n := strings.TrimLeft(name, "/")
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("member %q climbs out of the root with ..: %w", name, sandbox.ErrEscapes)
		}
	}
	n = path.Clean(n)
	if n == "." {
		return "", nil
	}
	return n, nil
}

// apply reads one uncompressed layer tar from r.
func (a *layerApplier) apply(r io.Reader) error {
	tr := tar.NewReader(r)
	thisLayer := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading layer tar: %w", err)
		}
		name, err := memberName(hdr.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		if isSparse(hdr) {
			// archive/tar expands holes on read: a few bytes could
			// claim terabytes. Image layers have no business with them.
			return fmt.Errorf("layer member %s: sparse files are not supported in image layers", hdr.Name)
		}
		if err := a.member(hdr, name, tr, thisLayer); err != nil {
			return fmt.Errorf("layer member %s: %w", hdr.Name, err)
		}
	}
}

func (a *layerApplier) member(hdr *tar.Header, name string, r io.Reader, thisLayer map[string]bool) error {
	dir, base := path.Split(name)
	parent, err := sandbox.ResolveIn(a.root, dir, "/", false)
	if err != nil {
		return err
	}
	if done, err := whiteout(parent, dir, base, thisLayer); done || err != nil {
		return err
	}
	thisLayer[name] = true
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	target := filepath.Join(parent, base)
	if fi, err := os.Lstat(target); err == nil {
		if !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := os.RemoveAll(target); err != nil {
				return err
			}
		}
	}
	mode := os.FileMode(hdr.Mode & 0o777)
	if hdr.Typeflag == tar.TypeDir {
		mode |= os.ModeDir
	}
	return a.create(hdr, name, target, mode, r)
}

// create makes the member at target (its parent exists, nothing is in
// its place but a folder) and gives it its owner, mode and time.
func (a *layerApplier) create(hdr *tar.Header, name, target string, mode os.FileMode, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		a.dirTimes[target] = hdr.ModTime
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		return a.symlink(hdr, name, target)
	case tar.TypeLink:
		return a.hardlink(hdr, target)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		// Devices and fifos are not needed: the sandbox gives /dev.
		return nil
	default:
		// Extended headers are consumed by archive/tar; other types
		// (GNU sparse, volume labels) have no place in a rootfs.
		return fmt.Errorf("unsupported member type %q", hdr.Typeflag)
	}
	if err := a.chown(target, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	if err := os.Chmod(target, tree.SafePerm(mode)); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeDir {
		return os.Chtimes(target, hdr.ModTime, hdr.ModTime)
	}
	return nil
}

// whiteout applies an OCI whiteout member (base in the layer folder dir,
// resolved on disk to parent) and reports whether base was one. It knows
// nothing of tar: thisLayer is the set of names the current layer added.
func whiteout(parent, dir, base string, thisLayer map[string]bool) (bool, error) {
	if base == whiteoutOpaque {
		// Hide everything lower layers put in dir; keep this layer's entries.
		ents, err := os.ReadDir(parent)
		if errors.Is(err, os.ErrNotExist) {
			return true, nil
		}
		if err != nil {
			return true, err
		}
		for _, e := range ents {
			if !thisLayer[path.Join(path.Clean(dir), e.Name())] {
				if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
					return true, err
				}
			}
		}
		return true, nil
	}
	if strings.HasPrefix(base, whiteoutPrefix) {
		gone := strings.TrimPrefix(base, whiteoutPrefix)
		if gone == "" || gone == "." || gone == ".." {
			return true, fmt.Errorf("bad whiteout name")
		}
		return true, os.RemoveAll(filepath.Join(parent, gone))
	}
	return false, nil
}

// symlink makes a symbolic link member; a relative target that climbs
// above the root is refused.
func (a *layerApplier) symlink(hdr *tar.Header, name, target string) error {
	if hdr.Linkname == "" {
		return errors.New("symlink with an empty target")
	}
	if !path.IsAbs(hdr.Linkname) {
		if j := path.Join(path.Dir(name), hdr.Linkname); j == ".." || strings.HasPrefix(j, "../") {
			return fmt.Errorf("symlink to %q climbs above the root: %w", hdr.Linkname, sandbox.ErrEscapes)
		}
	}
	if err := os.Symlink(hdr.Linkname, target); err != nil {
		return err
	}
	t := unix.NsecToTimeval(hdr.ModTime.UnixNano())
	_ = unix.Lutimes(target, []unix.Timeval{t, t}) // best effort: link times do not reach builds
	return a.chown(target, hdr.Uid, hdr.Gid)
}

// hardlink makes a hard link member to a regular file already inside the
// root.
func (a *layerApplier) hardlink(hdr *tar.Header, target string) error {
	ln, err := memberName(hdr.Linkname)
	if err != nil || ln == "" {
		return fmt.Errorf("hardlink to %q, which is not inside the image: %w", hdr.Linkname, sandbox.ErrEscapes)
	}
	ld, lb := path.Split(ln)
	lparent, err := sandbox.ResolveIn(a.root, ld, "/", false)
	if err != nil {
		return err
	}
	src := filepath.Join(lparent, lb)
	fi, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("hardlink to %s: %w", hdr.Linkname, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("hardlink to %s, which is not a regular file", hdr.Linkname)
	}
	return os.Link(src, target)
}

// finish sets folder mtimes, which adding their children disturbed.
func (a *layerApplier) finish() error {
	for d, t := range a.dirTimes {
		if err := os.Chtimes(d, t, t); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// isSparse reports GNU sparse members (old GNU or PAX forms).
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
