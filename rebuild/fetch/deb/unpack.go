package deb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/fetch"
)

// Entry is one entry of a package's data.tar as stored: its clean path,
// type, full mode (set-id and sticky bits included) and owner. On disk the
// cache keeps safe modes and its own owner; the image takes these.
type Entry struct {
	Path string      `json:"path"`           // clean, relative: "usr/bin/tool"
	Type string      `json:"type"`           // "dir", "file", "symlink", "hardlink"
	Mode fs.FileMode `json:"mode"`           // permission, setuid, setgid and sticky bits
	UID  int         `json:"uid"`            // as the package stores it
	GID  int         `json:"gid"`            //
	Link string      `json:"link,omitempty"` // symlink target as stored, or hardlink target (a clean path)
}

// Unpacked is a .deb unpacked into the cache: data/ holds the data.tar
// tree, control/ the control area's files, entries.json the entries.
type Unpacked struct {
	Dir     string // the tree's root folder
	Control *Control
	Entries []Entry
}

// DataDir is where the package's files are.
func (u *Unpacked) DataDir() string { return filepath.Join(u.Dir, "data") }

// ControlDir is where the control area's files are.
func (u *Unpacked) ControlDir() string { return filepath.Join(u.Dir, "control") }

// Unpack returns the package in blob unpacked into the cache (derived once
// per sha256 and checked against its record on every use). Its data.tar
// and control.tar are read through diff/archive under lim; names that
// climb out, absolute paths, writes through links and hard links to
// anything but a regular file met before are refused. Symbolic links are
// kept whatever their target: they are data, never followed here. Device
// and fifo entries are left out (the sandbox provides /dev).
func Unpack(ctx context.Context, c *fetch.Cache, blob *fetch.Blob, lim archive.Limits) (*Unpacked, error) {
	key := blob.Digest.String()
	e, err := c.PutTree(ctx, "deb", key, "deb "+key, func(dir string) error {
		return unpackInto(ctx, blob.Path, dir, lim)
	})
	if err != nil {
		return nil, fmt.Errorf("unpacking package %s: %w", key, err)
	}
	return readUnpacked(e.Root)
}

func unpackInto(ctx context.Context, debPath, dir string, lim archive.Limits) error {
	for _, d := range []string{"data", "control"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	root, err := os.OpenRoot(filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer root.Close()
	w := &dataWriter{root: root, dirs: map[string]bool{".": true}, files: map[string]bool{}}
	ctl, err := ReadDeb(ctx, debPath, lim, w.entry)
	if err != nil {
		return err
	}
	for name, b := range ctl.Files {
		if err := os.WriteFile(filepath.Join(dir, "control", name), b, 0o644); err != nil {
			return err
		}
	}
	list, err := json.Marshal(w.entries)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "entries.json"), list, 0o644)
}

func readUnpacked(dir string) (*Unpacked, error) {
	u := &Unpacked{Dir: dir, Control: &Control{Files: map[string][]byte{}}}
	b, err := os.ReadFile(filepath.Join(dir, "entries.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &u.Entries); err != nil {
		return nil, fmt.Errorf("%s: entries.json: %w", dir, err)
	}
	ents, err := os.ReadDir(u.ControlDir())
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(u.ControlDir(), e.Name()))
		if err != nil {
			return nil, err
		}
		u.Control.Files[e.Name()] = b
	}
	paras, err := parseParagraphs(u.Control.Files["control"])
	if err != nil || len(paras) == 0 {
		return nil, fmt.Errorf("%s: control file: %v", dir, errOr(err, errors.New("empty")))
	}
	u.Control.Fields = paras[0]
	return u, nil
}

// dataWriter writes data.tar entries under root, recording each.
type dataWriter struct {
	root    *os.Root
	dirs    map[string]bool // real folders made or met
	files   map[string]bool // regular files written (hard link targets)
	entries []Entry
}

func (w *dataWriter) entry(h *archive.Header, r io.Reader) error {
	rel, err := archive.Clean(h.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	e := Entry{Path: rel, Mode: h.Mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky), UID: h.UID, GID: h.GID}
	if err := w.parents(rel); err != nil {
		return err
	}
	switch h.Type {
	case archive.TypeDir:
		e.Type = "dir"
		err = w.dir(rel)
	case archive.TypeFile:
		e.Type = "file"
		err = w.file(rel, r)
	case archive.TypeSymlink:
		e.Type, e.Link = "symlink", h.Linkname
		err = w.symlink(rel, h.Linkname)
	case archive.TypeHardlink:
		e.Type = "hardlink"
		e.Link, err = w.hardlink(rel, h.Linkname)
	case archive.TypeChar, archive.TypeBlock, archive.TypeFifo:
		return nil
	default:
		return fmt.Errorf("unsupported entry type %s", h.Type)
	}
	if err != nil {
		return err
	}
	w.entries = append(w.entries, e)
	return nil
}

// parents makes the folders above rel; one that is not a real folder
// (a link or a file) is refused: nothing is written through a link.
func (w *dataWriter) parents(rel string) error {
	dir := path.Dir(rel)
	if w.dirs[dir] {
		return nil
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if w.dirs[p] {
			continue
		}
		if err := w.dir(p); err != nil {
			return err
		}
	}
	return nil
}

func (w *dataWriter) dir(rel string) error {
	if w.dirs[rel] {
		return nil
	}
	fi, err := w.root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := w.root.Mkdir(rel, 0o755); err != nil {
			return err
		}
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%w: %s is a %v, not a folder", archive.ErrUnsafeEntry, rel, fi.Mode().Type())
	}
	w.dirs[rel] = true
	return nil
}

// clear removes what an earlier entry of the same name left (a later entry
// replaces it, as tar does), but never a folder.
func (w *dataWriter) clear(rel string) error {
	delete(w.files, rel)
	return Replace(w.root, rel)
}

// Replace removes the file or link at rel below root, so that a later one
// takes its place (as tar and dpkg's Replaces do); a folder there is an
// error, and nothing there is fine.
func Replace(root *os.Root, rel string) error {
	fi, err := root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s: a file or link would replace a folder", rel)
	}
	return root.Remove(rel)
}

func (w *dataWriter) file(rel string, r io.Reader) error {
	if err := w.clear(rel); err != nil {
		return err
	}
	f, err := w.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
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
	w.files[rel] = true
	return nil
}

func (w *dataWriter) symlink(rel, target string) error {
	if target == "" || strings.ContainsRune(target, 0) {
		return fmt.Errorf("%w: symbolic link with an empty or NUL target", archive.ErrUnsafeEntry)
	}
	if err := w.clear(rel); err != nil {
		return err
	}
	return w.root.Symlink(target, rel)
}

func (w *dataWriter) hardlink(rel, target string) (string, error) {
	t, err := archive.Clean(target)
	if err != nil || !w.files[t] {
		return "", fmt.Errorf("%w: hard link to %q, which is not a regular file of this package met before", archive.ErrUnsafeEntry, target)
	}
	if t == rel {
		return t, nil
	}
	if err := w.clear(rel); err != nil {
		return "", err
	}
	if err := w.root.Link(t, rel); err != nil {
		return "", err
	}
	w.files[rel] = true
	return t, nil
}
