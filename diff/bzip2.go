package diff

import (
	"errors"
	"fmt"
	"github.com/reprove/reprove/diff/archive"
)

// bzip2Format compares bzip2 streams: block size apart from content.
type bzip2Format struct{}

func (bzip2Format) Name() string { return "bzip2" }

// Detect: "BZh", a block size digit, then a block or end-of-stream magic.
func (bzip2Format) Detect(h []byte) bool { return archive.DetectCompression(h) == archive.Bzip2 }

func (bzip2Format) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	return compareCompressed(c, a, b, depth, streamSpec{
		format:   "bzip2",
		suffixes: [][2]string{{".tbz2", ".tar"}, {".tbz", ".tar"}, {".bz2", ""}},
		header: func(h []byte) ([]metaField, int64, string, error) {
			if len(h) < 4 {
				return nil, 0, "", errors.New("truncated header")
			}
			bs := fmt.Sprintf("%dk", int(h[3]-'0')*100)
			return []metaField{{key: "block size", value: bs, cause: CauseCompression}}, 4,
				fmt.Sprintf("bzip2 compressed data, block size = %s", bs), nil
		},
		compression: archive.Bzip2,
	})
}
