package archive

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"time"
)

// cpioReader reads cpio archives in the SVR4 "newc" format (with or without
// CRC, as initramfs and RPM payloads use), the POSIX "odc" format and the
// old binary format in either byte order. It is written here because the
// maintained Go library reads newc only.
type cpioReader struct {
	src  *position
	v    *cpioVariant
	body *io.LimitedReader
	pad  int64
}

// cpioVariant is one header layout.
type cpioVariant struct {
	name  string
	magic []byte
	size  int // header bytes
	align int64
	parse func(v *cpioVariant, hdr []byte) (cpioFields, error)
	order binary.ByteOrder // binary format only
}

type cpioFields struct {
	ino, mode, uid, gid, nlink, mtime, size, namesize, devmajor, devminor int64
}

var cpioVariants = []*cpioVariant{
	{name: "newc", magic: []byte("070701"), size: 110, align: 4, parse: parseNewc},
	{name: "newc+crc", magic: []byte("070702"), size: 110, align: 4, parse: parseNewc},
	{name: "odc", magic: []byte("070707"), size: 76, align: 1, parse: parseOdc},
	{name: "binary", magic: []byte{0xc7, 0x71}, size: 26, align: 2, parse: parseBin, order: binary.LittleEndian},
	{name: "binary big-endian", magic: []byte{0x71, 0xc7}, size: 26, align: 2, parse: parseBin, order: binary.BigEndian},
}

// cpioVariantOf returns the layout of the cpio header that head starts
// with, or nil. The header must parse and its name must fit and end in a
// NUL where head holds it: the binary format's magic is two bytes only.
func cpioVariantOf(head []byte) *cpioVariant {
	for _, v := range cpioVariants {
		if len(head) < v.size || !bytes.HasPrefix(head, v.magic) {
			continue
		}
		f, err := v.parse(v, head[:v.size])
		if err != nil || f.namesize < 1 || f.namesize > 4096 {
			return nil
		}
		if end := int64(v.size) + f.namesize; end <= int64(len(head)) && head[end-1] != 0 {
			return nil
		}
		return v
	}
	return nil
}

func parseNewc(_ *cpioVariant, h []byte) (cpioFields, error) {
	var v [13]int64
	for i := range v {
		x, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
		if err != nil {
			return cpioFields{}, fmt.Errorf("bad newc header field %q", h[6+8*i:14+8*i])
		}
		v[i] = int64(x)
	}
	return cpioFields{ino: v[0], mode: v[1], uid: v[2], gid: v[3], nlink: v[4], mtime: v[5], size: v[6],
		devmajor: v[9], devminor: v[10], namesize: v[11]}, nil
}

func parseOdc(_ *cpioVariant, h []byte) (cpioFields, error) {
	widths := []int{6, 6, 6, 6, 6, 6, 6, 11, 6, 11} // dev ino mode uid gid nlink rdev mtime namesize filesize
	var v [10]int64
	p := 6
	for i, w := range widths {
		x, err := strconv.ParseUint(string(h[p:p+w]), 8, 40)
		if err != nil {
			return cpioFields{}, fmt.Errorf("bad odc header field %q", h[p:p+w])
		}
		v[i] = int64(x)
		p += w
	}
	return cpioFields{ino: v[1], mode: v[2], uid: v[3], gid: v[4], nlink: v[5], mtime: v[7], namesize: v[8], size: v[9],
		devmajor: v[6] >> 8, devminor: v[6] & 0xff}, nil
}

func parseBin(cv *cpioVariant, h []byte) (cpioFields, error) {
	w := func(i int) int64 { return int64(cv.order.Uint16(h[2*i:])) }
	long := func(i int) int64 { return w(i)<<16 | w(i+1) }
	return cpioFields{ino: w(2), mode: w(3), uid: w(4), gid: w(5), nlink: w(6), mtime: long(8), namesize: w(10), size: long(11),
		devmajor: w(7) >> 8, devminor: w(7) & 0xff}, nil
}

var cpioTypes = map[int64]Type{0o100000: TypeFile, 0o040000: TypeDir, 0o120000: TypeSymlink,
	0o020000: TypeChar, 0o060000: TypeBlock, 0o010000: TypeFifo}

