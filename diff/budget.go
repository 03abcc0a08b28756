package diff

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/reprove/reprove/diff/archive"
)

// The report's size is bounded by Options.MaxReportSize whatever makes it
// large: diff text is dropped past it (spend), nodes that only list
// (added, removed, metadata) are grouped when they would not fit
// (emitGrouped), contents stop being compared past it (compareContents),
// and a last pass over the finished tree (boundTree) counts every node as
// indented JSON and folds what is past the limit into one node.

// pending is a listing node that is built only if the report has room.
type pending struct {
	kind   Kind
	sig    string // what differs: "mtime", "mode, mtime", "only in a.tar"
	name   string // the member
	key    string // the member's key, for metadata nodes
	causes []finding
	cost   int64 // estimated bytes in the report
	build  func() *Node
}

// groupSamples is how many members a group shows in full.
const groupSamples = 3

// costOf estimates the report bytes of a listing node naming name in
// copies places, with extra bytes of comments: names, the ls lines of its
// diff, and the JSON field names and indentation around them.
func costOf(name string, copies, extra int) int64 {
	return int64(len(name)*(copies+2) + extra + 400)
}

// budget is the report bytes nodes may take: the rest is kept for the
// causes and the summary around the tree.
func (c *comparer) budget() int64 { return c.opts.MaxReportSize - c.opts.MaxReportSize/8 }

func (c *comparer) overBudget() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reportBytes > c.budget()
}

// account adds a node's own size (without its diff text, which spend
// counted, and without its details) to the report's.
func (c *comparer) account(n *Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reportBytes += int64(len(n.Source1)+len(n.Source2)+len(n.Name1)+len(n.Name2)+300) + int64(len(strings.Join(n.Comments, "")))
}

func (c *comparer) reportLimit() {
	c.limit(fmt.Sprintf("report size limit of %s reached: members that differ alike are grouped, later diffs are omitted (raise --max-report-size)", archive.Size(c.opts.MaxReportSize)))
}

// emitGrouped builds the pending nodes one by one when they all fit in the
// report, and otherwise groups them by what differs, each group with a
// few samples. It returns the nodes and the metadata nodes built, by key.
func (c *comparer) emitGrouped(a, b *input, ps []pending) ([]*Node, map[string]*Node) {
	meta := map[string]*Node{}
	var total int64
	for _, p := range ps {
		total += p.cost
	}
	c.mu.Lock()
	fits := c.reportBytes+total <= c.budget()
	c.mu.Unlock()
	if fits {
		out := make([]*Node, 0, len(ps))
		for _, p := range ps {
			n := p.build()
			c.account(n)
			if p.kind == KindMetadata {
				meta[p.key] = n
			}
			out = append(out, n)
		}
		return out, meta
	}
	c.reportLimit()
	return c.groups(a, b, ps), meta
}

// groups folds pending nodes that differ alike into one node each, in the
// order each kind of difference first appears.
func (c *comparer) groups(a, b *input, ps []pending) []*Node {
	type group struct {
		p       pending
		count   int
		samples []*Node
		causes  []finding
	}
	var order []string
	bySig := map[string]*group{}
	for _, p := range ps {
		k := string(p.kind) + "\x00" + p.sig
		g := bySig[k]
		if g == nil {
			g = &group{p: p}
			bySig[k] = g
			order = append(order, k)
		}
		g.count++
		if len(g.causes) < 4*maxCauseEvidence {
			g.causes = append(g.causes, p.causes...)
		}
		if len(g.samples) < groupSamples {
			g.samples = append(g.samples, p.build())
		}
	}
	out := make([]*Node, 0, len(order))
	for _, k := range order {
		g := bySig[k]
		what := fmt.Sprintf("%d %s %s", g.count, plural(g.count, "member", "members"), describeGroup(g.p))
		n := &Node{Source1: a.name + " (" + what + ")", Source2: b.name + " (" + what + ")", Name1: what, Name2: what, Kind: g.p.kind, Format: "file-list"}
		n.Comments = []string{fmt.Sprintf("%s; the first %d shown; grouped to keep the report under %s (raise --max-report-size to list each)", what, len(g.samples), archive.Size(c.opts.MaxReportSize))}
		addFindings(n, g.causes)
		sort.Slice(n.Causes, func(i, j int) bool { return n.Causes[i] < n.Causes[j] })
		n.Details = g.samples
		c.account(n)
		for _, s := range g.samples {
			c.account(s)
		}
		out = append(out, n)
	}
	return out
}

func describeGroup(p pending) string {
	switch p.kind {
	case KindAdded, KindRemoved:
		return "are " + p.sig
	}
	if !strings.Contains(p.sig, ",") {
		return "differ only in " + p.sig
	}
	return "differ in " + p.sig
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// metaSignature is what a metadata difference is about: the fields its
// comments name ("mode, mtime").
func metaSignature(comments []string) string {
	keys := make([]string, 0, len(comments))
	for _, cm := range comments {
		k, _, _ := strings.Cut(cm, ":")
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// notCompared is the node for member pairs left uncompared once the report
// is full.
func (c *comparer) notCompared(a, b *input, n int) *Node {
	c.reportLimit()
	what := fmt.Sprintf("%d more %s not compared", n, plural(n, "member", "members"))
	return &Node{Source1: a.name + " (" + what + ")", Source2: b.name + " (" + what + ")", Name1: what, Name2: what, Kind: KindContent, Format: "file-list",
		Comments: []string{what + ": the report size limit of " + archive.Size(c.opts.MaxReportSize) + " was reached (raise --max-report-size)"}}
}

// boundTree makes the finished tree fit MaxReportSize as indented JSON,
// counting every node: past the budget, the remaining nodes of each level
// are replaced by one node that counts them.
func (c *comparer) boundTree(root *Node) {
	if root == nil {
		return
	}
	left := c.budget() - nodeJSONSize(root, 0)
	c.boundDetails(root, 1, &left)
}

func (c *comparer) boundDetails(n *Node, depth int, left *int64) bool {
	for i, d := range n.Details {
		size := nodeJSONSize(d, depth)
		if size > *left {
			rest := countNodes(n.Details[i:])
			n.Details = append(n.Details[:i:i], c.omitted(n, rest))
			return true
		}
		*left -= size
		if c.boundDetails(d, depth+1, left) {
			if i+1 < len(n.Details) {
				rest := countNodes(n.Details[i+1:])
				n.Details = append(n.Details[:i+1:i+1], c.omitted(n, rest))
			}
			return true
		}
	}
	return false
}

func (c *comparer) omitted(parent *Node, count int) *Node {
	c.reportLimit()
	what := fmt.Sprintf("%d more %s not shown", count, plural(count, "difference", "differences"))
	return &Node{Source1: parent.Source1 + " (" + what + ")", Source2: parent.Source2 + " (" + what + ")", Name1: what, Name2: what, Kind: KindContainer,
		Comments: []string{what + ": the report size limit of " + archive.Size(c.opts.MaxReportSize) + " was reached (raise --max-report-size)"}}
}

func countNodes(ns []*Node) int {
	total := 0
	for _, n := range ns {
		total += 1 + countNodes(n.Details)
	}
	return total
}

// nodeJSONSize is the size of n without its details as indented JSON at
// depth in a report (each level indents a node's fields by 4 more spaces).
func nodeJSONSize(n *Node, depth int) int64 {
	shallow := *n
	shallow.Details = nil
	b, _ := json.Marshal(&shallow)
	lines := 12 + len(n.Comments) + len(n.Causes)
	return int64(len(b) + lines*(8+4*depth) + 16)
}
