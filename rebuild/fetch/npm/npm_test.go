package npm_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/npm"
)

// tgz makes an npm-style tarball: every entry under package/.
func tgz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		mode := int64(0o644)
		if strings.HasPrefix(n, "bin/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + n, Mode: mode, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[n]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sri(b []byte) string {
	h := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(h[:])
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// registry serves packuments and tarballs on a loopback HTTP server.
type registry struct {
	*httptest.Server
	docs     map[string]any    // by escaped name
	tarballs map[string][]byte // by path
}

func newRegistry(t *testing.T) *registry {
	r := &registry{docs: map[string]any{}, tarballs: map[string][]byte{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if b, ok := r.tarballs[req.URL.Path]; ok {
			w.Write(b)
			return
		}
		if d, ok := r.docs[strings.TrimPrefix(req.URL.EscapedPath(), "/")]; ok {
			json.NewEncoder(w).Encode(d)
			return
		}
		http.NotFound(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// publish adds name@version with tarball body; integrity overrides the
// honest one when set.
func (r *registry) publish(name, version string, body []byte, integrity string) {
	if integrity == "" {
		integrity = sri(body)
	}
	p := "/tarballs/" + strings.ReplaceAll(name, "/", "-") + "-" + version + ".tgz"
	r.tarballs[p] = body
	r.docs[strings.Replace(name, "/", "%2f", 1)] = map[string]any{
		"name": name,
		"versions": map[string]any{
			version: map[string]any{"dist": map[string]any{"tarball": r.URL + p, "integrity": integrity, "shasum": "ignored"}},
		},
	}
}

func TestFetch(t *testing.T) {
	reg := newRegistry(t)
	good := tgz(t, map[string]string{"package.json": `{"name":"@acme/tool","version":"1.2.3"}`, "bin/tool": "#!/bin/sh\necho hi\n", "lib/index.js": "module.exports = 1\n"})
	plain := tgz(t, map[string]string{"package.json": `{"name":"left-pad"}`})
	reg.publish("@acme/tool", "1.2.3", good, "")
	reg.publish("left-pad", "1.3.0", plain, "")
	reg.publish("liar", "1.0.0", plain, sri([]byte("something else")))

	tests := []struct {
		name     string
		req      fetch.Request
		wantErr  error
		errText  string
		wantTree []string
	}{
		{name: "scoped", req: fetch.Request{URI: "npm:@acme/tool@1.2.3", Digest: sha(good)}},
		{name: "plain", req: fetch.Request{URI: "npm:left-pad@1.3.0", Digest: sha(plain)}},
		{name: "integrity in URI", req: fetch.Request{URI: "npm:left-pad@1.3.0?integrity=" + sri(plain), Digest: sha(plain)}},
		{name: "unpacked without package/", req: fetch.Request{URI: "npm:@acme/tool@1.2.3", Digest: sha(good), Unpack: true},
			wantTree: []string{"bin/tool 0755", "lib/index.js 0644", "package.json 0644"}},
		{name: "wrong sha256", req: fetch.Request{URI: "npm:left-pad@1.3.0", Digest: sha(good)}, wantErr: fetch.ErrDigestMismatch},
		{name: "registry integrity does not match tarball", req: fetch.Request{URI: "npm:liar@1.0.0", Digest: sha(plain)}, wantErr: fetch.ErrDigestMismatch, errText: "sha512-"},
		{name: "URI integrity differs from registry", req: fetch.Request{URI: "npm:left-pad@1.3.0?integrity=" + sri(good), Digest: sha(plain)}, wantErr: fetch.ErrDigestMismatch, errText: "from the registry"},
		{name: "no digest", req: fetch.Request{URI: "npm:left-pad@1.3.0"}, wantErr: fetch.ErrUnpinned},
		{name: "unknown version", req: fetch.Request{URI: "npm:left-pad@9.9.9", Digest: sha(plain)}, errText: "no version 9.9.9"},
		{name: "unknown package", req: fetch.Request{URI: "npm:nope@1.0.0", Digest: sha(plain)}, errText: "404"},
		{name: "range refused", req: fetch.Request{URI: "npm:left-pad@^1.3.0", Digest: sha(plain)}, errText: "not an exact version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fetch.Cache{Root: t.TempDir()}
			it, err := npm.NewScheme(npm.WithRegistry(reg.URL)).Fetch(context.Background(), c, tt.req)
			if tt.wantErr != nil || tt.errText != "" {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("Fetch error = %v, want %v containing %q", err, tt.wantErr, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if it.Digest != tt.req.Digest {
				t.Errorf("Item.Digest = %s, want %s", it.Digest, tt.req.Digest)
			}
			if tt.wantTree != nil {
				if diff := cmp.Diff(tt.wantTree, listTree(t, it.Path)); diff != "" {
					t.Errorf("unpacked tree mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestPinThenCachedFetch(t *testing.T) {
	reg := newRegistry(t)
	body := tgz(t, map[string]string{"package.json": "{}"})
	reg.publish("left-pad", "1.3.0", body, "")
	c := &fetch.Cache{Root: t.TempDir()}
	s := npm.NewScheme(npm.WithRegistry(reg.URL))
	p, err := s.Pin(context.Background(), c, "npm:left-pad@1.3.0")
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest != sha(body) || p.Ref.Integrity != sri(body) {
		t.Errorf("Pin = %s %s, want %s %s", p.Digest, p.Ref.Integrity, sha(body), sri(body))
	}
	reg.Close() // from now on the registry is unreachable
	if _, err := s.Fetch(context.Background(), c, fetch.Request{URI: p.Ref.String(), Digest: p.Digest}); err != nil {
		t.Errorf("Fetch of a cached tarball needed the registry: %v", err)
	}
}

func TestParseURI(t *testing.T) {
	tests := []struct {
		uri  string
		want npm.Ref
		err  bool
	}{
		{uri: "npm:left-pad@1.3.0", want: npm.Ref{Name: "left-pad", Version: "1.3.0"}},
		{uri: "npm:@esbuild/linux-x64@0.20.2", want: npm.Ref{Name: "@esbuild/linux-x64", Version: "0.20.2"}},
		{uri: "npm:x@1.0.0-beta.1+build.5", want: npm.Ref{Name: "x", Version: "1.0.0-beta.1+build.5"}},
		{uri: "npm:x@latest", err: true},
		{uri: "npm:../x@1.0.0", err: true},
		{uri: "npm:@scope@1.0.0", err: true},
		{uri: "npm:x@1.0.0?integrity=sha1-abc", err: true},
		{uri: "npm:@1.0.0", err: true},
	}
	for _, tt := range tests {
		got, err := npm.ParseURI(tt.uri)
		if (err != nil) != tt.err {
			t.Errorf("ParseURI(%q) error = %v, want error %v", tt.uri, err, tt.err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); !tt.err && diff != "" {
			t.Errorf("ParseURI(%q) mismatch (-want +got):\n%s", tt.uri, diff)
		}
	}
}

func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, fmt.Sprintf("%s %04o", filepath.ToSlash(rel), fi.Mode().Perm()))
		}
		return err
	})
	sort.Strings(out)
	return out
}

func FuzzParsePackument(f *testing.F) {
	f.Add([]byte(`{"name":"x","versions":{"1.0.0":{"dist":{"tarball":"https://r.example/x.tgz","integrity":"sha512-`+strings.Repeat("A", 86)+`=="}}}}`), "1.0.0")
	f.Add([]byte(`{"versions":{}}`), "1.0.0")
	f.Add([]byte(`[]`), "")
	f.Fuzz(func(t *testing.T, doc []byte, version string) {
		tarball, integrity, err := npm.ParsePackument(doc, "x", version)
		if err == nil && (tarball == "" || !strings.Contains(integrity, "sha512-")) {
			t.Fatalf("accepted a dist without tarball or sha512 integrity: %q %q", tarball, integrity)
		}
	})
}

func FuzzParseURI(f *testing.F) {
	f.Add("npm:left-pad@1.3.0")
	f.Add("npm:@esbuild/linux-x64@0.20.2?integrity=sha512-" + strings.Repeat("A", 86) + "==")
	f.Fuzz(func(t *testing.T, uri string) {
		r, err := npm.ParseURI(uri)
		if err != nil {
			return
		}
		back, err := npm.ParseURI(r.String())
		if err != nil || back != r {
			t.Fatalf("round trip of %q: %+v → %q → %+v, %v", uri, r, r.String(), back, err)
		}
	})
}
