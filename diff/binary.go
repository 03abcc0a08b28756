package diff

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// binaryFormat compares any bytes: the printable strings that differ
// first, then an xxd-style hex dump of the differing regions aligned by
// content (hexalign.go), as unified diffs.
type binaryFormat struct{}

func (binaryFormat) Name() string { return "binary" }

// Detect accepts everything: binary is the last resort.
func (binaryFormat) Detect([]byte) bool { return true }

func (binaryFormat) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	n := newNode(a, b, KindContent, "binary")
	if err := c.binaryDiff(n, a, b); err != nil {
		return nil, err
	}
	return n, nil
}

// binaryDiff fills n with the strings diff and the aligned hex diff of a
// and b, or the offset-aligned dump when their differing middles are too
// large to align.
func (c *comparer) binaryDiff(n *Node, a, b *input) error {
	changes, ok, err := alignChanges(a, b)
	if err != nil {
		return err
	}
	if !ok {
		n.Comments = append(n.Comments, fmt.Sprintf("the differing regions pass %d MiB: hex dump by offset, not aligned by content", maxAlignBytes>>20))
		return c.offsetHexDiff(n, a, b)
	}
	if a.size != b.size {
		n.Comments = append(n.Comments, fmt.Sprintf("size differs: %d → %d bytes", a.size, b.size))
	}
	diffBytes, err := changeStats(a, b, changes)
	if err != nil {
		return err
	}
	if len(changes) > 0 {
		n.Comments = append(n.Comments, fmt.Sprintf("%d bytes differ in %d regions (aligned by content), the first at offset 0x%x", diffBytes, len(changes), changes[0].a.off))
	}
	if err := c.stringsDiff(n, a, b, changes); err != nil {
		return err
	}
	h := &hexHunks{c: c, a: a, b: b}
	text := h.render(changes)
	if h.truncated {
		n.Comments = append(n.Comments, fmt.Sprintf("hex diff truncated at %d lines", c.opts.MaxDiffLines))
		c.limit(fmt.Sprintf("diff line limit of %d reached in at least one member (raise --max-diff-lines)", c.opts.MaxDiffLines))
	}
	c.setHex(n, text)
	return nil
}

// minStringLen is the shortest printable run the strings diff lists.
const minStringLen = 6

// maxStringsRegion bounds the bytes of each side the strings diff reads.
const maxStringsRegion = 16 << 20

// stringsDiff sets n's unified diff to the printable strings (runs of at
// least minStringLen bytes, as strings(1) lists them) of the differing
// regions, widened to whole strings, and names the causes their change
// suggests. It is what a person reads first, so it is set before the hex.
func (c *comparer) stringsDiff(n *Node, a, b *input, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	ra := span{changes[0].a.off, changes[len(changes)-1].a.end}
	rb := span{changes[0].b.off, changes[len(changes)-1].b.end}
	sa, err := stringsIn(a, widen(a, ra))
	if err != nil {
		return err
	}
	sb, err := stringsIn(b, widen(b, rb))
	if err != nil {
		return err
	}
	text, removed, added, truncated := unifiedDiff(sa, sb, c.opts.Context, c.opts.MaxDiffLines)
	if text == "" {
		return nil
	}
	if truncated {
		c.limit(fmt.Sprintf("diff line limit of %d reached in at least one member (raise --max-diff-lines)", c.opts.MaxDiffLines))
	}
	n.Comments = append(n.Comments, fmt.Sprintf("strings (printable runs of %d or more bytes) of the differing regions are shown first, then the hex dump", minStringLen))
	c.setUnified(n, text)
	addFindings(n, classifyText(removed, added))
	return nil
}

// widen extends s to whole printable runs (at most 4 KiB each way) and
// bounds it to maxStringsRegion.
func widen(in *input, s span) span {
	const reach = 4 << 10
	s.end = min(s.end, s.off+maxStringsRegion)
	before := make([]byte, min(reach, s.off))
	if _, err := in.ra.ReadAt(before, s.off-int64(len(before))); err == nil || err == io.EOF {
		i := len(before)
		for i > 0 && isPrint(before[i-1]) {
			i--
		}
		s.off -= int64(len(before) - i)
	}
	after := make([]byte, min(reach, in.size-s.end))
	if _, err := in.ra.ReadAt(after, s.end); err == nil || err == io.EOF {
		i := 0
		for i < len(after) && isPrint(after[i]) {
			i++
		}
		s.end += int64(i)
	}
	return s
}

func isPrint(x byte) bool { return x >= 0x20 && x < 0x7f || x == '\t' }

// stringsIn lists the printable runs of at least minStringLen bytes of s,
// each as a line.
func stringsIn(in *input, s span) ([]string, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(in.ra, s.off, s.len()), 64<<10)
	var out []string
	var cur []byte
	flush := func() {
		if len(cur) >= minStringLen && len(out) < maxTextLines {
			out = append(out, string(cur)+"\n")
		}
		cur = cur[:0]
	}
	for {
		x, err := br.ReadByte()
		if err == io.EOF {
			flush()
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", in.name, err)
		}
		if isPrint(x) {
			if len(cur) < 4096 {
				cur = append(cur, x)
			}
			continue
		}
		flush()
	}
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
