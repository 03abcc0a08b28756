package image

import (
	"bytes"
	"testing"
)

// FuzzLock: a lock file (kept beside a recipe, perhaps in a repository
// another person writes) never panics the parser, and one it accepts is
// written back to the same lock.
func FuzzLock(f *testing.F) {
	f.Add([]byte("suite: bookworm\narchitecture: amd64\nhelper: busybox-static 1:1.35.0-4+b3 sha256:0b670a46d38021668afc50a238f6c2df1777cd5eb5bfc610e34c4bf3ba36bcf9 1048576 pool/main/b/busybox/busybox-static_1.35.0-4+b3_amd64.deb\nbusybox-static 1:1.35.0-4+b3 sha256:0b670a46d38021668afc50a238f6c2df1777cd5eb5bfc610e34c4bf3ba36bcf9 1048576 pool/main/b/busybox/busybox-static_1.35.0-4+b3_amd64.deb\n"))
	f.Add([]byte("suite: x\narchitecture: y\n# comment\nz 1 sha256:00 -1 ../x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := parseLock(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := l.Encode(&buf); err != nil {
			t.Fatalf("Encode of an accepted lock: %v", err)
		}
		back, err := parseLock(&buf)
		if err != nil {
			t.Fatalf("a lock written from an accepted one does not read back: %v\n%s", err, buf.String())
		}
		if back.Digest() != l.Digest() {
			t.Fatalf("lock changed on the way through:\n%s", buf.String())
		}
	})
}

// FuzzRecipe: a recipe file never panics the parser.
func FuzzRecipe(f *testing.F) {
	f.Add([]byte("suite: bookworm\narchitecture: amd64\npackages: [gcc, libc6-dev, git]\nessential: true\nrun:\n  - [/bin/busybox, --install, -s]\nfiles:\n  - {path: /etc/motd, content: \"hi\\n\", mode: \"0644\"}\nenv: {LANG: C.UTF-8}\n"))
	f.Add([]byte("packages: [\"../x\"]\nfiles: [{path: ../../etc/shadow}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		Parse(data)
	})
}
