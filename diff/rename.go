package diff

import (
	"fmt"
	"path"
	"strings"
)

// Pairing of renamed members, in two steps. First a renamed leading
// folder ("hello-1.0/" against "hello-1.1/"; every path of a Go toolchain
// zip starts with "golang.org/toolchain@v0.0.1-go1.25.13.linux-amd64/"):
// the right side's members are matched by their path below it, in linear
// time. Then members left unmatched on both sides are paired by name
// (the same file compressed differently: control.tar.gz, control.tar.xz)
// and by content similarity (similar.go).

// leadingFolder is the longest folder path ("a/b/") that every member of
// ms lies in, or "" when there is none. A folder member itself counts as
// lying in its own path.
func leadingFolder(ms []*member) string {
	prefix := ""
	for i, m := range ms {
		name := strings.TrimPrefix(m.name, "./")
		if m.typ == "dir" && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		dir := name[:strings.LastIndex(name, "/")+1]
		if i == 0 {
			prefix = dir
			continue
		}
		for prefix != "" && !strings.HasPrefix(dir, prefix) {
			prefix = prefix[:strings.LastIndex(strings.TrimSuffix(prefix, "/"), "/")+1]
		}
		if prefix == "" {
			return ""
		}
	}
	return prefix
}

// folderRename is a leading folder renamed between the sides.
type folderRename struct{ from, to string }

// pairRenamedFolder maps the right side's leading folder onto the left
// one's when that matches more members by name than the names as they
// are, and returns the rename; members then match by their path below it.
func pairRenamedFolder(ma, mb []*member) *folderRename {
	fa, fb := leadingFolder(ma), leadingFolder(mb)
	if fa == fb || fa == "" || fb == "" || len(ma) == 0 || len(mb) == 0 {
		return nil
	}
	// Only the differing part is renamed: "x-1.0/src/" against
	// "x-1.1/src/" is "x-1.0/" against "x-1.1/".
	for {
		sa, sb := lastSegment(fa), lastSegment(fb)
		if sa != sb || sa == fa || sb == fb {
			break
		}
		fa, fb = fa[:len(fa)-len(sa)], fb[:len(fb)-len(sb)]
	}
	names := make(map[string]bool, len(ma))
	for _, m := range ma {
		names[m.name] = true
	}
	asIs, mapped := 0, 0
	for _, m := range mb {
		if names[m.name] {
			asIs++
		}
		if names[renameLeading(m.name, fb, fa)] {
			mapped++
		}
	}
	if mapped <= asIs {
		return nil
	}
	for _, m := range mb {
		m.match = renameLeading(m.name, fb, fa)
	}
	return &folderRename{from: fa, to: fb}
}

// lastSegment is the last folder of a folder path: "b/" of "a/b/".
func lastSegment(folder string) string {
	return folder[strings.LastIndex(strings.TrimSuffix(folder, "/"), "/")+1:]
}

// renameLeading replaces the leading folder from of name by to, keeping a
// "./" before it; the folder's own member ("x" or "x/") maps as well.
func renameLeading(name, from, to string) string {
	lead := ""
	if strings.HasPrefix(name, "./") {
		lead, name = "./", name[2:]
	}
	switch {
	case strings.HasPrefix(name, from):
		return lead + to + name[len(from):]
	case name+"/" == from:
		return lead + strings.TrimSuffix(to, "/")
	}
	return lead + name
}

// renameNode reports a renamed leading folder.
func (c *comparer) renameNode(a, b *input, r *folderRename) *Node {
	n := &Node{Source1: joinName(a.name, r.from), Source2: joinName(b.name, r.to), Name1: r.from, Name2: r.to, Kind: KindMetadata, Format: "file-list"}
	what := fmt.Sprintf("folder renamed: %s → %s", r.from, r.to)
	n.Comments = []string{what + "; members are paired by their path below it"}
	c.setUnified(n, "@@ -1 +1 @@\n-"+r.from+"\n+"+r.to+"\n")
	addCause(n, CauseRenamed, what)
	return n
}

// renamedPair is a member of each side paired although their names
// differ, and why.
type renamedPair struct {
	a, b *member
	how  string // "same name once decompressed", "content 83% similar"
}

// pairUnmatched pairs the members that only one side has by name (their
// base names equal once compression suffixes are removed, in the same
// folder) and then by content similarity, each member at most once.
func (c *comparer) pairUnmatched(a, b *input, ma, mb []*member, idxA, idxB map[string]*member) ([]renamedPair, error) {
	var ua, ub []*member
	for _, m := range ma {
		if idxB[m.key] == nil && m.typ == "file" {
			ua = append(ua, m)
		}
	}
	for _, m := range mb {
		if idxA[m.key] == nil && m.typ == "file" {
			ub = append(ub, m)
		}
	}
	if len(ua) == 0 || len(ub) == 0 {
		return nil, nil
	}
	pairs := pairByStem(ua, ub)
	ua, ub = unpaired(ua), unpaired(ub)
	similar, err := c.pairBySimilarity(a, b, ua, ub)
	return append(pairs, similar...), err
}

// stem is a member's path without compression suffixes.
func stem(name string) string {
	for _, s := range streamSuffixes {
		if strings.HasSuffix(name, s[0]) && len(name) > len(s[0]) {
			return name[:len(name)-len(s[0])] + s[1]
		}
	}
	return name
}

// pairByStem pairs members whose stems are equal and unique on each side.
func pairByStem(ua, ub []*member) []renamedPair {
	count := func(ms []*member) map[string]int {
		out := map[string]int{}
		for _, m := range ms {
			out[stem(m.name)]++
		}
		return out
	}
	ca, cb := count(ua), count(ub)
	byStem := map[string]*member{}
	for _, m := range ua {
		if s := stem(m.name); ca[s] == 1 && cb[s] == 1 && s != m.name {
			byStem[s] = m
		}
	}
	var out []renamedPair
	for _, o := range ub {
		m := byStem[stem(o.name)]
		if m != nil && stem(o.name) != o.name {
			m.partner, o.partner = o, m
			out = append(out, renamedPair{m, o, "same name once decompressed: " + path.Base(stem(o.name))})
		}
	}
	return out
}

func unpaired(ms []*member) []*member {
	out := ms[:0:0]
	for _, m := range ms {
		if m.partner == nil {
			out = append(out, m)
		}
	}
	return out
}

// renamedNode completes the node of a renamed pair: the rename is said,
// and a pair whose contents are equal gets a node of its own.
func (c *comparer) renamedNode(a, b *input, p renamedPair, n *Node) *Node {
	what := fmt.Sprintf("renamed: %s → %s (%s)", p.a.name, p.b.name, p.how)
	if n == nil {
		n = &Node{Source1: joinName(a.name, p.a.name), Source2: joinName(b.name, p.b.name), Name1: p.a.name, Name2: p.b.name,
			Kind: KindMetadata, Format: "file-list", Comments: []string{"contents are identical"}}
	}
	n.Comments = append([]string{what}, n.Comments...)
	addCause(n, CauseRenamed, fmt.Sprintf("%s → %s", p.a.name, p.b.name))
	return n
}
