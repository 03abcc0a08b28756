package diff

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// arFormat compares Unix ar archives (GNU and BSD long names) and Debian
// packages, which are ar archives whose first member is debian-binary. The
// reader is written here: the format is a 60-byte text header per member and
// no maintained Go library reads GNU and BSD long names both.
type arFormat struct{}

func (arFormat) Name() string { return "ar" }

var arMagic = []byte("!<arch>\n")

// Detect: the "!<arch>\n" global header.
func (arFormat) Detect(h []byte) bool { return bytes.HasPrefix(h, arMagic) }

func (arFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	la, lb, err := listBoth(c, a, b, listAr)
	if err != nil {
		return nil, err
	}
	return c.compareArchives(a, b, la, lb, la.format, depth,
		"the archives hold the same members with the same metadata; their bytes differ in header encoding or padding")
}

func arField(hdr []byte, from, to int) string { return strings.TrimRight(string(hdr[from:to]), " ") }

func listAr(c *comparer, in *input) (*listing, error) {
	l := &listing{format: "ar", mtimePass: "ar-mtime"}
	off := int64(len(arMagic))
	var longNames []byte
	hdr := make([]byte, 60)
	for off < in.size {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
		if _, err := in.ra.ReadAt(hdr, off); err != nil {
			return nil, fmt.Errorf("reading ar header at offset %d: %w", off, err)
		}
		if hdr[58] != '`' || hdr[59] != '\n' {
			return nil, fmt.Errorf("bad ar header terminator at offset %d", off)
		}
		name := arField(hdr, 0, 16)
		size, err := strconv.ParseInt(arField(hdr, 48, 58), 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("bad ar member size %q at offset %d", arField(hdr, 48, 58), off)
		}
		data := off + 60
		if data+size > in.size {
			return nil, fmt.Errorf("ar member %q runs past the end of the archive", name)
		}
		next := data + size + size%2
		switch {
		case name == "//": // GNU long name table
			if size > 16<<20 {
				return nil, fmt.Errorf("ar long name table of %d bytes is too large", size)
			}
			longNames = make([]byte, size)
			if _, err := in.ra.ReadAt(longNames, data); err != nil {
				return nil, err
			}
			off = next
			continue
		case strings.HasPrefix(name, "#1/"): // BSD: name follows the header
			n, err := strconv.Atoi(name[3:])
			if err != nil || n < 0 || int64(n) > size || n > 4096 {
				return nil, fmt.Errorf("bad BSD ar name %q", name)
			}
			nb := make([]byte, n)
			if _, err := in.ra.ReadAt(nb, data); err != nil {
				return nil, err
			}
			name = strings.TrimRight(string(nb), "\x00")
			data += int64(n)
			size -= int64(n)
		case len(name) > 1 && name[0] == '/' && name[1] >= '0' && name[1] <= '9':
			i, err := strconv.Atoi(name[1:])
			if err != nil || i < 0 || i >= len(longNames) {
				return nil, fmt.Errorf("bad GNU ar long name reference %q", name)
			}
			end := bytes.Index(longNames[i:], []byte("/\n"))
			if end < 0 {
				return nil, fmt.Errorf("unterminated GNU ar long name at %d", i)
			}
			name = string(longNames[i : i+end])
		case name != "/" && name != "/SYM64/":
			name = strings.TrimSuffix(name, "/")
		}
		mtime, _ := strconv.ParseInt(arField(hdr, 16, 28), 10, 64)
		uid, _ := strconv.Atoi(arField(hdr, 28, 34))
		gid, _ := strconv.Atoi(arField(hdr, 34, 40))
		mode, _ := strconv.ParseUint(arField(hdr, 40, 48), 8, 32)
		m := &member{name: name, typ: "file", mode: fs.FileMode(mode & 0o777), uid: uid, gid: gid, hasOwn: true,
			mtime: time.Unix(mtime, 0), hasMT: true, size: size}
		dOff, dSize := data, size
		m.open = func(name string) (*input, error) {
			return &input{name: name, size: dSize, ra: io.NewSectionReader(in.ra, dOff, dSize)}, nil
		}
		if len(l.members) == 0 && name == "debian-binary" {
			l.format = "deb"
		}
		l.members = append(l.members, m)
		off = next
	}
	return l, nil
}
