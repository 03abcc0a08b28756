package diff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/reprove/reprove/diff/archive"
	"time"
)

// gzipFormat compares gzip streams: header fields (mtime, name, OS, level
// flag) apart from the decompressed content.
type gzipFormat struct{}

func (gzipFormat) Name() string { return "gzip" }

// Detect: magic 1f 8b and deflate method 8.
func (gzipFormat) Detect(h []byte) bool { return archive.DetectCompression(h) == archive.Gzip }

func (gzipFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	return compareCompressed(c, a, b, depth, streamSpec{
		format:      "gzip",
		suffixes:    [][2]string{{".tgz", ".tar"}, {".gz", ""}, {".z", ""}, {"-gz", ""}, {".svgz", ".svg"}},
		header:      gzipHeader,
		compression: archive.Gzip,
	})
}

var gzipOS = map[byte]string{0: "FAT", 1: "Amiga", 2: "VMS", 3: "Unix", 4: "VM/CMS", 5: "Atari", 6: "HPFS", 7: "Macintosh", 8: "Z-System",
	9: "CP/M", 10: "TOPS-20", 11: "NTFS", 12: "QDOS", 13: "Acorn RISCOS", 255: "unknown"}

// gzipHeader parses RFC 1952's member header.
func gzipHeader(h []byte) ([]metaField, int64, string, error) {
	if len(h) < 10 {
		return nil, 0, "", errors.New("truncated header")
	}
	flg := h[3]
	mtime := binary.LittleEndian.Uint32(h[4:8])
	xfl, osb := h[8], h[9]
	p := 10
	var extra, name, comment string
	if flg&4 != 0 {
		if len(h) < p+2 {
			return nil, 0, "", errors.New("truncated extra field")
		}
		n := int(binary.LittleEndian.Uint16(h[p:]))
		p += 2
		if len(h) < p+n {
			return nil, 0, "", errors.New("truncated extra field")
		}
		extra = fmt.Sprintf("%x", h[p:p+n])
		p += n
	}
	zstr := func() (string, error) {
		for i := p; i < len(h); i++ {
			if h[i] == 0 {
				s := string(h[p:i])
				p = i + 1
				return s, nil
			}
		}
		return "", errors.New("unterminated string in header")
	}
	var err error
	if flg&8 != 0 {
		if name, err = zstr(); err != nil {
			return nil, 0, "", err
		}
	}
	if flg&16 != 0 {
		if comment, err = zstr(); err != nil {
			return nil, 0, "", err
		}
	}
	if flg&2 != 0 {
		p += 2
	}
	osName := gzipOS[osb]
	if osName == "" {
		osName = fmt.Sprintf("OS %d", osb)
	}
	level := ""
	switch xfl {
	case 2:
		level = "max compression"
	case 4:
		level = "max speed"
	}
	fields := []metaField{
		{key: "mtime", value: fmt.Sprint(mtime), cause: CauseTimestamps, pass: "gzip-header"},
		{key: "name", value: name, cause: CauseArchiveFormat, pass: "gzip-header"},
		{key: "comment", value: comment, cause: CauseArchiveFormat, pass: "gzip-header"},
		{key: "extra", value: extra, cause: CauseArchiveFormat, pass: "gzip-header"},
		{key: "os", value: osName, cause: CauseArchiveFormat, pass: "gzip-header"},
		{key: "xfl", value: fmt.Sprintf("%d (%s)", xfl, orDash(level)), cause: CauseCompression, pass: "gzip-header"},
		{key: "flags", value: fmt.Sprintf("0x%02x", flg), cause: CauseArchiveFormat, pass: "gzip-header"},
	}
	desc := "gzip compressed data"
	if name != "" {
		desc += fmt.Sprintf(", was %q", name)
	}
	if mtime != 0 {
		desc += ", last modified: " + time.Unix(int64(mtime), 0).UTC().Format("Mon Jan _2 15:04:05 2006")
	}
	if level != "" {
		desc += ", " + level
	}
	desc += ", from " + osName
	return fields, int64(p), desc, nil
}
