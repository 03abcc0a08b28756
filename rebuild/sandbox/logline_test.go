package sandbox

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLineWriter splits what the build writes into lines, whatever the
// writes' boundaries, writes every byte through, and bounds a long line.
func TestLineWriter(t *testing.T) {
	var log bytes.Buffer
	var got []string
	lw := &lineWriter{w: &log, fn: func(l string) { got = append(got, l) }}
	in := "out1\nerr1\npart" + "ial\n\nlong:" + strings.Repeat("x", 10000) + "\nlast"
	for _, chunk := range []string{"out1\nerr1\npart", "ial\n\nlong:", strings.Repeat("x", 10000), "\nlast"} {
		if n, err := lw.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	lw.flush()
	want := []string{"out1", "err1", "partial", "", "long:" + strings.Repeat("x", maxLogLine-len("long:")), "last"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
	if log.String() != in {
		t.Errorf("the log holds %d bytes, want all %d written through", log.Len(), len(in))
	}
}
