package diff

import (
	"fmt"
	"io"
	"sort"

	"github.com/reprove/reprove/diff/archive"
)

// view is one rendering of an input as lines, the way a tool shows it (a
// header, a table, a listing), compared between the sides as text.
type view struct {
	label string // diffoscope's name for it: "javap -verbose {}"
	short string // ours: "class header"
	lines []string
}

// compareViews diffs the views of a and b with the same short name, in
// the order of va; classify names causes from the changed lines.
func (c *comparer) compareViews(a, b *input, format string, va, vb []view, classify bool) []*Node {
	byName := map[string][]string{}
	for _, v := range vb {
		byName[v.short] = v.lines
	}
	var out []*Node
	for _, v := range va {
		lb, ok := byName[v.short]
		if !ok || equalStrings(v.lines, lb) {
			continue
		}
		out = append(out, c.viewNode(a, b, format, v, append([]string(nil), lb...), classify))
	}
	return out
}

// viewNode is the node of one view that differs.
func (c *comparer) viewNode(a, b *input, format string, v view, lb []string, classify bool) *Node {
	n := newNode(a, b, KindContent, format)
	n.Name1, n.Name2 = v.label, v.label
	n.Source1, n.Source2 = a.name+" ["+v.short+"]", b.name+" ["+v.short+"]"
	c.linesDiff(n, append([]string(nil), v.lines...), lb, classify)
	return n
}

// finishFormat wraps a format's detail nodes; with none, the bytes differ
// where no view looks, which the unexplained node says.
func (c *comparer) finishFormat(a, b *input, format string, before int, details []*Node, why string) *Node {
	if len(details) == 0 {
		if n := c.unexplained(a, b, format, before, why); n != nil {
			details = append(details, n)
		}
	}
	return wrap(a, b, format, details)
}

// readTable reads all of in, which a format decodes whole, refusing it
// past Limits.MaxTableSize: the pair is then compared as bytes.
func (c *comparer) readTable(in *input, what string) ([]byte, error) {
	if max := c.opts.Limits.MaxTableSize; in.size > max {
		return nil, &archive.LimitError{Input: in.name, Entry: what, Limit: "table size", Max: max,
			Got: fmt.Sprintf("%s of %s", what, archive.Size(in.size)), Flag: "max-table-size"}
	}
	buf := make([]byte, in.size)
	if _, err := in.ra.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading %s: %w", in.name, err)
	}
	return buf, nil
}

// valueChange names cause on n when the values of key differ, with the
// change as evidence.
func valueChange(n *Node, cause CauseID, key, va, vb string) {
	if va != vb {
		addCause(n, cause, fmt.Sprintf("%s: %s → %s", key, orNone(va), orNone(vb)))
	}
}

// bothInputs runs parse on each side; a parse error means the pair is
// malformed and is compared as bytes.
func bothInputs[T any](a, b *input, parse func(*input) (T, error)) (T, T, error) {
	var zero T
	pa, err := parse(a)
	if err != nil {
		return zero, zero, fmt.Errorf("%s: %w", a.name, err)
	}
	pb, err := parse(b)
	if err != nil {
		return zero, zero, fmt.Errorf("%s: %w", b.name, err)
	}
	return pa, pb, nil
}

// changedLines returns the lines keep accepts that only one side has:
// those of la as removed, those of lb as added.
func changedLines(la, lb []string, keep func(string) bool) (removed, added []string) {
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, l := range la {
		inA[l] = true
	}
	for _, l := range lb {
		inB[l] = true
	}
	for _, l := range la {
		if !inB[l] && l != "" && keep(l) {
			removed = append(removed, l)
		}
	}
	for _, l := range lb {
		if !inA[l] && l != "" && keep(l) {
			added = append(added, l)
		}
	}
	return removed, added
}

// sortEvidence orders n's causes and evidence, which were found by
// walking maps.
func sortEvidence(n *Node) {
	sort.Slice(n.Causes, func(i, j int) bool { return n.Causes[i] < n.Causes[j] })
	sort.SliceStable(n.Evidence, func(i, j int) bool {
		if n.Evidence[i].Cause != n.Evidence[j].Cause {
			return n.Evidence[i].Cause < n.Evidence[j].Cause
		}
		return n.Evidence[i].Text < n.Evidence[j].Text
	})
}
