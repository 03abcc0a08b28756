package image_test

import (
	"archive/tar"
	"context"
	"io"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/image"
	"github.com/reprove/reprove/rebuild/image/imagetest"
	"github.com/reprove/reprove/rebuild/sandbox/runc"
	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
)

// TestSameLockSameDigest builds the shell image (Debian's Essential set,
// configured by dpkg in the sandbox) from one lock in two fresh caches: the
// digests must be equal. Packages are downloaded once per machine into
// .cache/debs.
func TestSameLockSameDigest(t *testing.T) {
	sandboxtest.Need(t, true)
	env, err := imagetest.Prepare("shell")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var imgs []*image.Image
	for range 2 {
		cache := &fetch.Cache{Root: t.TempDir()}
		be, err := runc.New(runc.Options{CacheDir: cache.Root})
		if err != nil {
			t.Fatal(err)
		}
		a := env.Archive(cache)
		img, err := image.Build(ctx, env.Recipe, env.Lock, image.Options{Cache: cache, Archive: a, Backend: be, Epoch: 1700000000})
		if err != nil {
			t.Fatal(err)
		}
		if img.Cached {
			t.Fatal("a fresh cache reused an image")
		}
		if err := env.SaveDebs(ctx, a); err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	if imgs[0].Digest != imgs[1].Digest {
		t.Fatalf("one lock, two digests: %s and %s", imgs[0].Digest, imgs[1].Digest)
	}
	checkShellImage(t, imgs[0].Layout, imgs[0].Digest)
}

// checkShellImage: every package configured by dpkg, owners and set-id bits
// as Debian ships them, merged /usr, nothing that says when it was built.
func checkShellImage(t *testing.T, lp, digest string) {
	t.Helper()
	ents := layerEntries(t, lp, digest)
	status := string(ents["var/lib/dpkg/status"].body)
	if n := strings.Count(status, "Status: install ok installed"); n == 0 || n != strings.Count(status, "Package: ") {
		t.Errorf("dpkg status: %d of %d packages installed", n, strings.Count(status, "Package: "))
	}
	if e := ents["usr/bin/su"]; e == nil || e.hdr.Mode&0o4000 == 0 || e.hdr.Uid != 0 {
		t.Errorf("usr/bin/su: %+v, want setuid root", e)
	}
	if e := ents["var/mail/"]; e == nil || e.hdr.Gid != 8 || e.hdr.Mode&0o2000 == 0 {
		t.Errorf("var/mail: %+v, want setgid, group mail (8)", e)
	}
	if e := ents["bin"]; e == nil || e.hdr.Linkname != "usr/bin" {
		t.Errorf("bin: %+v, want a link to usr/bin", e)
	}
	for _, gone := range []string{"var/log/dpkg.log", "var/cache/ldconfig/aux-cache", "tmp/reprove-configure", "usr/sbin/policy-rc.d"} {
		if ents[gone] != nil {
			t.Errorf("%s is in the image", gone)
		}
	}
	for name, e := range ents {
		if e.hdr.ModTime.Unix() != 1700000000 {
			t.Fatalf("%s has mtime %v, want SOURCE_DATE_EPOCH", name, e.hdr.ModTime)
		}
	}
}

type layerEntry struct {
	hdr  *tar.Header
	body []byte
}

func layerEntries(t *testing.T, lp, digest string) map[string]*layerEntry {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(lp)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := v1.NewHash(digest)
	img, err := idx.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := img.Layers()
	if len(ls) != 1 {
		t.Fatalf("%d layers, want one", len(ls))
	}
	rc, err := ls[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]*layerEntry{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		e := &layerEntry{hdr: hdr}
		if hdr.Name == "var/lib/dpkg/status" {
			e.body, _ = io.ReadAll(tr)
		}
		out[hdr.Name] = e
	}
}
