package sandbox

import (
	"fmt"
	"path"
)

// IDRange is the host ids a build's container ids map to: container uid n
// is host uid UID+n and container gid n host gid GID+n, for n below Size.
type IDRange struct {
	UID, GID uint32 // host ids of container root
	Size     uint32 // how many ids
}

// Container maps a host uid and gid back to the container's, or says
// they are outside the range.
func (r IDRange) Container(uid, gid uint32) (int, int, bool) {
	if uid < r.UID || uid-r.UID >= r.Size || gid < r.GID || gid-r.GID >= r.Size {
		return 0, 0, false
	}
	return int(uid - r.UID), int(gid - r.GID), true
}

// Chrooter is implemented by a Backend that runs builds with
// Spec.ChrootDir.
type Chrooter interface {
	// ChrootIDs is the range the build's container ids map to. The tree
	// a build chroots into must be owned by it (container root: UID, GID)
	// for the build to use it as root, and what the build makes there is
	// owned by it. It fails, saying why, when the backend cannot run
	// ChrootDir builds as it is set up (runc in rootless mode).
	ChrootIDs() (IDRange, error)
}

// ChrootSubdirs are the folders the engine mounts inside Spec.ChrootDir:
// they must be folders (or missing) in the tree, never links.
var ChrootSubdirs = []string{"proc", "sys", "dev"}

// ChrootDevices are the device nodes of the chroot's /dev, the build's
// own; ChrootDevLinks its links, as a container's /dev has them.
var (
	ChrootDevices  = []string{"null", "zero", "full", "random", "urandom", "tty"}
	ChrootDevLinks = map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
)

// validateChroot checks that Spec.ChrootDir, when set, is a clean
// absolute path and the Dest of a writable mount.
func validateChroot(s Spec) error {
	if s.ChrootDir == "" {
		return nil
	}
	if !path.IsAbs(s.ChrootDir) || path.Clean(s.ChrootDir) != s.ChrootDir || s.ChrootDir == "/" {
		return fmt.Errorf("sandbox: Spec.ChrootDir %q must be a clean absolute container path other than /", s.ChrootDir)
	}
	for _, m := range s.Mounts {
		if m.Writable && path.Clean(m.Dest) == s.ChrootDir {
			return nil
		}
	}
	return fmt.Errorf("sandbox: Spec.ChrootDir %q is not the Dest of a writable mount; mount the tree to chroot into there, writable", s.ChrootDir)
}
