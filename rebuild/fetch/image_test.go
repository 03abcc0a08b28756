package fetch

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// testRegistry runs go-containerregistry's registry on loopback and counts
// requests. It returns host:port.
func testRegistry(t testing.TB) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &n
}

func randomImage(t testing.TB) v1.Image {
	t.Helper()
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustDigest(t testing.TB, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// platformIndex holds img for this machine and other for another arch.
func platformIndex(t testing.TB, img, other v1.Image) v1.ImageIndex {
	t.Helper()
	otherArch := "arm64"
	if platform.Architecture == "arm64" {
		otherArch = "amd64"
	}
	return mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: other, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: otherArch}}},
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &platform}},
	)
}

// checkLayout opens the layout of got and validates the image it holds,
// every layer against its digest.
func checkLayout(t testing.TB, got *Image) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(got.Layout)
	if err != nil {
		t.Fatalf("layout %s: %v", got.Layout, err)
	}
	h, err := v1.NewHash(got.Digest)
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(h)
	if err != nil {
		t.Fatalf("layout %s has no image %s: %v", got.Layout, got.Digest, err)
	}
	if err := validate.Image(img); err != nil {
		t.Errorf("image in the cached layout is not valid: %v", err)
	}
}

func TestFetchImageRegistry(t *testing.T) {
	host, requests := testRegistry(t)
	img := randomImage(t)
	if err := remote.Write(parseRef(t, host+"/test/img:v1"), img); err != nil {
		t.Fatal(err)
	}
	arch, other := randomImage(t), randomImage(t)
	idx := platformIndex(t, arch, other)
	if err := remote.WriteIndex(parseRef(t, host+"/test/multi:v1"), idx); err != nil {
		t.Fatal(err)
	}
	imgDigest, idxDigest, archDigest := mustDigest(t, img), mustDigest(t, idx), mustDigest(t, arch)
	missing := "sha256:" + strings.Repeat("0", 64)

	tests := []struct {
		name     string
		ref      string
		want     *Image // Layout is filled in
		wantErr  string
		unpinned bool
	}{
		{name: "image", ref: "oci://" + host + "/test/img@" + imgDigest, want: &Image{Digest: imgDigest}},
		{name: "tag and digest", ref: "oci://" + host + "/test/img:v1@" + imgDigest, want: &Image{Digest: imgDigest}},
		{name: "index", ref: "oci://" + host + "/test/multi@" + idxDigest, want: &Image{Digest: archDigest, Index: idxDigest}},
		{name: "unknown digest", ref: "oci://" + host + "/test/img@" + missing, wantErr: "MANIFEST_UNKNOWN"},
		{name: "tag only", ref: "oci://" + host + "/test/img:v1", wantErr: "no @sha256", unpinned: true},
		{name: "not sha256", ref: "oci://" + host + "/test/img@md5:abc", wantErr: "not a sha256 digest"},
		{name: "other scheme", ref: "docker://" + host + "/test/img@" + imgDigest, wantErr: "use oci://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			got, err := New(c).FetchImage(context.Background(), tt.ref, "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.ref) {
					t.Fatalf("FetchImage error = %v, want one naming %s and containing %q", err, tt.ref, tt.wantErr)
				}
				if got := errors.Is(err, ErrUnpinned); got != tt.unpinned {
					t.Errorf("errors.Is(err, ErrUnpinned) = %v, want %v", got, tt.unpinned)
				}
				if ents, _ := os.ReadDir(filepath.Join(c.Root, "trees", "oci")); len(ents) != 0 {
					t.Errorf("a failed pull left %d layouts in the cache", len(ents))
				}
				return
			}
			if err != nil {
				t.Fatalf("FetchImage: %v", err)
			}
			want := *tt.want
			want.Ref = tt.ref
			want.Layout = got.Layout
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("image (-want +got):\n%s", diff)
			}
			checkLayout(t, got)
			// Cached: no request, same answer.
			before := requests.Load()
			again, err := New(c).FetchImage(context.Background(), tt.ref, "")
			if err != nil {
				t.Fatalf("second FetchImage: %v", err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("cached image (-want +got):\n%s", diff)
			}
			if n := requests.Load() - before; n != 0 {
				t.Errorf("second FetchImage made %d requests, want 0", n)
			}
		})
	}
}

