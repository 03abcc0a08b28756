package diff

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// The aligned hex diff: both inputs are trimmed of their common head and
// tail, the differing middles are cut into content-defined chunks (a
// rolling hash picks the cut points, so an insertion moves no later cut),
// and the chunk sequences are diffed with the same differ as text. An
// inserted or deleted byte then shows as such, not as everything after it
// differing.

// maxAlignBytes bounds each side's differing middle the aligned diff
// reads into chunks; past it the offset-aligned dump is used.
const maxAlignBytes = 32 << 20

// maxAlignChunks bounds the chunks per side handed to the differ: the
// average chunk grows with the middle so that this holds.
const maxAlignChunks = 32 << 10

// span is a range of bytes of one side: [off, end).
type span struct{ off, end int64 }

func (s span) len() int64 { return s.end - s.off }

// commonEnds returns how many first bytes and how many last bytes a and b
// share (the two never overlap on either side).
func commonEnds(a, b *input) (prefix, suffix int64, err error) {
	const block = 64 << 10
	ba, bb := make([]byte, block), make([]byte, block)
	n := min(a.size, b.size)
	for prefix < n {
		k := min(block, n-prefix)
		if err := readBoth(a, b, ba[:k], bb[:k], prefix, prefix); err != nil {
			return 0, 0, err
		}
		if i := firstMismatch(ba[:k], bb[:k]); i >= 0 {
			prefix += int64(i)
			break
		}
		prefix += k
	}
	for suffix < n-prefix {
		k := min(block, n-prefix-suffix)
		if err := readBoth(a, b, ba[:k], bb[:k], a.size-suffix-k, b.size-suffix-k); err != nil {
			return 0, 0, err
		}
		i := k - 1
		for i >= 0 && ba[i] == bb[i] {
			i--
		}
		if i >= 0 {
			suffix += k - 1 - int64(i)
			break
		}
		suffix += k
	}
	return prefix, suffix, nil
}

func readBoth(a, b *input, pa, pb []byte, offA, offB int64) error {
	if _, err := a.ra.ReadAt(pa, offA); err != nil && err != io.EOF {
		return fmt.Errorf("reading %s: %w", a.name, err)
	}
	if _, err := b.ra.ReadAt(pb, offB); err != nil && err != io.EOF {
		return fmt.Errorf("reading %s: %w", b.name, err)
	}
	return nil
}

func firstMismatch(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// gear is the rolling hash's byte table, fixed so that cut points are the
// same on both sides and in every run.
var gear = func() (t [256]uint64) {
	x := uint64(0x9e3779b97f4a7c15)
	for i := range t {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		t[i] = z ^ z>>31
	}
	return t
}()

// chunk cuts the bytes of s in in into content-defined chunks of about
// avg bytes, returning each chunk's key (hash and length) and start.
func chunk(in *input, s span, avg int64) (keys []string, starts []int64, err error) {
	mask := uint64(avg - 1)
	minLen, maxLen := avg/4, avg*4
	br := bufio.NewReaderSize(io.NewSectionReader(in.ra, s.off, s.len()), 64<<10)
	var g, h uint64
	start, n := s.off, int64(0)
	h = 14695981039346656037
	cut := func() {
		keys = append(keys, strconv.FormatUint(h, 36)+"/"+strconv.FormatInt(n, 10))
		starts = append(starts, start)
		start += n
		n, g, h = 0, 0, 14695981039346656037
	}
	for i := s.off; i < s.end; i++ {
		x, err := br.ReadByte()
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", in.name, err)
		}
		g = g<<1 + gear[x]
		h = (h ^ uint64(x)) * 1099511628211
		n++
		if (n >= minLen && g&mask == 0) || n >= maxLen {
			cut()
		}
	}
	if n > 0 {
		cut()
	}
	return keys, append(starts, s.end), nil
}

// change is one differing region: bytes of a replaced by bytes of b.
type change struct{ a, b span }

