package diff

import (
	"strings"
	"testing"
)

func FuzzDeb822(f *testing.F) {
	fuzzFormat(f, deb822Format{},
		[]byte("Package: hello\nVersion: 1.0\nDescription: x\n y\n .\n"),
		[]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSource: hello\nFormat: 3.0 (native)\n\nPackage: b\n-----BEGIN PGP SIGNATURE-----\n\nx\n-----END PGP SIGNATURE-----\n"),
		[]byte(" continuation first\n"))
}

func FuzzMD5sums(f *testing.F) {
	fuzzFormat(f, md5sumsFormat{},
		[]byte(strings.Repeat("a", 32)+"  usr/bin/x\n"+strings.Repeat("b", 32)+"  usr/share/doc/x/README\n"),
		[]byte(strings.Repeat("c", 32)+"  a  b\n"))
}
