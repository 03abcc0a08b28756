package diff

import (
	"errors"
	"fmt"
	"github.com/reprove/reprove/diff/archive"
)

// xzFormat compares xz streams: integrity check type apart from content.
type xzFormat struct{}

func (xzFormat) Name() string { return "xz" }

// Detect: the xz stream header magic.
func (xzFormat) Detect(h []byte) bool { return archive.DetectCompression(h) == archive.XZ }

var xzChecks = map[byte]string{0: "none", 1: "CRC32", 4: "CRC64", 10: "SHA-256"}

func (xzFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	return compareCompressed(c, a, b, depth, streamSpec{
		format:   "xz",
		suffixes: [][2]string{{".txz", ".tar"}, {".xz", ""}},
		header: func(h []byte) ([]metaField, int64, string, error) {
			if len(h) < 12 {
				return nil, 0, "", errors.New("truncated stream header")
			}
			check := xzChecks[h[7]&0x0f]
			if check == "" {
				check = fmt.Sprintf("type %d", h[7]&0x0f)
			}
			return []metaField{{key: "check", value: check, cause: CauseCompression}}, 12, "XZ compressed data, checksum " + check, nil
		},
		compression: archive.XZ,
	})
}
