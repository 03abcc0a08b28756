package gomod_test

import (
	"strings"
	"testing"

	"github.com/reprove/reprove/rebuild/fetch/gomod"
)

func FuzzParseGoSum(f *testing.F) {
	f.Add([]byte("example.com/a v1.0.0 h1:abc=\nexample.com/a v1.0.0/go.mod h1:def=\n"))
	f.Add([]byte("golang.org/x/text v0.14.0/go.mod h1:18ZOQIKpY8NJVqYksKHtTdwYefgYRhbZvcbi6BlIf3U=\n\n"))
	f.Add([]byte("a b\n"))
	f.Add([]byte("example.com/a v1.0.0 h1:x\nexample.com/a v1.0.0 h1:y\n"))
	f.Add([]byte("example.com/A v1.0.0+incompatible h2:zzz\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := gomod.ParseGoSum(data)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.Zip == "" && e.GoMod == "" {
				t.Fatalf("entry %v has no hash", e.Module)
			}
			for _, h := range []string{e.Zip, e.GoMod} {
				if h != "" && !strings.HasPrefix(h, "h1:") {
					t.Fatalf("entry %v kept a non-h1 hash %q", e.Module, h)
				}
			}
		}
	})
}

func FuzzParseURI(f *testing.F) {
	f.Add("gomod:golang.org/x/text@v0.14.0")
	f.Add("gomod:example.com/m@v1.0.0?sum=h1:ab+c/d=")
	f.Add("gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64")
	f.Add("gomod:@")
	f.Fuzz(func(t *testing.T, uri string) {
		r, err := gomod.ParseURI(uri)
		if err != nil {
			return
		}
		back, err := gomod.ParseURI(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseURI(%q) = %+v, but its String %q parses to %+v, %v", uri, r, r.String(), back, err)
		}
	})
}
