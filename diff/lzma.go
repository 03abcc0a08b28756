package diff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/reprove/reprove/diff/archive"
)

// lzmaFormat compares legacy .lzma ("LZMA alone") streams: properties and
// dictionary size apart from content.
type lzmaFormat struct{}

func (lzmaFormat) Name() string { return "lzma" }

// Detect: the format has no magic; accept a 13-byte header with valid
// properties, a dictionary size of 2^n or 2^n+2^(n-1) and a plausible size.
func (lzmaFormat) Detect(h []byte) bool { return archive.DetectCompression(h) == archive.LZMA }

func (lzmaFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	return compareCompressed(c, a, b, depth, streamSpec{
		format:   "lzma",
		suffixes: [][2]string{{".tlz", ".tar"}, {".lzma", ""}},
		header: func(h []byte) ([]metaField, int64, string, error) {
			if len(h) < 13 {
				return nil, 0, "", errors.New("truncated header")
			}
			p := int(h[0])
			lc, lp, pb := p%9, (p/9)%5, p/45
			dict := binary.LittleEndian.Uint32(h[1:5])
			size := binary.LittleEndian.Uint64(h[5:13])
			sz := "unknown"
			if size != ^uint64(0) {
				sz = fmt.Sprint(size)
			}
			return []metaField{
					{key: "properties", value: fmt.Sprintf("lc=%d lp=%d pb=%d", lc, lp, pb), cause: CauseCompression},
					{key: "dictionary size", value: fmt.Sprint(dict), cause: CauseCompression},
				}, 13,
				fmt.Sprintf("LZMA compressed data, lc=%d lp=%d pb=%d, dictionary %d, uncompressed size %s", lc, lp, pb, dict, sz), nil
		},
		compression: archive.LZMA,
	})
}
