package diff

import (
	"fmt"

	"github.com/reprove/reprove/diff/archive"
)

// streamCompression is the compression a single-stream format decodes,
// or archive.None for any other format.
func streamCompression(f Format) archive.Compression {
	switch f.(type) {
	case gzipFormat, bzip2Format, xzFormat, zstdFormat, lzmaFormat:
		return archive.Compression(f.Name())
	}
	return archive.None
}

// streamSuffixes name a compressed stream's content after any compression
// ("control.tar.gz" and "control.tar.xz" both hold "control.tar").
var streamSuffixes = [][2]string{{".tgz", ".tar"}, {".txz", ".tar"}, {".tzst", ".tar"}, {".tbz2", ".tar"}, {".tbz", ".tar"},
	{".gz", ""}, {".xz", ""}, {".zst", ""}, {".bz2", ""}, {".lzma", ""}}

// compareRecompressed compares two streams compressed differently
// (a .deb's control.tar.gz against control.tar.xz): the change of
// compressor is the cause, and the decompressed contents are compared
// below it.
func (c *comparer) compareRecompressed(a, b *input, fa, fb Format, depth int) (*Node, error) {
	ia, err := decompressInput(c, a, innerLabel(a.label, streamSuffixes), streamCompression(fa))
	if err != nil {
		return nil, err
	}
	defer ia.done()
	ib, err := decompressInput(c, b, innerLabel(b.label, streamSuffixes), streamCompression(fb))
	if err != nil {
		return nil, err
	}
	defer ib.done()
	inner, err := c.compare(ia, ib, depth+1)
	if err != nil {
		return nil, err
	}
	n := newNode(a, b, KindMetadata, fb.Name())
	what := fmt.Sprintf("compression: %s → %s", fa.Name(), fb.Name())
	n.Comments = []string{what}
	if inner != nil {
		n.Kind = KindContainer
		n.Details = []*Node{inner}
	} else {
		n.Comments = append(n.Comments, "the decompressed contents are identical")
	}
	addCause(n, CauseCompressionChanged, what)
	return n, nil
}
