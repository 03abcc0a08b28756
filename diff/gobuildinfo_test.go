package diff_test

import (
	"strings"
	"testing"

	"github.com/reprove/reprove/diff"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

// Go binaries whose build info differs: each difference is named by the
// Go cause that explains it, and build IDs, which follow from every other
// input, rank after the causes they follow from.
func TestGoBuildInfoCauses(t *testing.T) {
	const clean = "path\texample.com/hello\nmod\texample.com/hello\tv1.0.0\t\nbuild\t-trimpath=true\nbuild\tvcs=git\nbuild\tvcs.revision=0123456789abcdef0123456789abcdef01234567\nbuild\tvcs.modified=false\n"
	dirty := strings.NewReplacer("v1.0.0\t", "v1.0.0+dirty\t", "vcs.modified=false", "vcs.modified=true").Replace(clean)
	spec := dt.ELFSpec{Text: []byte{0x90, 0x90}, Rodata: []byte("hi\x00"), BuildID: dt.Hex("0123456789abcdef0123456789abcdef01234567"), GoVers: "go1.24.0", GoMod: clean}
	with := func(f func(s *dt.ELFSpec)) []byte { s := spec; f(&s); return dt.ELF(s) }
	otherID := dt.Hex("ffffffffffffffffffffffffffffffffffffffff")

	tests := []struct {
		name      string
		b         []byte
		want      []string // cause IDs, ranked
		wantNotes string   // in the go build info node's comments
	}{
		{name: "uncommitted changes", b: with(func(s *dt.ELFSpec) { s.GoMod = dirty }),
			// The .go.buildinfo section's bytes differ for the reasons the
			// decoded build info names, and for no other.
			want: []string{"go-vcs-modified"}, wantNotes: "vcs.modified"},
		{name: "toolchain and build id", b: with(func(s *dt.ELFSpec) { s.GoVers, s.BuildID = "go1.24.1", otherID }),
			want: []string{"go-toolchain", "build-id"}},
		{name: "module version and build id", b: with(func(s *dt.ELFSpec) {
			s.GoMod, s.BuildID = strings.Replace(clean, "v1.0.0", "v1.0.1", 1), otherID
		}), want: []string{"go-module-versions", "build-id"}},
		{name: "build settings", b: with(func(s *dt.ELFSpec) { s.GoMod = strings.Replace(clean, "-trimpath=true", "-trimpath=false", 1) }),
			want: []string{"go-build-settings"}},
		{name: "build id only", b: with(func(s *dt.ELFSpec) { s.BuildID = otherID }), want: []string{"build-id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := runPair(t, pairCase{a: dt.ELF(spec), b: tt.b})
			var got []string
			for _, c := range s.Causes {
				got = append(got, string(c.ID))
			}
			if !equalRanked(tt.want, got) {
				t.Errorf("causes: want %q (build-id last), got %q", tt.want, got)
			}
			if tt.wantNotes != "" {
				n := findSource(s.Root, "b [go build info]")
				if n == nil || !strings.Contains(strings.Join(n.Comments, "\n"), tt.wantNotes) {
					t.Errorf("go build info node %+v: want a comment naming %q", n, tt.wantNotes)
				}
			}
		})
	}
}

// equalRanked compares cause lists where causes of equal standing may come
// in any order, but build-id, when wanted last, must be last.
func equalRanked(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	if want[len(want)-1] == "build-id" && got[len(got)-1] != "build-id" {
		return false
	}
	seen := map[string]int{}
	for _, w := range want {
		seen[w]++
	}
	for _, g := range got {
		seen[g]--
	}
	for _, v := range seen {
		if v != 0 {
			return false
		}
	}
	return true
}

func findSource(n *diff.Node, src string) *diff.Node {
	if n == nil {
		return nil
	}
	if n.Source2 == src {
		return n
	}
	for _, d := range n.Details {
		if f := findSource(d, src); f != nil {
			return f
		}
	}
	return nil
}
