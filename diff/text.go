package diff

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/pmezard/go-difflib/difflib"
)

// textFormat compares text line by line with a unified diff.
type textFormat struct{}

func (textFormat) Name() string { return "text" }

// Detect: no NUL byte and valid UTF-8 (a rune cut by the end of head is fine).
func (textFormat) Detect(head []byte) bool { return looksText(head) }

func looksText(h []byte) bool {
	if bytes.IndexByte(h, 0) >= 0 {
		return false
	}
	for cut := 0; cut < 4 && cut <= len(h); cut++ {
		if utf8.Valid(h[:len(h)-cut]) {
			return true
		}
	}
	return false
}

// maxTextSize is the largest side diffed as text; larger texts are compared
// by the chunked hex comparison, which needs no memory per byte.
const maxTextSize = 16 << 20

// maxTextLines bounds the lines handed to the diff algorithm after the
// common head and tail are trimmed.
const maxTextLines = 50000

func (textFormat) compare(c *comparer, a, b *input, _ int) (*Node, error) {
	if a.size > maxTextSize || b.size > maxTextSize {
		n, err := binaryFormat{}.compare(c, a, b, 0)
		if n != nil {
			n.Comments = append(n.Comments, fmt.Sprintf("text larger than %d MiB compared as bytes", maxTextSize>>20))
		}
		return n, err
	}
	ta, err := io.ReadAll(a.reader())
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", a.name, err)
	}
	tb, err := io.ReadAll(b.reader())
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", b.name, err)
	}
	n := newNode(a, b, KindContent, "text")
	c.textDiff(n, string(ta), string(tb))
	return n, nil
}

// textDiff fills n with the unified diff of two texts and the causes its
// changed lines suggest.
func (c *comparer) textDiff(n *Node, ta, tb string) {
	la := splitLines(ta)
	lb := splitLines(tb)
	text, removed, added, truncated := unifiedDiff(la, lb, c.opts.Context, c.opts.MaxDiffLines)
	if truncated {
		n.Comments = append(n.Comments, fmt.Sprintf("diff truncated at %d lines", c.opts.MaxDiffLines))
		c.limit(fmt.Sprintf("diff line limit of %d reached in at least one member (raise --max-diff-lines)", c.opts.MaxDiffLines))
	}
	if text == "" && ta != tb {
		n.Comments = append(n.Comments, "texts differ only in line endings or a final newline")
	}
	c.setUnified(n, text)
	addFindings(n, classifyText(removed, added))
	c.opts.Times.explain(n, removed, added)
}

// splitLines splits after each "\n", keeping it, so a missing final newline
// is a difference.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// unifiedDiff returns the unified diff (hunks only, no file headers) of la
// and lb with ctx lines of context and at most maxLines lines, and the
// removed and added lines (for classification).
func unifiedDiff(la, lb []string, ctx, maxLines int) (text string, removed, added []string, truncated bool) {
	// Trim the common head and tail: the diff algorithm is quadratic in the
	// worst case, and most changes are small.
	pre := 0
	for pre < len(la) && pre < len(lb) && la[pre] == lb[pre] {
		pre++
	}
	suf := 0
	for suf < len(la)-pre && suf < len(lb)-pre && la[len(la)-1-suf] == lb[len(lb)-1-suf] {
		suf++
	}
	keepPre := min(pre, ctx)
	keepSuf := min(suf, ctx)
	ma := la[pre-keepPre : len(la)-suf+keepSuf]
	mb := lb[pre-keepPre : len(lb)-suf+keepSuf]
	offset := pre - keepPre
	if len(ma) > maxTextLines || len(mb) > maxTextLines {
		truncated = true
		ma = ma[:min(len(ma), maxTextLines)]
		mb = mb[:min(len(mb), maxTextLines)]
	}
	m := difflib.NewMatcher(ma, mb)
	var sb strings.Builder
	lines := 0
	emit := func(tag byte, l string) bool {
		if lines >= maxLines {
			truncated = true
			return false
		}
		writeLine(&sb, tag, l)
		lines++
		return true
	}
groups:
	for _, g := range m.GetGroupedOpCodes(ctx) {
		if lines >= maxLines {
			truncated = true
			break
		}
		first, last := g[0], g[len(g)-1]
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(offset+first.I1, last.I2-first.I1), hunkRange(offset+first.J1, last.J2-first.J1))
		lines++
		for _, op := range g {
			if op.Tag == 'e' {
				for _, l := range ma[op.I1:op.I2] {
					if !emit(' ', l) {
						break groups
					}
				}
				continue
			}
			if op.Tag == 'r' || op.Tag == 'd' {
				for _, l := range ma[op.I1:op.I2] {
					removed = append(removed, l)
					if !emit('-', l) {
						break groups
					}
				}
			}
			if op.Tag == 'r' || op.Tag == 'i' {
				for _, l := range mb[op.J1:op.J2] {
					added = append(added, l)
					if !emit('+', l) {
						break groups
					}
				}
			}
		}
	}
	return sb.String(), removed, added, truncated
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func writeLine(sb *strings.Builder, tag byte, l string) {
	sb.WriteByte(tag)
	if strings.HasSuffix(l, "\n") {
		sb.WriteString(l)
		return
	}
	sb.WriteString(l)
	sb.WriteString("\n\\ No newline at end of file\n")
}

// linesDiff is unifiedDiff over rendered lines (listings, headers) with the
// comparer's limits; it returns "" when the lines are equal.
func (c *comparer) linesDiff(n *Node, la, lb []string, classify bool) {
	la, lb = withNewlines(la), withNewlines(lb)
	text, removed, added, truncated := unifiedDiff(la, lb, c.opts.Context, c.opts.MaxDiffLines)
	if truncated {
		n.Comments = append(n.Comments, fmt.Sprintf("diff truncated at %d lines", c.opts.MaxDiffLines))
		c.limit(fmt.Sprintf("diff line limit of %d reached in at least one member (raise --max-diff-lines)", c.opts.MaxDiffLines))
	}
	c.setUnified(n, text)
	if classify {
		addFindings(n, classifyText(removed, added))
		c.opts.Times.explain(n, removed, added)
	}
}

// withNewlines returns a copy of lines, each ended by "\n".
func withNewlines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l + "\n"
	}
	return out
}
