package diff

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reprove/reprove/diff/archive"
)

// member is one entry of a container (directory, tar, zip, ar, cpio) with
// its metadata; content is opened only when it differs.
type member struct {
	name    string
	match   string  // name it is matched by when not name (below a renamed folder)
	key     string  // match name made unique within its listing
	partner *member // the other side's member paired with it although their names differ
	typ     string  // "file", "dir", "symlink", "hardlink", "char", "block", "fifo", "other"
	mode    fs.FileMode
	uid     int
	gid     int
	uname   string
	gname   string
	mtime   time.Time
	hasOwn  bool // uid/gid are meaningful
	hasMT   bool // mtime is meaningful
	link    string
	size    int64
	extra   []metaField // format-specific metadata
	// open returns the member's content as an input named for display.
	open func(name string) (*input, error)
	// same, when set, decides content equality more cheaply than reading
	// both (zip: same compressed bytes and method). It may return false
	// when unsure.
	same func(other *member) bool
	// compressed, when set, returns the member's stored (compressed) bytes;
	// used to tell a compression difference from a content one.
	compressed func() (*input, error)
	zf         *zip.File // zip members, for same
}

// metaField is one named piece of metadata with the cause a difference in it
// suggests and the normalization pass that hides it.
type metaField struct {
	key, value string
	cause      CauseID
	pass       string
}

// listing is a container's members in stored order, with the format's
// normalization passes and archive-level metadata.
type listing struct {
	format      string // "tar", "zip", "dir"…
	members     []*member
	extra       []metaField // archive-level metadata (zip comment…)
	mtimePass   string
	ownerPass   string
	orderPass   string
	ignoreMTime bool // directories: mtimes are never compared
	ignoreOrder bool // directories have no order
}

// lsLine renders a member the way `tar -tv` does, for the file list diff.
func (m *member) lsLine(showMTime bool) string {
	var sb strings.Builder
	sb.WriteString(modeString(m))
	if m.hasOwn {
		fmt.Fprintf(&sb, " %s/%s (%d/%d)", orDash(m.uname), orDash(m.gname), m.uid, m.gid)
	}
	fmt.Fprintf(&sb, " %10d", m.size)
	if showMTime && m.hasMT {
		sb.WriteString(" " + m.mtime.UTC().Format("2006-01-02 15:04:05.000000"))
	}
	sb.WriteString(" " + m.name)
	if m.link != "" {
		if m.typ == "hardlink" {
			sb.WriteString(" link to " + m.link)
		} else {
			sb.WriteString(" -> " + m.link)
		}
	}
	for _, f := range m.extra {
		sb.WriteString(" " + f.key + "=" + f.value)
	}
	return sb.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func modeString(m *member) string {
	t := byte('-')
	switch m.typ {
	case "dir":
		t = 'd'
	case "symlink":
		t = 'l'
	case "hardlink":
		t = 'h'
	case "char":
		t = 'c'
	case "block":
		t = 'b'
	case "fifo":
		t = 'p'
	case "other":
		t = '?'
	}
	s := fs.FileMode(m.mode.Perm() | m.mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)).String()
	// fs.FileMode.String puts u/g/t flags first; keep ls's single-letter type.
	return string(t) + s[len(s)-9:]
}

// listArchive lists the archive in into l, one member an entry, with the
// one archive reader and the comparison's limits; extra adds what the
// format records beyond the common header. Contiguous contents are read in
// place; others (sparse tar members) are unpacked while listing.
func (c *comparer) listArchive(in *input, l *listing, extra func(*archive.Header, *member)) error {
	r, err := archive.Open(in.ra, in.size, in.name, c.opts.Limits)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		h, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		m := &member{name: h.Name, typ: string(h.Type), mode: h.Mode, uid: h.UID, gid: h.GID, uname: h.Uname, gname: h.Gname,
			mtime: h.ModTime, hasOwn: h.HasOwner, hasMT: h.HasModTime, link: h.Linkname, size: h.Size}
		if m.typ == "file" && h.Zip == nil {
			if err := c.openEntry(in, h, m, r); err != nil {
				return err
			}
		}
		if extra != nil {
			extra(h, m)
		}
		l.members = append(l.members, m)
	}
}

// openEntry sets m.open: in place when the content is contiguous, else
// from a copy made now.
func (c *comparer) openEntry(in *input, h *archive.Header, m *member, r io.Reader) error {
	if h.Offset >= 0 {
		var err error
		m.open, err = memberAt(in, h.Offset, h.Name, h.Size)
		return err
	}
	sp, err := c.spill(joinName(in.name, h.Name), h.Name, r)
	if err != nil {
		return err
	}
	m.size = sp.size
	m.open = func(string) (*input, error) { return sp, nil }
	return nil
}

