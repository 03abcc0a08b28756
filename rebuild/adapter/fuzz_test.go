package adapter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseGoImport(f *testing.F) {
	f.Add([]byte(`<meta name="go-import" content="example.com/m git https://git.example/m.git">`), "example.com/m/sub")
	f.Add([]byte(`<META NAME='go-import' CONTENT='example.com hg https://x'>`), "example.com/m")
	f.Add([]byte(`<meta content="a git https://a" name="go-import"><meta name="go-import" content="a/b git https://ab">`), "a/b/c")
	f.Fuzz(func(t *testing.T, page []byte, mod string) {
		r, err := parseGoImport(page, mod)
		if err != nil {
			return
		}
		if !strings.HasPrefix(r.URL, "https://") || (mod != r.Prefix && !strings.HasPrefix(mod, r.Prefix+"/")) {
			t.Fatalf("parseGoImport(%q) = %+v: not an https repository holding the module", mod, r)
		}
	})
}

func FuzzInspectBinary(f *testing.F) {
	self, err := os.ReadFile(os.Args[0])
	if err == nil && len(self) > 0 {
		f.Add(self[:min(len(self), 4096)])
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add(append(append([]byte("x"), infoStart...), infoEnd...))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "bin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		inspectBinary(p) // must not panic or hang
	})
}
