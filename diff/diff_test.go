package diff_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/diff/archive/archivetest"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

var t2 = dt.Epoch.Add(time.Hour)

func file(name, body string) dt.Entry { return dt.Entry{Name: name, Body: []byte(body)} }

// leaves lists "kind path" for every node without details, paths from Source2.
func leaves(n *diff.Node) []string {
	var out []string
	var walk func(n *diff.Node)
	walk = func(n *diff.Node) {
		if len(n.Details) == 0 {
			out = append(out, string(n.Kind)+" "+n.Source2)
			return
		}
		for _, d := range n.Details {
			walk(d)
		}
	}
	if n != nil {
		walk(n)
	}
	sort.Strings(out)
	return out
}

func causeIDs(s *diff.Summary) []string {
	var out []string
	for _, c := range s.Causes {
		out = append(out, string(c.ID))
	}
	sort.Strings(out)
	return out
}

type pairCase struct {
	name       string
	a, b       []byte // files; nil with dirA/dirB set
	nameA      string
	nameB      string
	normalize  []string
	exclude    []string
	wantLeaves []string
	wantCauses []string
	wantEquiv  bool
	wantNorm   []string
	check      func(t *testing.T, s *diff.Summary)
}

func runPair(t *testing.T, tc pairCase) *diff.Summary {
	t.Helper()
	dir := t.TempDir()
	na, nb := tc.nameA, tc.nameB
	if na == "" {
		na, nb = "a", "b"
	}
	pa := dt.WriteFile(dir, "left/"+na, tc.a)
	pb := dt.WriteFile(dir, "right/"+nb, tc.b)
	opts := diff.DefaultOptions()
	opts.Name1, opts.Name2 = na, nb
	opts.Normalize, opts.Exclude = tc.normalize, tc.exclude
	s, err := diff.Run(context.Background(), pa, pb, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return s
}

func checkPair(t *testing.T, tc pairCase, s *diff.Summary) {
	t.Helper()
	if got := leaves(s.Root); !cmp.Equal(got, tc.wantLeaves, cmpEmpty) {
		t.Errorf("differing nodes (-want +got):\n%s", cmp.Diff(tc.wantLeaves, got, cmpEmpty))
	}
	if got := causeIDs(s); !cmp.Equal(got, tc.wantCauses, cmpEmpty) {
		t.Errorf("causes (-want +got):\n%s", cmp.Diff(tc.wantCauses, got, cmpEmpty))
	}
	if s.Equivalent != tc.wantEquiv {
		t.Errorf("Equivalent = %v, want %v", s.Equivalent, tc.wantEquiv)
	}
	if s.Identical {
		t.Errorf("Identical = true for differing inputs")
	}
	if !cmp.Equal(s.Normalizations, tc.wantNorm, cmpEmpty) {
		t.Errorf("normalizations (-want +got):\n%s", cmp.Diff(tc.wantNorm, s.Normalizations, cmpEmpty))
	}
	if tc.check != nil {
		tc.check(t, s)
	}
	checkCatalogue(t, s)
	if t.Failed() && s.Root != nil {
		js, _ := json.MarshalIndent(s.Root, "", "  ")
		t.Logf("tree:\n%s", js)
	}
}

// checkCatalogue fails when a node names a cause the catalogue lacks, or
// a cause without the evidence that triggered it.
func checkCatalogue(t *testing.T, s *diff.Summary) {
	t.Helper()
	var walk func(n *diff.Node)
	walk = func(n *diff.Node) {
		for _, id := range n.Causes {
			if _, ok := diff.LookupCause(id); !ok {
				t.Errorf("%s names cause %q, which is not in the catalogue", n.Source2, id)
			}
			found := false
			for _, e := range n.Evidence {
				found = found || (e.Cause == id && e.Text != "")
			}
			if !found {
				t.Errorf("%s names cause %q without evidence", n.Source2, id)
			}
		}
		for _, d := range n.Details {
			walk(d)
		}
	}
	if s.Root != nil {
		walk(s.Root)
	}
	for _, c := range s.Causes {
		if _, ok := diff.LookupCause(c.ID); !ok {
			t.Errorf("summary ranks cause %q, which is not in the catalogue", c.ID)
		}
	}
}

var cmpEmpty = cmp.Transformer("nilToEmpty", func(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
})

func TestPairs(t *testing.T) {
	base := []dt.Entry{file("./etc/conf", "a=1\n"), file("./usr/bin/tool", "binary\x00\x01\x02"), file("./usr/share/doc", "docs\n")}
	mod := func(f func(es []dt.Entry)) []dt.Entry {
		es := append([]dt.Entry(nil), base...)
		f(es)
		return es
	}
	baseTar := dt.Tar(tar.FormatPAX, base...)
	innerTar := dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[0].Body = []byte("a=2\n") })...)
	cases := []pairCase{
		{name: "tar content text", a: baseTar, b: innerTar,
			wantLeaves: []string{"content b/./etc/conf"}},
		{name: "tar mtime", a: baseTar, b: dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[1].ModTime = t2 })...),
			wantLeaves: []string{"metadata b/./usr/bin/tool"}, wantCauses: []string{"timestamps"}},
		{name: "tar mtime normalized", a: baseTar, b: dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[1].ModTime = t2 })...),
			normalize: []string{"tar-mtime"}, wantEquiv: true, wantNorm: []string{"tar-mtime"}},
		{name: "tar mtime normalized but content differs", a: baseTar, b: dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[1].ModTime = t2; es[0].Body = []byte("a=2\n") })...),
			normalize: []string{"tar-mtime"}, wantLeaves: []string{"content b/./etc/conf"}, wantNorm: []string{"tar-mtime"}},
		{name: "tar order", a: baseTar, b: dt.Tar(tar.FormatPAX, base[2], base[0], base[1]),
			wantLeaves: []string{"order b"}, wantCauses: []string{"file-order"}},
		{name: "tar order normalized", a: baseTar, b: dt.Tar(tar.FormatPAX, base[2], base[0], base[1]),
			normalize: []string{"tar-order"}, wantEquiv: true, wantNorm: []string{"tar-order"}},
		{name: "tar owner", a: baseTar, b: dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[0].UID, es[0].Uname = 1000, "builder" })...),
			wantLeaves: []string{"metadata b/./etc/conf"}, wantCauses: []string{"uid-gid"}},
		{name: "tar owner normalized", a: baseTar, b: dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[0].UID, es[0].Uname = 1000, "builder" })...),
			normalize: []string{"tar-owner"}, wantEquiv: true, wantNorm: []string{"tar-owner"}},
		{name: "tar mode", a: baseTar, b: dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[1].Mode = 0o775 })...),
			wantLeaves: []string{"metadata b/./usr/bin/tool"}, wantCauses: []string{"file-mode"}},
		{name: "tar added and removed", a: baseTar, b: dt.Tar(tar.FormatPAX, base[0], base[1], file("./new", "x")),
			wantLeaves: []string{"added b/./new", "removed b/./usr/share/doc"}},
		{name: "tar gnu vs pax headers", a: dt.Tar(tar.FormatGNU, base...), b: dt.Tar(tar.FormatPAX, mod(func(es []dt.Entry) { es[0].PAX = map[string]string{"comment": "x"} })...),
			wantLeaves: []string{"metadata b/./etc/conf", "metadata b/./usr/bin/tool", "metadata b/./usr/share/doc"}, wantCauses: []string{"archive-format"}},
		{name: "tar excluded member", a: baseTar, b: innerTar, exclude: []string{"conf"}, wantEquiv: false,
			wantLeaves: []string{"metadata b (encoding)"}, wantCauses: []string{"archive-format"}},
		{name: "gzip header mtime", nameA: "a.tar.gz", nameB: "b.tar.gz", a: dt.Gzip(baseTar, 6, "", dt.Epoch), b: dt.Gzip(baseTar, 6, "", t2),
			wantLeaves: []string{"metadata b.tar.gz (header)"}, wantCauses: []string{"timestamps"}},
		{name: "gzip header normalized", nameA: "a.tar.gz", nameB: "b.tar.gz", a: dt.Gzip(baseTar, 6, "a.tar", dt.Epoch), b: dt.Gzip(baseTar, 6, "b.tar", t2),
			normalize: []string{"gzip-header"}, wantEquiv: true, wantNorm: []string{"gzip-header"}},
		{name: "gzip level", nameA: "a.tar.gz", nameB: "b.tar.gz", a: dt.Gzip(baseTar, 1, "", dt.Epoch), b: dt.Gzip(baseTar, 9, "", dt.Epoch),
			wantLeaves: []string{"metadata b.tar.gz (compressed data)", "metadata b.tar.gz (header)"}, wantCauses: []string{"compression"}},
		{name: "gzip tar member", nameA: "a.tar.gz", nameB: "b.tar.gz", a: dt.Gzip(baseTar, 6, "", dt.Epoch), b: dt.Gzip(innerTar, 6, "", dt.Epoch),
			wantLeaves: []string{"content b.tar.gz/b.tar/./etc/conf"}},
		{name: "bzip2 member and level", nameA: "a.tar.bz2", nameB: "b.tar.bz2", a: dt.Bzip2(baseTar, 9), b: dt.Bzip2(innerTar, 1),
			wantLeaves: []string{"content b.tar.bz2/b.tar/./etc/conf", "metadata b.tar.bz2 (header)"}, wantCauses: []string{"compression"}},
		{name: "xz check", nameA: "a.tar.xz", nameB: "b.tar.xz", a: dt.XZ(baseTar, xz.CRC64), b: dt.XZ(baseTar, xz.SHA256),
			wantLeaves: []string{"metadata b.tar.xz (compressed data)", "metadata b.tar.xz (header)"}, wantCauses: []string{"compression"}},
		{name: "gzip against xz: compression changed, content compared", nameA: "a.tar.gz", nameB: "b.tar.xz", a: dt.Gzip(baseTar, 6, "", dt.Epoch), b: dt.XZ(innerTar, xz.CRC64),
			wantLeaves: []string{"content b.tar.xz/b.tar/./etc/conf"}, wantCauses: []string{"compression-changed"},
			check: func(t *testing.T, s *diff.Summary) {
				if s.Root.Format != "xz" || s.Causes[0].Evidence[0] != "compression: gzip → xz" {
					t.Errorf("root format %q, causes %+v; want xz and the change gzip → xz", s.Root.Format, s.Causes)
				}
			}},
		{name: "gzip against zstd with equal content", nameA: "a.tar.gz", nameB: "b.tar.zst", a: dt.Gzip(baseTar, 6, "", dt.Epoch), b: dt.Zstd(baseTar, zstd.SpeedDefault, true),
			wantLeaves: []string{"metadata b.tar.zst"}, wantCauses: []string{"compression-changed"}},
		{name: "deb against tar.gz: file type", nameA: "a.deb", nameB: "b.tar.gz", a: dt.Deb(baseTar, baseTar), b: dt.Gzip(baseTar, 6, "", dt.Epoch),
			wantLeaves: []string{"content b.tar.gz"}, wantCauses: []string{"file-type"}},
		{name: "zstd member", nameA: "a.tar.zst", nameB: "b.tar.zst", a: dt.Zstd(baseTar, zstd.SpeedDefault, true), b: dt.Zstd(innerTar, zstd.SpeedDefault, true),
			wantLeaves: []string{"content b.tar.zst/b.tar/./etc/conf"}},
		{name: "zstd checksum", nameA: "a.zst", nameB: "b.zst", a: dt.Zstd(baseTar, zstd.SpeedDefault, true), b: dt.Zstd(baseTar, zstd.SpeedDefault, false),
			wantLeaves: []string{"metadata b.zst (compressed data)", "metadata b.zst (header)"}, wantCauses: []string{"compression"}},
		{name: "lzma member", nameA: "a.tar.lzma", nameB: "b.tar.lzma", a: dt.LZMA(baseTar, 1<<16), b: dt.LZMA(innerTar, 1<<16),
			wantLeaves: []string{"content b.tar.lzma/b.tar/./etc/conf"}},
		{name: "zip content and mtime", nameA: "a.zip", nameB: "b.zip",
			a:          dt.Zip(6, file("x.txt", "one\n"), file("y.txt", "same\n")),
			b:          dt.Zip(6, file("x.txt", "two\n"), dt.Entry{Name: "y.txt", Body: []byte("same\n"), ModTime: t2}),
			wantLeaves: []string{"content b.zip/x.txt", "metadata b.zip/y.txt"}, wantCauses: []string{"timestamps"}},
		{name: "zip mtime and order normalized", nameA: "a.zip", nameB: "b.zip",
			a:         dt.Zip(6, file("x.txt", "one\n"), file("y.txt", "same\n")),
			b:         dt.Zip(6, dt.Entry{Name: "y.txt", Body: []byte("same\n"), ModTime: t2}, file("x.txt", "one\n")),
			normalize: []string{"zip-mtime", "zip-order"}, wantEquiv: true, wantNorm: []string{"zip-mtime", "zip-order"}},
		{name: "zip method", nameA: "a.jar", nameB: "b.jar",
			a:          dt.Zip(6, file("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"), file("A.class", strings.Repeat("code", 100))),
			b:          dt.Zip(6, file("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"), dt.Entry{Name: "A.class", Body: []byte(strings.Repeat("code", 100)), Store: true}),
			wantLeaves: []string{"metadata b.jar/A.class"}, wantCauses: []string{"compression"},
			check: func(t *testing.T, s *diff.Summary) {
				if s.Root.Format != "jar" {
					t.Errorf("format = %q, want jar", s.Root.Format)
				}
			}},
		{name: "zip deflate level", nameA: "a.zip", nameB: "b.zip",
			a: dt.Zip(1, file("x", strings.Repeat("abcabd", 5000))), b: dt.Zip(9, file("x", strings.Repeat("abcabd", 5000))),
			wantLeaves: []string{"metadata b.zip/x"}, wantCauses: []string{"compression"}},
		{name: "deb data member", nameA: "a.deb", nameB: "b.deb",
			a:          dt.Deb(dt.Tar(tar.FormatGNU, file("./control", "Package: x\n")), baseTar),
			b:          dt.Deb(dt.Tar(tar.FormatGNU, file("./control", "Package: x\n")), innerTar),
			wantLeaves: []string{"content b.deb/data.tar.xz/data.tar/./etc/conf"},
			check: func(t *testing.T, s *diff.Summary) {
				if s.Root.Format != "deb" {
					t.Errorf("format = %q, want deb", s.Root.Format)
				}
			}},
		{name: "ar long names and mtime", nameA: "a.a", nameB: "b.a",
			a:          dt.Ar(file("a-very-long-object-name.o", "obj1"), file("b.o", "x")),
			b:          dt.Ar(file("a-very-long-object-name.o", "obj2"), dt.Entry{Name: "b.o", Body: []byte("x"), ModTime: t2}),
			wantLeaves: []string{"content b.a/a-very-long-object-name.o", "metadata b.a/b.o"}, wantCauses: []string{"timestamps"}},
		{name: "cpio content and mode", nameA: "a.cpio", nameB: "b.cpio",
			a:          dt.Cpio(file("init", "#!/bin/sh\necho 1\n"), file("etc/x", "x")),
			b:          dt.Cpio(file("init", "#!/bin/sh\necho 2\n"), dt.Entry{Name: "etc/x", Body: []byte("x"), Mode: 0o600}),
			wantLeaves: []string{"content b.cpio/init", "metadata b.cpio/etc/x"}, wantCauses: []string{"file-mode"}},
		{name: "json key order", nameA: "a.json", nameB: "b.json", a: []byte(`{"a":1,"b":[1,2]}`), b: []byte("{\n  \"b\": [1, 2],\n  \"a\": 1\n}\n"),
			wantLeaves: []string{"metadata b.json"}, wantCauses: []string{"serialization"}},
		{name: "json value", nameA: "a.json", nameB: "b.json", a: []byte(`{"created":"2024-01-01T00:00:00Z","id":1}`), b: []byte(`{"id":1,"created":"2024-02-03T10:00:00Z"}`),
			wantLeaves: []string{"content b.json"}, wantCauses: []string{"timestamps"}},
		{name: "text build path and uuid", nameA: "a.txt", nameB: "b.txt",
			a:          []byte("built in /tmp/build-123/src/x.c\nid 123e4567-e89b-12d3-a456-426614174000\nsame\n"),
			b:          []byte("built in /tmp/build-456/src/x.c\nid 00000000-1111-2222-3333-444444444444\nsame\n"),
			wantLeaves: []string{"content b.txt"}, wantCauses: []string{"build-path", "random-ids"}},
		{name: "text host name", nameA: "a.txt", nameB: "b.txt",
			a: []byte("Built by builder@buildd-x86-03 on Linux\nsame\n"), b: []byte("Built by builder@laptop-7 on Linux\nsame\n"),
			wantLeaves: []string{"content b.txt"}, wantCauses: []string{"hostname"},
			check: func(t *testing.T, s *diff.Summary) {
				if ev := s.Causes[0].Evidence; len(ev) != 1 || ev[0] != "host name: builder@buildd-x86-03 → builder@laptop-7" {
					t.Errorf("evidence %q", ev)
				}
			}},
		{name: "text host name after a date", nameA: "a.txt", nameB: "b.txt",
			a: []byte("built 2026-11-24 15:25:38 on vm\n"), b: []byte("built 2026-12-02 02:07:02 on reprove\n"),
			wantLeaves: []string{"content b.txt"}, wantCauses: []string{"hostname", "timestamps"},
			check: func(t *testing.T, s *diff.Summary) {
				for _, c := range s.Causes {
					if c.ID == diff.CauseHostname && (len(c.Evidence) != 1 || c.Evidence[0] != "host name after a date: vm → reprove") {
						t.Errorf("hostname evidence %q", c.Evidence)
					}
				}
			}},
		{name: "debian md5sums are checksums, not random ids", nameA: "md5sums", nameB: "md5sums",
			a:          []byte("d41d8cd98f00b204e9800998ecf8427e  usr/bin/x\n0cc175b9c0f1b6a831c399e269772661  usr/share/doc/x\n"),
			b:          []byte("9e107d9d372bb6826bd81d3542a419d6  usr/bin/x\n0cc175b9c0f1b6a831c399e269772661  usr/share/doc/x\n"),
			wantLeaves: []string{"content md5sums"}, wantCauses: []string{"checksums"}},
		{name: "binary hex", nameA: "a.bin", nameB: "b.bin", a: append([]byte{0, 1, 2}, dt.Random(4096, 1)...), b: append([]byte{0, 1, 3}, dt.Random(4096, 1)...),
			wantLeaves: []string{"content b.bin"},
			check: func(t *testing.T, s *diff.Summary) {
				if !strings.Contains(s.Root.Hex, "-00000000: 0001 02") || !strings.Contains(s.Root.Hex, "+00000000: 0001 03") {
					t.Errorf("hex diff does not show offset 0 change:\n%s", s.Root.Hex)
				}
				if strings.Count(s.Root.Hex, "\n") > 2+2+7 {
					t.Errorf("hex diff longer than one changed line plus 7 of context:\n%s", s.Root.Hex)
				}
			}},
		{name: "malformed tar compared as bytes", nameA: "a.tar", nameB: "b.tar", a: baseTar, b: corrupt(baseTar, 1024+100, 8),
			wantLeaves: []string{"content b.tar"},
			check: func(t *testing.T, s *diff.Summary) {
				if len(s.Root.Comments) == 0 || !strings.Contains(strings.Join(s.Root.Comments, "\n"), "malformed tar") {
					t.Errorf("comments %q do not say the tar is malformed", s.Root.Comments)
				}
			}},
		{name: "lzma dictionary over the cap compared as bytes", nameA: "a.lzma", nameB: "b.lzma", a: dt.LZMA(baseTar, 1<<16), b: hugeDictLZMA(dt.LZMA(baseTar, 1<<16)),
			wantLeaves: []string{"content b.lzma"},
			check: func(t *testing.T, s *diff.Summary) {
				c := strings.Join(s.Root.Comments, "\n")
				if !strings.Contains(c, "decoder memory limit of 128 MiB") || !strings.Contains(c, "1 GiB dictionary") || !strings.Contains(c, "--max-decoder-memory") {
					t.Errorf("comments %q do not say the 1 GiB dictionary was refused", s.Root.Comments)
				}
			}},
		{name: "format differs", nameA: "a", nameB: "b", a: baseTar, b: dt.Gzip(baseTar, 6, "", dt.Epoch),
			wantLeaves: []string{"content b"}, wantCauses: []string{"file-type"},
			check: func(t *testing.T, s *diff.Summary) {
				if !strings.Contains(strings.Join(s.Root.Comments, "\n"), "format differs: tar vs gzip") {
					t.Errorf("comments %q do not name both formats", s.Root.Comments)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := runPair(t, tc)
			checkPair(t, tc, s)
		})
	}
}

