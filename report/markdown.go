package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/reprove/reprove/diff"
)

// Markdown defaults: a pull-request comment holds at most 65 536 characters,
// so the diff section stops well before that.
const (
	mdMaxDiffLines = 60
	mdMaxNodes     = 100
	mdMaxDiffBytes = 50_000
	mdMaxMembers   = 5
)

// RenderMarkdown writes the result as GitHub-flavoured Markdown fit for a
// pull-request comment or an issue: the verdict as a heading, a table of
// what was compared, the ranked causes with fixes, and the inputs and the
// diff in collapsed <details> blocks.
func RenderMarkdown(w io.Writer, res *Result, opts RenderOptions) error {
	ew := &errWriter{w: w}
	left, right := res.sideNames()
	icon := map[Verdict]string{Reproducible: "✅", ReproducibleAfterNormalization: "☑️", NotReproducible: "❌"}[res.Verdict]
	if icon == "" {
		icon = "⚠️"
	}
	ew.printf("### %s %s\n\n", icon, mdText(res.Headline()))
	if res.Verdict == Error && res.Error != "" {
		ew.printf("%s", mdFence("", res.Error))
	}

	// What was compared.
	ew.printf("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			ew.printf("| %s | %s |\n", k, v)
		}
	}
	uri := res.Artifact.URI
	if res.Artifact.Member != "" {
		uri += " [" + res.Artifact.Member + "]"
	}
	row(capitalize(left), mdCell(mdCode(uri)))
	row(capitalize(left)+" digest", mdCell(mdCode(fileOf(res.Artifact.File, res.publishedDigest()))))
	if res.Rebuilt != nil {
		if res.IsDiff() {
			row(capitalize(right), mdCell(mdCode(res.Rebuilt.Path)))
		}
		row(capitalize(right)+" digest", mdCell(mdCode(fileOf(res.Rebuilt, ""))))
	}
	if res.FirstDifference >= 0 && res.Verdict == NotReproducible {
		row("First difference", fmt.Sprintf("byte %d", res.FirstDifference))
	}
	if !res.IsDiff() {
		row("Builder", mdCell(mdCode(res.Builder.Image)))
		if res.Builder.Digest != "" && !strings.Contains(res.Builder.Image, res.Builder.Digest) {
			row("Builder digest", mdCell(mdCode(res.Builder.Digest)))
		}
		row("Backend", mdCell(mdText(res.Backend)))
		if len(res.Timings) > 0 || !res.StartedAt.IsZero() {
			row("Time", mdCell(mdText(res.timingLine())))
		}
		row("Manifest", mdCell(strings.TrimSpace(mdCode(res.Manifest.Path)+" "+mdCode(res.Manifest.Digest))))
		row("Build log", mdCell(mdCode(res.BuildLog)))
	}
	ew.printf("\n")

	// Causes.
	if causes := res.RankedCauses(); len(causes) > 0 {
		ew.printf("#### Likely causes\n\n")
		for i, c := range causes {
			ew.printf("%d. **%s** (%s, %d %s)", i+1, mdText(c.Title), mdCode(string(c.ID)), c.Weight, plural(c.Weight, "difference", "differences"))
			if c.Fix != "" {
				ew.printf("  \n   Fix: %s", mdText(c.Fix))
			}
			if len(c.Members) > 0 {
				var ms []string
				for j, m := range c.Members {
					if j == mdMaxMembers {
						ms = append(ms, fmt.Sprintf("+%d more", len(c.Members)-mdMaxMembers))
						break
					}
					ms = append(ms, mdCode(m))
				}
				ew.printf("  \n   In: %s", strings.Join(ms, ", "))
			}
			ew.printf("\n")
		}
		ew.printf("\n")
	}
	if res.Diff != nil && len(res.Diff.Normalizations) > 0 {
		ew.printf("Normalizations that changed bytes: %s\n\n", mdText(strings.Join(res.Diff.Normalizations, ", ")))
	}
	if res.Diff != nil {
		for _, l := range res.Diff.Limits {
			ew.printf("> **Limit reached:** %s\n\n", mdText(l))
		}
	}

	// Inputs.
	if !res.IsDiff() && len(res.Inputs) > 0 {
		ew.printf("<details><summary>Inputs (%d)</summary>\n\n", len(res.Inputs))
		ew.printf("| Kind | URI | Digest | Destination |\n|---|---|---|---|\n")
		for _, in := range res.Inputs {
			u := in.URI
			if in.Rev != "" {
				u += " @ " + in.Rev
			}
			ew.printf("| %s | %s | %s | %s |\n", mdCell(mdText(in.Kind)), mdCell(mdCode(u)), mdCell(mdCode(in.Digest)), mdCell(mdCode(in.Dest)))
		}
		if len(res.Environment) > 0 {
			ew.printf("\nEnvironment:\n%s", mdFence("", strings.Join(res.Environment, "\n")))
		}
		ew.printf("\n</details>\n\n")
	}

	if !res.IsDiff() {
		renderMarkdownBuild(ew, res)
	}

	// The diff, collapsed.
	if res.Diff != nil && res.Diff.Root != nil {
		renderMarkdownDiff(ew, res, opts, left, right)
	}

	if res.Tool.Version != "" {
		ew.printf("<sub>%s %s</sub>\n", mdText(res.Tool.Name), mdText(res.Tool.Version))
	}
	if ew.err != nil {
		return fmt.Errorf("writing Markdown report: %w", ew.err)
	}
	return nil
}

