package image

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/tree"
)

// Meta is a file's owner and mode as an image records them: numeric ids,
// and the permission, set-id and sticky bits.
type Meta struct {
	UID, GID int
	Mode     fs.FileMode
}

// MetaFunc says how an entry of a tree goes into a layer, from its path in
// the tree and what the host shows of it.
type MetaFunc func(name string, fi fs.FileInfo) (Meta, error)

// RootFiles gives every file to root, with the mode the host shows: for
// trees reprove wrote alone.
func RootFiles(_ string, fi fs.FileInfo) (Meta, error) { return Meta{Mode: osMode(fi.Mode())}, nil }

// enterRange gives the tree to the build's id range before the maintainer
// scripts run in it: every file gets the owner reprove declared (root
// when none) shifted by the range's base, so that container root, inside
// the build's user namespace, uses the tree as root would. Modes stay as
// tree.SafePerm wrote them: nothing in the tree is set-id on the host.
func (t *target) enterRange(ids sandbox.IDRange) error {
	if ids.UID == 0 || ids.GID == 0 {
		return fmt.Errorf("the build's id range starts at host id %d:%d; container root must not be host root", ids.UID, ids.GID)
	}
	err := filepath.WalkDir(t.dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(t.dir, p)
		if err != nil {
			return err
		}
		m := t.declared[filepath.ToSlash(rel)]
		if m.UID < 0 || m.GID < 0 || uint64(m.UID) >= uint64(ids.Size) || uint64(m.GID) >= uint64(ids.Size) {
			return fmt.Errorf("%s is owned by %d:%d, beyond the %d ids of the build's range", rel, m.UID, m.GID, ids.Size)
		}
		return os.Lchown(p, int(ids.UID)+m.UID, int(ids.GID)+m.GID)
	})
	if err != nil {
		return fmt.Errorf("giving the image's tree to the build's id range: %w", err)
	}
	t.ids = &ids
	return nil
}

// meta is how the target's entries go into the layer. The mode is the one
// reprove declared while the host shows it as tree.SafePerm wrote it
// (set-id, sticky and world-write bits restored), else the host's: a
// maintainer script set it. Once the tree was given to the build's id
// range, the owner of what the build made or kept is the host's mapped
// back from the range; what reprove wrote itself (after the scripts) and
// trees never given to a build take the declared owner, root when none.
func (t *target) meta(name string, fi fs.FileInfo) (Meta, error) {
	d, declared := t.declared[name]
	m := Meta{UID: d.UID, GID: d.GID, Mode: osMode(fi.Mode())}
	if declared && tree.SafePerm(d.Mode|fi.Mode()&fs.ModeDir) == m.Mode {
		m.Mode = d.Mode
	}
	if t.ids == nil {
		return m, nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Meta{}, fmt.Errorf("%s: no owner", name)
	}
	if uid, gid, in := t.ids.Container(st.Uid, st.Gid); in {
		m.UID, m.GID = uid, gid
		return m, nil
	}
	if int(st.Uid) == os.Geteuid() && int(st.Gid) == os.Getegid() {
		return m, nil
	}
	return Meta{}, fmt.Errorf("%s is owned by host ids %d:%d, neither reprove's nor the build's (%d:%d and %d ids after)", name, st.Uid, st.Gid, t.ids.UID, t.ids.GID, t.ids.Size)
}