// compareListings compares two containers' members: order, added and
// removed members, metadata, then the content of members that differ.
// Nodes that only list (added, removed, metadata) are grouped when the
// report would pass its size limit.
func (c *comparer) compareListings(a, b *input, la, lb *listing, depth int) ([]*Node, error) {
	var out []*Node
	ma := c.filterMembers(la.members)
	mb := c.filterMembers(lb.members)
	if r := pairRenamedFolder(ma, mb); r != nil {
		out = append(out, c.renameNode(a, b, r))
	}
	idxA := indexMembers(ma)
	idxB := indexMembers(mb)
	renamed, err := c.pairUnmatched(a, b, ma, mb, idxA, idxB)
	if err != nil {
		return nil, err
	}
	if n := c.compareMetaFields(a, b, la.format, "archive", la.extra, lb.extra); n != nil {
		n.Name1, n.Name2 = "archive metadata", "archive metadata"
		n.Source1, n.Source2 = a.name+" (archive metadata)", b.name+" (archive metadata)"
		out = append(out, n)
	}
	if n := c.compareOrder(a, b, la, ma, mb, idxA, idxB); n != nil {
		out = append(out, n)
	}
	var ps []pending
	ps = append(ps, c.onlyIn(a, b, ma, idxB, KindRemoved, !la.ignoreMTime)...)
	ps = append(ps, c.onlyIn(a, b, mb, idxA, KindAdded, !lb.ignoreMTime)...)
	var contentPairs [][2]*member
	for _, m := range ma {
		o := idxB[m.key]
		if o == nil {
			continue
		}
		if p, ok := c.memberMeta(a, b, la, m, o); ok {
			ps = append(ps, p)
		}
		if m.typ == o.typ && (m.typ == "file" || m.typ == "hardlink" && m.size > 0) {
			contentPairs = append(contentPairs, [2]*member{m, o})
		}
	}
	nodes, metaNodes := c.emitGrouped(a, b, ps)
	out = append(out, nodes...)
	content, err := c.compareContents(a, b, la.format, contentPairs, metaNodes, depth)
	if err != nil {
		return nil, err
	}
	out = append(out, content...)
	for _, p := range renamed {
		if pm, ok := c.memberMeta(a, b, la, p.a, p.b); ok {
			out = append(out, pm.build())
		}
		n, err := c.compareMembers(a, b, p.a, p.b, la.format, depth)
		if err != nil {
			return nil, err
		}
		n = c.renamedNode(a, b, p, n)
		c.account(n)
		out = append(out, n)
	}
	return out, nil
}

// compareOrder is the node for members both sides have in another order.
func (c *comparer) compareOrder(a, b *input, la *listing, ma, mb []*member, idxA, idxB map[string]*member) *Node {
	if la.ignoreOrder {
		return nil
	}
	var oa, ob []string
	for _, m := range ma {
		if idxB[m.key] != nil {
			oa = append(oa, m.key)
		}
	}
	for _, m := range mb {
		if idxA[m.key] != nil {
			ob = append(ob, m.key)
		}
	}
	if equalStrings(oa, ob) || c.normalized(la.orderPass, a.name) {
		return nil
	}
	n := &Node{Source1: a.name, Source2: b.name, Name1: "file list", Name2: "file list", Kind: KindOrder, Format: "file-list"}
	first := 0
	for first < len(oa) && oa[first] == ob[first] {
		first++
	}
	n.Comments = []string{fmt.Sprintf("members are in a different order, first at position %d: %s vs %s", first+1, oa[first], ob[first])}
	if len(oa) <= 5000 {
		c.linesDiff(n, oa, ob, false)
	}
	addCause(n, CauseFileOrder, fmt.Sprintf("position %d: %s → %s", first+1, oa[first], ob[first]))
	return n
}

