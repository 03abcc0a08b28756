package report

import (
	"fmt"
	"strings"

	"github.com/reprove/reprove/diff"
)

// walkNodes visits n and its details depth first, parents before children.
// fn returns false to skip a node's details.
func walkNodes(n, parent *diff.Node, depth int, fn func(n, parent *diff.Node, depth int) bool) {
	if n == nil {
		return
	}
	if !fn(n, parent, depth) {
		return
	}
	for _, c := range n.Details {
		walkNodes(c, n, depth+1, fn)
	}
}

// nodeLabel names a node for a tree: its path relative to its parent's, and
// both sides when they differ ("a.tar ↔ b.tar").
func nodeLabel(n, parent *diff.Node) string {
	if parent != nil && n.Source1 == parent.Source1 && n.Source2 == parent.Source2 {
		// A difference of the parent itself, such as the order of its entries.
		if n.Kind == diff.KindOrder {
			return "(order of entries)"
		}
		return "(itself)"
	}
	s1, s2 := relPath(n.Source1, parentSource(parent, 1)), relPath(n.Source2, parentSource(parent, 2))
	switch {
	case n.Kind == diff.KindAdded || s1 == "":
		return s2
	case n.Kind == diff.KindRemoved || s2 == "" || s1 == s2:
		return s1
	default:
		return s1 + " ↔ " + s2
	}
}

// nodePath is the full path of a node, for flat listings: the left side's
// path (the right side's for an added member), and both for the root when
// they differ.
func nodePath(n *diff.Node, depth int) string {
	switch {
	case n.Kind == diff.KindAdded || n.Source1 == "":
		return n.Source2
	case depth == 0 && n.Source2 != "" && n.Source1 != n.Source2:
		return n.Source1 + " ↔ " + n.Source2
	default:
		return n.Source1
	}
}

func parentSource(p *diff.Node, side int) string {
	if p == nil {
		return ""
	}
	if side == 1 {
		return p.Source1
	}
	return p.Source2
}

func relPath(p, parent string) string {
	if parent != "" && strings.HasPrefix(p, parent+"/") {
		return p[len(parent)+1:]
	}
	return p
}

// kindLabel says what sort of difference a node is, for people.
func kindLabel(n *diff.Node, left, right string) string {
	switch n.Kind {
	case diff.KindAdded:
		return "only in " + right
	case diff.KindRemoved:
		return "only in " + left
	case diff.KindContent:
		return "content differs"
	case diff.KindMetadata:
		return "metadata differs"
	case diff.KindOrder:
		return "order differs"
	case diff.KindContainer:
		return "members differ"
	}
	return string(n.Kind)
}

// sizeNote is "12 345 → 12 400 bytes" when sizes are known and differ.
func sizeNote(n *diff.Node) string {
	switch {
	case n.Kind == diff.KindAdded:
		if n.Size2 > 0 {
			return fmt.Sprintf("%d bytes", n.Size2)
		}
		return ""
	case n.Kind == diff.KindRemoved:
		if n.Size1 > 0 {
			return fmt.Sprintf("%d bytes", n.Size1)
		}
		return ""
	case n.Size1 == 0 && n.Size2 == 0:
		return ""
	case n.Size1 == n.Size2:
		return fmt.Sprintf("%d bytes", n.Size1)
	default:
		return fmt.Sprintf("%d → %d bytes", n.Size1, n.Size2)
	}
}

// lineKind classifies one line of a unified or hex diff.
type lineKind int

const (
	lineContext lineKind = iota
	lineDel
	lineAdd
	lineHunk
	lineHeader
)

func classifyLine(l string) lineKind {
	switch {
	case strings.HasPrefix(l, "--- ") || strings.HasPrefix(l, "+++ "):
		return lineHeader
	case strings.HasPrefix(l, "@@"):
		return lineHunk
	case strings.HasPrefix(l, "-"):
		return lineDel
	case strings.HasPrefix(l, "+"):
		return lineAdd
	}
	return lineContext
}

// diffLines splits a diff body into lines and keeps at most max of them
// (max < 0: all). It returns the kept lines and how many were dropped.
func diffLines(body string, max int) (lines []string, dropped int) {
	body = strings.TrimRight(body, "\n")
	if body == "" {
		return nil, 0
	}
	lines = strings.Split(body, "\n")
	if max >= 0 && len(lines) > max {
		return lines[:max], len(lines) - max
	}
	return lines, 0
}

// limit resolves a RenderOptions limit: 0 means def, negative means none.
func limit(v, def int) int {
	if v == 0 {
		return def
	}
	if v < 0 {
		return -1
	}
	return v
}
