package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/fetch/deb/debtest"
	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/tree"
)

func TestRecipe(t *testing.T) {
	r, err := Builtin("debian-build", "bookworm", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if !*r.Essential || !strings.Contains(strings.Join(r.Packages, " "), "debhelper") {
		t.Errorf("debian-build: essential %v, packages %v", *r.Essential, r.Packages)
	}
	if _, err := Builtin("nope", "", ""); err == nil || !strings.Contains(err.Error(), "go-cgo") {
		t.Errorf("unknown built-in: err = %v, want one listing the built-ins", err)
	}
	bad := map[string]string{
		"unknown field":  "suite: bookworm\npakages: [x]\n",
		"bad package":    "packages: ['x;rm -rf /']\n",
		"relative run":   "packages: [a1]\nrun: [[busybox, --install]]\n",
		"exact unpinned": "exact: true\npackages: [bash]\n",
		"relative file":  "files: [{path: etc/x, content: x}]\n",
		"bad mode":       "files: [{path: /etc/x, content: x, mode: rwx}]\n",
	}
	for name, text := range bad {
		p := filepath.Join(t.TempDir(), "r.yaml")
		os.WriteFile(p, []byte(text), 0o644)
		if _, err := Load(p, "bookworm", "amd64"); err == nil {
			t.Errorf("%s: loaded %q", name, text)
		}
	}
}

func TestLockRoundTrip(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	l := &Lock{Suite: "bookworm", Architecture: "amd64", Request: "sha256:" + sum,
		Helper:   Locked{Name: "busybox-static", Version: "1:1.35.0-4", SHA256: sum, Size: 10, Filename: "pool/main/b/busybox/b.deb"},
		Packages: []Locked{{Name: "bash", Version: "5.2-2", SHA256: sum, Size: 20, Filename: "pool/main/b/bash/bash.deb"}},
		Notes:    []string{"from somewhere"}}
	p := filepath.Join(t.TempDir(), "x.lock")
	if err := WriteLock(p, l); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLock(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest() != l.Digest() || got.Helper != l.Helper || len(got.Packages) != 1 {
		t.Errorf("round trip: %+v, want %+v", got, l)
	}
	for _, line := range []string{
		"bash 5.2 sha256:" + sum + " 20 ../../etc/passwd",
		"bash 5.2 sha256:" + sum[:10] + " 20 pool/x.deb",
		"bash 5.2 md5:" + sum + " 20 pool/x.deb",
		"bash 5.2 sha256:" + sum + " -1 pool/x.deb",
		"oops: value",
	} {
		os.WriteFile(p, []byte("suite: bookworm\narchitecture: amd64\n"+line+"\n"), 0o644)
		if _, err := ReadLock(p); err == nil {
			t.Errorf("read a lock with %q", line)
		}
	}
}

func testCache(t *testing.T) *fetch.Cache {
	return &fetch.Cache{Root: t.TempDir(), Key: tree.Key(strings.Repeat("k", 32))}
}

// unpackTest unpacks test packages as Build does.
func unpackTest(t *testing.T, pkgs ...debtest.Pkg) []*installed {
	t.Helper()
	c := testCache(t)
	var out []*installed
	for _, p := range pkgs {
		b, err := c.Put(context.Background(), strings.NewReader(string(debtest.Deb(t, p))), fetch.PutOptions{URI: p.Name + ".deb"})
		if err != nil {
			t.Fatal(err)
		}
		u, err := deb.Unpack(context.Background(), c, b, archive.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &installed{locked: Locked{Name: p.Name, Version: p.Version}, arch: "amd64", u: u})
	}
	return out
}

func testTarget(t *testing.T) *target {
	dir := filepath.Join(t.TempDir(), "rootfs")
	os.Mkdir(dir, 0o755)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return newTarget(dir, root)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTarget: packages are laid out as dpkg --unpack would on merged /usr,
// and dpkg's database says so.
func TestTarget(t *testing.T) {
	pkgs := unpackTest(t, debtest.Pkg{Name: "tool", Version: "1.0", Files: []debtest.File{
		{Name: "./", Type: tar.TypeDir},
		{Name: "./bin/", Type: tar.TypeDir},
		{Name: "./bin/tool", Mode: 0o4755, Body: "#!/bin/sh\n"},
		{Name: "./etc/", Type: tar.TypeDir},
		{Name: "./etc/tool.conf", Body: "x=1\n"},
		{Name: "./var/mail/", Type: tar.TypeDir, Mode: 0o2775, GID: 8},
	}, Control: map[string]string{"conffiles": "/etc/tool.conf\n", "postinst": "#!/bin/sh\n", "triggers": "interest-noawait /usr/share/man\ninterest ldconfig\nactivate-noawait ldconfig\n"}})
	tg := testTarget(t)
	if err := tg.layout(pkgs); err != nil {
		t.Fatal(err)
	}
	if err := tg.unpack(pkgs[0]); err != nil {
		t.Fatal(err)
	}
	if err := tg.dpkgDB(pkgs); err != nil {
		t.Fatal(err)
	}
	// On disk, nothing is set-id and everything is reprove's; what the
	// package declares is kept for the layer.
	fi, err := os.Lstat(filepath.Join(tg.dir, "usr/bin/tool"))
	if err != nil || fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("usr/bin/tool (shipped as bin/tool, 4755) on disk: %v, %v; want it under /usr, 0755, not setuid", fi, err)
	}
	if fi, _ := os.Stat(filepath.Join(tg.dir, "var/mail")); fi == nil || fi.Mode()&os.ModeSetgid != 0 || ownerGID(fi) != os.Getegid() {
		t.Errorf("var/mail on disk: %v; want reprove's, not setgid", fi)
	}
	for name, want := range map[string]Meta{
		"usr/bin/tool":  {Mode: 0o755 | os.ModeSetuid},
		"var/mail":      {GID: 8, Mode: 0o775 | os.ModeSetgid},
		"etc/tool.conf": {Mode: 0o644},
	} {
		if got := tg.declared[name]; got != want {
			t.Errorf("%s declared %+v; want %+v", name, got, want)
		}
	}
	if l, _ := os.Readlink(filepath.Join(tg.dir, "bin")); l != "usr/bin" {
		t.Errorf("bin links to %q, want usr/bin", l)
	}
	if _, err := os.Stat(filepath.Join(tg.dir, "etc/tool.conf.dpkg-new")); err != nil {
		t.Errorf("a conffile is unpacked as NAME.dpkg-new: %v", err)
	}
	status := readFile(t, filepath.Join(tg.dir, "var/lib/dpkg/status"))
	for _, want := range []string{"Package: tool\nStatus: install ok unpacked\n", "Conffiles:\n /etc/tool.conf newconffile\n"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	if d := cmp.Diff("/.\n/bin\n/bin/tool\n/etc\n/etc/tool.conf\n/var/mail\n", readFile(t, filepath.Join(tg.dir, "var/lib/dpkg/info/tool.list"))); d != "" {
		t.Errorf("tool.list (-want +got):\n%s", d)
	}
	if got := readFile(t, filepath.Join(tg.dir, "var/lib/dpkg/triggers/File")); got != "/usr/share/man tool/noawait\n" {
		t.Errorf("triggers/File = %q", got)
	}
	if got := readFile(t, filepath.Join(tg.dir, "var/lib/dpkg/triggers/ldconfig")); got != "tool\n" {
		t.Errorf("triggers/ldconfig = %q", got)
	}
}

// TestTargetStaysInside: a package's link never lets another write outside
// the root filesystem.
func TestTargetStaysInside(t *testing.T) {
	outside := t.TempDir()
	pkgs := unpackTest(t,
		debtest.Pkg{Name: "evil-a", Version: "1", Files: []debtest.File{{Name: "./usr/share/evil", Type: tar.TypeSymlink, Link: outside}}},
		debtest.Pkg{Name: "evil-b", Version: "1", Files: []debtest.File{{Name: "./usr/share/evil/", Type: tar.TypeDir}, {Name: "./usr/share/evil/passwd", Body: "x"}}},
	)
	tg := testTarget(t)
	if err := tg.unpack(pkgs[0]); err != nil {
		t.Fatal(err)
	}
	if err := tg.unpack(pkgs[1]); err == nil {
		t.Error("unpacked a file through an absolute link")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("wrote outside the root filesystem: %v", ents)
	}
}

func TestNeedsDpkg(t *testing.T) {
	with := unpackTest(t, debtest.Pkg{Name: "svc", Version: "1", Control: map[string]string{"postinst": "#!/bin/sh\n"}})
	if _, err := needsDpkg(with); err == nil || !strings.Contains(err.Error(), "needs dpkg") {
		t.Errorf("maintainer scripts without dpkg: err = %v", err)
	}
	plain := unpackTest(t, debtest.Pkg{Name: "plain", Version: "1"})
	if ok, err := needsDpkg(plain); ok || err != nil {
		t.Errorf("no scripts, no dpkg: %v, %v", ok, err)
	}
}

func layerHeaders(t *testing.T, p string) []string {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(string(h.Typeflag)+" "+h.Name+" "+
			strings.TrimLeft(strconvOct(h.Mode), "0")+" "+h.ModTime.UTC().Format(time.RFC3339)+" "+h.Linkname))
	}
}

func strconvOct(m int64) string { return "0" + strings.TrimLeft(fmtOct(m), "0") }

func fmtOct(m int64) string {
	const digits = "01234567"
	s := ""
	for i := 0; i < 5; i++ {
		s = string(digits[m&7]) + s
		m >>= 3
	}
	return s
}

// TestLayer: entries sorted as strings, every mtime the epoch, set-id
// bits kept, hard links to the sorted-first name; the host's mtimes and
// the order files were made in do not matter.
func TestLayer(t *testing.T) {
	mk := func(order []string) string {
		dir := t.TempDir()
		for _, n := range order {
			switch n {
			case "a-b":
				os.WriteFile(filepath.Join(dir, "a-b"), []byte("x"), 0o644)
			case "a/z":
				os.MkdirAll(filepath.Join(dir, "a"), 0o755)
				os.WriteFile(filepath.Join(dir, "a/z"), []byte("content"), 0o755)
				os.Chmod(filepath.Join(dir, "a/z"), 0o755|os.ModeSetuid)
			case "a/b":
				os.MkdirAll(filepath.Join(dir, "a"), 0o755)
				os.Link(filepath.Join(dir, "a/z"), filepath.Join(dir, "a/b"))
			case "l":
				os.Symlink("/a/z", filepath.Join(dir, "l"))
			}
		}
		old := time.Unix(12345, 0)
		os.Chtimes(filepath.Join(dir, "a-b"), old, old)
		return dir
	}
	var digests []string
	var headers [][]string
	for _, order := range [][]string{{"a-b", "a/z", "a/b", "l"}, {"l", "a/z", "a/b", "a-b"}} {
		p := filepath.Join(t.TempDir(), "layer.tar")
		l, err := writeLayer(mk(order), p, time.Unix(1700000000, 0), RootFiles)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, l.digest)
		headers = append(headers, layerHeaders(t, p))
	}
	if digests[0] != digests[1] {
		t.Errorf("same files, different layers: %v", digests)
	}
	want := []string{"5 a/ 755 2023-11-14T22:13:20Z", "0 a-b 644 2023-11-14T22:13:20Z",
		"0 a/b 4755 2023-11-14T22:13:20Z", "1 a/z 4755 2023-11-14T22:13:20Z a/b", "2 l 777 2023-11-14T22:13:20Z /a/z"}
	if d := cmp.Diff(want, headers[0]); d != "" {
		t.Errorf("layer headers (-want +got):\n%s", d)
	}
}

