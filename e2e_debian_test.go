package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/sandbox/runc"
	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
	"github.com/reprove/reprove/report"
)

// debSource is a small dh_make-style source package: a C program and a
// doc file, built with debhelper. With dateLeak its build writes the build
// time into the doc folder.
func debSource(t *testing.T, dateLeak bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello-1.0")
	install := "\tinstall -D -m 0644 README $(DESTDIR)/usr/share/doc/hello/README\n"
	if dateLeak {
		install += "\tdate -u '+built %Y-%m-%d %H:%M:%S' > $(DESTDIR)/usr/share/doc/hello/BUILD-DATE\n"
	}
	files := map[string]string{
		"hello.c": "#include <stdio.h>\n\nint main(void)\n{\n\tputs(\"hello from a Debian package\");\n\treturn 0;\n}\n",
		"README":  "hello: a test package of reprove.\n",
		"Makefile": "all: hello\n\nhello: hello.c\n\t$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<\n\n" +
			"install: hello\n\tinstall -D -m 0755 hello $(DESTDIR)/usr/bin/hello\n" + install + "\nclean:\n\trm -f hello\n",
		"debian/control": "Source: hello\nSection: misc\nPriority: optional\nMaintainer: Reprove Test <test@example.org>\n" +
			"Build-Depends: debhelper-compat (= 13)\nStandards-Version: 4.6.2\nRules-Requires-Root: no\n\n" +
			"Package: hello\nArchitecture: any\nDepends: ${shlibs:Depends}, ${misc:Depends}\nDescription: greets\n A test package made by reprove's tests.\n",
		"debian/rules":         "#!/usr/bin/make -f\n%:\n\tdh $@\n",
		"debian/changelog":     "hello (1.0) unstable; urgency=medium\n\n  * Test package.\n\n -- Reprove Test <test@example.org>  Tue, 14 Nov 2023 22:13:20 +0000\n",
		"debian/copyright":     "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nFiles: *\nCopyright: none\nLicense: CC0-1.0\n",
		"debian/source/format": "3.0 (native)\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		mode := os.FileMode(0o644)
		if name == "debian/rules" {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("dpkg-source", "-b", "hello-1.0")
	cmd.Dir = filepath.Dir(dir)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-source -b (apt-get install dpkg-dev): %v\n%s", err, out)
	}
	return filepath.Dir(dir)
}

// publishDeb builds the binary packages of the source package in srcDir in
// the debian-build image, at Build-Path /build/hello-1.0, as a publisher
// would, and returns the folder holding the .dsc, its tarball, the .debs
// and the .buildinfo.
func publishDeb(t *testing.T, srcDir string) string {
	t.Helper()
	layout, digest := testImage(t, "debian-build")
	be, err := runc.New(runc.Options{CacheDir: debianCache(t)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := be.Run(t.Context(), sandbox.Spec{
		ImageLayout: layout, ImageDigest: digest, RunDir: t.TempDir(),
		Mounts: []sandbox.Mount{{Source: srcDir, Dest: "/src"}}, Scratch: []string{"/build"},
		Env:    map[string]string{"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "DEB_BUILD_OPTIONS": "parallel=2"},
		Script: "set -e\ncd /build\ndpkg-source -x /src/hello_1.0.dsc hello-1.0\ncd hello-1.0\ndpkg-buildpackage -b -uc -us\ncp ../*.deb ../*.buildinfo /out/\n",
		Output: "/out", Timeout: 20 * time.Minute,
	})
	if err != nil {
		log := ""
		if res != nil {
			b, _ := os.ReadFile(res.Log)
			log = string(b)
		}
		t.Fatalf("building the published package: %v\n%s", err, log)
	}
	pub := t.TempDir()
	for _, dir := range []string{srcDir, res.Output} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if e.Type().IsRegular() {
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				os.WriteFile(filepath.Join(pub, e.Name()), b, 0o644)
			}
		}
	}
	return pub
}

var (
	debCacheOnce sync.Once
	debCache     string
)

// debianCache is the reprove cache the Debian tests share: the build image
// of their Installed-Build-Depends is built once.
func debianCache(t *testing.T) string {
	debCacheOnce.Do(func() { debCache, _ = os.MkdirTemp("", "reprove-e2e-debian-") })
	return debCache
}

func testDebs() string {
	if d := os.Getenv("REPROVE_TEST_DEBS"); d != "" {
		return d
	}
	abs, _ := filepath.Abs(filepath.Join(".cache", "debs"))
	return abs
}

// TestVerifyDebianPackage builds a small source package once as its
// publisher would, then verifies the .deb from its .buildinfo: it
// reproduces, every .deb the .buildinfo lists is compared; the same
// package leaking the build date is not reproducible, with the date named;
// a .dsc whose tarball does not match its checksum stops with exit 2.
func TestVerifyDebianPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Debian packages in containers")
	}
	sandboxtest.Need(t, true)
	cache := debianCache(t)
	verify := func(t *testing.T, pub string, extra ...string) (runResult, *report.Result) {
		js := filepath.Join(t.TempDir(), "r.json")
		args := append([]string{"verify", "--json", js, "--debs", testDebs(), "--buildinfo", filepath.Join(pub, "hello_1.0_amd64.buildinfo")}, extra...)
		r := reprove(t, cache, append(args, filepath.Join(pub, "hello_1.0_amd64.deb"))...)
		if _, err := os.Stat(js); err != nil {
			return r, nil
		}
		return r, readResult(t, js)
	}
	t.Run("reproducible", func(t *testing.T) {
		pub := publishDeb(t, debSource(t, false))
		r, res := verify(t, pub)
		if r.code != 0 || res == nil || res.Verdict != report.Reproducible {
			t.Fatalf("exit %d, want 0 (reproducible)\n%s%s", r.code, r.stdout, r.stderr)
		}
		if len(res.Also) != 1 || !strings.HasSuffix(res.Also[0].URI, "hello-dbgsym_1.0_amd64.deb") || res.Also[0].Verdict != report.Reproducible {
			t.Errorf("also: %+v, want hello-dbgsym compared and reproducible", res.Also)
		}
		if len(res.Approximated) != 0 {
			t.Errorf("inputs approximated with a .buildinfo: %v", res.Approximated)
		}
		m := filepath.Join(t.TempDir(), "reprove.yaml")
		in := reprove(t, cache, "init", "--debs", testDebs(), "--buildinfo", filepath.Join(pub, "hello_1.0_amd64.buildinfo"), "-o", m, filepath.Join(pub, "hello_1.0_amd64.deb"))
		body, _ := os.ReadFile(m)
		if in.code != 0 || !strings.Contains(string(body), "dpkg-buildpackage -B -uc -us") || !strings.Contains(string(body), "hello-dbgsym_1.0_amd64.deb") {
			t.Errorf("init: exit %d\n%s\n%s", in.code, in.stderr, body)
		}
	})
	t.Run("date leak", func(t *testing.T) {
		pub := publishDeb(t, debSource(t, true))
		time.Sleep(1100 * time.Millisecond) // the rebuild's clock differs from the publisher's
		r, res := verify(t, pub)
		if r.code != 1 || res == nil || res.Verdict != report.NotReproducible {
			t.Fatalf("exit %d, want 1 (not reproducible)\n%s%s", r.code, r.stdout, r.stderr)
		}
		if ids := causeIDs(res); !contains(ids, "build-date") {
			t.Errorf("causes %v, want build-date named\n%s", ids, r.stdout)
		}
	})
	t.Run("tarball checksum", func(t *testing.T) {
		pub := publishDeb(t, debSource(t, false))
		dsc := filepath.Join(pub, "hello_1.0.dsc")
		b, _ := os.ReadFile(dsc)
		sum := fileSHA256(t, filepath.Join(pub, "hello_1.0.tar.xz"))[len("sha256:"):]
		wrong := strings.Repeat("0", 64)
		if !strings.Contains(string(b), sum) {
			t.Fatalf("the .dsc does not list the tarball's sha256 %s:\n%s", sum, b)
		}
		os.WriteFile(dsc, []byte(strings.ReplaceAll(string(b), sum, wrong)), 0o644)
		r, _ := verify(t, pub)
		if r.code != 2 || !strings.Contains(r.stderr, "hello_1.0.tar.xz") || !strings.Contains(r.stderr, "digest mismatch") {
			t.Fatalf("exit %d, want 2 naming the tarball's digest mismatch\n%s", r.code, r.stderr)
		}
	})
}

