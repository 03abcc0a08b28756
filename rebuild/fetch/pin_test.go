package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
)

// Pin stores what arrives under its own digest; a later Fetch with that
// digest is served from the cache without a request.
func TestPin(t *testing.T) {
	body := []byte("a published artifact\n")
	want := digest.Digest(sha(body))
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/a.bin" {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	c := newCache(t)

	b, err := c.Pin(context.Background(), nil, srv.URL+"/a.bin")
	if err != nil {
		t.Fatal(err)
	}
	p, got, n := b.Path, b.Digest, b.Size
	if got != want || n != int64(len(body)) || p != c.BlobPath(want) {
		t.Errorf("Pin: want %s, %d bytes at %s; got %s, %d bytes at %s", want, len(body), c.BlobPath(want), got, n, p)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != string(body) {
		t.Errorf("stored blob: %q (%v)", b, err)
	}
	before := hits.Load()
	if _, err := New(c).Fetch(context.Background(), Request{URI: srv.URL + "/a.bin", Digest: want.String()}); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != before {
		t.Errorf("Fetch of the pinned digest made %d requests, want none", hits.Load()-before)
	}

	// A failed download pins nothing.
	empty := newCache(t)
	if _, err := empty.Pin(context.Background(), nil, srv.URL+"/missing"); err == nil {
		t.Fatal("Pin of a 404: want an error")
	}
	if blobs, _ := filepath.Glob(filepath.Join(empty.Root, "blobs", "*", "*")); len(blobs) != 0 {
		t.Errorf("a failed download left blobs: %v", blobs)
	}
}