// onlyIn lists the members of ms the other side lacks, as nodes of kind.
func (c *comparer) onlyIn(a, b *input, ms []*member, other map[string]*member, kind Kind, mtime bool) []pending {
	var out []pending
	side, sign, hunk := a.name, "-", "@@ -1 +0,0 @@\n"
	if kind == KindAdded {
		side, sign, hunk = b.name, "+", "@@ -0,0 +1 @@\n"
	}
	for _, m := range ms {
		if other[m.key] != nil || m.partner != nil {
			continue
		}
		m := m
		out = append(out, pending{kind: kind, sig: "only in " + side, name: m.name, cost: costOf(m.name, 2, 0), build: func() *Node {
			n := &Node{Source1: joinName(a.name, m.name), Source2: joinName(b.name, m.name), Name1: m.name, Name2: m.name, Kind: kind, Format: "file-list"}
			if kind == KindAdded {
				n.Size2 = m.size
			} else {
				n.Size1 = m.size
			}
			c.setUnified(n, hunk+sign+m.lsLine(mtime)+"\n")
			n.Comments = []string{"only in " + side}
			return n
		}})
	}
	return out
}

// compareContents compares the content of member pairs, in order; a
// pair whose stored bytes differ with equal content is said on its
// metadata node when it has one.
func (c *comparer) compareContents(a, b *input, format string, pairs [][2]*member, metaNodes map[string]*Node, depth int) ([]*Node, error) {
	var out []*Node
	for i, p := range pairs {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
		if c.overBudget() {
			out = append(out, c.notCompared(a, b, len(pairs)-i))
			break
		}
		m, o := p[0], p[1]
		if m.same != nil && m.size == o.size && m.same(o) {
			continue
		}
		n, err := c.compareMembers(a, b, m, o, format, depth)
		if err != nil {
			return nil, err
		}
		if n != nil && n.Kind == KindMetadata && metaNodes[m.key] != nil {
			meta := metaNodes[m.key]
			meta.Comments = append(meta.Comments, n.Comments...)
			copyCauses(meta, n)
			continue
		}
		if n != nil {
			c.account(n)
			out = append(out, n)
		}
	}
	return out, nil
}

// compareMembers compares the content of one pair of members.
func (c *comparer) compareMembers(a, b *input, m, o *member, format string, depth int) (*Node, error) {
	ia, err := m.open(joinName(a.name, m.name))
	if err != nil {
		return nil, fmt.Errorf("reading member %s of %s: %w", m.name, a.name, err)
	}
	ib, err := o.open(joinName(b.name, o.name))
	if err != nil {
		ia.done()
		return nil, fmt.Errorf("reading member %s of %s: %w", o.name, b.name, err)
	}
	ia.label, ib.label = m.name, o.name
	before := c.hidden()
	n, err := c.compare(ia, ib, depth+1)
	if err == nil && n == nil && c.hidden() == before && m.compressed != nil && o.compressed != nil {
		n, err = c.compareStored(m, o, ia, ib, format)
	}
	ia.done()
	ib.done()
	return n, err
}

// compareStored reports members whose content is equal but whose stored
// (compressed) bytes differ.
func (c *comparer) compareStored(m, o *member, ia, ib *input, format string) (*Node, error) {
	sa, err := m.compressed()
	if err != nil {
		return nil, err
	}
	sb, err := o.compressed()
	if err != nil {
		return nil, err
	}
	same, err := sameContent(sa, sb)
	if err != nil || same {
		return nil, err
	}
	n := newNode(ia, ib, KindMetadata, format)
	n.Comments = []string{fmt.Sprintf("stored (compressed) data differs: %d → %d bytes; the uncompressed content is identical", sa.size, sb.size)}
	addCause(n, CauseCompression, fmt.Sprintf("stored bytes of %s: %d → %d with equal content", m.name, sa.size, sb.size))
	return n, nil
}

func (c *comparer) filterMembers(ms []*member) []*member {
	if len(c.opts.Exclude) == 0 {
		return ms
	}
	out := ms[:0:0]
	for _, m := range ms {
		if !c.excluded(m.name) {
			out = append(out, m)
		}
	}
	return out
}

// indexMembers maps each member by name; a repeated name gets "#2", "#3"
// in order. It is linear in the members however many share a name: each
// name remembers the last number it gave.
func indexMembers(ms []*member) map[string]*member {
	idx := make(map[string]*member, len(ms))
	last := make(map[string]int, len(ms))
	for _, m := range ms {
		name := m.name
		if m.match != "" {
			name = m.match
		}
		k := name
		n := last[name]
		for n > 0 || idx[k] != nil {
			n++
			k = name + "#" + strconv.Itoa(n)
			if idx[k] == nil {
				break
			}
		}
		last[name] = max(n, 1)
		m.key = k
		idx[k] = m
	}
	return idx
}

