package diff

import (
	"fmt"
	"strings"
)

// binaryFormat compares any bytes: by chunks, with an xxd-style hex dump of
// a few lines around each difference, as a unified diff over those lines.
type binaryFormat struct{}

func (binaryFormat) Name() string { return "binary" }

// Detect accepts everything: binary is the last resort.
func (binaryFormat) Detect([]byte) bool { return true }

func (binaryFormat) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	n := newNode(a, b, KindContent, "binary")
	if err := c.offsetHexDiff(n, a, b); err != nil {
		return nil, err
	}
	return n, nil
}

// hexLine renders 16 bytes at off the way xxd does.
func hexLine(sb *strings.Builder, tag byte, off int64, p []byte) {
	const hexdig = "0123456789abcdef"
	sb.WriteByte(tag)
	fmt.Fprintf(sb, "%08x: ", off)
	w := 0
	for i, x := range p {
		sb.WriteByte(hexdig[x>>4])
		sb.WriteByte(hexdig[x&15])
		w += 2
		if i%2 == 1 {
			sb.WriteByte(' ')
			w++
		}
	}
	for ; w < 41; w++ {
		sb.WriteByte(' ')
	}
	for _, x := range p {
		if x >= 0x20 && x < 0x7f {
			sb.WriteByte(x)
		} else {
			sb.WriteByte('.')
		}
	}
	sb.WriteByte('\n')
}
