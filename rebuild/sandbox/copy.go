package sandbox

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/reprove/reprove/rebuild/tree"
)

// copyOut copies the file or folder rel inside src (the host folder behind
// the container's /out, the build dead) to the same place under dst. It
// never follows a link — links are copied as links — never leaves src
// (os.Root), keeps only files, folders and links, and writes every mode
// through tree.SafePerm: no setuid, setgid or world-writable bit reaches
// the run folder. Owners become this process's; times are kept.
func copyOut(src, rel, dst string) error {
	root, err := os.OpenRoot(src)
	if err != nil {
		return err
	}
	defer root.Close()
	if rel == "" {
		rel = "."
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
		return err
	}
	return copyEntry(root, rel, dst)
}

func copyEntry(root *os.Root, rel, dst string) error {
	fi, err := root.Lstat(rel)
	if err != nil {
		return err
	}
	target := filepath.Join(dst, rel)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		link, err := root.Readlink(rel)
		if err != nil {
			return err
		}
		return os.Symlink(link, target)
	case fi.IsDir():
		if err := copyDir(root, rel, dst); err != nil {
			return err
		}
	case fi.Mode().IsRegular():
		if err := copyFile(root, rel, target, fi.Size()); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s is a %v: a build's output may hold only files, folders and links", rel, fi.Mode().Type())
	}
	if err := os.Chmod(target, tree.SafePerm(fi.Mode())); err != nil {
		return err
	}
	return os.Chtimes(target, fi.ModTime(), fi.ModTime())
}

func copyDir(root *os.Root, rel, dst string) error {
	if err := os.Mkdir(filepath.Join(dst, rel), 0o700); err != nil && !(rel == "." && os.IsExist(err)) {
		return err
	}
	d, err := root.Open(rel)
	if err != nil {
		return err
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := copyEntry(root, filepath.Join(rel, e.Name()), dst); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies size bytes of the regular file rel, refusing one that
// changed type since it was listed.
func copyFile(root *os.Root, rel, target string, size int64) error {
	in, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil {
		return err
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s changed while it was copied", rel)
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.CopyN(out, in, size)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == io.EOF {
		err = fmt.Errorf("%s shrank while it was copied", rel)
	}
	return err
}