func TestELF(t *testing.T) {
	goMod := "path\texample.com/hello\nmod\texample.com/hello\t(devel)\t\ndep\tgolang.org/x/text\tv0.14.0\th1:abc=\nbuild\t-trimpath=true\nbuild\tCGO_ENABLED=0\n"
	spec := dt.ELFSpec{Text: bytes.Repeat([]byte{0x90}, 64), Rodata: []byte("hello from /src/hello\x00"), BuildID: dt.Hex("0123456789abcdef0123456789abcdef01234567"),
		Symbols: []string{"main", "helper"}, Debug: []byte("debuginfo"), Dynamics: []string{"libc.so.6"}}
	withGo := func(vers, mod string) dt.ELFSpec { s := spec; s.GoVers, s.GoMod = vers, mod; return s }
	cases := []pairCase{
		{name: "build id", a: dt.ELF(spec), b: dt.ELF(func() dt.ELFSpec { s := spec; s.BuildID = dt.Hex("ffffffffffffffffffffffffffffffffffffffff"); return s }()),
			wantLeaves: []string{"content b [notes]", "content b [section .note.gnu.build-id]"}, wantCauses: []string{"build-id"}},
		{name: "stripped", a: dt.ELF(spec), b: dt.ELF(func() dt.ELFSpec { s := spec; s.Symbols, s.Debug = nil, nil; return s }()),
			wantLeaves: []string{"content b [file header]", "content b [program headers]", "content b [section .shstrtab]", "content b [section headers]", "content b [symbols]"}, wantCauses: []string{"stripped-symbols"}},
		{name: "rodata build path", a: dt.ELF(spec), b: dt.ELF(func() dt.ELFSpec { s := spec; s.Rodata = []byte("hello from /tmp/xyz/hello\x00"); return s }()),
			wantLeaves: []string{"content b [section .rodata]", "content b [section headers]"}, wantCauses: []string{"build-path"}},
		{name: "go toolchain", a: dt.ELF(withGo("go1.22.0", goMod)), b: dt.ELF(withGo("go1.22.1", goMod)),
			wantLeaves: []string{"content b [go build info]", "content b [section .go.buildinfo]"}, wantCauses: []string{"go-toolchain"}},
		{name: "go modules and settings", a: dt.ELF(withGo("go1.22.0", goMod)),
			b:          dt.ELF(withGo("go1.22.0", strings.NewReplacer("v0.14.0", "v0.15.0", "-trimpath=true", "-ldflags=\"-X main.v=2\"").Replace(goMod))),
			wantLeaves: []string{"content b [go build info]", "content b [section .go.buildinfo]", "content b [program headers]", "content b [section headers]"},
			wantCauses: []string{"go-build-settings", "go-module-versions"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sort.Strings(tc.wantLeaves)
			s := runPair(t, tc)
			checkPair(t, tc, s)
		})
	}
}

