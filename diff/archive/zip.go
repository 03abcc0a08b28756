package archive

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
)

// zipReader reads zip archives (and jmod files, a zip after 4 bytes) with
// archive/zip, which needs random access to the central directory.
type zipReader struct {
	zr   *zip.Reader
	i    int
	open io.ReadCloser
	lim  Limits
}

func newZip(ra io.ReaderAt, size int64, name string, lim Limits) (*zipReader, error) {
	head := make([]byte, 4)
	if _, err := ra.ReadAt(head, 0); err == nil && bytes.Equal(head, jmodPrefix) {
		ra, size = io.NewSectionReader(ra, 4, size-4), size-4
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("%s: reading zip: %w", name, err)
	}
	return &zipReader{zr: zr, lim: lim}, nil
}

// ZipReader is the archive/zip reader of a zip Reader, for listers that
// look at the whole central directory (nil for other formats).
func (r *Reader) ZipReader() *zip.Reader {
	if z, ok := r.b.(*zipReader); ok {
		return z.zr
	}
	return nil
}

func (z *zipReader) next() (*Header, io.Reader, error) {
	if z.open != nil {
		z.open.Close()
		z.open = nil
	}
	if z.i >= len(z.zr.File) {
		return nil, nil, io.EOF
	}
	f := z.zr.File[z.i]
	z.i++
	mode := f.Mode()
	h := &Header{Name: f.Name, Mode: mode & modeBits, ModTime: f.Modified, HasModTime: true,
		Size: int64(f.UncompressedSize64), Zip: f, Offset: -1}
	switch {
	case mode.IsDir():
		h.Type = TypeDir
	case mode&fs.ModeSymlink != 0:
		h.Type = TypeSymlink
	case mode.IsRegular():
		h.Type = TypeFile
	default:
		h.Type = TypeOther
	}
	if h.Type != TypeFile && h.Type != TypeSymlink {
		return h, bytes.NewReader(nil), nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("entry %q: %w", f.Name, err)
	}
	z.open = rc
	if h.Type == TypeSymlink {
		if h.Linkname, err = readLink(rc, h.Size, z.lim.MaxNameLen); err != nil {
			return nil, nil, fmt.Errorf("entry %q: %w", f.Name, err)
		}
		return h, bytes.NewReader(nil), nil
	}
	return h, rc, nil
}