// memberMeta reports differences in type, mode, owner, mtime, link target
// and format-specific fields of one member, as a pending node.
func (c *comparer) memberMeta(a, b *input, l *listing, m, o *member) (pending, bool) {
	comments, causes := c.metaDiff(a, l, m, o)
	if len(comments) == 0 {
		return pending{}, false
	}
	build := func() *Node {
		n := &Node{Source1: joinName(a.name, m.name), Source2: joinName(b.name, o.name), Name1: m.name, Name2: o.name, Kind: KindMetadata, Format: "file-list", Comments: comments}
		c.setUnified(n, "@@ -1 +1 @@\n-"+m.lsLine(!l.ignoreMTime)+"\n+"+o.lsLine(!l.ignoreMTime)+"\n")
		addFindings(n, causes)
		sort.Slice(n.Causes, func(i, j int) bool { return n.Causes[i] < n.Causes[j] })
		return n
	}
	return pending{kind: KindMetadata, sig: metaSignature(comments), name: m.name, key: m.key, causes: causes,
		cost: costOf(m.name, 4, len(comments)*48), build: build}, true
}

// metaDiff lists what differs in one member's metadata, and the causes.
func (c *comparer) metaDiff(a *input, l *listing, m, o *member) (comments []string, causes []finding) {
	note := func(cause CauseID, format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		comments = append(comments, s)
		if cause != "" {
			causes = append(causes, finding{cause, m.name + ": " + s})
		}
	}
	if m.typ != o.typ {
		note("", "type: %s → %s", m.typ, o.typ)
	} else if m.typ != "file" && m.typ != "dir" && m.size != o.size {
		note("", "size: %d → %d", m.size, o.size)
	}
	if m.mode.Perm()|m.mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != o.mode.Perm()|o.mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) {
		note(CauseFileMode, "mode: %s → %s", modeString(m), modeString(o))
	}
	where := joinName(a.name, m.name)
	if m.hasOwn && o.hasOwn && (m.uid != o.uid || m.gid != o.gid || m.uname != o.uname || m.gname != o.gname) && !c.normalized(l.ownerPass, where) {
		note(CauseUIDGID, "owner: %s/%s (%d/%d) → %s/%s (%d/%d)", orDash(m.uname), orDash(m.gname), m.uid, m.gid, orDash(o.uname), orDash(o.gname), o.uid, o.gid)
	}
	if !l.ignoreMTime && m.hasMT && o.hasMT && !m.mtime.Equal(o.mtime) && !c.normalized(l.mtimePass, where) {
		note(CauseTimestamps, "mtime: %s → %s", m.mtime.UTC().Format(time.RFC3339Nano), o.mtime.UTC().Format(time.RFC3339Nano))
	}
	if m.link != o.link {
		note("", "link target: %s → %s", m.link, o.link)
		causes = append(causes, classifyText([]string{m.link}, []string{o.link})...)
	}
	fc, fcauses := c.diffMetaFields(where, m.extra, o.extra)
	return append(comments, fc...), append(causes, fcauses...)
}

// diffMetaFields lists the fields that differ, with their causes; where
// names the input they belong to, for the normalizations that hide them.
func (c *comparer) diffMetaFields(where string, fa, fb []metaField) (comments []string, causes []finding) {
	get := func(fs []metaField, k string) (metaField, bool) {
		for _, f := range fs {
			if f.key == k {
				return f, true
			}
		}
		return metaField{}, false
	}
	seen := map[string]bool{}
	var keys []string
	for _, f := range fa {
		if !seen[f.key] {
			seen[f.key] = true
			keys = append(keys, f.key)
		}
	}
	for _, f := range fb {
		if !seen[f.key] {
			seen[f.key] = true
			keys = append(keys, f.key)
		}
	}
	for _, k := range keys {
		x, okx := get(fa, k)
		y, oky := get(fb, k)
		if okx && oky && x.value == y.value {
			continue
		}
		f := x
		if !okx {
			f = y
		}
		if c.normalized(f.pass, where) {
			continue
		}
		vx, vy := x.value, y.value
		if !okx {
			vx = "(none)"
		}
		if !oky {
			vy = "(none)"
		}
		comments = append(comments, fmt.Sprintf("%s: %s → %s", k, vx, vy))
		if f.cause != "" {
			causes = append(causes, finding{f.cause, fmt.Sprintf("%s: %s → %s", k, vx, vy)})
		}
	}
	return comments, causes
}

func (c *comparer) compareMetaFields(a, b *input, format, what string, fa, fb []metaField) *Node {
	comments, causes := c.diffMetaFields(a.name, fa, fb)
	if len(comments) == 0 {
		return nil
	}
	n := newNode(a, b, KindMetadata, format)
	n.Comments = comments
	addFindings(n, causes)
	return n
}
