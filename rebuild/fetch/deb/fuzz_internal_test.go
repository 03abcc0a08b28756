package deb

import (
	"bytes"
	"path"
	"strings"
	"testing"
	"time"

	"pault.ag/go/debian/control"
)

// FuzzIndex: a Packages or Sources index from a mirror (the release's
// signature covers its hash, but the mirror may be the attacker) never
// panics the parser, and what it accepts names only paths inside the
// archive.
func FuzzIndex(f *testing.F) {
	f.Add([]byte("Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nSize: 52908\nFilename: pool/main/h/hello/hello_2.10-3_amd64.deb\nSHA256: 0b670a46d38021668afc50a238f6c2df1777cd5eb5bfc610e34c4bf3ba36bcf9\nDepends: libc6 (>= 2.34)\n\n"))
	f.Add([]byte("Package: hello\nVersion: 2.10-3\nDirectory: pool/main/h/hello\nChecksums-Sha256:\n 0b670a46d38021668afc50a238f6c2df1777cd5eb5bfc610e34c4bf3ba36bcf9 1183 hello_2.10-3.dsc\n"))
	f.Add([]byte("Package: xx\nVersion: 1\nSize: 1\nFilename: pool/../../etc/passwd\nSHA256: 0b670a46d38021668afc50a238f6c2df1777cd5eb5bfc610e34c4bf3ba36bcf9\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pr, err := control.NewParagraphReader(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		src := Source{URI: "https://archive.example/debian", Suite: "bookworm"}
		for i := 0; i < 64; i++ {
			p, err := pr.Next()
			if err != nil { // io.EOF included
				return
			}
			if pkg, err := packageOf(*p); err == nil {
				if c := path.Clean(pkg.Filename); c == ".." || strings.HasPrefix(c, "../") || path.IsAbs(c) || strings.ContainsAny(pkg.Filename, "?#") {
					t.Fatalf("accepted Filename %q, outside the archive", pkg.Filename)
				}
			}
			if sp, err := sourcePackageOf(*p, src); err == nil {
				for name := range sp.Files {
					if strings.Contains(name, "/") || name == ".." || name == "." {
						t.Fatalf("accepted source file name %q", name)
					}
					if u := sp.URL(name); !strings.HasPrefix(u, src.URI+"/") {
						t.Fatalf("source file URL %q outside the archive", u)
					}
				}
			}
		}
	})
}

// FuzzInRelease: a Release file's fields (read after its signature is
// checked; here with none) never panic the parser.
func FuzzInRelease(f *testing.F) {
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Debian\nSuite: stable\nCodename: bookworm\nDate: Sat, 11 Oct 2025 09:24:28 UTC\nValid-Until: Sat, 18 Oct 2025 09:24:28 UTC\nSHA256:\n 0b670a46d38021668afc50a238f6c2df1777cd5eb5bfc610e34c4bf3ba36bcf9 1234 main/binary-amd64/Packages.xz\n-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n"))
	f.Add([]byte("not signed"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseInRelease(data, nil, time.Unix(1700000000, 0))
		parseChecksums(string(data))
		parseDebianDate(string(data))
	})
}

// FuzzSources: the machine's apt sources, one-line and deb822, and
// deb:NAME=VERSION URIs never panic their parsers.
func FuzzSources(f *testing.F) {
	f.Add([]byte("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] https://deb.example/debian bookworm main contrib\n"))
	f.Add([]byte("Types: deb\nURIs: https://deb.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"))
	f.Add([]byte("deb:hello=2.10-3?arch=amd64&suite=bookworm"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseOneLineSources(bytes.NewReader(data))
		parseDeb822Sources(bytes.NewReader(data))
		ParseURI(string(data), "amd64", "bookworm")
	})
}
