package archive

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// counter counts the bytes read through it: the input side of a meter.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// counterAt counts the bytes read through a ReaderAt.
type counterAt struct {
	r io.ReaderAt
	n *int64
}

func (c counterAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	*c.n += int64(n)
	return n, err
}

// meter counts the bytes an input unpacks to against the bytes read from
// it, and refuses the first byte past MaxBytes or MaxRatio.
type meter struct {
	input string
	lim   Limits
	in    *int64       // bytes read from the input so far
	read  func() int64 // or, when set, this reports them
	out   int64
	entry func() string // the entry being read, for errors; nil for a stream
}

// add accounts for n more output bytes of entry ("" for a stream).
func (m *meter) add(entry string, n int64) error {
	if entry == "" && m.entry != nil {
		entry = m.entry()
	}
	out := m.out + n
	if out > m.lim.MaxBytes {
		return newLimitError(m.input, entry, "total bytes", m.lim, fmt.Sprintf("more than %s unpacked", Size(m.lim.MaxBytes)))
	}
	var in int64
	if m.read != nil {
		in = m.read()
	} else {
		in = *m.in
	}
	in = max(in, 1)
	if out > m.lim.RatioGrace && out/in > m.lim.MaxRatio {
		return newLimitError(m.input, entry, "compression ratio", m.lim, fmt.Sprintf("%s unpacked from %s read", Size(out), Size(in)))
	}
	m.out = out
	return nil
}

// meteredReader refuses to return bytes past its meter's limits.
type meteredReader struct {
	r     io.Reader
	m     *meter
	entry string
}

func (r *meteredReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		if lerr := r.m.add(r.entry, int64(n)); lerr != nil {
			return 0, lerr
		}
	}
	return n, err
}

// Decompress returns the decompressed stream of r, whose compression is c
// (None returns r as it is). Its output is bounded by lim: MaxBytes in all,
// MaxRatio against the bytes read from r, and MaxDecoderMemory for the
// decoder's window or dictionary. Past a limit, Read returns a
// *LimitError naming name. Close releases the decoder, not r.
func Decompress(c Compression, r io.Reader, name string, lim Limits) (io.ReadCloser, error) {
	lim = lim.WithDefaults()
	cr := &counter{r: r}
	dec, closeFn, err := decoder(c, cr, name, lim)
	if err != nil {
		return nil, err
	}
	m := &meter{input: name, lim: lim, in: &cr.n}
	return readCloser{Reader: &meteredReader{r: dec, m: m}, close: closeFn}, nil
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error {
	r.close()
	return nil
}

// decoder returns c's decoder over r, with its memory bounded.
func decoder(c Compression, r io.Reader, name string, lim Limits) (io.Reader, func(), error) {
	nop := func() {}
	switch c {
	case None:
		return r, nop, nil
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nop, fmt.Errorf("%s: reading gzip: %w", name, err)
		}
		return zr, func() { zr.Close() }, nil
	case XZ:
		return xzDecoder(r, name, lim)
	case Zstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(uint64(max(lim.MaxDecoderMemory, zstd.MinWindowSize))))
		if err != nil {
			return nil, nop, fmt.Errorf("%s: reading zstd: %w", name, err)
		}
		return zstdErrors{zr, name, lim}, zr.Close, nil
	case Bzip2:
		return bzip2.NewReader(r), nop, nil
	case LZMA:
		return lzmaDecoder(r, name, lim)
	}
	return nil, nop, fmt.Errorf("%s: unknown compression %q", name, c)
}

// zstdErrors turns the decoder's window error into a *LimitError.
type zstdErrors struct {
	d    *zstd.Decoder
	name string
	lim  Limits
}

func (z zstdErrors) Read(p []byte) (int, error) {
	n, err := z.d.Read(p)
	if err == zstd.ErrWindowSizeExceeded {
		return n, newLimitError(z.name, "", "decoder memory", z.lim, "a zstd frame asks for a larger window")
	}
	return n, err
}

