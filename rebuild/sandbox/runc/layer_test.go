package runc

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type member struct {
	name, link, body string
	typ              byte
	mode             int64
}

func layerTar(t testing.TB, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := m.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: m.name, Typeflag: typ, Linkname: m.link, Mode: mode, Size: int64(len(m.body))}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(m.body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// listTree describes every file under root: "name" for files (with
// ":content"), "name/" for folders, "name -> target" for links.
func listTree(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out = append(out, rel+" -> "+l)
		case d.IsDir():
			out = append(out, rel+"/")
		default:
			b, _ := os.ReadFile(p)
			out = append(out, rel+":"+string(b))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestLayerApplier(t *testing.T) {
	dir := func(n string) member { return member{name: n, typ: tar.TypeDir, mode: 0o755} }
	tests := []struct {
		name    string
		layers  [][]member
		want    []string
		wantErr bool
	}{
		{
			name:   "files, folders, links",
			layers: [][]member{{dir("bin/"), {name: "bin/busybox", body: "bb"}, {name: "bin/sh", typ: tar.TypeSymlink, link: "/bin/busybox"}, {name: "bin/ash", typ: tar.TypeLink, link: "bin/busybox"}}},
			want:   []string{"bin/", "bin/ash:bb", "bin/busybox:bb", "bin/sh -> /bin/busybox"},
		},
		{
			name:   "missing parents are made",
			layers: [][]member{{{name: "./a/b/c", body: "x"}}},
			want:   []string{"a/", "a/b/", "a/b/c:x"},
		},
		{
			name:   "whiteout removes a lower file",
			layers: [][]member{{{name: "a/x", body: "1"}, {name: "a/y", body: "2"}}, {{name: "a/.wh.x"}}},
			want:   []string{"a/", "a/y:2"},
		},
		{
			name:   "opaque folder hides lower entries, keeps its own layer's",
			layers: [][]member{{{name: "a/x", body: "1"}, {name: "b", body: "keep"}}, {{name: "a/new", body: "n"}, {name: "a/.wh..wh..opq"}}},
			want:   []string{"a/", "a/new:n", "b:keep"},
		},
		{
			name:   "upper file replaces lower folder",
			layers: [][]member{{{name: "a/x", body: "1"}}, {{name: "a", body: "file"}}},
			want:   []string{"a:file"},
		},
		{
			name:   "writing through an absolute symlink stays inside the root",
			layers: [][]member{{dir("usr/"), dir("usr/lib/"), {name: "lib", typ: tar.TypeSymlink, link: "/usr/lib"}}, {{name: "lib/f", body: "x"}}},
			want:   []string{"lib -> /usr/lib", "usr/", "usr/lib/", "usr/lib/f:x"},
		},
		{
			name:   "symlink to the host root is followed inside the root",
			layers: [][]member{{{name: "evil", typ: tar.TypeSymlink, link: "/"}, {name: "evil/etc/x", body: "x"}}},
			want:   []string{"etc/", "etc/x:x", "evil -> /"},
		},
		{name: "dotdot member refused", layers: [][]member{{{name: "../x", body: "x"}}}, wantErr: true},
		{name: "dotdot inside refused", layers: [][]member{{{name: "a/../../x", body: "x"}}}, wantErr: true},
		{name: "relative symlink climbing out refused", layers: [][]member{{{name: "a/l", typ: tar.TypeSymlink, link: "../../etc"}}}, wantErr: true},
		{name: "hardlink out refused", layers: [][]member{{{name: "l", typ: tar.TypeLink, link: "../../etc/passwd"}}}, wantErr: true},
		{name: "hardlink to a missing file refused", layers: [][]member{{{name: "l", typ: tar.TypeLink, link: "nope"}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			root := filepath.Join(base, "root")
			os.Mkdir(root, 0o755)
			a := newLayerApplier(root, nil)
			var err error
			for _, l := range tt.layers {
				if err = a.apply(bytes.NewReader(layerTar(t, l...))); err != nil {
					break
				}
			}
			if tt.wantErr {
				if err == nil {
					t.Fatalf("apply: got no error, want one; tree: %v", listTree(t, root))
				}
			} else if err != nil {
				t.Fatalf("apply: %v", err)
			} else if diff := cmp.Diff(tt.want, listTree(t, root)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
			if got := listTree(t, base); len(got) == 0 || !allUnder(got, "root") {
				t.Errorf("something was written outside the root: %v", got)
			}
		})
	}
}

func allUnder(names []string, prefix string) bool {
	for _, n := range names {
		if n != prefix+"/" && !strings.HasPrefix(n, prefix+"/") {
			return false
		}
	}
	return true
}

// FuzzApplyLayer feeds arbitrary bytes as a layer tar (after a base layer
// with links into and out of the root) and checks nothing lands outside.
func FuzzApplyLayer(f *testing.F) {
	f.Add(layerTar(f, member{name: "a/b", body: "x"}))
	f.Add(layerTar(f, member{name: "../x", body: "x"}))
	f.Add(layerTar(f, member{name: "up/x", body: "x"}))
	f.Add(layerTar(f, member{name: "root/x", body: "x"}, member{name: "l", typ: tar.TypeLink, link: "root/x"}))
	f.Add(layerTar(f, member{name: "a/.wh..wh..opq"}, member{name: ".wh.root"}))
	f.Add(layerTar(f, member{name: "s", typ: tar.TypeSymlink, link: "/"}, member{name: "s/../../y", body: "y"}))
	baseLayer := layerTar(f,
		member{name: "root", typ: tar.TypeSymlink, link: "/"},
		member{name: "abs", typ: tar.TypeSymlink, link: "/etc"},
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		base, err := os.MkdirTemp("", "fuzzlayer-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(base)
		root := filepath.Join(base, "root")
		os.Mkdir(root, 0o755)
		a := newLayerApplier(root, nil)
		if err := a.apply(bytes.NewReader(baseLayer)); err != nil {
			t.Fatal(err)
		}
		a.apply(bytes.NewReader(data))
		if got := listTree(t, base); !allUnder(got, "root") {
			t.Fatalf("written outside the root: %v", got)
		}
	})
}