// renderMarkdownBuild shows the build script and the end of the build log,
// open when the build is what failed.
func renderMarkdownBuild(ew *errWriter, res *Result) {
	if res.BuildScript != "" {
		ew.printf("<details><summary>Build script</summary>\n\n%s\n</details>\n\n", mdFence("sh", res.BuildScript))
	}
	if n := len(res.BuildLogTail); n > 0 {
		open := ""
		if res.Verdict == Error {
			open = " open"
		}
		ew.printf("<details%s><summary>Build log, last %d %s</summary>\n\n%s\n</details>\n\n", open, n, plural(n, "line", "lines"),
			mdFence("text", strings.Join(res.BuildLogTail, "\n")))
	}
}

// mdMetaTable lists members that differ only in metadata, one row each.
func mdMetaTable(parent *diff.Node, members []*diff.Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d members differ only in metadata:\n\n| Member | What changed | Cause |\n|---|---|---|\n", len(members))
	for _, m := range members {
		var causes []string
		for _, c := range m.Causes {
			causes = append(causes, mdCode(string(c)))
		}
		var changes []string
		for _, c := range metaChanges(m) {
			changes = append(changes, mdText(c))
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", mdCell(mdCode(nodeLabel(m, parent))), mdCell(strings.Join(changes, "<br>")), mdCell(strings.Join(causes, ", ")))
	}
	return b.String() + "\n"
}

func renderMarkdownDiff(ew *errWriter, res *Result, opts RenderOptions, left, right string) {
	maxLines := limit(opts.MaxDiffLines, mdMaxDiffLines)
	maxNodes := limit(opts.MaxNodes, mdMaxNodes)
	var b strings.Builder
	shown, total := 0, 0
	full := false
	grouped := map[*diff.Node]bool{}
	walkNodes(res.Diff.Root, nil, 0, func(n, _ *diff.Node, depth int) bool {
		total++
		if full || grouped[n] || (maxNodes >= 0 && shown >= maxNodes) {
			return true
		}
		meta := metadataOnly(n.Details)
		var members []*diff.Node
		for _, c := range n.Details {
			if meta[c] {
				grouped[c] = true
				members = append(members, c)
			}
		}
		var nb strings.Builder
		facts := []string{}
		if n.Format != "" {
			facts = append(facts, mdText(n.Format))
		}
		facts = append(facts, mdText(kindLabel(n, left, right)))
		if s := sizeNote(n); s != "" {
			facts = append(facts, mdText(s))
		}
		if len(n.Causes) > 0 {
			var ids []string
			for _, c := range n.Causes {
				ids = append(ids, mdCode(string(c)))
			}
			facts = append(facts, "cause "+strings.Join(ids, ", "))
		}
		fmt.Fprintf(&nb, "**%s** · %s\n", mdCode(nodePath(n, depth)), strings.Join(facts, " · "))
		for _, c := range n.Comments {
			fmt.Fprintf(&nb, "> %s\n", mdText(c))
		}
		for _, body := range []string{n.Unified, n.Hex} {
			lines, dropped := diffLines(body, maxLines)
			if len(lines) == 0 {
				continue
			}
			text := strings.Join(lines, "\n")
			if dropped > 0 {
				text += fmt.Sprintf("\n… %d more %s", dropped, plural(dropped, "line", "lines"))
			}
			nb.WriteString(mdFence("diff", text))
		}
		if len(members) > 0 {
			nb.WriteString("\n" + mdMetaTable(n, members))
		}
		nb.WriteString("\n")
		if mdMaxDiffBytes > 0 && b.Len()+nb.Len() > mdMaxDiffBytes && shown > 0 {
			full = true
			return true
		}
		b.WriteString(nb.String())
		shown++
		return true
	})
	ew.printf("<details><summary>Differences (%d %s)</summary>\n\n", total, plural(total, "node", "nodes"))
	ew.printf("%s", b.String())
	if total > shown {
		ew.printf("_… %d more %s not shown; the JSON or HTML report has the full tree._\n\n", total-shown, plural(total-shown, "node", "nodes"))
	}
	ew.printf("</details>\n\n")
}

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "#", `\#`, "|", `\|`, "~", `\~`, "\n", " ",
)

// mdText escapes plain text for Markdown inline use; control characters
// from untrusted names show as \xNN, as in the text report.
func mdText(s string) string { return termSafe(mdEscaper.Replace(s)) }

// mdCode is s as an inline code span, with a fence longer than any run of
// backticks inside it. Empty for an empty s.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = termSafe(strings.ReplaceAll(s, "\n", " "))
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdCell makes already-formatted Markdown safe inside a table cell: a pipe
// ends a cell even inside a code span.
func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `\|`, "|"), "|", `\|`)
}

// mdFence is a fenced code block whose fence no line of s can close;
// control characters in its lines show as \xNN.
func mdFence(lang, s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = termSafe(l)
	}
	s = strings.Join(lines, "\n")
	n := max(3, longestRun(s, '`')+1)
	fence := strings.Repeat("`", n)
	return fence + lang + "\n" + strings.TrimRight(s, "\n") + "\n" + fence + "\n"
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
