package fetch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/diff/archive"
)

func TestMember(t *testing.T) {
	entries := []entry{
		dir("./hello-1.0/", 0o755),
		dir("./hello-1.0/bin/", 0o755),
		file("./hello-1.0/bin/hello", "\x7fELF binary", 0o755),
		file("./hello-1.0/README", "docs", 0o644),
		symlink("./hello-1.0/bin/hi", "hello"),
		hardlink("./hello-1.0/bin/hello2", "./hello-1.0/bin/hello"),
		file("./other/bin/hello", "not this one", 0o755),
	}
	tests := []struct {
		name     string
		formats  []Format
		member   string
		want     string // "file MODE body" as snapshot writes it
		wantBase string
		wantErr  string
	}{
		{name: "plain", member: "hello-1.0/bin/hello", want: "file 0755 \x7fELF binary", wantBase: "hello"},
		{name: "leading dot slash", member: "./hello-1.0/README", want: "file 0644 docs", wantBase: "README"},
		{name: "leading slash", member: "/hello-1.0/README", want: "file 0644 docs", wantBase: "README"},
		{name: "hard link", formats: []Format{FormatTar, FormatTarZstd}, member: "hello-1.0/bin/hello2", want: "file 0755 \x7fELF binary", wantBase: "hello2"},
		{name: "symlink", member: "hello-1.0/bin/hi", wantErr: "symbolic link"},
		{name: "folder", member: "hello-1.0/bin", wantErr: "not a regular file"},
		{name: "missing", member: "hello-1.0/hello", wantErr: `no file "hello-1.0/hello"; it holds 7 entries, among them ./hello-1.0/bin/hello, ./other/bin/hello,`},
		{name: "empty", member: "./", wantErr: "name a file inside the archive"},
	}
	for _, tt := range tests {
		formats := tt.formats
		if formats == nil {
			formats = allFormats
		}
		for _, format := range formats {
			t.Run(tt.name+"/"+string(format), func(t *testing.T) {
				es := entries
				if format == FormatZip {
					es = nil // zip has no hard links
					for _, e := range entries {
						if e.typ != hardlinkType {
							es = append(es, e)
						}
					}
					if strings.HasPrefix(tt.wantErr, "no file") {
						tt.wantErr = strings.Replace(tt.wantErr, "7 entries", "6 entries", 1)
					}
				}
				arch := filepath.Join(t.TempDir(), "artifact")
				if err := os.WriteFile(arch, makeArchive(t, format, es), 0o644); err != nil {
					t.Fatal(err)
				}
				c := newCache(t)
				f := New(c)
				p, err := f.Member(context.Background(), arch, tt.member)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("Member error = %v, want one containing %q", err, tt.wantErr)
					}
					if ents, _ := os.ReadDir(filepath.Join(c.Root, "trees", "member")); len(ents) != 0 {
						t.Errorf("a failed Member left %d trees in the cache", len(ents))
					}
					return
				}
				if err != nil {
					t.Fatalf("Member: %v", err)
				}
				if filepath.Base(p) != tt.wantBase || !strings.HasPrefix(p, c.Root) {
					t.Errorf("path %s, want a file named %s in the cache", p, tt.wantBase)
				}
				got := snapshot(t, filepath.Dir(p))[filepath.Base(p)]
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("member (-want +got):\n%s", diff)
				}
				// The cache keys on the archive's bytes, not its path: other
				// bytes at the same path are read anew (and here fail).
				if err := os.Remove(arch); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(arch, []byte("changed"), 0o644); err != nil {
					t.Fatal(err)
				}
				if _, err := f.Member(context.Background(), arch, tt.member); err == nil {
					t.Errorf("Member of a changed archive (not in the blob store) succeeded; it must key on the bytes")
				}
			})
		}
	}
}

const hardlinkType = '1'

func TestMemberCachedBlob(t *testing.T) {
	tgz := makeArchive(t, FormatTarGzip, []entry{file("a/b", "payload", 0o644)})
	srv := newServer(t, map[string][]byte{"/x.tgz": tgz}, nil)
	c := newCache(t)
	f := New(c)
	it, err := f.Fetch(context.Background(), Request{URI: srv.URL + "/x.tgz", Digest: sha(tgz)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Member(context.Background(), it.Path, "a/b")
	if err != nil {
		t.Fatalf("Member: %v", err)
	}
	if want := filepath.Join(c.TreePath("member", ""), ""); !strings.HasPrefix(p, want) {
		t.Errorf("member at %s, want under %s", p, want)
	}
	again, err := f.Member(context.Background(), it.Path, "a/b")
	if err != nil || again != p {
		t.Errorf("second Member = %s, %v; want %s from the cache", again, err, p)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "payload" {
		t.Errorf("member bytes = %q, want %q", b, "payload")
	}
}

// The same sparse tar as an artifact with member: is refused the same way,
// and no member file is left in the cache.
func TestMemberSparseBomb(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "artifact.tar")
	if err := os.WriteFile(arch, tenGiBSparse(), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newCache(t)
	_, err := New(c).Member(context.Background(), arch, "big")
	var le *archive.LimitError
	if !errors.As(err, &le) || le.Entry != "big" || le.Input != arch || le.Limit != "compression ratio" {
		t.Fatalf("Member error = %v, want a compression ratio limit error naming %s and big", err, arch)
	}
	if ents, _ := os.ReadDir(filepath.Join(c.Root, "trees", "member")); len(ents) != 0 {
		t.Errorf("a refused member left %d trees in the cache", len(ents))
	}
	if n := diskUsage(t, c.Root); n > 1<<20 {
		t.Errorf("the cache holds %d bytes after a refused member, want under 1 MiB", n)
	}
}
