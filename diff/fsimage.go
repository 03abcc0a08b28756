package diff

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"strconv"
	"time"

	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/filesystem"

	"github.com/reprove/reprove/diff/archive"
)

// File system images (squashfs, ISO 9660) are read with go-diskfs, which
// needs a backend.Storage: imageStorage serves one from an input, read
// only, counting the bytes read so that decompressed contents are bounded
// against them.

type imageStorage struct {
	*io.SectionReader
	name string
}

func newImageStorage(in *input) (imageStorage, *archive.CountingReaderAt) {
	ca := &archive.CountingReaderAt{R: in.ra}
	return imageStorage{io.NewSectionReader(ca, 0, in.size), in.name}, ca
}

func (s imageStorage) Stat() (iofs.FileInfo, error) { return imageInfo(s), nil }
func (imageStorage) Close() error                   { return nil }
func (imageStorage) Sys() (*os.File, error) {
	return nil, errors.New("an image inside an input has no file")
}
func (imageStorage) Writable() (backend.WritableFile, error) {
	return nil, backend.ErrIncorrectOpenMode
}
func (imageStorage) Path() string { return "" }

type imageInfo imageStorage

func (i imageInfo) Name() string      { return i.name }
func (i imageInfo) Size() int64       { return i.SectionReader.Size() }
func (imageInfo) Mode() iofs.FileMode { return 0o444 }
func (imageInfo) ModTime() time.Time  { return time.Time{} }
func (imageInfo) IsDir() bool         { return false }
func (imageInfo) Sys() any            { return nil }

// imageTree is a file system image as go-diskfs reads it.
type imageTree interface {
	ReadDir(p string) ([]iofs.DirEntry, error)
	OpenFile(p string, flag int) (filesystem.File, error)
}

// imageOwner returns what an image records beyond fs.FileInfo: owner and
// link target, from the entry's Sys value.
type imageOwner func(sys any) (uid, gid int, link string, ok bool)

// listImage walks t from its root into l, under the entry count and name
// length limits; each file's content is read when compared, bounded by
// the bytes read from the image (ca).
func (c *comparer) listImage(in *input, t imageTree, ca *archive.CountingReaderAt, l *listing, owner imageOwner) error {
	lim := c.opts.Limits
	dirs := []string{"."}
	for len(dirs) > 0 {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		dir := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		ents, err := t.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("reading folder %s: %w", dir, err)
		}
		for _, e := range ents {
			p := path.Join(dir, e.Name())
			if int64(len(l.members)) >= lim.MaxEntries || int64(len(p)) > lim.MaxNameLen {
				return &archive.LimitError{Input: in.name, Entry: p, Limit: "entry count or name length", Max: lim.MaxEntries,
					Got: strconv.Itoa(len(l.members)) + " entries", Flag: "max-entries"}
			}
			m, err := c.imageMember(in, t, ca, p, e, owner)
			if err != nil {
				return err
			}
			if m.typ == "dir" {
				dirs = append(dirs, p)
			}
			l.members = append(l.members, m)
		}
	}
	return nil
}

func (c *comparer) imageMember(in *input, t imageTree, ca *archive.CountingReaderAt, p string, e iofs.DirEntry, owner imageOwner) (*member, error) {
	info, err := e.Info()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	m := &member{name: p, mode: info.Mode(), mtime: info.ModTime(), hasMT: true, size: info.Size(), typ: "file"}
	switch {
	case info.IsDir():
		m.typ, m.size = "dir", 0
	case info.Mode()&iofs.ModeSymlink != 0:
		m.typ = "symlink"
	case !info.Mode().IsRegular():
		m.typ = "other"
	}
	if uid, gid, link, ok := owner(info.Sys()); ok {
		m.uid, m.gid, m.hasOwn, m.link = uid, gid, true, link
	}
	if m.typ == "file" {
		m.open = func(name string) (*input, error) {
			f, err := t.OpenFile(p, os.O_RDONLY)
			if err != nil {
				return nil, fmt.Errorf("opening %s in %s: %w", p, in.name, err)
			}
			defer f.Close()
			r := archive.Bound(io.LimitReader(f, m.size), ca.Since(), in.name, p, c.opts.Limits)
			return c.spill(name, p, r)
		}
	}
	return m, nil
}
