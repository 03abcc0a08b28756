package diff_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"github.com/reprove/reprove/diff"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

func TestRenamedMembers(t *testing.T) {
	lib := dt.Random(64<<10, 5)
	lib2 := append(append([]byte(nil), lib[:40000]...), append([]byte("\x00libfoo 1.3\x00"), lib[40000:]...)...)
	control := func(body string) []byte {
		return dt.Tar(tar.FormatGNU, file("./control", body), file("./md5sums", "x\n"))
	}
	data := dt.Tar(tar.FormatGNU, file("./usr/bin/x", "same\n"))
	deb := func(name string, ctl []byte) []byte {
		return dt.Ar(dt.Entry{Name: "debian-binary", Body: []byte("2.0\n")}, dt.Entry{Name: name, Body: ctl}, dt.Entry{Name: "data.tar.xz", Body: dt.XZ(data, xz.CRC64)})
	}
	cases := []pairCase{
		{name: "renamed top folder", nameA: "a.tar", nameB: "b.tar",
			a:          dt.Tar(tar.FormatPAX, dt.Entry{Name: "hello-1.0/", Type: tar.TypeDir}, file("hello-1.0/bin/x", "v1\n"), file("hello-1.0/share/doc", "same\n")),
			b:          dt.Tar(tar.FormatPAX, dt.Entry{Name: "hello-1.1/", Type: tar.TypeDir}, file("hello-1.1/bin/x", "v2\n"), file("hello-1.1/share/doc", "same\n")),
			wantLeaves: []string{"content b.tar/hello-1.1/bin/x", "metadata b.tar/hello-1.1/"}, wantCauses: []string{"renamed"}},
		{name: "deb control compressed differently", nameA: "a.deb", nameB: "b.deb",
			a:          deb("control.tar.gz", dt.Gzip(control("Version: 1\n"), 9, "", dt.Epoch)),
			b:          deb("control.tar.xz", dt.XZ(control("Version: 2\n"), xz.CRC64)),
			wantLeaves: []string{"content b.deb/control.tar.xz/control.tar/./control"}, wantCauses: []string{"compression-changed", "renamed"}},
		{name: "renamed file with similar content", nameA: "a.tar", nameB: "b.tar",
			a:          dt.Tar(tar.FormatPAX, dt.Entry{Name: "usr/lib/libfoo.so.1.2", Body: lib}, file("usr/share/x", "same\n")),
			b:          dt.Tar(tar.FormatPAX, dt.Entry{Name: "usr/lib/libfoo.so.1.3", Body: lib2}, file("usr/share/x", "same\n")),
			wantLeaves: []string{"content b.tar/usr/lib/libfoo.so.1.3"}, wantCauses: []string{"renamed"},
			check: func(t *testing.T, s *diff.Summary) {
				n := s.Root.Details[0]
				if !strings.HasPrefix(n.Comments[0], "renamed: usr/lib/libfoo.so.1.2 → usr/lib/libfoo.so.1.3 (content ") || !strings.Contains(n.Unified, "+libfoo 1.3") {
					t.Errorf("renamed pair: comments %q, strings diff %q", n.Comments, n.Unified)
				}
			}},
		{name: "dissimilar members stay added and removed", nameA: "a.tar", nameB: "b.tar",
			a:          dt.Tar(tar.FormatPAX, dt.Entry{Name: "old.bin", Body: dt.Random(8192, 1)}),
			b:          dt.Tar(tar.FormatPAX, dt.Entry{Name: "new.bin", Body: dt.Random(8192, 2)}),
			wantLeaves: []string{"added b.tar/new.bin", "removed b.tar/old.bin"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkPair(t, tc, runPair(t, tc))
		})
	}
}

// Two Go toolchain zips: every path starts with a versioned folder. Each
// member is paired by its path below it, and only real changes show.
func TestRenamedLeadingFolderManyMembers(t *testing.T) {
	build := func(version string, changed string) []byte {
		var es []dt.Entry
		for i := range 3000 {
			body := fmt.Sprintf("package p%d\n", i)
			if fmt.Sprint(i) == changed {
				body += "// changed\n"
			}
			es = append(es, dt.Entry{Name: fmt.Sprintf("golang.org/toolchain@v0.0.1-go%s.linux-amd64/src/p%d/p.go", version, i), Body: []byte(body), Store: true})
		}
		return dt.Zip(6, es...)
	}
	tc := pairCase{nameA: "a.zip", nameB: "b.zip", a: build("1.25.13", ""), b: build("1.25.12", "1234"),
		wantLeaves: []string{"content b.zip/golang.org/toolchain@v0.0.1-go1.25.12.linux-amd64/src/p1234/p.go",
			"metadata b.zip/golang.org/toolchain@v0.0.1-go1.25.12.linux-amd64/"},
		wantCauses: []string{"renamed"}}
	checkPair(t, tc, runPair(t, tc))
}

// Thousands of members only one side has are paired by content in bounded
// work: identical contents under new names all pair, random ones none.
func TestSimilarityPairingAtScale(t *testing.T) {
	var ea, eb []dt.Entry
	for i := range 2000 {
		body := dt.Random(512, uint64(i+10))
		ea = append(ea, dt.Entry{Name: fmt.Sprintf("old/%04d", i), Body: body})
		eb = append(eb, dt.Entry{Name: fmt.Sprintf("new-%04d.dat", 1999-i), Body: body})
	}
	for i := range 1000 {
		ea = append(ea, dt.Entry{Name: fmt.Sprintf("gone/%04d", i), Body: dt.Random(512, uint64(100000+i))})
		eb = append(eb, dt.Entry{Name: fmt.Sprintf("fresh/%04d", i), Body: dt.Random(512, uint64(200000+i))})
	}
	s := runPair(t, pairCase{nameA: "a.tar", nameB: "b.tar", a: dt.Tar(tar.FormatPAX, ea...), b: dt.Tar(tar.FormatPAX, eb...)})
	kinds := map[string]int{}
	for _, l := range leaves(s.Root) {
		kinds[strings.Fields(l)[0]]++
	}
	if kinds["metadata"] != 2000 || kinds["added"] != 1000 || kinds["removed"] != 1000 {
		t.Errorf("want 2000 renamed pairs, 1000 added and 1000 removed; got %v", kinds)
	}
	var renamed []string
	for _, n := range s.Root.Details {
		if strings.HasPrefix(strings.Join(n.Comments, " "), "renamed: old/0000 ") {
			renamed = append(renamed, n.Comments[0])
		}
	}
	sort.Strings(renamed)
	if len(renamed) != 1 || !strings.Contains(renamed[0], "→ new-1999.dat (content 100% similar)") {
		t.Errorf("old/0000 paired as %q, want new-1999.dat", renamed)
	}
	if !bytes.Contains([]byte(strings.Join(s.Root.Details[len(s.Root.Details)-1].Comments, "")), []byte("renamed")) {
		t.Errorf("last node is not a rename")
	}
}
