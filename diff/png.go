package diff

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/reprove/reprove/diff/archive"
)

// pngFormat compares PNG images chunk by chunk: the header, text chunks
// (tEXt, zTXt, iTXt), the tIME chunk (an embedded date), other chunks by
// size and CRC, and the image data both as stored and as inflated, so
// that recompressed but equal pixels are a compression difference.
type pngFormat struct{}

func (pngFormat) Name() string { return "png" }

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// Detect: the PNG signature.
func (pngFormat) Detect(h []byte) bool { return bytes.HasPrefix(h, pngMagic) }

// pngInfo is a decoded PNG: its chunk lines and what causes look at.
type pngInfo struct {
	chunks         []string
	time           string
	idatSum, pixel string
}

// maxPNGText bounds one text chunk decoded.
const maxPNGText = 1 << 20

func parsePNG(c *comparer, in *input) (*pngInfo, error) {
	info := &pngInfo{}
	idat, pixels := sha256.New(), sha256.New()
	pr, pw := io.Pipe()
	inflated := make(chan error, 1)
	go func() { inflated <- inflatePixels(c, in, pr, pixels) }()
	var idatBytes int64
	err := forChunks(in, func(typ string, off, size int64) error {
		switch typ {
		case "IDAT":
			idatBytes += size
			if _, err := io.Copy(io.MultiWriter(idat, pw), io.NewSectionReader(in.ra, off, size)); err != nil {
				return err
			}
			return nil
		case "IHDR", "tIME", "tEXt", "zTXt", "iTXt":
			if size > maxPNGText {
				info.chunks = append(info.chunks, fmt.Sprintf("%s: %d bytes (not decoded)", typ, size))
				return nil
			}
			data := make([]byte, size)
			if _, err := in.ra.ReadAt(data, off); err != nil {
				return err
			}
			line := pngChunkLine(typ, data)
			if typ == "tIME" {
				info.time = line
			}
			info.chunks = append(info.chunks, line)
			return nil
		}
		info.chunks = append(info.chunks, fmt.Sprintf("%s: %d bytes", typ, size))
		return nil
	})
	pw.CloseWithError(err)
	if perr := <-inflated; err == nil && perr != nil {
		info.pixel = "pixels: not inflated: " + perr.Error()
	}
	if err != nil {
		return nil, err
	}
	info.idatSum = fmt.Sprintf("IDAT: %d bytes, sha256 %x", idatBytes, idat.Sum(nil))
	if info.pixel == "" {
		info.pixel = fmt.Sprintf("pixels (inflated IDAT): sha256 %x", pixels.Sum(nil))
	}
	return info, nil
}

// inflatePixels hashes the inflated image data read from r, bounded as a
// stream of in, and drains r whatever happens.
func inflatePixels(c *comparer, in *input, r io.Reader, h io.Writer) error {
	defer io.Copy(io.Discard, r)
	cr := &countingReader{r: r}
	zr, err := zlib.NewReader(cr)
	if err != nil {
		return err
	}
	_, err = io.Copy(h, archive.Bound(zr, func() int64 { return cr.n }, in.name, "IDAT", c.opts.Limits))
	return err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// forChunks calls fn with each chunk's type, data offset and size.
func forChunks(in *input, fn func(typ string, off, size int64) error) error {
	off := int64(len(pngMagic))
	hdr := make([]byte, 8)
	for off < in.size {
		if _, err := in.ra.ReadAt(hdr, off); err != nil {
			return fmt.Errorf("chunk header at %d: %w", off, err)
		}
		size := int64(binary.BigEndian.Uint32(hdr))
		typ := string(hdr[4:])
		if off+8+size+4 > in.size {
			return fmt.Errorf("chunk %q at %d runs past the end", typ, off)
		}
		if err := fn(typ, off+8, size); err != nil {
			return err
		}
		off += 12 + size
		if typ == "IEND" {
			return nil
		}
	}
	return errors.New("no IEND chunk")
}

func pngChunkLine(typ string, d []byte) string {
	switch typ {
	case "IHDR":
		if len(d) >= 13 {
			return fmt.Sprintf("IHDR: %dx%d, bit depth %d, color type %d, interlace %d", binary.BigEndian.Uint32(d), binary.BigEndian.Uint32(d[4:]), d[8], d[9], d[12])
		}
	case "tIME":
		if len(d) >= 7 {
			return fmt.Sprintf("tIME: %04d-%02d-%02d %02d:%02d:%02d", binary.BigEndian.Uint16(d), d[2], d[3], d[4], d[5], d[6])
		}
	case "tEXt":
		k, v, _ := bytes.Cut(d, []byte{0})
		return fmt.Sprintf("tEXt %s: %q", k, v)
	case "zTXt", "iTXt":
		k, rest, _ := bytes.Cut(d, []byte{0})
		if typ == "zTXt" && len(rest) > 0 {
			if zr, err := zlib.NewReader(bytes.NewReader(rest[1:])); err == nil {
				v, _ := io.ReadAll(io.LimitReader(zr, maxPNGText))
				return fmt.Sprintf("zTXt %s: %q", k, v)
			}
		}
		return fmt.Sprintf("%s %s: %q", typ, k, strings.ToValidUTF8(string(rest), "?"))
	}
	return fmt.Sprintf("%s: % x", typ, d)
}

func (pngFormat) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	ia, ib, err := bothInputs(a, b, func(in *input) (*pngInfo, error) { return parsePNG(c, in) })
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	lines := func(p *pngInfo) []string { return append(append([]string(nil), p.chunks...), p.pixel) }
	details := c.compareViews(a, b, "png", []view{{"sng {}", "png chunks", lines(ia)}}, []view{{"sng {}", "png chunks", lines(ib)}}, false)
	if len(details) > 0 {
		n := details[0]
		valueChange(n, CauseEmbeddedDate, "tIME", strings.TrimPrefix(ia.time, "tIME: "), strings.TrimPrefix(ib.time, "tIME: "))
		isText := func(l string) bool {
			return strings.HasPrefix(l, "tEXt ") || strings.HasPrefix(l, "zTXt ") || strings.HasPrefix(l, "iTXt ")
		}
		addFindings(n, classifyText(changedLines(ia.chunks, ib.chunks, isText)))
	}
	if ia.idatSum != ib.idatSum && ia.pixel == ib.pixel {
		n := newNode(a, b, KindMetadata, "png")
		n.Name1, n.Name2 = "image data", "image data"
		n.Source1, n.Source2 = a.name+" (image data)", b.name+" (image data)"
		n.Comments = []string{"the compressed image data differs but inflates to the same pixels: " + ia.idatSum + " → " + ib.idatSum}
		addCause(n, CauseCompression, ia.idatSum+" → "+ib.idatSum)
		details = append(details, n)
	}
	return c.finishFormat(a, b, "png", before, details, "the images hold the same chunks; their bytes differ in chunk order or CRCs"), nil
}
