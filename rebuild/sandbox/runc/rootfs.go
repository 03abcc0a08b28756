package runc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"golang.org/x/sys/unix"
)

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// RootfsPath is where the unpacked root filesystem of the image with
// manifest digest ("sha256:…") lives under cacheDir.
func RootfsPath(cacheDir, digest string) string {
	return filepath.Join(cacheDir, "rootfs", "sha256-"+digest[len("sha256:"):])
}

// Rootfs returns the unpacked root filesystem of the image with manifest
// digest in the OCI layout at layoutPath, unpacking it into cacheDir on
// first use; unpacked says whether this call did the unpacking. The
// manifest, config and every layer are checked against their digests while
// unpacking. Concurrent callers (in this or other processes) wait for one
// unpacking; the result appears atomically (a temporary folder renamed).
// The returned folder is shared: never write into it.
func Rootfs(ctx context.Context, layoutPath, digest, cacheDir string) (dir string, unpacked bool, err error) {
	if !digestRE.MatchString(digest) {
		return "", false, fmt.Errorf("image digest %q: want sha256: and 64 lowercase hex digits", digest)
	}
	if cacheDir == "" {
		return "", false, errors.New("runc backend: the cache folder for unpacked images is empty")
	}
	final := RootfsPath(cacheDir, digest)
	if fi, err := os.Stat(final); err == nil && fi.IsDir() {
		return final, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", false, fmt.Errorf("creating rootfs cache: %w", err)
	}
	unlock, err := lockFile(ctx, final+".lock")
	if err != nil {
		return "", false, err
	}
	defer unlock()
	if fi, err := os.Stat(final); err == nil && fi.IsDir() {
		return final, false, nil // another process unpacked it while we waited
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), ".unpack-")
	if err != nil {
		return "", false, fmt.Errorf("creating rootfs cache: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := unpackImage(ctx, layoutPath, digest, tmp); err != nil {
		return "", false, fmt.Errorf("unpacking image %s from %s: %w", digest, layoutPath, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", false, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", false, fmt.Errorf("moving unpacked image into place: %w", err)
	}
	return final, true, nil
}

// lockFile takes an exclusive flock on p, polling so ctx can cancel the wait.
func lockFile(ctx context.Context, p string) (func(), error) {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", p, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", p, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another process to unpack the image (lock %s): %w", p, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func unpackImage(ctx context.Context, layoutPath, digest, dst string) error {
	h, err := v1.NewHash(digest)
	if err != nil {
		return err
	}
	idx, err := layout.ImageIndexFromPath(layoutPath)
	if err != nil {
		return fmt.Errorf("opening OCI layout: %w", err)
	}
	img, err := idx.Image(h)
	if err != nil {
		return fmt.Errorf("finding the image in the layout: %w", err)
	}
	if got, err := img.Digest(); err != nil {
		return err
	} else if got != h {
		return fmt.Errorf("manifest has digest %s, want %s", got, h)
	}
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("reading manifest: %w", err)
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("reading image config: %w", err)
	}
	if got, _, _ := v1.SHA256(bytes.NewReader(rawCfg)); got != m.Config.Digest {
		return fmt.Errorf("image config has digest %s, the manifest says %s", got, m.Config.Digest)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("listing layers: %w", err)
	}
	a := newLayerApplier(dst)
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := applyVerified(a, l); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return a.finish()
}

// applyVerified applies one layer and checks its uncompressed bytes against
// the diff id the (verified) config names.
func applyVerified(a *layerApplier, l v1.Layer) error {
	want, err := l.DiffID()
	if err != nil {
		return err
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	hasher := sha256.New()
	tee := io.TeeReader(rc, hasher)
	if err := a.apply(tee); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil { // tar padding after the end marker
		return err
	}
	if got := "sha256:" + hex.EncodeToString(hasher.Sum(nil)); got != want.String() {
		return fmt.Errorf("uncompressed layer has digest %s, the config says %s", got, want)
	}
	return nil
}
