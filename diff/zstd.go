package diff

import (
	"errors"
	"fmt"
	"github.com/reprove/reprove/diff/archive"
)

// zstdFormat compares Zstandard frames: frame header flags apart from content.
type zstdFormat struct{}

func (zstdFormat) Name() string { return "zstd" }

// Detect: the zstd frame magic.
func (zstdFormat) Detect(h []byte) bool { return archive.DetectCompression(h) == archive.Zstd }

func (zstdFormat) compare(c *comparer, a, b *input, depth int) (*Node, error) {
	return compareCompressed(c, a, b, depth, streamSpec{
		format:   "zstd",
		suffixes: [][2]string{{".tzst", ".tar"}, {".zst", ""}, {".zstd", ""}},
		header: func(h []byte) ([]metaField, int64, string, error) {
			if len(h) < 5 {
				return nil, 0, "", errors.New("truncated frame header")
			}
			fhd := h[4]
			yn := func(b bool) string {
				if b {
					return "yes"
				}
				return "no"
			}
			fields := []metaField{
				{key: "checksum", value: yn(fhd&4 != 0), cause: CauseCompression},
				{key: "single segment", value: yn(fhd&0x20 != 0), cause: CauseCompression},
				{key: "content size recorded", value: yn(fhd>>6 != 0 || fhd&0x20 != 0), cause: CauseCompression},
				{key: "dictionary", value: yn(fhd&3 != 0), cause: CauseCompression},
			}
			if fhd&0x20 == 0 && len(h) > 5 {
				wd := h[5]
				exp := uint(wd>>3) + 10
				base := uint64(1) << exp
				win := base + base/8*uint64(wd&7)
				fields = append(fields, metaField{key: "window", value: fmt.Sprint(win), cause: CauseCompression})
			}
			return fields, 5, "Zstandard compressed data", nil
		},
		compression: archive.Zstd,
	})
}
