package report

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/diff"
)

// The diff engine ranks a differing build ID after the causes it follows
// from, even when it touches more members: renderers must keep that order.
func TestRankedCausesKeepEngineOrder(t *testing.T) {
	res := &Result{Diff: &diff.Summary{Causes: []diff.Cause{
		{ID: "go-vcs-modified", Weight: 1},
		{ID: "build-id", Weight: 5},
	}}}
	var got []string
	for _, c := range res.RankedCauses() {
		got = append(got, string(c.ID))
	}
	if d := cmp.Diff([]string{"go-vcs-modified", "build-id"}, got); d != "" {
		t.Errorf("RankedCauses order (-want +got):\n%s", d)
	}
}
