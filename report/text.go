package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/reprove/reprove/diff"
)

// Text-format defaults: enough to see what differs without flooding a terminal.
const (
	textMaxDiffLines = 40
	textMaxNodes     = 200
	textMaxMembers   = 3 // members listed per cause
)

// palette holds the colors of one rendering. Each Color is forced on or off
// explicitly, so neither color.NoColor nor NO_COLOR leaks in or out.
type palette struct {
	pass, warn, fail, errc, bold, dim, add, del, hunk, kind *color.Color
}

func newPalette(on bool) palette {
	mk := func(attrs ...color.Attribute) *color.Color {
		c := color.New(attrs...)
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	return palette{
		pass: mk(color.FgGreen, color.Bold),
		warn: mk(color.FgYellow, color.Bold),
		fail: mk(color.FgRed, color.Bold),
		errc: mk(color.FgMagenta, color.Bold),
		bold: mk(color.Bold),
		dim:  mk(color.Faint),
		add:  mk(color.FgGreen),
		del:  mk(color.FgRed),
		hunk: mk(color.FgCyan),
		kind: mk(color.FgYellow),
	}
}

// RenderText writes the result for a terminal: a one-line verdict, then the
// ranked causes with their fixes, then the inputs, then the diff tree with
// unified and hex diffs, each bounded by opts.
func RenderText(w io.Writer, res *Result, opts RenderOptions) error {
	ew := &errWriter{w: w}
	p := newPalette(opts.Color)
	left, right := res.sideNames()

	// 1. The verdict, one line.
	mark, c := verdictMark(res.Verdict), p.errc
	switch res.Verdict {
	case Reproducible:
		c = p.pass
	case ReproducibleAfterNormalization:
		c = p.warn
	case NotReproducible:
		c = p.fail
	}
	ew.printf("%s\n", c.Sprint(mark+" "+termSafe(res.Headline())))
	if res.Verdict == Error {
		// The headline has the error's first line; the rest (a log's
		// tail) follows, each line once.
		lines := strings.Split(strings.TrimSpace(res.Error), "\n")
		for _, l := range lines[1:] {
			ew.printf("  %s\n", termSafe(l))
		}
	}

	// 2. What was compared.
	ew.printf("\n")
	if res.Artifact.URI != "" {
		uri := res.Artifact.URI
		if res.Artifact.Member != "" {
			uri += " [" + res.Artifact.Member + "]"
		}
		ew.printf("  %-10s %s\n", left, termSafe(uri))
	}
	if f := termSafe(fileOf(res.Artifact.File, res.publishedDigest())); f != "" {
		ew.printf("  %-10s %s\n", "", f)
	}
	if res.Rebuilt != nil {
		label := res.Rebuilt.Path
		if res.IsDiff() && label != "" {
			ew.printf("  %-10s %s\n", right, termSafe(label))
			label = ""
		}
		if f := termSafe(fileOf(res.Rebuilt, "")); f != "" {
			name := right
			if res.IsDiff() {
				name = ""
			}
			ew.printf("  %-10s %s\n", name, f)
		}
	}
	if res.FirstDifference >= 0 && res.Verdict == NotReproducible {
		ew.printf("  first difference at byte %d\n", res.FirstDifference)
	}
	renderTextAlso(ew, res, p)

	// 3. Causes, most explaining first, with fixes.
	if causes := res.RankedCauses(); len(causes) > 0 {
		ew.printf("\n%s\n", p.bold.Sprint("Likely causes, most explaining first:"))
		for i, cs := range causes {
			ew.printf("  %d. %s  %s\n", i+1, p.bold.Sprint(termSafe(cs.Title)),
				p.dim.Sprintf("[%s, %d %s]", termSafe(string(cs.ID)), cs.Weight, plural(cs.Weight, "difference", "differences")))
			if cs.Fix != "" {
				ew.printf("     fix: %s\n", termSafe(cs.Fix))
			}
			if len(cs.Members) > 0 {
				ew.printf("     in:  %s\n", termSafe(memberList(cs.Members, textMaxMembers)))
			}
		}
	}
	if res.Diff != nil {
		if len(res.Diff.Normalizations) > 0 {
			ew.printf("\n%s %s\n", p.bold.Sprint("Normalizations that changed bytes:"), termSafe(strings.Join(res.Diff.Normalizations, ", ")))
			for _, h := range res.Diff.NormalizedAt {
				ew.printf("  %s at %s\n", termSafe(h.Pass), termSafe(memberList(h.Paths, textMaxMembers)))
			}
		}
		for _, w := range res.Diff.Warnings {
			ew.printf("%s %s\n", p.bold.Sprint("Warning:"), termSafe(w))
		}
		if len(res.Diff.Limits) > 0 {
			ew.printf("\n")
		}
		for _, l := range res.Diff.Limits {
			ew.printf("%s %s\n", p.warn.Sprint("limit:"), termSafe(l))
		}
	}

	// 4. Inputs.
	if !res.IsDiff() {
		renderTextInputs(ew, res, p)
	}

	// 5. The diff tree.
	if res.Diff != nil && res.Diff.Root != nil {
		ew.printf("\n%s\n", p.bold.Sprint("Differences:"))
		renderTextTree(ew, res, p, opts)
	}
	if ew.err != nil {
		return fmt.Errorf("writing text report: %w", ew.err)
	}
	return nil
}

func verdictMark(v Verdict) string {
	switch v {
	case Reproducible, ReproducibleAfterNormalization:
		return "✓"
	case NotReproducible:
		return "✗"
	}
	return "!"
}

// fileOf is "sha256:… 1234 bytes" for a compared file.
func fileOf(f *File, fallback string) string {
	if f == nil {
		return fallback
	}
	d := f.Digest
	if d == "" {
		d = fallback
	}
	if f.Size > 0 || d != "" {
		return strings.TrimSpace(fmt.Sprintf("%s  %d bytes", d, f.Size))
	}
	return ""
}

func memberList(ms []string, max int) string {
	if len(ms) <= max {
		return strings.Join(ms, ", ")
	}
	return fmt.Sprintf("%s (+%d more)", strings.Join(ms[:max], ", "), len(ms)-max)
}

func renderTextInputs(ew *errWriter, res *Result, p palette) {
	ew.printf("\n%s\n", p.bold.Sprint("Inputs:"))
	for _, in := range res.Inputs {
		line := in.URI
		if in.Rev != "" {
			line += " @ " + in.Rev
		}
		if in.Dest != "" {
			line += " → " + in.Dest
		}
		ew.printf("  %-9s %s\n", termSafe(in.Kind), termSafe(line))
		if in.Digest != "" {
			ew.printf("  %-9s %s\n", "", p.dim.Sprint(termSafe(in.Digest)))
		}
	}
	if res.Builder.Image != "" || res.Builder.Digest != "" {
		ew.printf("  %-9s %s\n", "builder", termSafe(res.Builder.Image))
		if res.Builder.Digest != "" && !strings.Contains(res.Builder.Image, res.Builder.Digest) {
			ew.printf("  %-9s %s\n", "", p.dim.Sprint(termSafe(res.Builder.Digest)))
		}
	}
	if res.Manifest.Path != "" || res.Manifest.Digest != "" {
		ew.printf("  %-9s %s\n", "manifest", strings.TrimSpace(termSafe(res.Manifest.Path)+"  "+p.dim.Sprint(termSafe(res.Manifest.Digest))))
	}
	if res.Backend != "" {
		ew.printf("  %-9s %s\n", "backend", termSafe(res.Backend))
	}
	if len(res.Timings) > 0 || !res.StartedAt.IsZero() {
		ew.printf("  %-9s %s\n", "time", res.timingLine())
	}
	for i, e := range res.Environment {
		label := ""
		if i == 0 {
			label = "env"
		}
		ew.printf("  %-9s %s\n", label, termSafe(e))
	}
	if res.BuildLog != "" {
		ew.printf("  %-9s %s\n", "log", termSafe(res.BuildLog))
	}
	if sb := res.Sandbox; sb != nil {
		sb.writeText(ew, p)
	}
	for i, a := range res.Approximated {
		label := ""
		if i == 0 {
			label = "approx"
			ew.printf("  %-9s %s\n", "inputs", p.warn.Sprint("approximated: not all are what the artifact was built from"))
		}
		ew.printf("  %-9s %s\n", label, termSafe(a))
	}
	if res.Adapter != nil {
		a := res.Adapter
		ew.printf("  %-9s %s adapter, tried %s", "inferred", termSafe(a.Name), termSafe(strings.Join(a.Tried, ", ")))
		if a.Matched != "" {
			ew.printf("; matched %s", termSafe(a.Matched))
		}
		ew.printf("\n")
		if a.Check != "" {
			ew.printf("  %-9s %s\n", "check", termSafe(a.Check))
		}
		for i, c := range a.Candidates {
			line := fmt.Sprintf("%d. %s: %s", i+1, c.Verdict, c.Name)
			if c.From != "" {
				line += " (from " + c.From + ")"
			}
			if c.Build > 0 {
				line += fmt.Sprintf(", build %.1fs", c.Build.Seconds())
			}
			ew.printf("  %-9s %s\n", "", termSafe(line))
		}
		for _, n := range a.Notes {
			ew.printf("  %-9s %s\n", "", p.dim.Sprint(termSafe(n)))
		}
	}
}

func renderTextTree(ew *errWriter, res *Result, p palette, opts RenderOptions) {
	maxLines := limit(opts.MaxDiffLines, textMaxDiffLines)
	maxNodes := limit(opts.MaxNodes, textMaxNodes)
	left, right := res.sideNames()
	shown, total := 0, 0
	walkNodes(res.Diff.Root, nil, 0, func(n, parent *diff.Node, depth int) bool {
		total++
		if maxNodes >= 0 && shown >= maxNodes {
			return true // keep counting what is not shown
		}
		shown++
		ind := strings.Repeat("  ", depth+1)
		line := ind + p.bold.Sprint(termSafe(nodeLabel(n, parent)))
		var facts []string
		if n.Format != "" {
			facts = append(facts, n.Format)
		}
		facts = append(facts, kindLabel(n, left, right))
		if s := sizeNote(n); s != "" {
			facts = append(facts, s)
		}
		line += "  " + p.kind.Sprint(termSafe("["+strings.Join(facts, ", ")+"]"))
		if len(n.Causes) > 0 {
			line += "  " + p.dim.Sprint(termSafe("cause: "+strings.Join(causeNames(n), ", ")))
		}
		ew.printf("%s\n", line)
		for _, e := range n.Evidence {
			ew.printf("%s  %s\n", ind, p.dim.Sprint(termSafe("# "+string(e.Cause)+": "+e.Text)))
		}
		for _, cm := range n.Comments {
			if evidenceSays(n, cm) {
				continue // "# timestamps: x: mtime: a → b" already said "mtime: a → b"
			}
			ew.printf("%s  %s\n", ind, p.dim.Sprint(termSafe("# "+cm)))
		}
		for _, body := range []string{n.Unified, n.Hex} {
			lines, dropped := diffLines(body, maxLines)
			for _, l := range lines {
				ew.printf("%s  %s\n", ind, colorDiffLine(p, termSafe(l)))
			}
			if dropped > 0 {
				ew.printf("%s  %s\n", ind, p.dim.Sprintf("… %d more %s (--json or --html has them all)", dropped, plural(dropped, "line", "lines")))
			}
		}
		return true
	})
	if total > shown {
		ew.printf("  %s\n", p.dim.Sprintf("… %d more %s not shown (--json or --html has the full tree)", total-shown, plural(total-shown, "node", "nodes")))
	}
}

// evidenceSays reports whether one of n's evidence lines already quotes
// the comment cm whole.
func evidenceSays(n *diff.Node, cm string) bool {
	for _, e := range n.Evidence {
		if strings.Contains(e.Text, cm) {
			return true
		}
	}
	return false
}

func colorDiffLine(p palette, l string) string {
	switch classifyLine(l) {
	case lineDel:
		return p.del.Sprint(l)
	case lineAdd:
		return p.add.Sprint(l)
	case lineHunk:
		return p.hunk.Sprint(l)
	case lineHeader:
		return p.bold.Sprint(l)
	}
	return l
}

// termSafe shows control characters from untrusted bytes (file names, diff
// lines) as \xNN, so they can neither move the cursor nor recolor or retitle
// the terminal. Tabs are kept; invalid UTF-8 becomes U+FFFD.
func termSafe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (r < 0x20 && r != '\t') || (r >= 0x7f && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if (r < 0x20 && r != '\t') || (r >= 0x7f && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
