package diff

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

type hexRow struct {
	off  int64
	a, b []byte // nil when that side has ended
}

// offsetHexDiff walks both inputs in 16-byte lines at the same offsets,
// chunk by chunk, and writes hunks of differing lines with Context equal
// lines around them. It counts every differing byte even after the line
// limit is reached. It needs no memory per byte, but an insertion shows as
// everything after it differing: it is the fallback of the aligned diff.
func (c *comparer) offsetHexDiff(n *Node, a, b *input) error {
	ctx := c.opts.Context
	maxLines := c.opts.MaxDiffLines
	var sb strings.Builder
	lines := 0
	truncated := false
	var diffBytes, regions int64
	firstDiff := int64(-1)
	var strA, strB []string // printable strings near differences, for causes

	var lead []hexRow  // up to ctx equal rows before the next difference
	var hunk []hexRow  // rows of the open hunk
	var trail []hexRow // equal rows since the last difference in the hunk
	inHunk := false
	flush := func() {
		if !inHunk {
			return
		}
		rows := append(hunk, trail[:min(len(trail), ctx)]...)
		inHunk = false
		hunk, trail = nil, nil
		if lines >= maxLines {
			truncated = true
			return
		}
		var na, nb int
		startA, startB := -1, -1
		for _, r := range rows {
			if r.a != nil {
				if startA < 0 {
					startA = int(r.off / 16)
				}
				na++
			}
			if r.b != nil {
				if startB < 0 {
					startB = int(r.off / 16)
				}
				nb++
			}
		}
		if startA < 0 {
			startA = int(rows[0].off / 16)
		}
		if startB < 0 {
			startB = int(rows[0].off / 16)
		}
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(startA, na), hunkRange(startB, nb))
		lines++
		for i := 0; i < len(rows); {
			r := rows[i]
			if r.a != nil && r.b != nil && bytes.Equal(r.a, r.b) {
				hexLine(&sb, ' ', r.off, r.a)
				lines++
				i++
				continue
			}
			j := i
			for j < len(rows) && !(rows[j].a != nil && rows[j].b != nil && bytes.Equal(rows[j].a, rows[j].b)) {
				j++
			}
			for _, r := range rows[i:j] {
				if r.a != nil {
					hexLine(&sb, '-', r.off, r.a)
					lines++
				}
			}
			for _, r := range rows[i:j] {
				if r.b != nil {
					hexLine(&sb, '+', r.off, r.b)
					lines++
				}
			}
			if len(strA) < 256 {
				var pa, pb []byte
				for _, r := range rows[i:j] {
					pa = append(pa, r.a...)
					pb = append(pb, r.b...)
				}
				strA = append(strA, printable(pa)...)
				strB = append(strB, printable(pb)...)
			}
			i = j
		}
	}

	ra, rb := a.reader(), b.reader()
	ba, bb := make([]byte, chunkSize), make([]byte, chunkSize)
	var off int64
	for {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		na, erra := io.ReadFull(ra, ba)
		nb, errb := io.ReadFull(rb, bb)
		if erra != nil && erra != io.EOF && erra != io.ErrUnexpectedEOF {
			return fmt.Errorf("reading %s: %w", a.name, erra)
		}
		if errb != nil && errb != io.EOF && errb != io.ErrUnexpectedEOF {
			return fmt.Errorf("reading %s: %w", b.name, errb)
		}
		if na == 0 && nb == 0 {
			break
		}
		if na == nb && bytes.Equal(ba[:na], bb[:nb]) && !inHunk {
			// Fast path: an equal chunk only feeds the leading context.
			start := max(0, (na+15)/16-ctx)
			lead = lead[:0]
			for i := start; i*16 < na; i++ {
				e := min(i*16+16, na)
				row := append([]byte(nil), ba[i*16:e]...)
				lead = append(lead, hexRow{off: off + int64(i*16), a: row, b: row})
			}
			off += int64(na)
			continue
		}
		m := max(na, nb)
		for i := 0; i < m; i += 16 {
			var la, lb []byte
			if i < na {
				la = ba[i:min(i+16, na)]
			}
			if i < nb {
				lb = bb[i:min(i+16, nb)]
			}
			rowOff := off + int64(i)
			if la != nil && lb != nil && bytes.Equal(la, lb) {
				row := hexRow{off: rowOff, a: append([]byte(nil), la...), b: nil}
				row.b = row.a
				if inHunk {
					trail = append(trail, row)
					if len(trail) > 2*ctx {
						// Gap too long: close the hunk; the tail becomes lead.
						keep := trail[len(trail)-ctx:]
						trail = trail[:ctx]
						flush()
						lead = append(lead[:0], keep...)
					}
				} else {
					lead = append(lead, row)
					if len(lead) > ctx {
						lead = lead[1:]
					}
				}
				continue
			}
			// A differing row.
			if firstDiff < 0 {
				firstDiff = rowOff
			}
			diffBytes += countDiff(la, lb)
			if !inHunk {
				regions++
				inHunk = true
				hunk = append(hunk[:0], lead...)
				lead = lead[:0]
				trail = nil
			} else {
				hunk = append(hunk, trail...)
				trail = nil
			}
			if lines+len(hunk) < maxLines*2 {
				hunk = append(hunk, hexRow{off: rowOff, a: append([]byte(nil), la...), b: append([]byte(nil), lb...)})
				if la == nil {
					hunk[len(hunk)-1].a = nil
				}
				if lb == nil {
					hunk[len(hunk)-1].b = nil
				}
			} else {
				truncated = true
			}
		}
		off += int64(m)
		if erra != nil && errb != nil {
			break
		}
	}
	flush()
	if a.size != b.size {
		n.Comments = append(n.Comments, fmt.Sprintf("size differs: %d → %d bytes", a.size, b.size))
	}
	if firstDiff >= 0 {
		n.Comments = append(n.Comments, fmt.Sprintf("%d bytes differ in %d regions, the first at offset 0x%x", diffBytes, regions, firstDiff))
	}
	if truncated {
		n.Comments = append(n.Comments, fmt.Sprintf("hex diff truncated at %d lines", maxLines))
		c.limit(fmt.Sprintf("diff line limit of %d reached in at least one member (raise --max-diff-lines)", maxLines))
	}
	c.setHex(n, sb.String())
	addFindings(n, classifyText(strA, strB))
	return nil
}

func countDiff(a, b []byte) int64 {
	var d int64
	m := max(len(a), len(b))
	for i := 0; i < m; i++ {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			d++
		}
	}
	return d
}

// printable returns runs of at least 4 printable ASCII bytes in p.
func printable(p []byte) []string {
	var out []string
	start := -1
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] >= 0x20 && p[i] < 0x7f {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= 4 {
			out = append(out, string(p[start:i]))
		}
		start = -1
	}
	return out
}
