package gomod_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/module"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/fetch/gomod/gomodtest"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		uri     string
		want    gomod.Ref
		wantErr string
	}{
		{uri: "gomod:golang.org/x/text@v0.14.0", want: gomod.Ref{Module: module.Version{Path: "golang.org/x/text", Version: "v0.14.0"}}},
		{uri: "gomod:example.com/m@v1.0.0?sum=h1:ab+c/d=", want: gomod.Ref{Module: module.Version{Path: "example.com/m", Version: "v1.0.0"}, Sum: "h1:ab+c/d="}},
		{uri: "gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64", want: gomod.Ref{Module: module.Version{Path: "golang.org/toolchain", Version: "v0.0.1-go1.23.1.linux-amd64"}}},
		{uri: "gomod:example.com/m", wantErr: "want gomod:MODULE@VERSION"},
		{uri: "gomod:example.com/m@latest", wantErr: "latest"},
		{uri: "gomod:example.com/m@v1.0.0?sum=md5:x", wantErr: "h1:BASE64"},
		{uri: "gomod:example.com/m@v1.0.0?rev=x", wantErr: "unknown parameter"},
		{uri: "https://example.com/m@v1", wantErr: "not a gomod: URI"},
		{uri: "gomod:../evil@v1.0.0", wantErr: "malformed"},
	}
	for _, tt := range tests {
		got, err := gomod.ParseURI(tt.uri)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseURI(%q) error = %v, want one containing %q", tt.uri, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURI(%q): %v", tt.uri, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseURI(%q) mismatch (-want +got):\n%s", tt.uri, diff)
		}
		if got.String() != tt.uri {
			t.Errorf("ParseURI(%q).String() = %q, want the URI back", tt.uri, got.String())
		}
	}
}