// TestTargetInRange: given to a build's id range, the tree's files are
// owned by the range (what the package declares, shifted), never set-id
// on the host; the layer maps owners back and restores declared modes,
// takes what the build changed as it left it, and refuses a file owned by
// anyone else.
func TestTargetInRange(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving files to an id range needs root")
	}
	pkgs := unpackTest(t, debtest.Pkg{Name: "tool", Version: "1.0", Files: []debtest.File{
		{Name: "./usr/", Type: tar.TypeDir},
		{Name: "./usr/bin/", Type: tar.TypeDir},
		{Name: "./usr/bin/tool", Mode: 0o4755, Body: "#!/bin/sh\n"},
		{Name: "./var/", Type: tar.TypeDir},
		{Name: "./var/mail/", Type: tar.TypeDir, Mode: 0o2775, GID: 8},
	}})
	tg := testTarget(t)
	if err := tg.unpack(pkgs[0]); err != nil {
		t.Fatal(err)
	}
	ids := sandbox.IDRange{UID: 300000, GID: 400000, Size: 65536}
	if err := tg.enterRange(ids); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(filepath.Join(tg.dir, "var/mail"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 300000 || st.Gid != 400008 || fi.Mode()&os.ModeSetgid != 0 {
		t.Errorf("var/mail on disk: %d:%d %v; want 300000:400008, not setgid", st.Uid, st.Gid, fi.Mode())
	}
	// What a maintainer script makes (as container uid 5) and what
	// reprove writes after the scripts.
	made := filepath.Join(tg.dir, "usr/bin/made")
	os.WriteFile(made, []byte("x"), 0o755)
	os.Lchown(made, 300005, 400005)
	os.Chmod(made, 0o755|os.ModeSetuid)
	if err := tg.writeFile("etc/after", []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "layer.tar")
	if _, err := writeLayer(tg.dir, p, time.Unix(0, 0), tg.meta); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range layerTar(t, p) {
		got[h.Name] = fmt.Sprintf("%d:%d %o", h.Uid, h.Gid, h.Mode)
	}
	for name, want := range map[string]string{
		"usr/bin/tool": "0:0 4755", "var/mail/": "0:8 2775", "usr/bin/made": "5:5 4755", "etc/after": "0:0 640", "etc/": "0:0 755",
	} {
		if got[name] != want {
			t.Errorf("layer entry %s: %q; want %q", name, got[name], want)
		}
	}
	os.Lchown(made, 12345, 12345)
	if _, err := writeLayer(tg.dir, p+"2", time.Unix(0, 0), tg.meta); err == nil || !strings.Contains(err.Error(), "usr/bin/made is owned by host ids 12345:12345") {
		t.Errorf("a file owned by neither reprove nor the range: err = %v", err)
	}
}

func layerTar(t *testing.T, p string) []*tar.Header {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*tar.Header
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
}