func TestDirAndOCI(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	dt.WriteFile(a, "same.txt", []byte("same\n"))
	dt.WriteFile(b, "same.txt", []byte("same\n"))
	dt.WriteFile(a, "sub/changed.txt", []byte("one\n"))
	dt.WriteFile(b, "sub/changed.txt", []byte("two\n"))
	dt.WriteFile(a, "gone", []byte("x"))
	dt.WriteFile(b, "new", []byte("x"))
	if err := os.Chmod(filepath.Join(b, "same.txt"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := diff.Run(context.Background(), a, b, diff.Options{Name1: "a", Name2: "b"})
	if err != nil {
		t.Fatal(err)
	}
	checkPair(t, pairCase{wantLeaves: []string{"added b/new", "content b/sub/changed.txt", "metadata b/same.txt", "removed b/gone"}, wantCauses: []string{"file-mode"}}, s)

	oa := dt.OCILayout(filepath.Join(dir, "oa"), dt.Config("2024-01-01T00:00:00Z"), dt.Tar(tar.FormatPAX, file("bin/app", "v1\n")), dt.Tar(tar.FormatPAX, file("etc/os", "same\n")))
	ob := dt.OCILayout(filepath.Join(dir, "ob"), dt.Config("2024-05-05T00:00:00Z"), dt.Tar(tar.FormatPAX, file("bin/app", "v2\n")), dt.Tar(tar.FormatPAX, file("etc/os", "same\n")))
	s, err = diff.Run(context.Background(), oa, ob, diff.Options{Name1: "a", Name2: "b"})
	if err != nil {
		t.Fatal(err)
	}
	checkPair(t, pairCase{
		wantLeaves: []string{"content b/index.json", "content b/manifest linux/amd64", "content b/manifest linux/amd64/config",
			"content b/manifest linux/amd64/layer 1 of 2/layer 1 of 2-content/bin/app"},
		wantCauses: []string{"random-ids", "timestamps"}}, s)
}

// layoutTar packs an image layout directory into a tar, as `docker save`
// or `skopeo copy oci-archive:` would.
func layoutTar(t *testing.T, dir string) []byte {
	t.Helper()
	var entries []dt.Entry
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		body, err := os.ReadFile(p)
		entries = append(entries, dt.Entry{Name: filepath.ToSlash(rel), Body: body})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dt.Tar(tar.FormatPAX, entries...)
}

func TestImageTarballs(t *testing.T) {
	dir := t.TempDir()
	oa := dt.OCILayout(filepath.Join(dir, "oa"), dt.Config("2024-01-01T00:00:00Z"), dt.Tar(tar.FormatPAX, file("bin/app", "v1\n")))
	ob := dt.OCILayout(filepath.Join(dir, "ob"), dt.Config("2024-01-01T00:00:00Z"), dt.Tar(tar.FormatPAX, file("bin/app", "v2\n")))
	tc := pairCase{nameA: "a.tar", nameB: "b.tar", a: layoutTar(t, oa), b: layoutTar(t, ob),
		wantLeaves: []string{"content b.tar/index.json", "content b.tar/manifest linux/amd64",
			"content b.tar/manifest linux/amd64/layer 1 of 1/layer 1 of 1-content/bin/app"},
		wantCauses: []string{"random-ids"}}
	checkPair(t, tc, runPair(t, tc))

	docker := func(layer []byte, created string) []byte {
		return dt.Tar(tar.FormatPAX,
			dt.Entry{Name: "manifest.json", Body: []byte(`[{"Config":"cfg.json","RepoTags":["x:1"],"Layers":["l1/layer.tar"]}]`)},
			dt.Entry{Name: "cfg.json", Body: dt.Config(created)},
			dt.Entry{Name: "l1/layer.tar", Body: layer})
	}
	tc = pairCase{nameA: "a.tar", nameB: "b.tar",
		a:          docker(dt.Tar(tar.FormatPAX, file("etc/motd", "hi\n")), "2024-01-01T00:00:00Z"),
		b:          docker(dt.Tar(tar.FormatPAX, file("etc/motd", "ho\n")), "2024-01-01T00:00:00Z"),
		wantLeaves: []string{"content b.tar/image 1/layer 1 of 1/etc/motd"}}
	checkPair(t, tc, runPair(t, tc))
}

func TestIdenticalAndErrors(t *testing.T) {
	dir := t.TempDir()
	data := dt.Random(3<<20, 7)
	pa := dt.WriteFile(dir, "a", data)
	pb := dt.WriteFile(dir, "b", data)
	s, err := diff.Run(context.Background(), pa, pb, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Identical || !s.Equivalent || s.Root != nil || s.Digest1 != s.Digest2 || !strings.HasPrefix(s.Digest1, "sha256:") {
		t.Errorf("identical inputs: got %+v", s)
	}
	n, err := diff.Compare(context.Background(), pa, pb, diff.Options{})
	if err != nil || n != nil {
		t.Errorf("Compare(identical) = %v, %v; want nil, nil", n, err)
	}
	_, err = diff.Run(context.Background(), pa, pb, diff.Options{Normalize: []string{"tar-mtime", "nope"}})
	var ue *diff.UnknownNormalizationError
	if !errors.As(err, &ue) || ue.Name != "nope" || !strings.Contains(err.Error(), "gzip-header") {
		t.Errorf("bad normalization: err = %v, want UnknownNormalizationError naming nope and listing gzip-header", err)
	}
	if _, err := diff.Run(context.Background(), pa, filepath.Join(dir, "missing"), diff.Options{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing input: err = %v, want one naming the path", err)
	}
	names := map[string]bool{}
	for _, ni := range diff.Normalizations() {
		names[ni.Name] = ni.Description != ""
	}
	for _, want := range []string{"tar-mtime", "tar-order", "tar-owner", "gzip-header", "zip-mtime", "zip-order"} {
		if !names[want] {
			t.Errorf("Normalizations() lacks %s or its description", want)
		}
	}
}

func TestLimits(t *testing.T) {
	var la, lb []string
	for i := 0; i < 500; i++ {
		la = append(la, "line a "+strings.Repeat("x", i%7))
		lb = append(lb, "line b "+strings.Repeat("x", i%7))
	}
	tc := pairCase{nameA: "a.tar.gz", nameB: "b.tar.gz",
		a: dt.Gzip(dt.Tar(tar.FormatPAX, file("t", strings.Join(la, "\n"))), 6, "", dt.Epoch),
		b: dt.Gzip(dt.Tar(tar.FormatPAX, file("t", strings.Join(lb, "\n"))), 6, "", dt.Epoch)}
	dir := t.TempDir()
	pa := dt.WriteFile(dir, "l/a.tar.gz", tc.a)
	pb := dt.WriteFile(dir, "r/b.tar.gz", tc.b)
	s, err := diff.Run(context.Background(), pa, pb, diff.Options{MaxDiffLines: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Limits) != 1 || !strings.Contains(s.Limits[0], "diff line limit of 50") {
		t.Errorf("limits = %q, want the diff line limit", s.Limits)
	}
	s, err = diff.Run(context.Background(), pa, pb, diff.Options{MaxDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Limits) == 0 || !strings.Contains(s.Limits[0], "depth limit of 1") {
		t.Errorf("limits = %q, want the depth limit", s.Limits)
	}
	s, err = diff.Run(context.Background(), pa, pb, diff.Options{MaxReportSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Limits) == 0 || !strings.Contains(strings.Join(s.Limits, "\n"), "report size limit of 100") {
		t.Errorf("limits = %q, want the report size limit", s.Limits)
	}
}

func TestDiffoscopeJSON(t *testing.T) {
	tc := pairCase{nameA: "a.tar.gz", nameB: "b.tar.gz",
		a: dt.Gzip(dt.Tar(tar.FormatPAX, file("d/x.txt", "hello\n"), file("d/bin", "abc\x00")), 6, "a.tar", dt.Epoch),
		b: dt.Gzip(dt.Tar(tar.FormatPAX, file("d/x.txt", "hellp\n"), dt.Entry{Name: "d/bin", Body: []byte("abd\x00"), ModTime: t2}), 6, "b.tar", dt.Epoch)}
	s := runPair(t, tc)
	var buf bytes.Buffer
	if err := diff.WriteDiffoscopeJSON(&buf, s); err != nil {
		t.Fatal(err)
	}
	type node struct {
		Version  int     `json:"diffoscope-json-version"`
		Source1  string  `json:"source1"`
		Source2  string  `json:"source2"`
		Unified  *string `json:"unified_diff"`
		Internal bool    `json:"has_internal_linenos"`
		Details  []node  `json:"details"`
	}
	var got node
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	var shape func(n node, indent string) string
	shape = func(n node, indent string) string {
		s := indent + n.Source1 + " | " + n.Source2
		if n.Unified != nil {
			s += " (diff)"
		}
		s += "\n"
		for _, d := range n.Details {
			s += shape(d, indent+"  ")
		}
		return s
	}
	want := `a.tar.gz | b.tar.gz
  filetype from file(1) | filetype from file(1) (diff)
  a.tar | b.tar
    file list | file list (diff)
    d/x.txt | d/x.txt (diff)
    d/bin | d/bin (diff)
`
	if got.Version != 1 {
		t.Errorf("diffoscope-json-version = %d, want 1", got.Version)
	}
	if diffs := cmp.Diff(want, shape(got, "")); diffs != "" {
		t.Errorf("report shape (-want +got):\n%s\n%s", diffs, buf.String())
	}
	if !strings.Contains(buf.String(), `"unified_diff":"@@ -1 +1 @@\n-hello\n+hellp\n"`) {
		t.Errorf("text member diff missing:\n%s", buf.String())
	}
}

// corrupt returns a copy of p with n bytes at off set to 0xff.
func corrupt(p []byte, off, n int) []byte {
	q := append([]byte(nil), p...)
	for i := off; i < off+n; i++ {
		q[i] = 0xff
	}
	return q
}

// hugeDictLZMA rewrites a .lzma header to claim a 1 GiB dictionary and an
// unknown size, as a few corrupt or hostile bytes can.
func hugeDictLZMA(b []byte) []byte {
	b = append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(b[1:5], 1<<30)
	binary.LittleEndian.PutUint64(b[5:13], ^uint64(0))
	return b
}

// A decompression bomb must not fill the disk: past MaxTempSize the member is
// compared as bytes and the limit is said. Below it, the budget is returned
// as each pair is done, so many large members in turn all get unpacked.
func TestMaxTempSize(t *testing.T) {
	zeros := func(n, at int) []byte {
		b := make([]byte, n)
		b[at] = 1
		return b
	}
	bombA := dt.Gzip(zeros(64<<20, 100), 9, "", dt.Epoch)
	bombB := dt.Gzip(zeros(64<<20, 200), 9, "", dt.Epoch)
	dir := t.TempDir()
	pa := dt.WriteFile(dir, "left/a.gz", bombA)
	pb := dt.WriteFile(dir, "right/b.gz", bombB)

	run := func(max int64) *diff.Summary {
		t.Helper()
		opts := diff.DefaultOptions()
		opts.MaxTempSize = max
		opts.TempDir = t.TempDir()
		opts.Name1, opts.Name2 = filepath.Base(pa), filepath.Base(pb)
		s, err := diff.Run(context.Background(), pa, pb, opts)
		if err != nil {
			t.Fatalf("Run with MaxTempSize %d: %v", max, err)
		}
		if ents, _ := os.ReadDir(opts.TempDir); len(ents) != 0 {
			t.Errorf("temporary folder not emptied: %d entries", len(ents))
		}
		return s
	}
	s := run(16 << 20)
	if !strings.Contains(strings.Join(s.Limits, "\n"), "temporary space limit of 16777216 bytes") {
		t.Errorf("limits %q do not state the temporary space limit", s.Limits)
	}
	if c := strings.Join(s.Root.Comments, "\n"); !strings.Contains(c, "temporary space limit") || !strings.Contains(c, "compared as bytes") {
		t.Errorf("root comments %q do not say the member was compared as bytes for the limit", s.Root.Comments)
	}
	if len(s.Root.Details) != 0 {
		t.Errorf("the bomb was opened anyway: %d details", len(s.Root.Details))
	}
	if s.Root.Hex == "" || s.Root.Unified != "" {
		t.Errorf("compressed bytes not shown as a hex dump (hex %d bytes, unified %d bytes)", len(s.Root.Hex), len(s.Root.Unified))
	}

	s = run(0) // the default, 8 GiB: the member is unpacked and compared
	if got := leaves(s.Root); len(got) != 1 || !strings.HasPrefix(got[0], "content b.gz/") {
		t.Errorf("with the default limit, differing nodes %q; want the unpacked member", got)
	}

	// Four members of 24 MiB unpacked per side, one pair after another,
	// under a 64 MiB limit: each pair needs 48 MiB, all of them 192 MiB.
	var ea, eb []dt.Entry
	for i := range 4 {
		name := fmt.Sprintf("m%d.gz", i)
		ea = append(ea, dt.Entry{Name: name, Body: dt.Gzip(zeros(24<<20, 10), 9, "", dt.Epoch)})
		eb = append(eb, dt.Entry{Name: name, Body: dt.Gzip(zeros(24<<20, 20), 9, "", dt.Epoch)})
	}
	pa = dt.WriteFile(dir, "left/a.tar", dt.Tar(tar.FormatPAX, ea...))
	pb = dt.WriteFile(dir, "right/b.tar", dt.Tar(tar.FormatPAX, eb...))
	s = run(64 << 20)
	if len(s.Limits) != 0 {
		t.Errorf("limits %q: the budget of finished pairs was not returned", s.Limits)
	}
	if got := leaves(s.Root); len(got) != 4 {
		t.Errorf("differing nodes %q; want the four unpacked members", got)
	}
}

// An ELF whose compressed .symtab inflates to 2 GiB (a 2 MB file) is
// compared with bounded memory: the symbol table is not decoded past the
// table size limit, the section not decompressed past the ratio limit, and
// both are said in the report.
func TestELFSymtabBomb(t *testing.T) {
	spec := dt.ELFSpec{Text: []byte{0x90, 0xc3}, Rodata: []byte("x"), Symbols: []string{"main", "helper"}}
	normal := dt.ELF(spec)
	bomb := dt.CompressSection(normal, ".symtab", dt.ZlibZeros(2<<30), 2<<30)
	if len(bomb) > 4<<20 {
		t.Fatalf("the bomb is %d bytes; want a small file", len(bomb))
	}
	dir := t.TempDir()
	pa, pb := dt.WriteFile(dir, "a", normal), dt.WriteFile(dir, "b", bomb)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := diff.Run(context.Background(), pa, pb, diff.Options{TempDir: dir})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
		t.Errorf("comparing allocated %d MiB in all, want under 256 MiB", alloc>>20)
	}
	js, _ := json.Marshal(s)
	for _, want := range []string{"section .symtab of 2 GiB is not decoded: past the table size limit of 64 MiB (raise --max-table-size)",
		"section .symtab not decompressed", "--max-unpack-ratio"} {
		if !strings.Contains(string(js), want) {
			t.Errorf("report does not say %q:\n%s", want, js)
		}
	}
}

// writeMTimeTars writes two tars of n empty members that differ only in
// their mtimes, streamed to disk.
func writeMTimeTars(t testing.TB, dir string, n int) (string, string) {
	t.Helper()
	var paths []string
	for side, mtime := range []time.Time{dt.Epoch, dt.Epoch.Add(time.Hour)} {
		p := filepath.Join(dir, fmt.Sprintf("%c.tar", 'a'+side))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		bw := bufio.NewWriter(f)
		tw := tar.NewWriter(bw)
		for i := range n {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d/%06d", i), Mode: 0o644, ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths[0], paths[1]
}

// 200k members that differ only in mtime make a report under
// --max-report-size, with one grouped node, and bounded memory.
func TestReportSizeGroupsMembers(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MB")
	}
	dir := t.TempDir()
	pa, pb := writeMTimeTars(t, dir, 200_000)
	const max = 8 << 20
	var ms runtime.MemStats
	s, err := diff.Run(context.Background(), pa, pb, diff.Options{MaxReportSize: max, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if len(js) > max {
		t.Errorf("report is %d bytes, more than --max-report-size %d", len(js), max)
	}
	if len(s.Root.Details) != 1 || s.Root.Details[0].Name1 != "200000 members differ only in mtime" || len(s.Root.Details[0].Details) != 3 {
		t.Errorf("want one group node of 200000 members with 3 samples, got %d nodes, first %q", len(s.Root.Details), s.Root.Details[0].Name1)
	}
	if !strings.Contains(strings.Join(s.Limits, "\n"), "--max-report-size") {
		t.Errorf("limits %q do not name --max-report-size", s.Limits)
	}
	if ms.Sys > 1<<30 {
		t.Errorf("the comparison took %d MiB from the OS, want under 1 GiB", ms.Sys>>20)
	}
	t.Logf("report %d bytes, %d MiB from the OS", len(js), ms.Sys>>20)
}

// Old cpio formats are listed member by member, like newc.
func TestOldCpioFormats(t *testing.T) {
	for name, build := range map[string]func(...archivetest.CpioEntry) []byte{"odc": archivetest.CpioODC, "binary": archivetest.CpioBinary} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			a := dt.WriteFile(dir, "a.cpio", build(archivetest.CpioEntry{Name: "etc/x", Mode: 0o100644, Body: []byte("one\n")}, archivetest.CpioEntry{Name: "bin", Mode: 0o040755}))
			b := dt.WriteFile(dir, "b.cpio", build(archivetest.CpioEntry{Name: "etc/x", Mode: 0o100644, Body: []byte("two\n")}, archivetest.CpioEntry{Name: "bin", Mode: 0o040755}))
			s, err := diff.Run(context.Background(), a, b, diff.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Root == nil || s.Root.Format != "cpio" || len(s.Root.Details) != 1 || s.Root.Details[0].Source2 != b+"/etc/x" ||
				!strings.Contains(s.Root.Details[0].Unified, "+two") {
				js, _ := json.MarshalIndent(s.Root, "", " ")
				t.Errorf("want a cpio node with etc/x's text diff, got:\n%s", js)
			}
		})
	}
}
