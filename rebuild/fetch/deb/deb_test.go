package deb_test

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/fetch/deb/debtest"
	"github.com/reprove/reprove/rebuild/tree"
)

func testCache(t *testing.T) *fetch.Cache {
	return &fetch.Cache{Root: t.TempDir(), Key: tree.Key(strings.Repeat("k", 32))}
}

func TestAptSources(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/apt/sources.list.d"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte(
		"# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://a.example/debian/ bookworm main contrib\ndeb-src http://a.example/debian bookworm main\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/apt/sources.list.d/b.sources"), []byte(
		"Types: deb\nURIs: http://b.example/debian-security\nSuites: bookworm-security\nComponents: main\n\nTypes: deb\nURIs: http://c.example/x\nSuites: bookworm-backports\nComponents: main\nEnabled: no\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/apt/sources.list.d/ignored.list.disabled"), []byte("deb http://d.example/ x main\n"), 0o644)
	all, err := deb.AptSources(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []deb.Source{
		{URI: "http://a.example/debian", Suite: "bookworm", Components: []string{"main", "contrib"}, SignedBy: "/k.gpg"},
		{URI: "http://b.example/debian-security", Suite: "bookworm-security", Components: []string{"main"}},
	}
	if d := cmp.Diff(want, all); d != "" {
		t.Errorf("sources (-want +got):\n%s", d)
	}
	got, err := deb.SuiteSources(all, "bookworm", "http://m.example/debian/")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].URI != "http://m.example/debian" || got[1].URI != "http://b.example/debian-security" {
		t.Errorf("--mirror replaces the suite's archive and keeps the security one; got %v", got)
	}
	if _, err := deb.SuiteSources(all, "trixie", ""); err == nil || !strings.Contains(err.Error(), "--mirror") {
		t.Errorf("a suite no source names: err = %v, want one that says --mirror", err)
	}
}

func testArchive(t *testing.T, a *debtest.Archive) *deb.Archive {
	return &deb.Archive{
		Sources: []deb.Source{{URI: a.URL, Suite: a.Suite, Components: []string{"main"}}},
		Arch:    "amd64", Cache: testCache(t), Keyring: a.Keyring,
	}
}

var testPkgs = []debtest.Pkg{
	{Name: "app", Version: "1.0", Depends: "libb | libc, virt (>= 1)"},
	{Name: "libb", Version: "2.0", Depends: "libd"},
	{Name: "libc", Version: "9.0"},
	{Name: "libd", Version: "1.0"},
	{Name: "impl-z", Version: "1.0", Provides: "virt (= 2)"},
	{Name: "impl-a", Version: "1.0", Provides: "virt"}, // unversioned: cannot satisfy virt (>= 1)
	{Name: "base", Version: "1", Essential: true},
	{Name: "tool", Version: "1.0"},
	{Name: "tool", Version: "1:0.5"},
}

func names(ps []*deb.Package) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name+"="+p.Version)
	}
	return out
}

