package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// layerFile is an uncompressed layer tar on disk with its sha256.
type layerFile struct {
	path   string
	digest string // sha256:…, also the diff id: the layer is not compressed
	size   int64
}

// writeLayer writes the tree at dir as an uncompressed tar at dst: entries
// sorted by name, every mtime epoch, owners and modes as meta says
// (numeric owners, no names; set-id and sticky bits kept), hard links as
// links to the sorted-first name of their group. Anything but folders,
// regular files and symbolic links is left out.
func writeLayer(dir, dst string, epoch time.Time, meta MetaFunc) (*layerFile, error) {
	names, err := sortedTree(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	tw := tar.NewWriter(cw)
	first := map[[2]uint64]string{} // (dev, inode) → first name
	for _, n := range names {
		if err := writeEntry(tw, dir, n, epoch, meta, first); err != nil {
			f.Close()
			return nil, err
		}
	}
	err = tw.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing layer %s: %w", dst, err)
	}
	return &layerFile{path: dst, digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), size: cw.n}, nil
}

// sortedTree lists every path below dir, relative, sorted as strings.
func sortedTree(dir string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

func writeEntry(tw *tar.Writer, dir, name string, epoch time.Time, meta MetaFunc, first map[[2]uint64]string) error {
	p := filepath.Join(dir, filepath.FromSlash(name))
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	m, err := meta(name, fi)
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: name, Mode: tarMode(m.Mode), Uid: m.UID, Gid: m.GID, ModTime: epoch}
	switch {
	case fi.IsDir():
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
	case fi.Mode()&fs.ModeSymlink != 0:
		hdr.Typeflag, hdr.Mode = tar.TypeSymlink, 0o777
		if hdr.Linkname, err = os.Readlink(p); err != nil {
			return err
		}
	case fi.Mode().IsRegular():
		hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if f, seen := first[key]; seen {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, f, 0
			} else {
				first[key] = name
			}
		}
	default:
		return nil // devices, fifos, sockets: the sandbox provides /dev
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("layer entry %s: %w", name, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	return copyContent(tw, p, hdr.Size)
}

func copyContent(w io.Writer, p string, size int64) error {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, size))
	if err != nil {
		return fmt.Errorf("layer entry %s: %w", p, err)
	}
	if n != size {
		return fmt.Errorf("layer entry %s changed size while it was written", p)
	}
	return nil
}

// tarMode is fs mode bits as tar stores them (c_ISUID…).
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// osMode keeps the permission, set-id and sticky bits of a mode (for chmod).
func osMode(mode fs.FileMode) fs.FileMode {
	return mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}
