package diff_test

import (
	"archive/tar"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ulikunitz/xz"

	"github.com/reprove/reprove/diff"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

// A normalization applies wherever its format appears, through any number
// of compression and container layers; the outer layers then count as
// equivalent, and the summary says where each pass hid differences.
func TestNormalizationAtEveryDepth(t *testing.T) {
	members := func(mtime time.Time) []dt.Entry {
		return []dt.Entry{{Name: "./etc/conf", Body: []byte("a=1\n"), ModTime: mtime}, {Name: "./usr/bin/tool", Body: []byte("bin\x00"), ModTime: mtime}}
	}
	tarA, tarB := dt.Tar(tar.FormatPAX, members(dt.Epoch)...), dt.Tar(tar.FormatPAX, members(t2)...)
	deb := func(data []byte) []byte {
		return dt.Ar(dt.Entry{Name: "debian-binary", Body: []byte("2.0\n")}, dt.Entry{Name: "data.tar.xz", Body: dt.XZ(data, xz.CRC64)})
	}
	cases := []struct {
		name, na, nb string
		a, b         []byte
		wantAt       string
	}{
		{"tar.gz", "a.tar.gz", "b.tar.gz", dt.Gzip(tarA, 9, "", dt.Epoch), dt.Gzip(tarB, 9, "", dt.Epoch), "a.tar.gz/a.tar"},
		{"tar.xz in a deb", "a.deb", "b.deb", deb(tarA), deb(tarB), "a.deb/data.tar.xz/data.tar"},
		{"tar.gz in a zip in a tar.zst", "a.tar.zst", "b.tar.zst",
			dt.Zstd(dt.Tar(tar.FormatPAX, dt.Entry{Name: "x.zip", Body: dt.Zip(6, dt.Entry{Name: "in.tgz", Body: dt.Gzip(tarA, 6, "", dt.Epoch)})}), 3, true),
			dt.Zstd(dt.Tar(tar.FormatPAX, dt.Entry{Name: "x.zip", Body: dt.Zip(6, dt.Entry{Name: "in.tgz", Body: dt.Gzip(tarB, 6, "", dt.Epoch)})}), 3, true),
			"a.tar.zst/a.tar/x.zip/in.tgz/in.tar"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pairCase{nameA: tc.na, nameB: tc.nb, a: tc.a, b: tc.b}
			if s := runPair(t, p); s.Equivalent || !strings.Contains(strings.Join(leaves(s.Root), " "), "metadata") {
				t.Fatalf("without normalization: want the mtime difference, got leaves %q", leaves(s.Root))
			}
			p.normalize = []string{"tar-mtime"}
			p.wantEquiv, p.wantNorm = true, []string{"tar-mtime"}
			s := runPair(t, p)
			checkPair(t, p, s)
			want := []diff.NormalizationHit{{Pass: "tar-mtime", Paths: []string{tc.wantAt + "/./etc/conf", tc.wantAt + "/./usr/bin/tool"}}}
			if d := cmp.Diff(want, s.NormalizedAt); d != "" {
				t.Errorf("NormalizedAt (-want +got):\n%s", d)
			}
		})
	}
}

// --exclude takes doublestar globs: "*" stays within one path segment,
// "**" spans any number, a pattern without "/" matches base names, and a
// pattern that matched nothing is a warning in the summary.
func TestExcludeGlobs(t *testing.T) {
	a := dt.Tar(tar.FormatPAX, file("pkg-1.0/BUILDINFO", "built 1\n"), file("pkg-1.0/share/doc/BUILDINFO", "built 1\n"), file("pkg-1.0/bin/x", "same\n"))
	b := dt.Tar(tar.FormatPAX, file("pkg-1.0/BUILDINFO", "built 2\n"), file("pkg-1.0/share/doc/BUILDINFO", "built 2\n"), file("pkg-1.0/bin/x", "same\n"))
	cases := []struct {
		exclude    []string
		wantLeaves []string
		wantWarn   []string
	}{
		{nil, []string{"content b.tar/pkg-1.0/BUILDINFO", "content b.tar/pkg-1.0/share/doc/BUILDINFO"}, nil},
		{[]string{"*/BUILDINFO"}, []string{"content b.tar/pkg-1.0/share/doc/BUILDINFO"}, nil},
		{[]string{"**/BUILDINFO"}, []string{"metadata b.tar (encoding)"}, nil},
		{[]string{"BUILDINFO"}, []string{"metadata b.tar (encoding)"}, nil},
		{[]string{"pkg-1.0/share/**", "*/BUILDINFO", "other/*"}, []string{"metadata b.tar (encoding)"},
			[]string{`--exclude "other/*" matched no member: "*" stays within one folder level; use "**/NAME" for any depth`}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.exclude, ","), func(t *testing.T) {
			s := runPair(t, pairCase{nameA: "a.tar", nameB: "b.tar", a: a, b: b, exclude: tc.exclude})
			if d := cmp.Diff(tc.wantLeaves, leaves(s.Root), cmpEmpty); d != "" {
				t.Errorf("leaves (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantWarn, s.Warnings, cmpEmpty); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		})
	}
}
