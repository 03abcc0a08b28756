package diff_test

import (
	"bytes"
	"strings"
	"testing"

	dt "github.com/reprove/reprove/diff/internal/difftest"
)

// splice returns p with the bytes [at, at+del) replaced by ins.
func splice(p []byte, at, del int, ins string) []byte {
	out := append([]byte(nil), p[:at]...)
	out = append(out, ins...)
	return append(out, p[at+del:]...)
}

// An inserted or deleted run of bytes shows as such: the hex diff is a few
// rows around it, not everything after it, and the strings diff names it.
func TestAlignedBinaryDiff(t *testing.T) {
	body := dt.Random(1<<20, 3)
	for i := 0; i < len(body); i += 997 {
		body[i] = 0 // keep random printable runs short
	}
	const str = "\x00curl 7.88.1-10+deb12u5 (x86_64-pc-linux-gnu) libcurl\x00"
	withStr := splice(body, 300000, 0, str)
	cases := []struct {
		name        string
		a, b        []byte
		wantStrings []string
		maxHexLines int
		wantComment string
	}{
		{"insertion", body, splice(body, 500000, 0, "\x00INSERTED-BY-THE-BUILD\x00"), []string{"+INSERTED-BY-THE-BUILD"}, 40, "1 regions (aligned by content)"},
		{"deletion of a string", withStr, body, []string{"-curl 7.88.1-10+deb12u5 (x86_64-pc-linux-gnu) libcurl"}, 40, "bytes differ in 1 regions"},
		{"version string", withStr, bytes.Replace(withStr, []byte("deb12u5"), []byte("deb12u15"), 1),
			[]string{"-curl 7.88.1-10+deb12u5 (x86_64-pc-linux-gnu) libcurl", "+curl 7.88.1-10+deb12u15 (x86_64-pc-linux-gnu) libcurl"}, 40, "size differs: 1048630 → 1048631 bytes"},
		{"two insertions far apart", body, splice(splice(body, 900000, 0, "\x00second-insert\x00"), 100000, 0, "\x00first-insert\x00"),
			[]string{"+first-insert", "+second-insert"}, 80, "2 regions (aligned by content)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := runPair(t, pairCase{nameA: "a.bin", nameB: "b.bin", a: tc.a, b: tc.b})
			checkCatalogue(t, s)
			n := s.Root
			if n == nil || n.Format != "binary" {
				t.Fatalf("want a binary node, got %+v", n)
			}
			for _, w := range tc.wantStrings {
				if !strings.Contains(n.Unified, "\n"+w+"\n") {
					t.Errorf("strings diff lacks %q:\n%s", w, n.Unified)
				}
			}
			if lines := strings.Count(n.Hex, "\n"); lines > tc.maxHexLines || lines == 0 {
				t.Errorf("hex diff has %d lines, want 1 to %d:\n%s", lines, tc.maxHexLines, n.Hex)
			}
			if c := strings.Join(n.Comments, "\n"); !strings.Contains(c, tc.wantComment) {
				t.Errorf("comments %q lack %q", n.Comments, tc.wantComment)
			}
			for _, c := range n.Causes {
				if c == "random-ids" {
					t.Errorf("a string inserted or changed is blamed on random-looking identifiers: %v", n.Evidence)
				}
			}
		})
	}
}