func TestIndexResolve(t *testing.T) {
	ta := debtest.NewArchive(t, "testing")
	ta.Publish(t, time.Time{}, testPkgs...)
	a := testArchive(t, ta)
	idx, err := a.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if idx.Releases[0].Verified != ta.Keyring {
		t.Errorf("release verified with %q, want the test keyring", idx.Releases[0].Verified)
	}
	got, err := idx.Resolve(deb.Request{Packages: []string{"app", "tool"}, Essential: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app=1.0", "base=1", "impl-z=1.0", "libb=2.0", "libd=1.0", "tool=1:0.5"}
	if d := cmp.Diff(want, names(got)); d != "" {
		t.Errorf("resolved (-want +got):\n%s", d)
	}
	got, err = idx.Resolve(deb.Request{Packages: []string{"tool=1.0"}})
	if err != nil || len(got) != 1 || got[0].Version != "1.0" {
		t.Errorf("tool=1.0 resolved to %v, %v", names(got), err)
	}
	if _, err := idx.Resolve(deb.Request{Packages: []string{"tool=3.0"}}); !errors.Is(err, deb.ErrUnresolved) || !strings.Contains(err.Error(), "--debian-snapshot") {
		t.Errorf("a version the archive lacks: err = %v, want ErrUnresolved naming --debian-snapshot", err)
	}
	found, missing := idx.ResolveExact([]string{"libd=1.0", "libc=1.0"})
	if len(found) != 1 || cmp.Diff([]string{"libc=1.0"}, missing) != "" {
		t.Errorf("exact: found %v, missing %v", names(found), missing)
	}
}

func TestReleaseRefused(t *testing.T) {
	ctx := context.Background()
	t.Run("tampered", func(t *testing.T) {
		ta := debtest.NewArchive(t, "testing")
		ta.Publish(t, time.Time{}, testPkgs...)
		p := filepath.Join(ta.Dir, "dists/testing/InRelease")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(strings.Replace(string(b), "Suite: testing", "Suite: testinG", 1)), 0o644)
		if _, err := testArchive(t, ta).Index(ctx); !errors.Is(err, deb.ErrSignature) {
			t.Errorf("err = %v, want ErrSignature", err)
		}
	})
	t.Run("other key", func(t *testing.T) {
		ta := debtest.NewArchive(t, "testing")
		ta.Publish(t, time.Time{}, testPkgs...)
		a := testArchive(t, ta)
		a.Keyring = debtest.NewArchive(t, "testing").Keyring
		if _, err := a.Index(ctx); !errors.Is(err, deb.ErrSignature) {
			t.Errorf("err = %v, want ErrSignature", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		ta := debtest.NewArchive(t, "testing")
		ta.Publish(t, time.Now().Add(-time.Hour), testPkgs...)
		if _, err := testArchive(t, ta).Index(ctx); err == nil || !strings.Contains(err.Error(), "Valid-Until") {
			t.Errorf("err = %v, want an expired release", err)
		}
	})
	t.Run("wrong suite", func(t *testing.T) {
		ta := debtest.NewArchive(t, "testing")
		ta.Publish(t, time.Time{}, testPkgs...)
		os.Rename(filepath.Join(ta.Dir, "dists/testing"), filepath.Join(ta.Dir, "dists/stable"))
		a := testArchive(t, ta)
		a.Sources[0].Suite = "stable"
		if _, err := a.Index(ctx); err == nil || !strings.Contains(err.Error(), `not stable`) {
			t.Errorf("err = %v, want a release for another suite refused", err)
		}
	})
	t.Run("index changed", func(t *testing.T) {
		ta := debtest.NewArchive(t, "testing")
		ta.Publish(t, time.Time{}, testPkgs...)
		p := filepath.Join(ta.Dir, "dists/testing/main/binary-amd64/Packages.gz")
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 1 // same size, other bytes
		os.WriteFile(p, b, 0o644)
		if _, err := testArchive(t, ta).Index(ctx); !errors.Is(err, fetch.ErrDigestMismatch) {
			t.Errorf("err = %v, want a digest mismatch", err)
		}
	})
}

func TestFetchAndUnpack(t *testing.T) {
	ctx := context.Background()
	ta := debtest.NewArchive(t, "testing")
	pkg := debtest.Pkg{Name: "tool", Version: "1.0", Files: []debtest.File{
		{Name: "./", Type: tar.TypeDir},
		{Name: "./usr/", Type: tar.TypeDir},
		{Name: "./usr/bin/", Type: tar.TypeDir},
		{Name: "./usr/bin/tool", Mode: 0o4755, Body: "#!/bin/sh\n"},
		{Name: "./usr/bin/tool2", Type: tar.TypeLink, Link: "./usr/bin/tool"},
		{Name: "./lib64/ld.so", Type: tar.TypeSymlink, Link: "/usr/lib/ld.so"},
		{Name: "./var/mail/", Type: tar.TypeDir, Mode: 0o2775, GID: 8},
	}, Control: map[string]string{"postinst": "#!/bin/sh\nexit 0\n", "conffiles": "/etc/tool.conf\n"}}
	sums := ta.Publish(t, time.Time{}, pkg)
	a := testArchive(t, ta)
	idx, err := a.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := idx.Find("tool", "1.0")
	b, err := a.Fetch(ctx, deb.RefOf(p))
	if err != nil {
		t.Fatal(err)
	}
	if b.Digest.Encoded() != sums["tool=1.0"] {
		t.Fatalf("fetched %s, want %s", b.Digest, sums["tool=1.0"])
	}
	u, err := deb.Unpack(ctx, a.Cache, b, archive.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range u.Entries {
		got = append(got, strings.TrimSpace(e.Path+" "+e.Type+" "+e.Mode.String()+" "+e.Link))
	}
	want := []string{"usr dir -rwxr-xr-x", "usr/bin dir -rwxr-xr-x", "usr/bin/tool file urwxr-xr-x", "usr/bin/tool2 hardlink -rw-r--r-- usr/bin/tool",
		"lib64/ld.so symlink -rw-r--r-- /usr/lib/ld.so", "var/mail dir grwxrwxr-x"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	if u.Entries[5].GID != 8 {
		t.Errorf("var/mail group %d, want 8 as stored", u.Entries[5].GID)
	}
	if link, err := os.Readlink(filepath.Join(u.DataDir(), "lib64/ld.so")); err != nil || link != "/usr/lib/ld.so" {
		t.Errorf("absolute symlink kept as data: %q, %v", link, err)
	}
	if string(u.Control.Files["postinst"]) != "#!/bin/sh\nexit 0\n" || u.Control.Field("Package") != "tool" {
		t.Errorf("control area: %q, Package %q", u.Control.Files["postinst"], u.Control.Field("Package"))
	}
}

// TestUnpackAttacks: hostile data.tar entries never write outside the tree.
func TestUnpackAttacks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "outside"), 0o755)
	cases := map[string][]debtest.File{
		"dotdot":           {{Name: "./../../outside/x", Body: "x"}},
		"absolute":         {{Name: "/outside/x", Body: "x"}},
		"through symlink":  {{Name: "./a", Type: tar.TypeSymlink, Link: dir + "/outside"}, {Name: "./a/x", Body: "x"}},
		"hardlink out":     {{Name: "./x", Type: tar.TypeLink, Link: "../../outside/y"}},
		"hardlink unknown": {{Name: "./x", Type: tar.TypeLink, Link: "./never"}},
		"file over folder": {{Name: "./d/", Type: tar.TypeDir}, {Name: "./d/f", Body: "f"}, {Name: "./d", Body: "x"}},
	}
	for name, files := range cases {
		t.Run(name, func(t *testing.T) {
			c := testCache(t)
			data := debtest.Deb(t, debtest.Pkg{Name: "evil", Version: "1", Files: files})
			b, err := c.Put(ctx, strings.NewReader(string(data)), fetch.PutOptions{URI: "evil.deb"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := deb.Unpack(ctx, c, b, archive.Limits{}); err == nil {
				t.Fatalf("unpacked a package with %s", name)
			}
			if ents, _ := os.ReadDir(filepath.Join(dir, "outside")); len(ents) != 0 {
				t.Fatalf("wrote outside the tree: %v", ents)
			}
		})
	}
}

// FuzzUnpack: arbitrary bytes as a .deb never panic and never write
// outside the tree.
func FuzzUnpack(f *testing.F) {
	f.Add(debtest.Deb(f, debtest.Pkg{Name: "ok", Version: "1", Files: []debtest.File{{Name: "./a", Body: "a"}, {Name: "./b", Type: tar.TypeLink, Link: "./a"}}}))
	f.Add(debtest.Deb(f, debtest.Pkg{Name: "ln", Version: "1", Files: []debtest.File{{Name: "./l", Type: tar.TypeSymlink, Link: "/etc"}, {Name: "./l/x", Body: "x"}}}))
	f.Add(debtest.Ar(f, [][2]string{{"debian-binary", "2.0\n"}}))
	f.Add([]byte("!<arch>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		c := testCache(t)
		b, err := c.Put(ctx, strings.NewReader(string(data)), fetch.PutOptions{URI: "fuzz.deb"})
		if err != nil {
			t.Fatal(err)
		}
		u, err := deb.Unpack(ctx, c, b, archive.Limits{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		for _, e := range u.Entries {
			if _, err := archive.Clean(e.Path); err != nil || strings.HasPrefix(e.Path, "/") {
				t.Fatalf("accepted entry %q", e.Path)
			}
		}
	})
}

func TestScheme(t *testing.T) {
	ctx := context.Background()
	ta := debtest.NewArchive(t, "testing")
	sums := ta.Publish(t, time.Time{}, testPkgs...)
	c := testCache(t)
	s := deb.NewScheme(deb.SchemeConfig{Arch: "amd64", Suite: "testing", Archive: func(suite, arch string, cache *fetch.Cache) (*deb.Archive, error) {
		a := testArchive(t, ta)
		a.Cache = cache
		return a, nil
	}})
	d, err := s.Pin(ctx, c, "deb:libb=2.0")
	if err != nil || d != "sha256:"+sums["libb=2.0"] {
		t.Fatalf("Pin = %q, %v; want the index's sha256:%s", d, err, sums["libb=2.0"])
	}
	it, err := s.Fetch(ctx, c, fetch.Request{URI: "deb:libb=2.0?arch=amd64", Digest: d, Fresh: true})
	if err != nil || it.Source != fetch.SourceNetwork || it.Digest != d {
		t.Fatalf("Fetch = %+v, %v", it, err)
	}
	if _, err := s.Fetch(ctx, c, fetch.Request{URI: "deb:libb=2.0", Digest: "sha256:" + sums["libd=1.0"], Fresh: true}); !errors.Is(err, fetch.ErrDigestMismatch) {
		t.Errorf("a declared digest the index does not give: err = %v, want a digest mismatch", err)
	}
	if _, err := s.Pin(ctx, c, "deb:libb=9.9"); !errors.Is(err, deb.ErrUnresolved) {
		t.Errorf("unknown version: err = %v, want ErrUnresolved", err)
	}
	for _, bad := range []string{"deb:libb", "deb:LibB=1", "deb:libb=1?color=red", "deb:libb=1 2"} {
		if _, err := deb.ParseURI(bad, "amd64", "testing"); err == nil {
			t.Errorf("ParseURI(%q) accepted", bad)
		}
	}
}

// TestSnapshot: a version the archive no longer has comes from the
// snapshot archive at the build's date (a --debian-snapshot template on a
// loopback server), whose expired release file is accepted.
func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	built := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	current := debtest.NewArchive(t, "testing")
	current.Publish(t, time.Time{}, debtest.Pkg{Name: "tool", Version: "2.0"})
	snap := debtest.NewSnapshot(t, "testing", built)
	sums := snap.Publish(t, built.Add(7*24*time.Hour), debtest.Pkg{Name: "tool", Version: "1.0"})
	a := testArchive(t, current)
	src := deb.SnapshotSource(snap.URL+"/{date}/", "testing", built)
	if src.URI != snap.URL+"/20231114T221320Z" || !src.Snapshot {
		t.Fatalf("snapshot source %+v", src)
	}
	a.Sources = append(a.Sources, src)
	a.Keyring = ""
	a.Sources[0].SignedBy, a.Sources[1].SignedBy = current.Keyring, snap.Keyring
	idx, err := a.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found, missing := idx.ResolveExact([]string{"tool=1.0"})
	if len(missing) != 0 || found[0].Archive().URI != src.URI {
		t.Fatalf("tool=1.0: found %v, missing %v; want it from the snapshot", names(found), missing)
	}
	b, err := a.Fetch(ctx, deb.RefOf(found[0]))
	if err != nil || b.Digest.Encoded() != sums["tool=1.0"] {
		t.Fatalf("fetched %v, %v", b, err)
	}
}