func pad(n, align int64) int64 { return (align - n%align) % align }

func (c *cpioReader) next() (*Header, io.Reader, error) {
	if c.body != nil {
		if err := c.src.skip(c.body.N + c.pad); err != nil {
			return nil, nil, err
		}
	}
	off := c.src.pos
	v, hdr, err := c.readHeader()
	if err != nil {
		return nil, nil, fmt.Errorf("reading cpio header at offset %d: %w", off, err)
	}
	f, err := v.parse(v, hdr)
	if err != nil {
		return nil, nil, fmt.Errorf("cpio header at offset %d: %w", off, err)
	}
	if f.namesize < 1 || f.namesize > 1<<16 {
		return nil, nil, fmt.Errorf("cpio header at offset %d: bad name size %d", off, f.namesize)
	}
	nb := make([]byte, f.namesize+pad(int64(v.size)+f.namesize, v.align))
	if _, err := io.ReadFull(c.src, nb); err != nil {
		return nil, nil, fmt.Errorf("reading cpio name at offset %d: %w", off, noEOF(err))
	}
	name := string(bytes.TrimRight(nb[:f.namesize], "\x00"))
	c.body, c.pad = &io.LimitedReader{R: c.src, N: f.size}, pad(f.size, v.align)
	if name == "TRAILER!!!" {
		return nil, nil, io.EOF
	}
	return c.header(name, f, v)
}

// readHeader reads the next header; every header of an archive has the
// layout of the first.
func (c *cpioReader) readHeader() (*cpioVariant, []byte, error) {
	first := 2
	if c.v != nil {
		first = c.v.size
	}
	hdr := make([]byte, first, 110)
	if _, err := io.ReadFull(c.src, hdr); err != nil {
		return nil, nil, noEOF(err)
	}
	v := c.v
	if v == nil {
		if hdr[0] == '0' { // an ASCII layout: six magic digits
			hdr = hdr[:6]
			if _, err := io.ReadFull(c.src, hdr[2:]); err != nil {
				return nil, nil, noEOF(err)
			}
		}
		for _, cand := range cpioVariants {
			if bytes.Equal(cand.magic, hdr) {
				v = cand
			}
		}
		if v == nil {
			return nil, nil, fmt.Errorf("bad cpio magic %q", hdr)
		}
		n := len(hdr)
		hdr = hdr[:v.size]
		if _, err := io.ReadFull(c.src, hdr[n:]); err != nil {
			return nil, nil, noEOF(err)
		}
		c.v = v
	}
	if !bytes.HasPrefix(hdr, v.magic) {
		return nil, nil, fmt.Errorf("bad cpio magic %q (the archive started as %s)", hdr[:len(v.magic)], v.name)
	}
	return v, hdr, nil
}

func (c *cpioReader) header(name string, f cpioFields, v *cpioVariant) (*Header, io.Reader, error) {
	h := &Header{Name: name, Mode: fs.FileMode(f.mode & 0o777), UID: int(f.uid), GID: int(f.gid), HasOwner: true,
		ModTime: time.Unix(f.mtime, 0), HasModTime: true, Size: f.size, Devmajor: f.devmajor, Devminor: f.devminor, Offset: -1}
	for bit, m := range map[int64]fs.FileMode{0o4000: fs.ModeSetuid, 0o2000: fs.ModeSetgid, 0o1000: fs.ModeSticky} {
		if f.mode&bit != 0 {
			h.Mode |= m
		}
	}
	h.Type = cpioTypes[f.mode&0o170000]
	if h.Type == "" {
		h.Type = TypeOther
	}
	h.Extra = []Field{{"format", v.name}, {"nlink", strconv.FormatInt(f.nlink, 10)}}
	if h.Type == TypeSymlink {
		target, err := readLink(c.body, f.size, 4096)
		if err != nil {
			return nil, nil, fmt.Errorf("cpio entry %q: %w", name, err)
		}
		h.Linkname = target
		return h, bytes.NewReader(nil), nil
	}
	if h.Type == TypeFile {
		h.Offset = c.src.offset()
	}
	return h, c.body, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