// alignChanges returns the regions where a and b differ, aligned by
// content, or ok=false when the middles are too large to align (the
// caller then dumps by offset).
func alignChanges(a, b *input) (changes []change, ok bool, err error) {
	p, s, err := commonEnds(a, b)
	if err != nil {
		return nil, false, err
	}
	ma, mb := span{p, a.size - s}, span{p, b.size - s}
	if ma.len() > maxAlignBytes || mb.len() > maxAlignBytes {
		return nil, false, nil
	}
	if ma.len() == 0 || mb.len() == 0 || ma.len()+mb.len() <= 256 {
		return []change{{ma, mb}}, true, nil
	}
	avg := int64(64)
	for max(ma.len(), mb.len())/avg > maxAlignChunks {
		avg *= 2
	}
	ka, sa, err := chunk(a, ma, avg)
	if err != nil {
		return nil, false, err
	}
	kb, sb, err := chunk(b, mb, avg)
	if err != nil {
		return nil, false, err
	}
	for _, op := range difflib.NewMatcher(ka, kb).GetOpCodes() {
		if op.Tag != 'e' {
			changes = append(changes, change{span{sa[op.I1], sa[op.I2]}, span{sb[op.J1], sb[op.J2]}})
		}
	}
	return changes, true, nil
}

// hexHunks renders aligned changes as unified hunks of xxd-style rows:
// each change's rows on both sides, with up to Context equal rows of the
// left side around it; changes closer than that share a hunk.
type hexHunks struct {
	c         *comparer
	a, b      *input
	sb        strings.Builder
	lines     int
	truncated bool
}

func (h *hexHunks) row(tag byte, in *input, off, end int64) {
	if h.lines >= h.c.opts.MaxDiffLines {
		h.truncated = true
		return
	}
	buf := make([]byte, end-off)
	if _, err := in.ra.ReadAt(buf, off); err != nil && err != io.EOF {
		buf = nil
	}
	hexLine(&h.sb, tag, off, buf)
	h.lines++
}

// rows renders [off, end) of in as 16-byte rows aligned on 16.
func (h *hexHunks) rows(tag byte, in *input, off, end int64) {
	for r := off &^ 15; r < end && !h.truncated; r += 16 {
		h.row(tag, in, r, min(r+16, in.size))
	}
}

func (h *hexHunks) render(changes []change) string {
	ctx := int64(h.c.opts.Context) * 16
	for i := 0; i < len(changes) && !h.truncated; {
		j := i + 1
		for j < len(changes) && changes[j].a.off-changes[j-1].a.end < 2*ctx {
			j++
		}
		first, last := changes[i], changes[j-1]
		startA := max(0, first.a.off&^15-ctx)
		endA := min(h.a.size, roundUp16(last.a.end)+ctx)
		fmt.Fprintf(&h.sb, "@@ -0x%x,%d +0x%x,%d @@\n", first.a.off, last.a.end-first.a.off, first.b.off, last.b.end-first.b.off)
		h.lines++
		h.rows(' ', h.a, startA, first.a.off&^15)
		for k := i; k < j && !h.truncated; k++ {
			ch := changes[k]
			if k > i {
				h.rows(' ', h.a, roundUp16(changes[k-1].a.end), ch.a.off&^15)
			}
			h.changeRows(ch)
		}
		h.rows(' ', h.a, roundUp16(last.a.end), endA)
		i = j
	}
	return h.sb.String()
}

// changeRows renders one change: rows of a as removed and of b as added;
// a change in place of the same length shows its equal rows as context.
func (h *hexHunks) changeRows(ch change) {
	if ch.a == ch.b {
		for r := ch.a.off &^ 15; r < ch.a.end && !h.truncated; r += 16 {
			ra, rb := make([]byte, min(r+16, h.a.size)-r), make([]byte, min(r+16, h.b.size)-r)
			if err := readBoth(h.a, h.b, ra, rb, r, r); err == nil && bytes.Equal(ra, rb) {
				h.row(' ', h.a, r, r+int64(len(ra)))
				continue
			}
			h.row('-', h.a, r, r+int64(len(ra)))
			h.row('+', h.b, r, r+int64(len(rb)))
		}
		return
	}
	h.rows('-', h.a, ch.a.off, ch.a.end)
	h.rows('+', h.b, ch.b.off, ch.b.end)
}

func roundUp16(x int64) int64 { return (x + 15) &^ 15 }

// changeStats counts the bytes the changes cover: a change in place
// counts its differing bytes, another the larger of its two sides.
func changeStats(a, b *input, changes []change) (bytesDiff int64, err error) {
	for _, ch := range changes {
		if ch.a != ch.b || ch.a.len() > 1<<20 {
			bytesDiff += max(ch.a.len(), ch.b.len())
			continue
		}
		ra, rb := make([]byte, ch.a.len()), make([]byte, ch.b.len())
		if err := readBoth(a, b, ra, rb, ch.a.off, ch.b.off); err != nil {
			return 0, err
		}
		bytesDiff += countDiff(ra, rb)
	}
	return bytesDiff, nil
}
