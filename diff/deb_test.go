package diff_test

import (
	"archive/tar"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reprove/reprove/diff"
	dt "github.com/reprove/reprove/diff/internal/difftest"
)

const controlA = "Package: hello\nVersion: 1.0\nArchitecture: amd64\nInstalled-Size: 30\nDepends: libc6 (>= 2.34)\nDescription: greets\n A test package.\n .\n Second paragraph.\n"

var buildinfoA = "Format: 1.0\nSource: hello\nVersion: 1.0\nChecksums-Sha256:\n " + strings.Repeat("a", 64) + " 10 hello_1.0_amd64.deb\n" +
	"Build-Date: Tue, 14 Nov 2023 22:13:20 +0000\nBuild-Path: /build/hello-1.0\nInstalled-Build-Depends:\n gcc (= 4:12.2.0-3)\n"

func TestDebianFields(t *testing.T) {
	signed := "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + controlA + "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n"
	tests := []pairCase{
		{name: "control fields", a: []byte(controlA),
			b:          []byte(strings.Replace(strings.Replace(controlA, "Version: 1.0", "Version: 1.1", 1), "Installed-Size: 30", "Installed-Size: 31\nBuilt-Using: x (= 1)", 1)),
			wantLeaves: []string{"added b [Built-Using]", "content b [Installed-Size]", "content b [Version]"}},
		{name: "signature only", a: []byte(controlA), b: []byte(signed), wantLeaves: []string{"metadata b [signature]"}},
		{name: "buildinfo", a: []byte(buildinfoA),
			b:          []byte(strings.NewReplacer("/build/hello-1.0", "/build/reprove/hello-1.0", "Tue, 14 Nov 2023 22:13:20", "Wed, 02 Dec 2026 10:00:00", "4:12.2.0-3", "4:12.2.0-4").Replace(buildinfoA)),
			wantLeaves: []string{"content b [Build-Date]", "content b [Build-Path]", "content b [Installed-Build-Depends]"},
			wantCauses: []string{"build-date", "build-path"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := runPair(t, tc)
			checkPair(t, tc, s)
			if s.Root.Format != "deb822" {
				t.Errorf("format %q, want deb822", s.Root.Format)
			}
		})
	}
}

func TestMD5sumsByPath(t *testing.T) {
	sum := func(c byte) string { return strings.Repeat(string(c), 32) }
	a := sum('a') + "  usr/bin/hello\n" + sum('b') + "  usr/share/doc/hello/README\n" + sum('c') + "  usr/share/doc/hello/BUILD-DATE\n"
	b := sum('c') + "  usr/share/doc/hello/BUILD-DATE\n" + sum('a') + "  usr/bin/hello\n" + sum('d') + "  usr/share/doc/hello/README\n"
	s := runPair(t, pairCase{a: []byte(a), b: []byte(b)})
	if s.Root == nil || s.Root.Format != "md5sums" {
		t.Fatalf("root %+v, want an md5sums node", s.Root)
	}
	want := "@@ -1 +1 @@\n-" + sum('b') + "  usr/share/doc/hello/README\n+" + sum('d') + "  usr/share/doc/hello/README\n"
	if s.Root.Unified != want {
		t.Errorf("md5sums matched by path:\n%s\nwant:\n%s", s.Root.Unified, want)
	}
}