func TestFetchImageRewrite(t *testing.T) {
	host, _ := testRegistry(t)
	img := randomImage(t)
	if err := remote.Write(parseRef(t, host+"/mirror/img:v1"), img); err != nil {
		t.Fatal(err)
	}
	var events []Event
	f := New(newCache(t), WithRewrites([]Rewrite{{Old: "oci://registry.invalid/library/", New: "oci://" + host + "/mirror/"}}),
		WithProgress(func(e Event) { events = append(events, e) }))
	got, err := f.FetchImage(context.Background(), "oci://registry.invalid/library/img@"+mustDigest(t, img), "")
	if err != nil {
		t.Fatalf("FetchImage: %v", err)
	}
	if want := "oci://" + host + "/mirror/img@" + mustDigest(t, img); got.Ref != want {
		t.Errorf("Ref = %s, want %s", got.Ref, want)
	}
	checkLayout(t, got)
	// Progress ends with every layer byte counted.
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, l := range layers {
		n, _ := l.Size()
		total += n
	}
	if len(events) == 0 {
		t.Fatal("no progress events")
	}
	want := Event{URI: got.Ref, Phase: "download", Done: total, Total: total}
	if diff := cmp.Diff(want, events[len(events)-1]); diff != "" {
		t.Errorf("last progress event (-want +got):\n%s", diff)
	}
}

// writeLayout stores images and indexes in a fresh OCI layout at dir.
func writeLayout(t testing.TB, dir string, imgs []v1.Image, idxs []v1.ImageIndex) layout.Path {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
	}
	for _, idx := range idxs {
		if err := p.AppendIndex(idx); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestFetchImageLayout(t *testing.T) {
	base := t.TempDir()
	img := randomImage(t)
	arch, other := randomImage(t), randomImage(t)
	idx := platformIndex(t, arch, other)
	writeLayout(t, filepath.Join(base, "layouts", "good"), []v1.Image{img}, []v1.ImageIndex{idx})
	imgDigest, idxDigest, archDigest := mustDigest(t, img), mustDigest(t, idx), mustDigest(t, arch)

	// A layout whose first layer has the right size but other bytes.
	writeLayout(t, filepath.Join(base, "layouts", "badlayer"), []v1.Image{img}, nil)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	l0, _ := layers[0].Digest()
	blob := filepath.Join(base, "layouts", "badlayer", "blobs", "sha256", l0.Hex)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// A layout whose manifest blob was edited.
	writeLayout(t, filepath.Join(base, "layouts", "badmanifest"), []v1.Image{img}, nil)
	h, _ := v1.NewHash(imgDigest)
	mblob := filepath.Join(base, "layouts", "badmanifest", "blobs", "sha256", h.Hex)
	mb, err := os.ReadFile(mblob)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mblob, append(mb, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := "sha256:" + strings.Repeat("1", 64)

	tests := []struct {
		name     string
		ref      string
		want     *Image
		wantErr  string
		mismatch bool
		unpinned bool
	}{
		{name: "relative", ref: "oci-layout:layouts/good@" + imgDigest, want: &Image{Digest: imgDigest}},
		{name: "absolute", ref: "oci-layout:" + filepath.Join(base, "layouts/good") + "@" + imgDigest, want: &Image{Digest: imgDigest}},
		{name: "index", ref: "oci-layout:layouts/good@" + idxDigest, want: &Image{Digest: archDigest, Index: idxDigest}},
		{name: "nested image by digest", ref: "oci-layout:layouts/good@" + archDigest, want: &Image{Digest: archDigest}},
		{name: "digest not in layout", ref: "oci-layout:layouts/good@" + missing, wantErr: "holds no manifest " + missing},
		{name: "no such folder", ref: "oci-layout:layouts/nothing@" + imgDigest, wantErr: "no such file or directory"},
		{name: "tampered layer", ref: "oci-layout:layouts/badlayer@" + imgDigest, wantErr: "digest mismatch", mismatch: true},
		{name: "tampered manifest", ref: "oci-layout:layouts/badmanifest@" + imgDigest, wantErr: "digest mismatch", mismatch: true},
		{name: "unpinned", ref: "oci-layout:layouts/good", wantErr: "no @sha256", unpinned: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache(t)
			got, err := New(c, WithDir(base)).FetchImage(context.Background(), tt.ref, "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.ref) {
					t.Fatalf("FetchImage error = %v, want one naming %s and containing %q", err, tt.ref, tt.wantErr)
				}
				if got := errors.Is(err, ErrDigestMismatch); got != tt.mismatch {
					t.Errorf("errors.Is(err, ErrDigestMismatch) = %v, want %v", got, tt.mismatch)
				}
				if got := errors.Is(err, ErrUnpinned); got != tt.unpinned {
					t.Errorf("errors.Is(err, ErrUnpinned) = %v, want %v", got, tt.unpinned)
				}
				if ents, _ := os.ReadDir(filepath.Join(c.Root, "trees", "oci")); len(ents) != 0 {
					t.Errorf("a failed fetch left %d layouts in the cache", len(ents))
				}
				if got := cacheFiles(t, c); len(got) != 0 {
					t.Errorf("a failed fetch left %v in the cache", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("FetchImage: %v", err)
			}
			want := *tt.want
			want.Ref = tt.ref
			want.Layout = got.Layout
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("image (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(got.Layout, c.Root) {
				t.Errorf("layout %s is not in the cache %s", got.Layout, c.Root)
			}
			checkLayout(t, got)
		})
	}
}

func parseRef(t testing.TB, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