// xzDecoder checks the dictionary the first block asks for before the
// decoder allocates it (later blocks of the same stream use the same
// filters when xz wrote them; a crafted one is still bounded by MaxBytes
// and MaxRatio).
func xzDecoder(r io.Reader, name string, lim Limits) (io.Reader, func(), error) {
	nop := func() {}
	head := make([]byte, 12+1024)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, nop, fmt.Errorf("%s: reading xz: %w", name, err)
	}
	head = head[:n]
	if dict, ok := xzFirstDict(head); ok && dict > lim.MaxDecoderMemory {
		return nil, nop, newLimitError(name, "", "decoder memory", lim, "an xz block asks for a "+Size(dict)+" dictionary")
	}
	xr, err := xz.NewReader(io.MultiReader(bytes.NewReader(head), r))
	if err != nil {
		return nil, nop, fmt.Errorf("%s: reading xz: %w", name, err)
	}
	return xr, nop, nil
}

// xzFirstDict reads the LZMA2 dictionary size of the first block's filter
// chain, after the 12-byte stream header.
func xzFirstDict(h []byte) (int64, bool) {
	if len(h) < 13 || h[12] == 0 {
		return 0, false
	}
	bh := h[12:]
	size := (int(bh[0]) + 1) * 4
	if len(bh) < size || size < 2 {
		return 0, false
	}
	flags := bh[1]
	p := 2
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && p < size; i++ {
			b := bh[p]
			p++
			v |= uint64(b&0x7f) << (7 * i)
			if b&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	if flags&0x40 != 0 {
		if _, ok := varint(); !ok {
			return 0, false
		}
	}
	if flags&0x80 != 0 {
		if _, ok := varint(); !ok {
			return 0, false
		}
	}
	var best int64
	for range int(flags&3) + 1 {
		id, ok := varint()
		if !ok {
			return 0, false
		}
		psize, ok := varint()
		if !ok || p+int(psize) > size {
			return 0, false
		}
		if id == 0x21 && psize == 1 {
			if d, err := lzma.DecodeDictCap(bh[p]); err == nil {
				best = max(best, d)
			}
		}
		p += int(psize)
	}
	return best, best > 0
}

func lzmaDecoder(r io.Reader, name string, lim Limits) (io.Reader, func(), error) {
	nop := func() {}
	head := make([]byte, 13)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, nop, fmt.Errorf("%s: reading lzma header: %w", name, err)
	}
	if dict := int64(binary.LittleEndian.Uint32(head[1:5])); dict > lim.MaxDecoderMemory {
		return nil, nop, newLimitError(name, "", "decoder memory", lim, "the lzma header asks for a "+Size(dict)+" dictionary")
	}
	lr, err := lzma.ReaderConfig{DictCap: int(min(lim.MaxDecoderMemory, lzma.MaxDictCap))}.NewReader(io.MultiReader(bytes.NewReader(head), r))
	if err != nil {
		return nil, nop, fmt.Errorf("%s: reading lzma: %w", name, err)
	}
	return lr, nop, nil
}

// Bound returns r with its output counted against lim as the content of
// entry of input, where read reports how many stored bytes were read so far
// to produce it (a zip member's compressed bytes, a compressed ELF
// section's): past MaxBytes, or past MaxRatio of read() once RatioGrace
// bytes came out, Read returns a *LimitError.
func Bound(r io.Reader, read func() int64, input, entry string, lim Limits) io.Reader {
	lim = lim.WithDefaults()
	return &meteredReader{r: r, m: &meter{input: input, lim: lim, read: read}, entry: entry}
}

// CountingReaderAt counts the bytes read through it, for Bound.
type CountingReaderAt struct {
	R io.ReaderAt
	n atomic.Int64
}

// ReadAt reads from R and counts.
func (c *CountingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.R.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// Since returns a func reporting the bytes read since now.
func (c *CountingReaderAt) Since() func() int64 {
	base := c.n.Load()
	return func() int64 { return c.n.Load() - base }
}