// TestBuildDateCause: a date on the rebuild's side that is the day it ran
// is named build-date, and so is a year equal to the rebuild's where the
// other side has SOURCE_DATE_EPOCH's; other dates stay timestamps.
func TestBuildDateCause(t *testing.T) {
	rebuilt := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	epoch := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	tests := []struct {
		name, a, b string
		times      diff.BuildTimes
		want       []string
		evidence   string // of the first cause
	}{
		{"date of the rebuild", "built 2026-11-30 08:00:01\n", "built 2026-12-02 10:00:05\n", diff.BuildTimes{Rebuilt: rebuilt}, []string{"build-date"},
			"date: 2026-11-30 08:00:01 → 2026-12-02 10:00:05, the rebuild ran 2026-12-02 10:00"},
		{"year of the rebuild", "Copyright 2023 Acme\n", "Copyright 2026 Acme\n", diff.BuildTimes{Rebuilt: rebuilt, Epoch: epoch}, []string{"build-date"},
			"year: 2023 (SOURCE_DATE_EPOCH's) → 2026 (the rebuild's)"},
		{"time of the rebuild, same day", "built 2026-12-02 09:59:01\n", "built 2026-12-02 10:00:05\n", diff.BuildTimes{Rebuilt: rebuilt}, []string{"build-date"}, ""},
		{"another date", "released 2019-01-02\n", "released 2019-01-03\n", diff.BuildTimes{Rebuilt: rebuilt}, []string{"timestamps"}, ""},
		{"times unknown", "built 2026-11-30 08:00:01\n", "built 2026-12-02 10:00:05\n", diff.BuildTimes{}, []string{"timestamps"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := diff.DefaultOptions()
			opts.Times = tc.times
			s, err := diff.Run(t.Context(), dt.WriteFile(dir, "a", []byte(tc.a)), dt.WriteFile(dir, "b", []byte(tc.b)), opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := causeIDs(s); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("causes %v, want %v", got, tc.want)
			}
			if tc.evidence != "" && (len(s.Causes) == 0 || len(s.Causes[0].Evidence) == 0 || s.Causes[0].Evidence[0] != tc.evidence) {
				t.Errorf("causes %+v, want the evidence %q", s.Causes, tc.evidence)
			}
		})
	}
}

// TestELFBuildPath: a build path recorded by DWARF, or a debug link whose
// CRC changed, is named build-path.
func TestELFBuildPath(t *testing.T) {
	spec := func(dir string, crc uint32) dt.ELFSpec {
		// Debian names the debug file by the build ID, which changes too.
		name := fmt.Sprintf("%08x1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e.debug\x00\x00\x00", crc)
		link := append([]byte(name), binary.LittleEndian.AppendUint32(nil, crc)...)
		return dt.ELFSpec{Text: []byte{0x90, 0xc3}, Unit: &dt.Unit{Name: "hello.c", Producer: "GNU C17 12.2.0", CompDir: dir}, DebugLink: link}
	}
	s := runPair(t, pairCase{a: dt.ELF(spec("/build/hello-1.0", 0x8f3a91c2)), b: dt.ELF(spec("/build/reprove/hello-1.0", 0x1b7e4d05))})
	if got := causeIDs(s); !contains(got, "build-path") || contains(got, "random-ids") {
		t.Fatalf("causes %v, want build-path (and no random-ids for the debug link's CRC)", got)
	}
	var paths, link, section bool
	for _, n := range s.Root.Details {
		paths = paths || strings.HasSuffix(n.Source2, "[DWARF]") && strings.Contains(n.Unified, "comp_dir /build/reprove/hello-1.0")
		link = link || strings.HasSuffix(n.Source2, "[debug link]") && strings.Contains(n.Unified, "CRC32 0x1b7e4d05") &&
			len(n.Causes) == 1 && n.Causes[0] == diff.CauseBuildPath
		section = section || strings.HasSuffix(n.Source2, "[section .gnu_debuglink]") && len(n.Causes) == 1 && n.Causes[0] == diff.CauseBuildPath
	}
	if !paths || !link || !section {
		t.Errorf("DWARF node %v, debug link node %v, debug link section %v; want all three, the last two naming build-path only", paths, link, section)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestDebControlInPackage: the control file inside a .deb's control.tar
// is compared by field.
func TestDebControlInPackage(t *testing.T) {
	deb := func(control string) []byte {
		ctl := dt.Gzip(dt.Tar(tar.FormatGNU, dt.Entry{Name: "./control", Body: []byte(control)}), 9, "", dt.Epoch)
		data := dt.Gzip(dt.Tar(tar.FormatGNU, dt.Entry{Name: "./usr/", Type: tar.TypeDir}), 9, "", dt.Epoch)
		return dt.Ar(file("debian-binary", "2.0\n"), dt.Entry{Name: "control.tar.gz", Body: ctl}, dt.Entry{Name: "data.tar.gz", Body: data})
	}
	s := runPair(t, pairCase{a: deb(controlA), b: deb(strings.Replace(controlA, "Installed-Size: 30", "Installed-Size: 32", 1)), nameA: "a.deb", nameB: "b.deb"})
	got := leaves(s.Root)
	if len(got) != 1 || !strings.HasSuffix(got[0], "control.tar.gz/control.tar/./control [Installed-Size]") {
		t.Errorf("leaves %v, want the control file's Installed-Size field", got)
	}
}
