package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// arReader reads Unix ar archives (GNU and BSD long names), Debian packages
// among them. It is written here: the format is a 60-byte text header per
// member, and no maintained Go library reads GNU and BSD long names both.
type arReader struct {
	src       *position
	body      *io.LimitedReader // the current member's unread content
	pad       int64             // the padding byte after it
	longNames []byte
}

var arMagic = []byte("!<arch>\n")

func newAr(src *position) (*arReader, error) {
	magic := make([]byte, len(arMagic))
	if _, err := io.ReadFull(src, magic); err != nil || !bytes.Equal(magic, arMagic) {
		return nil, errors.New("not an ar archive")
	}
	return &arReader{src: src}, nil
}

func arField(hdr []byte, from, to int) string { return strings.TrimRight(string(hdr[from:to]), " ") }

func (a *arReader) next() (*Header, io.Reader, error) {
	for {
		if a.body != nil {
			if err := a.src.skip(a.body.N + a.pad); err != nil {
				return nil, nil, err
			}
			a.body = nil
		}
		off := a.src.pos
		hdr := make([]byte, 60)
		n, err := io.ReadFull(a.src, hdr)
		if err == io.EOF || (err == io.ErrUnexpectedEOF && n == 1 && hdr[0] == '\n') {
			return nil, nil, io.EOF
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading ar header at offset %d: %w", off, err)
		}
		if hdr[58] != '`' || hdr[59] != '\n' {
			return nil, nil, fmt.Errorf("bad ar header terminator at offset %d", off)
		}
		size, err := strconv.ParseInt(arField(hdr, 48, 58), 10, 64)
		if err != nil || size < 0 {
			return nil, nil, fmt.Errorf("bad ar member size %q at offset %d", arField(hdr, 48, 58), off)
		}
		a.body, a.pad = &io.LimitedReader{R: a.src, N: size}, size%2
		name, keep, err := a.name(arField(hdr, 0, 16))
		if err != nil {
			return nil, nil, err
		}
		if !keep {
			continue
		}
		mtime, _ := strconv.ParseInt(arField(hdr, 16, 28), 10, 64)
		uid, _ := strconv.Atoi(arField(hdr, 28, 34))
		gid, _ := strconv.Atoi(arField(hdr, 34, 40))
		mode, _ := strconv.ParseUint(arField(hdr, 40, 48), 8, 32)
		h := &Header{Name: name, Type: TypeFile, Mode: fs.FileMode(mode & 0o777), UID: uid, GID: gid, HasOwner: true,
			ModTime: time.Unix(mtime, 0), HasModTime: true, Size: a.body.N, Offset: a.src.offset()}
		return h, a.body, nil
	}
}

// name resolves a member name: the GNU long name table is read and not
// listed (keep false); BSD names are read from the content.
func (a *arReader) name(name string) (string, bool, error) {
	switch {
	case name == "//": // GNU long name table
		if a.body.N > 16<<20 {
			return "", false, fmt.Errorf("ar long name table of %d bytes is too large", a.body.N)
		}
		b, err := io.ReadAll(a.body)
		if err != nil {
			return "", false, err
		}
		a.longNames = b
		return "", false, nil
	case strings.HasPrefix(name, "#1/"): // BSD: the name follows the header
		n, err := strconv.Atoi(name[3:])
		if err != nil || n < 0 || int64(n) > a.body.N || n > 4096 {
			return "", false, fmt.Errorf("bad BSD ar name %q", name)
		}
		nb := make([]byte, n)
		if _, err := io.ReadFull(a.body, nb); err != nil {
			return "", false, err
		}
		return strings.TrimRight(string(nb), "\x00"), true, nil
	case len(name) > 1 && name[0] == '/' && name[1] >= '0' && name[1] <= '9':
		i, err := strconv.Atoi(name[1:])
		if err != nil || i < 0 || i >= len(a.longNames) {
			return "", false, fmt.Errorf("bad GNU ar long name reference %q", name)
		}
		end := bytes.Index(a.longNames[i:], []byte("/\n"))
		if end < 0 {
			return "", false, fmt.Errorf("unterminated GNU ar long name at %d", i)
		}
		return string(a.longNames[i : i+end]), true, nil
	case name != "/" && name != "/SYM64/":
		return strings.TrimSuffix(name, "/"), true, nil
	}
	return name, true, nil
}
