package archive

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"time"
)

// Type is the kind of an entry.
type Type string

// Entry types.
const (
	TypeFile     Type = "file"
	TypeDir      Type = "dir"
	TypeSymlink  Type = "symlink"
	TypeHardlink Type = "hardlink"
	TypeChar     Type = "char"
	TypeBlock    Type = "block"
	TypeFifo     Type = "fifo"
	TypeOther    Type = "other"
)

// Header is one entry of an archive, as stored: Name is never cleaned (it
// may be absolute, hold "..", or be an OCI whiteout such as "a/.wh.b"), so
// that a caller decides what a name means. Clean gives the safe form.
type Header struct {
	Name       string
	Type       Type
	Mode       fs.FileMode // permission bits plus setuid, setgid and sticky, as stored
	UID, GID   int
	Uname      string
	Gname      string
	ModTime    time.Time
	HasOwner   bool  // UID and GID are recorded (not in zip)
	HasModTime bool  // ModTime is recorded (always, today)
	Size       int64 // logical size of the content (a sparse file's whole size)
	Linkname   string
	Sparse     bool // a GNU sparse file: its content is not stored contiguously
	Devmajor   int64
	Devminor   int64
	Extra      []Field // format-specific fields, in a stable order
	// Offset is where the content starts in the archive's uncompressed
	// bytes when the archive was opened with random access (Open on an
	// uncompressed input) and the content is stored contiguously; -1
	// otherwise. It lets a lister read a member in place.
	Offset int64
	Tar    *tar.Header // the tar header, in tar archives
	Zip    *zip.File   // the zip entry, in zip archives
}

// Field is one format-specific piece of metadata.
type Field struct{ Key, Value string }

// backend reads one archive format; content is the entry's bytes.
type backend interface {
	next() (h *Header, content io.Reader, err error)
}

// Reader iterates over the entries of one archive as a stream: Next
// returns each header, and Read reads the current entry's content. Content
// is counted against the Limits: Read returns a *LimitError at the first
// byte past one, as Next does for an entry past the entry count or name
// length.
type Reader struct {
	name    string
	format  Format
	comp    Compression
	lim     Limits
	meter   *meter
	b       backend
	entries int64
	cur     *Header
	body    io.Reader
	closers []func()
}

// Name is the input's name, as given to Open or NewReader.
func (r *Reader) Name() string { return r.name }

// Format is the archive format.
func (r *Reader) Format() Format { return r.format }

// Compression is the compression the archive was wrapped in, or None.
func (r *Reader) Compression() Compression { return r.comp }

// Limits are the limits the reader enforces, defaults filled in.
func (r *Reader) Limits() Limits { return r.lim }

// Close releases the decoders. It does not close the input.
func (r *Reader) Close() error {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
	return nil
}

// Next advances to the next entry; io.EOF after the last.
func (r *Reader) Next() (*Header, error) {
	h, content, err := r.b.next()
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		var le *LimitError
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: reading %s after %d entries: %w", r.name, r.format, r.entries, err)
	}
	r.entries++
	if r.entries > r.lim.MaxEntries {
		return nil, newLimitError(r.name, h.Name, "entry count", r.lim, "more than "+strconv.FormatInt(r.lim.MaxEntries, 10)+" entries")
	}
	for _, s := range []string{h.Name, h.Linkname} {
		if int64(len(s)) > r.lim.MaxNameLen {
			return nil, newLimitError(r.name, shorten(h.Name), "name length", r.lim, fmt.Sprintf("a name of %d bytes", len(s)))
		}
	}
	if h.Size < 0 || h.Size > r.lim.MaxBytes-r.meter.out {
		return nil, newLimitError(r.name, h.Name, "total bytes", r.lim, "the entry claims "+Size(h.Size)+" after "+Size(r.meter.out))
	}
	r.cur = h
	r.body = &meteredReader{r: content, m: r.meter, entry: h.Name}
	return h, nil
}

func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// current is the name of the entry being read, "" before the first.
func (r *Reader) current() string {
	if r.cur == nil {
		return ""
	}
	return r.cur.Name
}

// Read reads the current entry's content.
func (r *Reader) Read(p []byte) (int, error) {
	if r.body == nil {
		return 0, io.EOF
	}
	return r.body.Read(p)
}

// Open reads the archive held in ra (size bytes): compressed or not,
// recognised by content. An uncompressed tar, ar or cpio is read in place,
// so Header.Offset is set for contiguous contents; a zip needs random
// access and is only read here.
func Open(ra io.ReaderAt, size int64, name string, lim Limits) (*Reader, error) {
	lim = lim.WithDefaults()
	head := make([]byte, HeadSize)
	n, err := ra.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	head = head[:n]
	if DetectCompression(head) != None {
		return NewReader(io.NewSectionReader(ra, 0, size), name, lim)
	}
	var in int64
	r := &Reader{name: name, lim: lim, meter: &meter{input: name, lim: lim, in: &in}}
	r.format = DetectFormat(head)
	if r.format == Zip {
		b, err := newZip(counterAt{ra, &in}, size, name, lim)
		if err != nil {
			return nil, err
		}
		r.b = b
		return r, nil
	}
	src := newSeekable(io.NewSectionReader(counterAt{ra, &in}, 0, size))
	return r, r.setBackend(src)
}

