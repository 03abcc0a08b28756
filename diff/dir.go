package diff

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// dirFormat compares directory trees: names, types, modes, owners, link
// targets and file contents. Modification times and entry order are not
// compared (they say nothing about a build's output on disk).
type dirFormat struct{}

func (dirFormat) Name() string { return "dir" }

// Detect is never true: directories are recognised by the file system.
func (dirFormat) Detect([]byte) bool { return false }

func (dirFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	if isOCILayoutDir(a.path) && isOCILayoutDir(b.path) {
		return ociCompare(c, a, b, dirBlobs(c, a), dirBlobs(c, b), depth)
	}
	var la, lb *listing
	var erra, errb error
	done := make(chan struct{})
	go func() {
		la, erra = listDir(c, a)
		close(done)
	}()
	lb, errb = listDir(c, b)
	<-done
	if erra != nil {
		return nil, &fatalError{erra}
	}
	if errb != nil {
		return nil, &fatalError{errb}
	}
	details, err := c.compareListings(a, b, la, lb, depth)
	if err != nil {
		return nil, err
	}
	return wrap(a, b, "dir", details), nil
}

func listDir(c *comparer, in *input) (*listing, error) {
	l := &listing{format: "dir", ignoreMTime: true, ignoreOrder: true}
	root := in.path
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading directory %s: %w", p, err)
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		st, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		m := &member{name: rel, mode: st.Mode(), size: st.Size()}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			m.uid, m.gid, m.hasOwn = int(sys.Uid), int(sys.Gid), true
		}
		switch {
		case st.Mode().IsRegular():
			m.typ = "file"
			full := p
			m.open = func(name string) (*input, error) {
				f, err := os.Open(full)
				if err != nil {
					return nil, &fatalError{fmt.Errorf("opening %s: %w", full, err)}
				}
				return c.fileInput(f, name, "", st.Size(), false), nil
			}
		case st.IsDir():
			m.typ, m.size = "dir", 0
		case st.Mode()&fs.ModeSymlink != 0:
			m.typ = "symlink"
			m.link, err = os.Readlink(p)
			if err != nil {
				return fmt.Errorf("reading link %s: %w", p, err)
			}
		case st.Mode()&fs.ModeNamedPipe != 0:
			m.typ = "fifo"
		case st.Mode()&fs.ModeCharDevice != 0:
			m.typ = "char"
		case st.Mode()&fs.ModeDevice != 0:
			m.typ = "block"
		default:
			m.typ = "other"
		}
		l.members = append(l.members, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(l.members, func(i, j int) bool { return l.members[i].name < l.members[j].name })
	return l, nil
}
