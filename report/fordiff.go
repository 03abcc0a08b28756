package report

import (
	"github.com/reprove/reprove/diff"
)

// ForDiff makes a Result of a plain comparison of two files (reprove diff A
// B), so the same renderers show it. The verdict is Reproducible when the
// files are identical, ReproducibleAfterNormalization when only the asked
// normalizations differ, NotReproducible otherwise, and Error when s is nil.
// Renderers say "identical"/"different" for such results. The caller may
// fill Tool, timings and the files' digests (Artifact.File, Rebuilt).
func ForDiff(name1, name2 string, s *diff.Summary) *Result {
	res := &Result{
		SchemaVersion:   SchemaVersion,
		Tool:            Tool{Name: "reprove"},
		Name:            name1 + " ↔ " + name2,
		Mode:            ModeDiff,
		Artifact:        Artifact{URI: name1},
		Rebuilt:         &File{Path: name2},
		FirstDifference: -1,
		Diff:            s,
	}
	switch {
	case s == nil:
		res.Verdict = Error
		res.Error = "no comparison was made"
	case s.Identical:
		res.Verdict = Reproducible
	case s.Equivalent:
		res.Verdict = ReproducibleAfterNormalization
	default:
		res.Verdict = NotReproducible
	}
	return res
}