// NewReader reads an archive from a stream, peeling compression layers
// (at most MaxDepth) until it finds a tar, ar or cpio archive.
func NewReader(s io.Reader, name string, lim Limits) (*Reader, error) {
	lim = lim.WithDefaults()
	cr := &counter{r: s}
	r := &Reader{name: name, lim: lim, meter: &meter{input: name, lim: lim, in: &cr.n}}
	var src io.Reader = cr
	for depth := int64(0); ; depth++ {
		br := bufio.NewReaderSize(src, 64<<10)
		head, err := br.Peek(HeadSize)
		if err != nil && err != io.EOF && len(head) < HeadSize {
			r.Close()
			var le *LimitError
			if errors.As(err, &le) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: reading %s: %w", name, r.comp, err)
		}
		c := DetectCompression(head)
		if c == None {
			r.format = DetectFormat(head)
			if r.format == Zip {
				r.Close()
				return nil, fmt.Errorf("%s: a zip archive inside a %s stream is not read; decompress it first", name, r.comp)
			}
			if err := r.setBackend(&position{r: br}); err != nil {
				r.Close()
				return nil, err
			}
			return r, nil
		}
		if depth >= lim.MaxDepth {
			r.Close()
			return nil, newLimitError(name, "", "nesting depth", lim, "more than "+strconv.FormatInt(lim.MaxDepth, 10)+" compression layers")
		}
		dec, closeFn, err := decoder(c, br, name, lim)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.closers = append(r.closers, closeFn)
		if r.comp == None {
			r.comp = c
		}
		m := &meter{input: name, lim: lim, in: &cr.n, entry: r.current}
		src = &meteredReader{r: dec, m: m}
	}
}

func (r *Reader) setBackend(src *position) error {
	switch r.format {
	case Tar:
		r.b = newTar(src)
	case Ar:
		b, err := newAr(src)
		if err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
		r.b = b
	case Cpio:
		r.b = &cpioReader{src: src}
	default:
		what := "a tar, zip, ar or cpio archive"
		if r.comp != None {
			return fmt.Errorf("%s: the %s stream holds no archive: its content is not %s", r.name, r.comp, what)
		}
		return fmt.Errorf("%s: not %s", r.name, what)
	}
	return nil
}

// position reads a stream, knowing its offset; it skips by seeking when
// the stream can. A seekable one is read through a buffer, which a seek
// within it keeps: listing small headers costs few reads.
type position struct {
	r        io.Reader
	pos      int64
	seekable bool // r is an io.ReadSeeker and pos an offset in the archive
	buf      *bufio.Reader
}

func newSeekable(rs io.ReadSeeker) *position {
	return &position{r: rs, seekable: true, buf: bufio.NewReaderSize(rs, 32<<10)}
}

func (p *position) Read(b []byte) (int, error) {
	var n int
	var err error
	if p.buf != nil {
		n, err = p.buf.Read(b)
	} else {
		n, err = p.r.Read(b)
	}
	p.pos += int64(n)
	return n, err
}

// Seek lets archive/tar skip contents without reading them; only offsets
// from the current position are used.
func (p *position) Seek(off int64, whence int) (int64, error) {
	if !p.seekable || whence != io.SeekCurrent {
		return 0, errors.New("not seekable")
	}
	if off >= 0 && off <= int64(p.buf.Buffered()) {
		n, err := p.buf.Discard(int(off))
		p.pos += int64(n)
		return p.pos, err
	}
	if _, err := p.r.(io.Seeker).Seek(p.pos+off, io.SeekStart); err != nil {
		return 0, err
	}
	p.buf.Reset(p.r)
	p.pos += off
	return p.pos, nil
}

// skip discards n bytes.
func (p *position) skip(n int64) error {
	if p.seekable {
		_, err := p.Seek(n, io.SeekCurrent)
		return err
	}
	k, err := io.CopyN(io.Discard, p, n)
	if err == io.EOF && k < n {
		return io.ErrUnexpectedEOF
	}
	return err
}

// offset is the current offset when it is one in the archive, else -1.
func (p *position) offset() int64 {
	if p.seekable {
		return p.pos
	}
	return -1
}

// readLink reads a link target stored as content (zip, cpio), at most max bytes.
func readLink(r io.Reader, size, max int64) (string, error) {
	if size > max {
		return "", fmt.Errorf("link target of %d bytes is longer than %d", size, max)
	}
	var b bytes.Buffer
	if _, err := io.CopyN(&b, r, size); err != nil {
		return "", fmt.Errorf("reading link target: %w", err)
	}
	return b.String(), nil
}

// modeBits are the bits of Header.Mode: permissions, setuid, setgid, sticky.
const modeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky
