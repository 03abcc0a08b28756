package fetch

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
)

func newCache(t testing.TB) *Cache {
	t.Helper()
	return &Cache{Root: filepath.Join(t.TempDir(), "cache")}
}

func sha(b []byte) string { return digest.FromBytes(b).String() }

// cacheFiles lists what the cache holds under blobs/ and tmp/.
func cacheFiles(t testing.TB, c *Cache) []string {
	t.Helper()
	var got []string
	for _, sub := range []string{"blobs", "tmp"} {
		root := filepath.Join(c.Root, sub)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			if !d.IsDir() {
				rel, _ := filepath.Rel(c.Root, p)
				got = append(got, rel)
			}
			if d.IsDir() && sub == "tmp" && p != root {
				rel, _ := filepath.Rel(c.Root, p)
				got = append(got, rel+"/")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(got)
	return got
}

// server serves files on loopback and counts requests.
type server struct {
	*httptest.Server
	requests atomic.Int64
}

func newServer(t testing.TB, files map[string][]byte, extra map[string]http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	mux := http.NewServeMux()
	for p, b := range files {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Write(b)
		})
	}
	for p, h := range extra {
		mux.HandleFunc(p, h)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFetchHTTP(t *testing.T) {
	good := randomBytes(t, 300<<10)
	srv := newServer(t, map[string][]byte{"/good.bin": good, "/wrong.bin": []byte("not what was declared")}, map[string]http.HandlerFunc{
		"/drop.bin": func(w http.ResponseWriter, r *http.Request) {
			// Promise the whole body, send a part, hang up.
			w.Header().Set("Content-Length", fmt.Sprint(len(good)))
			w.WriteHeader(http.StatusOK)
			w.Write(good[:1000])
			w.(http.Flusher).Flush()
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err == nil {
				buf.Flush()
				conn.Close()
			}
		},
	})
	tests := []struct {
		name     string
		path     string
		digest   string
		wantErr  string // substring; "" for success
		mismatch bool
		unpinned bool
	}{
		{name: "ok", path: "/good.bin", digest: sha(good)},
		{name: "wrong bytes", path: "/wrong.bin", digest: sha(good), wantErr: "digest mismatch", mismatch: true},
		{name: "not found", path: "/missing.bin", digest: sha(good), wantErr: "404 Not Found"},
		{name: "dropped mid-body", path: "/drop.bin", digest: sha(good), wantErr: "unexpected EOF"},
		{name: "unpinned", path: "/good.bin", wantErr: "no digest declared", unpinned: true},
		{name: "bad digest", path: "/good.bin", digest: "sha256:1234", wantErr: "not valid"},
		{name: "md5 digest", path: "/good.bin", digest: "md5:d41d8cd98f00b204e9800998ecf8427e", wantErr: "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			f := New(c)
			uri := srv.URL + tt.path
			it, err := f.Fetch(context.Background(), Request{URI: uri, Digest: tt.digest})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), uri) {
					t.Fatalf("Fetch error = %v, want one naming %s and containing %q", err, uri, tt.wantErr)
				}
				if got := errors.Is(err, ErrDigestMismatch); got != tt.mismatch {
					t.Errorf("errors.Is(err, ErrDigestMismatch) = %v, want %v", got, tt.mismatch)
				}
				if got := errors.Is(err, ErrUnpinned); got != tt.unpinned {
					t.Errorf("errors.Is(err, ErrUnpinned) = %v, want %v", got, tt.unpinned)
				}
				if tt.mismatch {
					var dm *DigestMismatchError
					if !errors.As(err, &dm) {
						t.Fatalf("%v is not a *DigestMismatchError", err)
					}
					want := DigestMismatchError{URI: uri, Want: sha(good), Got: sha([]byte("not what was declared"))}
					if diff := cmp.Diff(want, *dm); diff != "" {
						t.Errorf("mismatch error (-want +got):\n%s", diff)
					}
				}
				if got := cacheFiles(t, c); len(got) != 0 {
					t.Errorf("cache holds %v after a failed fetch, want nothing", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want := &Item{URI: uri, Digest: sha(good), Path: c.BlobPath(digest.Digest(sha(good))), Size: int64(len(good)), Source: SourceNetwork}
			if diff := cmp.Diff(want, it); diff != "" {
				t.Errorf("item (-want +got):\n%s", diff)
			}
			b, err := os.ReadFile(it.Path)
			if err != nil || !bytes.Equal(b, good) {
				t.Errorf("cached bytes differ from the served ones (err %v)", err)
			}
			// Reused from the cache, with no request at all.
			before := srv.requests.Load()
			it2, err := New(c).Fetch(context.Background(), Request{URI: uri, Digest: tt.digest})
			if err != nil {
				t.Fatalf("second Fetch: %v", err)
			}
			want.Source = SourceCache // hashed again, not fetched
			if diff := cmp.Diff(want, it2); diff != "" {
				t.Errorf("second item (-want +got):\n%s", diff)
			}
			if n := srv.requests.Load() - before; n != 0 {
				t.Errorf("second Fetch made %d requests, want 0", n)
			}
		})
	}
}

func TestFetchFile(t *testing.T) {
	dir := t.TempDir()
	body := []byte("source bytes\n")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "src.txt"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "sub", "src.txt")
	tests := []struct {
		name    string
		req     Request
		wantErr string
	}{
		{name: "relative", req: Request{URI: "file:sub/src.txt", Digest: sha(body), Dir: dir}},
		{name: "dot relative", req: Request{URI: "file:./sub/src.txt", Digest: sha(body), Dir: dir}},
		{name: "absolute", req: Request{URI: "file:" + abs, Digest: sha(body), Dir: dir}},
		{name: "file URL", req: Request{URI: "file://" + abs, Digest: sha(body), Dir: dir}},
		{name: "localhost URL", req: Request{URI: "file://localhost" + abs, Digest: sha(body), Dir: dir}},
		{name: "missing", req: Request{URI: "file:sub/nope.txt", Digest: sha(body), Dir: dir}, wantErr: "no such file"},
		{name: "a folder", req: Request{URI: "file:sub", Digest: sha(body), Dir: dir}, wantErr: "it is a folder, not a regular file"},
		{name: "remote host", req: Request{URI: "file://example.org" + abs, Digest: sha(body)}, wantErr: "remove the host"},
		{name: "wrong digest", req: Request{URI: "file:sub/src.txt", Digest: sha([]byte("other")), Dir: dir}, wantErr: "digest mismatch"},
		{name: "unpinned", req: Request{URI: "file:sub/src.txt", Dir: dir}, wantErr: "not pinned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			it, err := New(c).Fetch(context.Background(), tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.req.URI) {
					t.Fatalf("Fetch error = %v, want one naming %s and containing %q", err, tt.req.URI, tt.wantErr)
				}
				if got := cacheFiles(t, c); len(got) != 0 {
					t.Errorf("cache holds %v after a failed fetch", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			want := &Item{URI: tt.req.URI, Digest: sha(body), Path: c.BlobPath(digest.FromBytes(body)), Size: int64(len(body)), Source: SourceFile}
			if diff := cmp.Diff(want, it); diff != "" {
				t.Errorf("item (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFetchUnpack(t *testing.T) {
	tgz := makeArchive(t, FormatTarGzip, []entry{dir("hello-1.0/", 0o755), file("hello-1.0/run.sh", "echo hi\n", 0o755)})
	srv := newServer(t, map[string][]byte{"/hello.tar.gz": tgz}, nil)
	c := newCache(t)
	req := Request{URI: srv.URL + "/hello.tar.gz", Digest: sha(tgz), Unpack: true}
	it, err := New(c).Fetch(context.Background(), req)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if want := filepath.Join(c.TreePath("unpack", sha(tgz)), "root"); it.Path != want {
		t.Errorf("Path = %s, want the unpack tree %s", it.Path, want)
	}
	want := map[string]string{"hello-1.0": "dir 0755", "hello-1.0/run.sh": "file 0755 echo hi\n"}
	if diff := cmp.Diff(want, snapshot(t, it.Path)); diff != "" {
		t.Errorf("unpacked (-want +got):\n%s", diff)
	}
	before := srv.requests.Load()
	it2, err := New(c).Fetch(context.Background(), req)
	if err != nil {
		t.Fatalf("second Fetch: %v", err)
	}
	if it2.Path != it.Path || srv.requests.Load() != before {
		t.Errorf("second Fetch: path %s (want %s), %d requests (want 0)", it2.Path, it.Path, srv.requests.Load()-before)
	}

	// A file that is not an archive: the error says so and names the URI.
	notArchive := []byte("plain text")
	srv2 := newServer(t, map[string][]byte{"/x.txt": notArchive}, nil)
	_, err = New(c).Fetch(context.Background(), Request{URI: srv2.URL + "/x.txt", Digest: sha(notArchive), Unpack: true})
	if err == nil || !strings.Contains(err.Error(), srv2.URL+"/x.txt") || !strings.Contains(err.Error(), "unpack: false") {
		t.Errorf("unpacking a text file: error %v, want one naming the URI and the fix", err)
	}
}

func TestFetchRewrite(t *testing.T) {
	body := []byte("mirrored")
	srv := newServer(t, map[string][]byte{"/mirror/pkg.bin": body}, nil)
	f := New(newCache(t), WithRewrites([]Rewrite{
		{Old: "https://upstream.invalid/", New: srv.URL + "/wrong/"},
		{Old: "https://upstream.invalid/pkgs/", New: srv.URL + "/mirror/"}, // longer: wins
	}))
	it, err := f.Fetch(context.Background(), Request{URI: "https://upstream.invalid/pkgs/pkg.bin", Digest: sha(body)})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if want := srv.URL + "/mirror/pkg.bin"; it.URI != want {
		t.Errorf("URI = %s, want %s", it.URI, want)
	}
	// The declared digest still holds on the mirror.
	_, err = f.Fetch(context.Background(), Request{URI: "https://upstream.invalid/pkgs/pkg.bin", Digest: sha([]byte("original"))})
	if !errors.Is(err, ErrDigestMismatch) || !strings.Contains(err.Error(), "rewritten from https://upstream.invalid/pkgs/pkg.bin") {
		t.Errorf("rewritten fetch with another digest: %v, want a mismatch naming the declared URI", err)
	}
}

func TestFetchProgress(t *testing.T) {
	body := randomBytes(t, 2<<20)
	srv := newServer(t, map[string][]byte{"/big.bin": body}, nil)
	var mu sync.Mutex
	var events []Event
	f := New(newCache(t), WithProgress(func(e Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}))
	uri := srv.URL + "/big.bin"
	if _, err := f.Fetch(context.Background(), Request{URI: uri, Digest: sha(body)}); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(events) < 2 {
		t.Fatalf("got %d progress events, want a start and an end: %v", len(events), events)
	}
	if diff := cmp.Diff(Event{URI: uri, Phase: "download", Done: 0, Total: int64(len(body))}, events[0]); diff != "" {
		t.Errorf("first event (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Event{URI: uri, Phase: "download", Done: int64(len(body)), Total: int64(len(body))}, events[len(events)-1]); diff != "" {
		t.Errorf("last event (-want +got):\n%s", diff)
	}
	for i := 1; i < len(events); i++ {
		if events[i].Done < events[i-1].Done {
			t.Errorf("progress went backwards: %v then %v", events[i-1], events[i])
		}
	}
}

// testScheme serves fixed bodies for URIs with its prefix.
type testScheme struct {
	prefix string
	bodies map[string][]byte
}

func (s testScheme) Handles(uri string) bool { return strings.HasPrefix(uri, s.prefix) }
func (s testScheme) Fetch(ctx context.Context, c *Cache, req Request) (*Item, error) {
	d, err := parseDigest(req.URI, req.Digest)
	if err != nil {
		return nil, err
	}
	b, err := c.Put(ctx, bytes.NewReader(s.bodies[req.URI]), PutOptions{URI: req.URI, Want: d})
	if err != nil {
		return nil, err
	}
	return &Item{URI: req.URI, Digest: d.String(), Path: b.Path, Size: b.Size}, nil
}

func TestFetchSchemes(t *testing.T) {
	bodies := map[string][]byte{}
	uris := []string{"test:one", "https://override.invalid/x"}
	for _, uri := range uris {
		bodies[uri] = makeArchive(t, FormatTar, []entry{file("from-scheme", uri, 0o644)})
	}
	// The second scheme takes an https URL away from the built-in one.
	f := New(newCache(t), WithSchemes(testScheme{"test:", bodies}, testScheme{"https://override.invalid/", bodies}))
	for _, uri := range uris {
		it, err := f.Fetch(context.Background(), Request{URI: uri, Digest: sha(bodies[uri]), Unpack: true})
		if err != nil {
			t.Fatalf("Fetch %s: %v", uri, err)
		}
		// The fetcher unpacks what a scheme returns as a file.
		if diff := cmp.Diff(map[string]string{"from-scheme": "file 0644 " + uri}, snapshot(t, it.Path)); diff != "" {
			t.Errorf("%s unpacked (-want +got):\n%s", uri, diff)
		}
	}
	_, err := f.Fetch(context.Background(), Request{URI: "ftp://example.org/x", Digest: sha(nil)})
	if err == nil || !strings.Contains(err.Error(), "unsupported URI scheme") {
		t.Errorf("ftp: error %v, want unsupported scheme", err)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name, reprove, xdg, want string
	}{
		{"override", "/srv/cache", "/xdg", "/srv/cache"},
		{"xdg", "", "/xdg", "/xdg/reprove"},
		{"relative xdg ignored", "", "rel", home + "/.cache/reprove"},
		{"home", "", "", home + "/.cache/reprove"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("REPROVE_CACHE_DIR", tt.reprove)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			got, err := DefaultCacheDir()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DefaultCacheDir() = %s, want %s", got, tt.want)
			}
		})
	}
}
