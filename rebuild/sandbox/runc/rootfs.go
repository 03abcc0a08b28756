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

	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/tree"
)

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// RootfsPath is the cache entry (a tree.Record folder: root/ and
// record.json) of the unpacked root filesystem of the image with manifest
// digest ("sha256:…"), owned as ids maps container ids (nil: owned by the
// unpacking user, as in rootless mode).
func RootfsPath(cacheDir, digest string, ids *IDMap) string {
	owner := fmt.Sprintf("self-%d", os.Getuid())
	if ids != nil {
		owner = ids.Key()
	}
	return filepath.Join(cacheDir, "rootfs", "sha256-"+digest[len("sha256:"):]+"-"+owner)
}

// QuarantineDir is where damaged cache entries are set aside.
func QuarantineDir(cacheDir string) string { return filepath.Join(cacheDir, "quarantine") }

// RootfsRequest names an image's rootfs.
type RootfsRequest struct {
	Layout   string   // the OCI image layout holding the image
	Digest   string   // its manifest digest, sha256:…
	CacheDir string   // the cache: entries under rootfs/, damaged ones to quarantine/
	IDs      *IDMap   // owners: container ids mapped through IDs; nil: the unpacking user's
	Key      tree.Key // authenticates the entry's record (tree.Seal, tree.Verify)
}

// RootfsEntry is an unpacked rootfs, proven in this call.
type RootfsEntry struct {
	Entry    string // the cache entry folder
	Dir      string // its root: what the build sees as /
	Unpacked bool   // whether this call unpacked it
	// Quarantined is set when the cached entry no longer matched its
	// record and was set aside before unpacking again.
	Quarantined *sandbox.Quarantined
}

// Rootfs returns the unpacked root filesystem of the image req names. A
// cached entry is believed only if its record is authentic and its content
// still has the digest the record names (tree.Verify with req.Key);
// one that does not is moved to QuarantineDir and the image is unpacked
// again. Unpacking checks the manifest, config and every layer against
// their digests, writes every mode through tree.SafePerm and owners
// through ids, and seals the tree (tree.Seal). Concurrent callers (in
// this or other processes) wait for one another; a new entry appears
// atomically (a temporary folder renamed). The returned folder is shared:
// never write into it.
func Rootfs(ctx context.Context, req RootfsRequest) (*RootfsEntry, error) {
	digest, cacheDir, ids := req.Digest, req.CacheDir, req.IDs
	if !digestRE.MatchString(digest) {
		return nil, fmt.Errorf("image digest %q: want sha256: and 64 lowercase hex digits", digest)
	}
	if cacheDir == "" {
		return nil, errors.New("runc backend: the cache folder for unpacked images is empty")
	}
	entry := RootfsPath(cacheDir, digest, ids)
	if err := os.MkdirAll(filepath.Dir(entry), 0o700); err != nil {
		return nil, fmt.Errorf("creating rootfs cache: %w", err)
	}
	unlock, err := lockFile(ctx, entry+".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	res := &RootfsEntry{Entry: entry, Dir: filepath.Join(entry, tree.RootName)}
	if _, err := os.Lstat(entry); err == nil {
		q, err := checkRootfs(ctx, entry, req)
		if err != nil || q == nil {
			return res, err
		}
		res.Quarantined = q
	}
	if err := unpackEntry(ctx, req, entry); err != nil {
		return nil, err
	}
	res.Unpacked = true
	return res, nil
}

// checkRootfs verifies a cached entry; a damaged one is quarantined and
// reported, a sound one returns nil, nil.
func checkRootfs(ctx context.Context, entry string, req RootfsRequest) (*sandbox.Quarantined, error) {
	rec, err := tree.Verify(ctx, entry, req.Key)
	if err == nil && rec.Kind == "rootfs" && rec.Key == req.Digest {
		return nil, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	reason := "its record names another image"
	if err != nil {
		reason = err.Error()
	}
	moved, qerr := tree.Quarantine(entry, QuarantineDir(req.CacheDir))
	if qerr != nil {
		return nil, fmt.Errorf("the cached rootfs %s is damaged (%s) and could not be set aside: %w; remove it by hand", entry, reason, qerr)
	}
	return &sandbox.Quarantined{Entry: entry, MovedTo: moved, Reason: reason}, nil
}

// unpackEntry unpacks the image into a new entry folder, seals it and
// renames it into place.
func unpackEntry(ctx context.Context, req RootfsRequest, entry string) (err error) {
	ids := req.IDs
	tmp, err := os.MkdirTemp(filepath.Dir(entry), ".unpack-")
	if err != nil {
		return fmt.Errorf("creating rootfs cache: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	root := filepath.Join(tmp, tree.RootName)
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	if ids != nil {
		if err := os.Lchown(root, int(ids.UID), int(ids.GID)); err != nil {
			return err
		}
	}
	if err := unpackImage(ctx, req.Layout, req.Digest, root, ids); err != nil {
		return fmt.Errorf("unpacking image %s from %s: %w", req.Digest, req.Layout, err)
	}
	if _, err := tree.Seal(ctx, tmp, tree.Record{Kind: "rootfs", Key: req.Digest, From: "image " + req.Digest}, req.Key); err != nil {
		return err
	}
	if err := os.Rename(tmp, entry); err != nil {
		return fmt.Errorf("moving unpacked image into place: %w", err)
	}
	return nil
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

func unpackImage(ctx context.Context, layoutPath, digest, dst string, ids *IDMap) error {
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
	a := newLayerApplier(dst, ids)
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
