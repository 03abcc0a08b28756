package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
)

// helperImage is the image the maintainer-script step runs in: the
// static busybox of HelperPackage as /bin/sh and /usr/sbin/chroot, nothing
// else. It is derived from the pinned package and kept in the cache as an
// OCI layout, by digest.
func (b *builder) helperImage(ctx context.Context, u *deb.Unpacked) (*fetch.Image, error) {
	bb := filepath.Join(u.DataDir(), "bin", "busybox")
	if fi, err := os.Lstat(bb); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s holds no bin/busybox", HelperPackage)
	}
	tmp, err := b.o.Cache.TempDir("image-helper-")
	if err != nil {
		return nil, err
	}
	defer tmp.Remove()
	tree := filepath.Join(tmp.Path, "tree")
	for _, d := range []string{"bin", "usr/sbin", "tmp", "out", "target"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := copyHostFile(bb, filepath.Join(tree, "bin", "busybox"), 0o755); err != nil {
		return nil, err
	}
	for link, to := range map[string]string{"bin/sh": "busybox", "usr/sbin/chroot": "/bin/busybox"} {
		if err := os.Symlink(to, filepath.Join(tree, link)); err != nil {
			return nil, err
		}
	}
	l, err := writeLayer(tree, filepath.Join(tmp.Path, "layer.tar"), time.Unix(0, 0), RootFiles)
	if err != nil {
		return nil, err
	}
	img, err := assemble(l, imageConfig{epoch: time.Unix(0, 0), arch: b.lock.Architecture, createdBy: "reprove image: maintainer-script helper from " + HelperPackage})
	if err != nil {
		return nil, err
	}
	return b.storeImage(ctx, img, "helper "+b.lock.Helper.String())
}

// storeImage keeps img in the cache as an OCI layout tree named by its
// digest (where builder images fetched by digest are kept too).
func (b *builder) storeImage(ctx context.Context, img v1.Image, from string) (*fetch.Image, error) {
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	e, err := b.o.Cache.PutTree(ctx, "oci", d.String(), "image "+d.String()+" built from "+from, func(dir string) error {
		_, err := WriteLayout(img, dir)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storing image %s: %w", d, err)
	}
	return &fetch.Image{Ref: "oci-layout:" + e.Root + "@" + d.String(), Digest: d.String(), Layout: e.Root}, nil
}

func copyHostFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}
