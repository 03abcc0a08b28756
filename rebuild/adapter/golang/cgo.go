package golang

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/reprove/reprove/rebuild/adapter"
)

// CgoRecipe names the builder image recipe with a C toolchain (gcc,
// libc6-dev, git) that cgo binaries need.
const CgoRecipe = "go-cgo"

// cgo checks, before anything is built, that the builder image has the C
// compiler a CGO_ENABLED=1 build runs, and says what the build info does
// and does not record of the C side.
func (r *recipe) cgo(ctx context.Context) error {
	if r.env["CGO_ENABLED"] != "1" {
		return nil
	}
	cc := "gcc" // CC is not recorded; the go command's default
	if v := r.env["CC"]; v != "" {
		cc = v
	}
	found, err := r.imageHas(ctx, cc)
	if err != nil {
		return &adapter.FetchError{Err: fmt.Errorf("looking for %s in builder image %s: %w", cc, r.image, err)}
	}
	if !found {
		return cannot("CGO_ENABLED=1: the rebuild runs the C compiler %s, which builder image %s does not have; build an image with gcc and libc6-dev with the %s recipe (`reprove image build %s -o DIR`, which prints the reference) and pass it with --builder-image",
			cc, r.image, CgoRecipe, CgoRecipe)
	}
	r.note("CGO_ENABLED=1: C compiler %s (the go command's default: the build info does not record CC) found in the builder image", cc)
	if r.facts.Comment != "" {
		r.note("the binary's .comment names the C toolchain that built it: %q; the image's must be the same release", r.facts.Comment)
	}
	if r.info.set["-trimpath"] == "true" {
		r.note("-trimpath: CGO_CFLAGS, CGO_CPPFLAGS, CGO_CXXFLAGS and CGO_LDFLAGS are not recorded; Go's defaults are used")
	}
	return nil
}

// imageHas says whether the builder image holds an executable named cc in
// /usr/bin, /usr/local/bin or /bin (read from its layers, not run).
func (r *recipe) imageHas(ctx context.Context, cc string) (bool, error) {
	if strings.Contains(cc, "/") {
		cc = strings.TrimPrefix(path.Clean(cc), "/")
	}
	want := map[string]bool{}
	for _, d := range []string{"usr/bin/", "usr/local/bin/", "bin/"} {
		want[d+cc] = true
	}
	if strings.Contains(cc, "/") {
		want = map[string]bool{cc: true}
	}
	img, err := r.in.Env.Fetcher.FetchImage(ctx, r.image, "")
	if err != nil {
		return false, err
	}
	h, err := v1.NewHash(img.Digest)
	if err != nil {
		return false, err
	}
	idx, err := layout.ImageIndexFromPath(img.Layout)
	if err != nil {
		return false, err
	}
	im, err := idx.Image(h)
	if err != nil {
		return false, err
	}
	layers, err := im.Layers()
	if err != nil {
		return false, err
	}
	for _, l := range layers {
		found, err := layerHas(ctx, l, want)
		if err != nil || found {
			return found, err
		}
	}
	return false, nil
}

// layerHas scans one layer's entries for any of the names.
func layerHas(ctx context.Context, l v1.Layer, names map[string]bool) (bool, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if names[name] && (h.Typeflag == tar.TypeReg || h.Typeflag == tar.TypeSymlink || h.Typeflag == tar.TypeLink) {
			return true, nil
		}
	}
}
