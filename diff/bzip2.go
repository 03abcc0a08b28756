package diff

import (
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
)

// bzip2Format compares bzip2 streams: block size apart from content.
type bzip2Format struct{}

func (bzip2Format) Name() string { return "bzip2" }

// Detect: "BZh", a block size digit, then a block or end-of-stream magic.
func (bzip2Format) Detect(h []byte) bool {
	if len(h) < 10 || !bytes.HasPrefix(h, []byte("BZh")) || h[3] < '1' || h[3] > '9' {
		return false
	}
	return bytes.HasPrefix(h[4:], []byte("1AY&SY")) || bytes.HasPrefix(h[4:], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90})
}

func (bzip2Format) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	return compareCompressed(c, a, b, depth, streamSpec{
		format:   "bzip2",
		suffixes: [][2]string{{".tbz2", ".tar"}, {".tbz", ".tar"}, {".bz2", ""}},
		header: func(h []byte) ([]metaField, int64, string, error) {
			if len(h) < 4 {
				return nil, 0, "", errors.New("truncated header")
			}
			bs := fmt.Sprintf("%dk", int(h[3]-'0')*100)
			return []metaField{{key: "block size", value: bs, cause: "compression"}}, 4,
				fmt.Sprintf("bzip2 compressed data, block size = %s", bs), nil
		},
		decompress: func(r io.Reader) (io.ReadCloser, error) { return io.NopCloser(bzip2.NewReader(r)), nil },
	})
}