var helloMod = gomodtest.Module{
	Path:    "example.com/hello",
	Version: "v1.2.3",
	Files: map[string]string{
		"go.mod":       "module example.com/hello\n\ngo 1.21\n",
		"hello.go":     "package hello\n\nconst Greeting = \"hello\"\n",
		"sub/x/doc.go": "package x\n",
	},
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

func TestSchemeFetch(t *testing.T) {
	p := gomodtest.NewProxy(t, helloMod)
	z, err := helloMod.Zip()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := gomodtest.HashZipBytes(z)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha(z)
	base := "gomod:example.com/hello@v1.2.3"
	tests := []struct {
		name    string
		proxy   string
		req     fetch.Request
		wantErr error  // errors.Is target
		errText string // or a substring
	}{
		{name: "http proxy", proxy: p.URL, req: fetch.Request{URI: base, Digest: digest}},
		{name: "file proxy", proxy: "file://" + p.Dir, req: fetch.Request{URI: base, Digest: digest}},
		{name: "skips direct, falls through 404", proxy: "direct," + p.URL + "/nothing-here," + p.URL, req: fetch.Request{URI: base, Digest: digest}},
		{name: "off stops the list", proxy: "off," + p.URL, req: fetch.Request{URI: base, Digest: digest}, errText: "names no module proxy"},
		{name: "with sum", proxy: p.URL, req: fetch.Request{URI: base + "?sum=" + sum, Digest: digest}},
		{name: "unpacked", proxy: p.URL, req: fetch.Request{URI: base, Digest: digest, Unpack: true}},
		{name: "wrong digest", proxy: p.URL, req: fetch.Request{URI: base, Digest: sha([]byte("x"))}, wantErr: fetch.ErrDigestMismatch},
		{name: "wrong sum", proxy: p.URL, req: fetch.Request{URI: base + "?sum=h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", Digest: digest}, wantErr: fetch.ErrDigestMismatch},
		{name: "no digest", proxy: p.URL, req: fetch.Request{URI: base}, wantErr: fetch.ErrUnpinned},
		{name: "unknown version", proxy: p.URL, req: fetch.Request{URI: "gomod:example.com/hello@v1.9.9", Digest: digest}, errText: "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fetch.Cache{Root: t.TempDir()}
			it, err := gomod.NewScheme(gomod.WithProxy(tt.proxy)).Fetch(context.Background(), c, tt.req)
			switch {
			case tt.wantErr != nil || tt.errText != "":
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("Fetch error = %v, want %v %q", err, tt.wantErr, tt.errText)
				}
				return
			case err != nil:
				t.Fatalf("Fetch: %v", err)
			}
			if it.Digest != digest {
				t.Errorf("Item.Digest = %s, want %s", it.Digest, digest)
			}
			if !tt.req.Unpack {
				b, err := os.ReadFile(it.Path)
				if err != nil || sha(b) != digest {
					t.Errorf("Item.Path %s does not hold the zip (err %v)", it.Path, err)
				}
				return
			}
			got := listTree(t, it.Path)
			want := []string{"go.mod 0444", "hello.go 0444", "sub/x/doc.go 0444"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("unpacked tree mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPin(t *testing.T) {
	p := gomodtest.NewProxy(t, helloMod)
	z, _ := helloMod.Zip()
	sum, _ := gomodtest.HashZipBytes(z)
	c := &fetch.Cache{Root: t.TempDir()}
	s := gomod.NewScheme(gomod.WithProxy(p.URL))
	got, err := s.Pin(context.Background(), c, "gomod:example.com/hello@v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != sha(z) || got.Ref.Sum != sum {
		t.Errorf("Pin = %s %s, want %s %s", got.Digest, got.Ref.Sum, sha(z), sum)
	}
	// What Pin found, Fetch then enforces, from the cache.
	if _, err := s.Fetch(context.Background(), c, fetch.Request{URI: got.Ref.String(), Digest: got.Digest}); err != nil {
		t.Errorf("Fetch of the pinned URI: %v", err)
	}
	if _, err := s.Pin(context.Background(), c, "gomod:example.com/hello@v1.2.3?sum=h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="); !errors.Is(err, fetch.ErrDigestMismatch) {
		t.Errorf("Pin with a wrong sum: error = %v, want a digest mismatch", err)
	}
}

// A toolchain zip is finished like the go command does it.
func TestToolchainUnpack(t *testing.T) {
	tc := gomodtest.Module{
		Path:    "golang.org/toolchain",
		Version: "v0.0.1-go1.99.0.linux-amd64",
		Files: map[string]string{
			"bin/go":                       "#!go",
			"bin/gofmt":                    "#!gofmt",
			"pkg/tool/linux_amd64/compile": "#!compile",
			"pkg/include/textflag.h":       "//",
			"lib/wasm/go_js_wasm_exec":     "#!/bin/sh",
			"lib/wasm/wasm_exec.js":        "//",
			"src/_go.mod":                  "module std\n",
			"src/cmd/_go.mod":              "module cmd\n",
			"src/fmt/print.go":             "package fmt\n",
			"VERSION":                      "go1.99.0\n",
		},
	}
	p := gomodtest.NewProxy(t, tc)
	z, _ := tc.Zip()
	c := &fetch.Cache{Root: t.TempDir()}
	it, err := gomod.NewScheme(gomod.WithProxy(p.URL)).Fetch(context.Background(), c, fetch.Request{
		URI: "gomod:golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64", Digest: sha(z), Unpack: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"VERSION 0444",
		"bin/go 0555",
		"bin/gofmt 0555",
		"lib/wasm/go_js_wasm_exec 0555",
		"lib/wasm/wasm_exec.js 0444",
		"pkg/include/textflag.h 0444",
		"pkg/tool/linux_amd64/compile 0555",
		"src/_go.mod 0444",
		"src/cmd/_go.mod 0444",
		"src/cmd/go.mod 0444",
		"src/fmt/print.go 0444",
		"src/go.mod 0444",
	}
	if diff := cmp.Diff(want, listTree(t, it.Path)); diff != "" {
		t.Errorf("toolchain tree mismatch (-want +got):\n%s", diff)
	}
	if b, _ := os.ReadFile(filepath.Join(it.Path, "src/go.mod")); string(b) != "module std\n" {
		t.Errorf("src/go.mod = %q, want the _go.mod contents", b)
	}
}

// listTree lists regular files under dir as "rel mode".
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, fmt.Sprintf("%s %04o", filepath.ToSlash(rel), fi.Mode().Perm()))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
