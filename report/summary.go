package report

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/reprove/reprove/diff"
)

// IsDiff reports whether the result compares two given files rather than a
// rebuild with a published artifact.
func (r *Result) IsDiff() bool { return r.Mode == ModeDiff }

// VerdictLabel is the verdict said for people, in the words that fit the mode.
func (r *Result) VerdictLabel() string {
	if r.IsDiff() {
		switch r.Verdict {
		case Reproducible:
			return "identical"
		case ReproducibleAfterNormalization:
			return "equivalent after normalization"
		case NotReproducible:
			return "different"
		}
	}
	switch r.Verdict {
	case Reproducible:
		return "reproducible"
	case ReproducibleAfterNormalization:
		return "reproducible after normalization"
	case NotReproducible:
		return "not reproducible"
	case Error:
		return "error"
	}
	return string(r.Verdict)
}

// Passed reports whether the verdict is a pass (exit code 0).
func (r *Result) Passed() bool {
	return r.Verdict == Reproducible || r.Verdict == ReproducibleAfterNormalization
}

// Headline is the one-line verdict, with no color: what was checked, the
// verdict, and the most useful next fact (error, difference count, top cause).
func (r *Result) Headline() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", r.displayName(), r.VerdictLabel())
	switch r.Verdict {
	case Error:
		if r.Error != "" {
			fmt.Fprintf(&b, ": %s", firstLine(r.Error))
		}
	case NotReproducible:
		n := r.DifferenceCount()
		fmt.Fprintf(&b, " (%d %s", n, plural(n, "difference", "differences"))
		if cs := r.RankedCauses(); len(cs) > 0 {
			fmt.Fprintf(&b, "; likely cause: %s", cs[0].Title)
		}
		b.WriteString(")")
	case ReproducibleAfterNormalization:
		if r.Diff != nil && len(r.Diff.Normalizations) > 0 {
			fmt.Fprintf(&b, " (normalized: %s)", strings.Join(r.Diff.Normalizations, ", "))
		}
	case Reproducible:
		if d := r.publishedDigest(); d != "" {
			fmt.Fprintf(&b, " (%s)", shortDigest(d))
		}
	}
	if len(r.Approximated) > 0 {
		b.WriteString(" — inputs: approximated")
	}
	return b.String()
}

// displayName is what the result is about, for headings.
func (r *Result) displayName() string {
	if r.Name != "" {
		return r.Name
	}
	if r.Artifact.URI != "" {
		return path.Base(r.Artifact.URI)
	}
	return "result"
}

// publishedDigest is the digest of what was compared on the published side.
func (r *Result) publishedDigest() string {
	if r.Artifact.File != nil && r.Artifact.File.Digest != "" {
		return r.Artifact.File.Digest
	}
	return r.Artifact.Digest
}

// RankedCauses returns the causes most explaining first, in the diff
// engine's order.
func (r *Result) RankedCauses() []diff.Cause {
	if r.Diff == nil {
		return nil
	}
	// diff.Summary.Causes is ranked by the engine, which knows more than the
	// weights: a differing build ID follows from any other cause, so it comes
	// after them however many members it touches. Keep that order.
	return slices.Clone(r.Diff.Causes)
}

// DifferenceCount is the number of differences in the diff tree: every node
// that is not only a container of others.
func (r *Result) DifferenceCount() int {
	if r.Diff == nil || r.Diff.Root == nil {
		return 0
	}
	n := 0
	walkNodes(r.Diff.Root, nil, 0, func(nd, _ *diff.Node, _ int) bool {
		if nd.Kind != diff.KindContainer || len(nd.Details) == 0 {
			n++
		}
		return true
	})
	return n
}

// Duration is the total time of the run: the span from StartedAt to
// FinishedAt, or the sum of the phase timings when those are not set.
func (r *Result) Duration() time.Duration {
	if !r.StartedAt.IsZero() && r.FinishedAt.After(r.StartedAt) {
		return r.FinishedAt.Sub(r.StartedAt)
	}
	var d time.Duration
	for _, t := range r.Timings {
		d += t.Duration
	}
	return d
}

// sideNames are how the two sides of a comparison are called.
func (r *Result) sideNames() (left, right string) {
	if r.IsDiff() {
		return "left", "right"
	}
	return "published", "rebuilt"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// shortDigest shortens "sha256:abcdef…" to "sha256:abcdef012345" for headings.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12]
}

// formatDuration rounds a duration for people: 12.3s, 450ms, 2m3s.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// timingLine is "12.3s (fetch 1.2s, build 10s, compare 1.1s)".
func (r *Result) timingLine() string {
	var parts []string
	for _, t := range r.Timings {
		parts = append(parts, t.Phase+" "+formatDuration(t.Duration))
	}
	s := formatDuration(r.Duration())
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// causeNames lists a node's cause IDs as strings, for renderers.
func causeNames(n *diff.Node) []string {
	out := make([]string, 0, len(n.Causes))
	for _, c := range n.Causes {
		out = append(out, string(c))
	}
	return out
}
