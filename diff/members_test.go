package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Repeated names get #2, #3… in order, skipping names the archive holds
// literally, in one pass.
func TestIndexMembers(t *testing.T) {
	var ms []*member
	for _, n := range []string{"x", "x#3", "x", "y", "x", "x", "y"} {
		ms = append(ms, &member{name: n})
	}
	idx := indexMembers(ms)
	var keys []string
	for _, m := range ms {
		keys = append(keys, m.key)
		if idx[m.key] != m {
			t.Errorf("index[%q] is not its member", m.key)
		}
	}
	want := []string{"x", "x#3", "x#2", "y", "x#4", "x#5", "y#2"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}