// TestE2EVerifyDebianArchivePackage verifies a real package of the
// archive with no .buildinfo: one is derived from today's build
// dependencies, and the result says its inputs are approximated.
func TestE2EVerifyDebianArchivePackage(t *testing.T) {
	if os.Getenv("REPROVE_E2E") != "1" {
		t.Skip("set REPROVE_E2E=1: verifies a package from the Debian archive")
	}
	sandboxtest.Need(t, true)
	js := filepath.Join(t.TempDir(), "r.json")
	md := filepath.Join(t.TempDir(), "r.md")
	r := reprove(t, debianCache(t), "verify", "--json", js, "--markdown", md, "--debs", testDebs(), e2eDebianPackage)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("exit %d, want a verdict (0 or 1)\n%s%s", r.code, r.stdout, r.stderr)
	}
	res := readResult(t, js)
	if len(res.Approximated) == 0 || !strings.Contains(r.stdout, "inputs: approximated") {
		t.Errorf("a derived .buildinfo must be marked approximated:\n%s", r.stdout)
	}
	b, _ := os.ReadFile(md)
	if !strings.Contains(string(b), "inputs: approximated") {
		t.Errorf("the Markdown report does not say the inputs are approximated")
	}
	t.Logf("verdict %s, causes %v\n%s", res.Verdict, causeIDs(res), r.stdout)
}

// e2eDebianPackage is a bookworm package with few build dependencies
// (debhelper only): GNU hello.
const e2eDebianPackage = "deb:hello=2.10-3"
