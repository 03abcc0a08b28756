package diff

import (
	"encoding/binary"
	"fmt"
	"time"
)

// pycFormat compares Python bytecode caches: the header (magic, flags,
// source mtime and size, or source hash), then the marshalled code as
// bytes. A changed source mtime is an embedded date.
type pycFormat struct{}

func (pycFormat) Name() string { return "pyc" }

// pycVersions names a few magic numbers; others are shown as numbers.
var pycVersions = map[uint16]string{62211: "2.7", 3379: "3.6", 3394: "3.7", 3413: "3.8", 3425: "3.9", 3439: "3.10", 3495: "3.11", 3531: "3.12", 3571: "3.13", 3605: "3.14"}

// Detect: a two-byte magic of Python 2.7 or 3.x followed by "\r\n".
func (pycFormat) Detect(h []byte) bool {
	if len(h) < 16 || h[2] != '\r' || h[3] != '\n' {
		return false
	}
	m := binary.LittleEndian.Uint16(h)
	return m == 62211 || m >= 3000 && m < 4000 && binary.LittleEndian.Uint32(h[4:]) <= 3
}

// pycHeader is a decoded header and its length.
type pycHeader struct {
	lines []string
	mtime string // "" for hash-based pycs
	size  int64
}

func parsePycHeader(in *input) (pycHeader, error) {
	h, err := in.head(16)
	if err != nil {
		return pycHeader{}, err
	}
	if len(h) < 8 {
		return pycHeader{}, fmt.Errorf("pyc header of %d bytes is truncated", len(h))
	}
	magic := binary.LittleEndian.Uint16(h)
	vers := pycVersions[magic]
	if vers == "" {
		vers = "unknown"
	}
	ph := pycHeader{lines: []string{fmt.Sprintf("magic %d (Python %s)", magic, vers)}}
	mtimeAt := 4
	ph.size = 8
	if magic >= 3392 { // PEP 552: a flags word
		if len(h) < 16 {
			return pycHeader{}, fmt.Errorf("pyc header of %d bytes is truncated", len(h))
		}
		flags := binary.LittleEndian.Uint32(h[4:])
		ph.lines = append(ph.lines, fmt.Sprintf("flags 0x%x", flags))
		ph.size, mtimeAt = 16, 8
		if flags&1 != 0 {
			ph.lines = append(ph.lines, fmt.Sprintf("source hash %x (checked: %v)", h[8:16], flags&2 != 0))
			return ph, nil
		}
	} else if magic >= 3000 && len(h) >= 12 {
		ph.size = 12
	}
	mt := binary.LittleEndian.Uint32(h[mtimeAt:])
	ph.mtime = fmt.Sprintf("%s (%d)", time.Unix(int64(mt), 0).UTC().Format(time.RFC3339), mt)
	ph.lines = append(ph.lines, "source mtime "+ph.mtime)
	if ph.size > 8 {
		ph.lines = append(ph.lines, fmt.Sprintf("source size %d", binary.LittleEndian.Uint32(h[mtimeAt+4:])))
	}
	return ph, nil
}

func (pycFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	ha, hb, err := bothInputs(a, b, parsePycHeader)
	if err != nil {
		return nil, err
	}
	before := c.hidden()
	details := c.compareViews(a, b, "pyc", []view{{"pyc header {}", "pyc header", ha.lines}}, []view{{"pyc header {}", "pyc header", hb.lines}}, false)
	if len(details) > 0 {
		valueChange(details[0], CauseEmbeddedDate, "source mtime", ha.mtime, hb.mtime)
	}
	ca, cb := subInput(a, "marshal data", ha.size, max(0, a.size-ha.size)), subInput(b, "marshal data", hb.size, max(0, b.size-hb.size))
	same, err := sameContent(ca, cb)
	if err != nil {
		return nil, err
	}
	if !same {
		n, err := binaryFormat{}.compare(c, ca, cb, depth+1)
		if err != nil {
			return nil, err
		}
		details = append(details, n)
	}
	return c.finishFormat(a, b, "pyc", before, details, "the pyc files decode the same"), nil
}
