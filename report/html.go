package report

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/reprove/reprove/diff"
)

// HTML defaults: a page stays quick to open in a browser even for a large
// diff; the JSON report always has everything.
const (
	htmlMaxDiffLines = 2000
	htmlMaxNodes     = 5000
	htmlMaxMembers   = 8
	intralineMax     = 400 // longest line whose changed characters are marked
	// metaGroupMin metadata-only members of one container are shown as
	// one table rather than one node each.
	metaGroupMin = 3
)

var (
	//go:embed html.tmpl
	htmlTemplateText string
	//go:embed html.css
	htmlCSS string
	//go:embed html.js
	htmlJS string

	htmlTemplate = template.Must(template.New("report").Parse(htmlTemplateText))
	// htmlCSP allows nothing but the page's own inline style and script,
	// named by hash: the page never touches the network.
	htmlCSP = fmt.Sprintf("default-src 'none'; style-src '%s'; script-src '%s'; img-src data:; base-uri 'none'; form-action 'none'",
		cspHash(htmlCSS), cspHash(htmlJS))
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

type htmlPage struct {
	Title, Name, Mark, VerdictLabel, VerdictClass, Sub, ErrorText string
	CSP                                                           string
	CSS                                                           template.CSS
	JS                                                            template.JS
	Facts                                                         []htmlFact
	Causes                                                        []htmlCause
	Normalizations, Limits, Environment                           []string
	BuildScript                                                   string
	BuildLogTail                                                  []string
	Inputs                                                        []Input
	Root                                                          *htmlNode
	TotalNodes, HiddenNodes                                       int
	Footer                                                        string
}

type htmlFact struct {
	K, V string
	Mono bool
}

type htmlCause struct {
	ID, Title, Fix, WeightUnit string
	Weight, MoreMembers        int
	Members                    []string
}

type htmlNode struct {
	ID, Label, Kind, KindLabel, Facts string
	Causes, Comments                  []string
	Bodies                            []htmlBody
	Children                          []*htmlNode
	// Meta groups the members that differ only in metadata (mtime,
	// mode, owner), one table row each.
	Meta       []htmlMetaRow
	Expandable bool
}

type htmlMetaRow struct {
	ID, Label string
	Changes   []string
	Causes    []string
}

type htmlBody struct {
	Tag     string // "unified" or "hex"
	Lines   []htmlLine
	Side    []htmlSideRow // a unified diff side by side
	Dropped int
}

// htmlSideRow is one row of a side-by-side diff: a hunk header spans both
// columns; otherwise the left (published) and right (rebuilt) lines, either
// empty where the other side added or removed.
type htmlSideRow struct {
	Hunk        string
	Left, Right *htmlLine
}

type htmlLine struct {
	Class string
	Segs  []htmlSeg
}

type htmlSeg struct {
	Text    string
	Changed bool
}

// RenderHTML writes the result as one self-contained HTML page: inline CSS
// and JavaScript only (a Content-Security-Policy forbids anything else), the
// verdict first, then the ranked causes, the inputs with digests and the
// collapsible diff tree with highlighted unified and hex diffs.
func RenderHTML(w io.Writer, res *Result, opts RenderOptions) error {
	page := buildHTMLPage(res, opts)
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("rendering HTML report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}

func buildHTMLPage(res *Result, opts RenderOptions) *htmlPage {
	left, right := res.sideNames()
	p := &htmlPage{
		Title:        "reprove: " + res.displayName() + " — " + res.VerdictLabel(),
		Name:         res.displayName(),
		Mark:         verdictMark(res.Verdict),
		VerdictLabel: res.VerdictLabel(),
		CSP:          htmlCSP,
		CSS:          template.CSS(htmlCSS),
		JS:           template.JS(htmlJS),
		Environment:  res.Environment,
		BuildScript:  res.BuildScript,
		BuildLogTail: res.BuildLogTail,
	}
	switch res.Verdict {
	case Reproducible:
		p.VerdictClass = "v-pass"
	case ReproducibleAfterNormalization:
		p.VerdictClass = "v-warn"
	case NotReproducible:
		p.VerdictClass = "v-fail"
	default:
		p.VerdictClass = "v-error"
	}
	if h, label := res.Headline(), res.displayName()+": "+res.VerdictLabel(); len(h) > len(label) {
		p.Sub = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(h, label), ":"))
		p.Sub = strings.TrimSuffix(strings.TrimPrefix(p.Sub, "("), ")")
	}
	if res.Verdict == Error {
		p.ErrorText = res.Error
		p.Sub = ""
	}

	fact := func(k, v string, mono bool) {
		if v != "" {
			p.Facts = append(p.Facts, htmlFact{K: k, V: v, Mono: mono})
		}
	}
	uri := res.Artifact.URI
	if res.Artifact.Member != "" {
		uri += " [" + res.Artifact.Member + "]"
	}
	fact(capitalize(left), uri, true)
	fact(capitalize(left)+" digest", fileOf(res.Artifact.File, res.publishedDigest()), true)
	if res.Rebuilt != nil {
		if res.IsDiff() {
			fact(capitalize(right), res.Rebuilt.Path, true)
		}
		fact(capitalize(right)+" digest", fileOf(res.Rebuilt, ""), true)
	}
	if res.FirstDifference >= 0 && res.Verdict == NotReproducible {
		fact("First difference", fmt.Sprintf("byte %d", res.FirstDifference), false)
	}
	if !res.IsDiff() {
		fact("Builder", res.Builder.Image, true)
		if res.Builder.Digest != "" && !strings.Contains(res.Builder.Image, res.Builder.Digest) {
			fact("Builder digest", res.Builder.Digest, true)
		}
		fact("Backend", res.Backend, false)
		if len(res.Timings) > 0 || !res.StartedAt.IsZero() {
			fact("Time", res.timingLine(), false)
		}
		if !res.FinishedAt.IsZero() {
			fact("Finished", res.FinishedAt.UTC().Format("2006-01-02 15:04:05 UTC"), false)
		}
		fact("Manifest", strings.TrimSpace(res.Manifest.Path+" "+res.Manifest.Digest), true)
		fact("Build log", res.BuildLog, true)
		if a := res.Adapter; a != nil {
			s := a.Name + " adapter, tried " + strings.Join(a.Tried, ", ")
			if a.Matched != "" {
				s += "; matched " + a.Matched
			}
			fact("Inferred by", s, false)
			if a.Check != "" {
				fact("Check", a.Check, false)
			}
		}
		if len(res.Approximated) > 0 {
			fact("Inputs", "approximated: "+strings.Join(res.Approximated, "; "), false)
		}
		for _, a := range res.Also {
			fact("Also", verdictMark(a.Verdict)+" "+a.URI+"  "+fileOf(a.Rebuilt, a.Digest), true)
		}
		p.Inputs = res.Inputs
	}

	for _, c := range res.RankedCauses() {
		hc := htmlCause{ID: string(c.ID), Title: c.Title, Fix: c.Fix, Weight: c.Weight,
			WeightUnit: plural(c.Weight, "difference", "differences"), Members: c.Members}
		if len(hc.Members) > htmlMaxMembers {
			hc.MoreMembers = len(hc.Members) - htmlMaxMembers
			hc.Members = hc.Members[:htmlMaxMembers]
		}
		p.Causes = append(p.Causes, hc)
	}
	if res.Diff != nil {
		p.Normalizations = res.Diff.Normalizations
		p.Limits = res.Diff.Limits
		if res.Diff.Root != nil {
			b := &htmlTreeBuilder{maxLines: limit(opts.MaxDiffLines, htmlMaxDiffLines),
				maxNodes: limit(opts.MaxNodes, htmlMaxNodes), left: left, right: right}
			walkNodes(res.Diff.Root, nil, 0, func(*diff.Node, *diff.Node, int) bool { p.TotalNodes++; return true })
			p.Root = b.build(res.Diff.Root, nil, 0)
			p.HiddenNodes = p.TotalNodes - b.shown
		}
	}
	p.Footer = strings.TrimSpace("Made by " + strings.TrimSpace(res.Tool.Name+" "+res.Tool.Version) + ". Schema " + res.SchemaVersion + ".")
	return p
}

type htmlTreeBuilder struct {
	maxLines, maxNodes int
	left, right        string
	shown              int
}

// build makes the node for n and its details. Every node is open, so each
// changed line shows without a click (and in print); folding stays.
func (b *htmlTreeBuilder) build(n, parent *diff.Node, depth int) *htmlNode {
	b.shown++
	hn := &htmlNode{
		ID:        fmt.Sprintf("n-%d", b.shown),
		Label:     nodeLabel(n, parent),
		Kind:      string(n.Kind),
		KindLabel: kindLabel(n, b.left, b.right),
		Causes:    causeNames(n),
		Comments:  n.Comments,
	}
	var facts []string
	if n.Format != "" {
		facts = append(facts, n.Format)
	}
	if s := sizeNote(n); s != "" {
		facts = append(facts, s)
	}
	hn.Facts = strings.Join(facts, " · ")
	for _, body := range []struct{ tag, text string }{{"unified", n.Unified}, {"hex", n.Hex}} {
		lines, dropped := diffLines(body.text, b.maxLines)
		if len(lines) == 0 {
			continue
		}
		hb := htmlBody{Tag: body.tag, Lines: highlight(lines), Dropped: dropped}
		if body.tag == "unified" {
			hb.Side = sideBySide(hb.Lines)
		}
		hn.Bodies = append(hn.Bodies, hb)
	}
	grouped := metadataOnly(n.Details)
	for _, c := range n.Details {
		if b.maxNodes >= 0 && b.shown >= b.maxNodes {
			break
		}
		if grouped[c] {
			b.shown++
			hn.Meta = append(hn.Meta, htmlMetaRow{ID: fmt.Sprintf("n-%d", b.shown), Label: nodeLabel(c, n), Changes: metaChanges(c), Causes: causeNames(c)})
			continue
		}
		hn.Children = append(hn.Children, b.build(c, n, depth+1))
	}
	hn.Expandable = len(hn.Bodies) > 0 || len(hn.Comments) > 0 || len(hn.Children) > 0 || len(hn.Meta) > 0
	return hn
}

// metadataOnly picks the details that differ only in metadata and have no
// details of their own, when there are at least metaGroupMin of them.
func metadataOnly(details []*diff.Node) map[*diff.Node]bool {
	var meta []*diff.Node
	for _, c := range details {
		if c.Kind == diff.KindMetadata && len(c.Details) == 0 && c.Hex == "" {
			meta = append(meta, c)
		}
	}
	if len(meta) < metaGroupMin {
		return nil
	}
	set := make(map[*diff.Node]bool, len(meta))
	for _, c := range meta {
		set[c] = true
	}
	return set
}

// metaChanges says what changed in a metadata-only node: its comments, or
// else the lines of its listing diff.
func metaChanges(n *diff.Node) []string {
	if len(n.Comments) > 0 {
		return n.Comments
	}
	var out []string
	for _, l := range strings.Split(n.Unified, "\n") {
		if k := classifyLine(l); k == lineDel || k == lineAdd {
			out = append(out, l)
		}
	}
	return out
}

// sideBySide lays a unified diff out in two columns: context on both
// sides, each removed line beside the added line that replaced it.
func sideBySide(lines []htmlLine) []htmlSideRow {
	var rows []htmlSideRow
	for i := 0; i < len(lines); {
		l := lines[i]
		switch l.Class {
		case "header":
			i++
		case "hunk", "more":
			rows = append(rows, htmlSideRow{Hunk: lineText(l)})
			i++
		case "del", "add":
			var dels, adds []htmlLine
			for ; i < len(lines) && lines[i].Class == "del"; i++ {
				dels = append(dels, unsign(lines[i]))
			}
			for ; i < len(lines) && lines[i].Class == "add"; i++ {
				adds = append(adds, unsign(lines[i]))
			}
			for k := 0; k < max(len(dels), len(adds)); k++ {
				var r htmlSideRow
				if k < len(dels) {
					r.Left = &dels[k]
				}
				if k < len(adds) {
					r.Right = &adds[k]
				}
				rows = append(rows, r)
			}
		default:
			c := unsign(l)
			rows = append(rows, htmlSideRow{Left: &c, Right: &c})
			i++
		}
	}
	return rows
}

func lineText(l htmlLine) string {
	var b strings.Builder
	for _, s := range l.Segs {
		b.WriteString(s.Text)
	}
	return b.String()
}

// unsign drops a diff line's leading "-", "+" or " ".
func unsign(l htmlLine) htmlLine {
	segs := append([]htmlSeg(nil), l.Segs...)
	for i := range segs {
		if segs[i].Text == "" {
			continue
		}
		_, size := utf8.DecodeRuneInString(segs[i].Text)
		segs[i].Text = segs[i].Text[size:]
		break
	}
	return htmlLine{Class: l.Class, Segs: segs}
}

// highlight classifies diff lines and, where a run of removed lines is
// followed by as many added lines, marks the characters that changed
// between each pair (the bytes that differ, in a hex diff).
func highlight(lines []string) []htmlLine {
	out := make([]htmlLine, len(lines))
	kinds := make([]lineKind, len(lines))
	for i, l := range lines {
		kinds[i] = classifyLine(l)
		out[i] = htmlLine{Class: lineClass(kinds[i]), Segs: []htmlSeg{{Text: l}}}
	}
	for i := 0; i < len(lines); {
		if kinds[i] != lineDel {
			i++
			continue
		}
		d0 := i
		for i < len(lines) && kinds[i] == lineDel {
			i++
		}
		a0 := i
		for i < len(lines) && kinds[i] == lineAdd {
			i++
		}
		if i-a0 != a0-d0 {
			continue
		}
		for k := 0; k < a0-d0; k++ {
			del, add := lines[d0+k], lines[a0+k]
			if len(del) > intralineMax || len(add) > intralineMax {
				continue
			}
			out[d0+k].Segs, out[a0+k].Segs = intraline(del, add)
		}
	}
	return out
}

func lineClass(k lineKind) string {
	switch k {
	case lineDel:
		return "del"
	case lineAdd:
		return "add"
	case lineHunk:
		return "hunk"
	case lineHeader:
		return "header"
	}
	return "ctx"
}

// intraline splits a removed and an added line into runs, marking the runs
// that differ. Lines of equal rune length are compared position by position
// (a hex dump keeps its columns); others by common prefix and suffix.
func intraline(del, add string) (d, a []htmlSeg) {
	dr, ar := []rune(del[1:]), []rune(add[1:])
	if !utf8.ValidString(del) || !utf8.ValidString(add) {
		return []htmlSeg{{Text: del}}, []htmlSeg{{Text: add}}
	}
	mark := func(r []rune, changed []bool, sign string) []htmlSeg {
		segs := []htmlSeg{{Text: sign}}
		for i := 0; i < len(r); {
			j := i
			for j < len(r) && changed[j] == changed[i] {
				j++
			}
			segs = append(segs, htmlSeg{Text: string(r[i:j]), Changed: changed[i]})
			i = j
		}
		return segs
	}
	dc, ac := make([]bool, len(dr)), make([]bool, len(ar))
	if len(dr) == len(ar) {
		for i := range dr {
			dc[i] = dr[i] != ar[i]
			ac[i] = dc[i]
		}
	} else {
		pre := 0
		for pre < len(dr) && pre < len(ar) && dr[pre] == ar[pre] {
			pre++
		}
		suf := 0
		for suf < len(dr)-pre && suf < len(ar)-pre && dr[len(dr)-1-suf] == ar[len(ar)-1-suf] {
			suf++
		}
		for i := pre; i < len(dr)-suf; i++ {
			dc[i] = true
		}
		for i := pre; i < len(ar)-suf; i++ {
			ac[i] = true
		}
	}
	return mark(dr, dc, del[:1]), mark(ar, ac, add[:1])
}
