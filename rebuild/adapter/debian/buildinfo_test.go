package debian

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testBuildInfo = `Format: 1.0
Source: hello
Binary: hello
Architecture: amd64
Version: 1.0
Checksums-Sha256:
 1111111111111111111111111111111111111111111111111111111111111111 2000 hello-dbgsym_1.0_amd64.deb
 2222222222222222222222222222222222222222222222222222222222222222 3000 hello_1.0_amd64.deb
Build-Origin: Debian
Build-Architecture: amd64
Build-Date: Wed, 02 Dec 2026 10:00:05 +0000
Build-Path: /build/hello-1.0
Installed-Build-Depends:
 autoconf (= 2.71-3),
 libc6 (= 2.36-9+deb12u13),
 zlib1g (= 1:1.2.13.dfsg-1)
Environment:
 DEB_BUILD_OPTIONS="parallel=2"
 LANG="C.UTF-8"
 SOURCE_DATE_EPOCH="1700000000"
`

func TestParseBuildInfo(t *testing.T) {
	for _, text := range []string{testBuildInfo, "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" + testBuildInfo + "-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n"} {
		bi, err := ParseBuildInfo([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if bi.Source != "hello" || bi.Path != "/build/hello-1.0" || !bi.Date.Equal(time.Date(2026, 12, 2, 10, 0, 5, 0, time.UTC)) {
			t.Errorf("parsed %+v", bi)
		}
		if d := cmp.Diff([]string{"autoconf=2.71-3", "libc6=2.36-9+deb12u13", "zlib1g=1:1.2.13.dfsg-1"}, bi.Depends); d != "" {
			t.Errorf("Installed-Build-Depends (-want +got):\n%s", d)
		}
		if d := cmp.Diff(map[string]string{"DEB_BUILD_OPTIONS": "parallel=2", "LANG": "C.UTF-8", "SOURCE_DATE_EPOCH": "1700000000"}, bi.Environment); d != "" {
			t.Errorf("Environment (-want +got):\n%s", d)
		}
		if got := bi.Debs("hello_1.0_amd64.deb"); strings.Join(got, " ") != "hello_1.0_amd64.deb hello-dbgsym_1.0_amd64.deb" {
			t.Errorf("Debs = %v, want the asked one first", got)
		}
		if bi.BuildFlag() != "-B" {
			t.Errorf("BuildFlag = %s, want -B for an architecture-only build", bi.BuildFlag())
		}
	}
}

// TestParseBuildInfoRefused: what goes into the build script or the image
// is checked.
func TestParseBuildInfoRefused(t *testing.T) {
	for name, edit := range map[string][2]string{
		"quote in Build-Path":   {"Build-Path: /build/hello-1.0", "Build-Path: /build/x'; rm -rf /;'"},
		"relative Build-Path":   {"Build-Path: /build/hello-1.0", "Build-Path: build/x"},
		"climbing Build-Path":   {"Build-Path: /build/hello-1.0", "Build-Path: /build/../etc"},
		"path in a file name":   {"hello_1.0_amd64.deb", "../../hello_1.0_amd64.deb"},
		"short checksum":        {"2222222222222222222222222222222222222222222222222222222222222222", "2222"},
		"bad env name":          {`LANG="C.UTF-8"`, `LA NG="C.UTF-8"`},
		"unpinned build dep":    {"autoconf (= 2.71-3)", "autoconf (>= 2.71-3)"},
		"alternative build dep": {"autoconf (= 2.71-3)", "autoconf (= 2.71-3) | autoconf2"},
		"no source":             {"Source: hello\n", ""},
	} {
		if _, err := ParseBuildInfo([]byte(strings.Replace(testBuildInfo, edit[0], edit[1], 1))); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func FuzzParseBuildInfo(f *testing.F) {
	f.Add([]byte(testBuildInfo))
	f.Add([]byte("Format: 1.0\nSource: x\nVersion: 1\nEnvironment:\n A=\"\\x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bi, err := ParseBuildInfo(data)
		if err != nil {
			return
		}
		if bi.Path != "" && (!strings.HasPrefix(bi.Path, "/") || strings.ContainsAny(bi.Path, "'\"$`\\\n")) {
			t.Fatalf("accepted Build-Path %q", bi.Path)
		}
		for name := range bi.Files {
			if strings.Contains(name, "/") {
				t.Fatalf("accepted file name %q", name)
			}
		}
	})
}
