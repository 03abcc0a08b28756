package diff

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"

	"github.com/cavaliergopher/cpio"
)

// cpioFormat compares cpio archives in the SVR4 "newc" format (with or
// without CRC), the one initramfs and RPM payloads use.
type cpioFormat struct{}

func (cpioFormat) Name() string { return "cpio" }

// Detect: the "070701" or "070702" magic.
func (cpioFormat) Detect(h []byte) bool {
	return bytes.HasPrefix(h, []byte("070701")) || bytes.HasPrefix(h, []byte("070702"))
}

func (cpioFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	la, lb, err := listBoth(c, a, b, listCpio)
	if err != nil {
		return nil, err
	}
	return c.compareArchives(a, b, la, lb, "cpio", depth,
		"the archives hold the same members with the same metadata; their bytes differ in inode numbers, link counts or padding")
}

func listCpio(c *comparer, in *input) (*listing, error) {
	l := &listing{format: "cpio", mtimePass: "cpio-mtime"}
	sr := in.reader()
	r := cpio.NewReader(sr)
	for {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading cpio header after %d members: %w", len(l.members), err)
		}
		m := &member{name: hdr.Name, mode: fs.FileMode(hdr.Mode.Perm()), uid: hdr.Uid, gid: hdr.Guid, hasOwn: true,
			mtime: hdr.ModTime, hasMT: true, link: hdr.Linkname, size: hdr.Size}
		if hdr.Mode&0o4000 != 0 {
			m.mode |= fs.ModeSetuid
		}
		if hdr.Mode&0o2000 != 0 {
			m.mode |= fs.ModeSetgid
		}
		if hdr.Mode&0o1000 != 0 {
			m.mode |= fs.ModeSticky
		}
		switch hdr.Mode & cpio.ModeType {
		case cpio.TypeReg:
			m.typ = "file"
		case cpio.TypeDir:
			m.typ = "dir"
		case cpio.TypeSymlink:
			m.typ = "symlink"
		case cpio.TypeChar:
			m.typ = "char"
		case cpio.TypeBlock:
			m.typ = "block"
		case cpio.TypeFifo:
			m.typ = "fifo"
		default:
			m.typ = "other"
		}
		m.extra = append(m.extra, metaField{key: "nlink", value: fmt.Sprint(hdr.Links), cause: "archive-format"})
		if m.typ == "file" {
			if m.open, err = memberAt(in, sr, hdr.Name, hdr.Size); err != nil {
				return nil, err
			}
		}
		l.members = append(l.members, m)
	}
	return l, nil
}
