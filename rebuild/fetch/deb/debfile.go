package deb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"pault.ag/go/debian/control"

	"github.com/reprove/reprove/diff/archive"
)

// maxControlMember bounds one file of a .deb's control area (control,
// md5sums, maintainer scripts…).
const maxControlMember = 16 << 20

// Control is a .deb's control area: the control file and the other
// members (md5sums, conffiles, maintainer scripts, triggers…), by name.
type Control struct {
	Fields control.Paragraph
	Files  map[string][]byte // "control", "md5sums", "postinst"…
}

// Field is the value of one control field.
func (c *Control) Field(name string) string { return c.Fields.Values[name] }

// DataFunc is called for each entry of a .deb's data.tar, in archive order.
type DataFunc func(h *archive.Header, r io.Reader) error

// ReadDeb reads the Debian binary package at p through diff/archive, under
// lim: the ar archive, then control.tar.* (returned) and data.tar.* (each
// entry given to data, which may be nil). Every member is bounded.
func ReadDeb(ctx context.Context, p string, lim archive.Limits, data DataFunc) (*Control, error) {
	f, err := openFile(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ar, err := archive.Open(f, fi.Size(), p, lim)
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	if ar.Format() != archive.Ar {
		return nil, fmt.Errorf("%s: not a Debian package (it is %q, not an ar archive)", p, ar.Format())
	}
	var ctl *Control
	sawData := false
	for {
		h, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch {
		case h.Name == "debian-binary":
			if err := checkDebianBinary(ar); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		case strings.HasPrefix(h.Name, "control.tar"):
			if ctl, err = readControlTar(ctx, ar, p+"/"+h.Name, lim); err != nil {
				return nil, err
			}
		case strings.HasPrefix(h.Name, "data.tar"):
			sawData = true
			if data != nil {
				if err := readDataTar(ctx, ar, p+"/"+h.Name, lim, data); err != nil {
					return nil, err
				}
			}
		}
	}
	if ctl == nil || !sawData {
		return nil, fmt.Errorf("%s: not a Debian package: no control.tar or data.tar member", p)
	}
	return ctl, nil
}

func checkDebianBinary(r io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(r, 64))
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(b, []byte("2.")) {
		return fmt.Errorf("debian-binary says format %q; only 2.x is read", strings.TrimSpace(string(b)))
	}
	return nil
}

// readControlTar keeps the regular files of the control area.
func readControlTar(ctx context.Context, r io.Reader, name string, lim archive.Limits) (*Control, error) {
	tr, err := archive.NewReader(r, name, lim)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	ctl := &Control{Files: map[string][]byte{}}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		clean, err := archive.Clean(h.Name)
		if err != nil || h.Type != archive.TypeFile || strings.Contains(clean, "/") {
			continue // only top-level files mean anything to dpkg
		}
		if h.Size > maxControlMember {
			return nil, fmt.Errorf("%s: %s is larger than %d bytes", name, clean, maxControlMember)
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxControlMember))
		if err != nil {
			return nil, err
		}
		ctl.Files[clean] = b
	}
	raw, ok := ctl.Files["control"]
	if !ok {
		return nil, fmt.Errorf("%s: no control file", name)
	}
	paras, err := parseParagraphs(raw)
	if err != nil || len(paras) == 0 {
		return nil, fmt.Errorf("%s: control file: %v", name, errOr(err, errors.New("empty")))
	}
	ctl.Fields = paras[0]
	return ctl, nil
}

func readDataTar(ctx context.Context, r io.Reader, name string, lim archive.Limits, fn DataFunc) error {
	tr, err := archive.NewReader(r, name, lim)
	if err != nil {
		return err
	}
	defer tr.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(h, tr); err != nil {
			return fmt.Errorf("%s: entry %q: %w", name, h.Name, err)
		}
	}
}

// parseParagraphs reads deb822 paragraphs (a clearsigned document's
// signature is stripped unchecked; check it first where it matters).
func parseParagraphs(b []byte) ([]control.Paragraph, error) {
	pr, err := control.NewParagraphReader(bytes.NewReader(b), nil)
	if err != nil {
		return nil, err
	}
	return pr.All()
}

// ParseParagraphs reads deb822 paragraphs, such as a .buildinfo or .dsc.
func ParseParagraphs(b []byte) ([]control.Paragraph, error) { return parseParagraphs(b) }

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}
