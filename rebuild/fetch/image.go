package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
)

// FetchImage brings a builder image into the cache as an OCI image layout
// holding that one image, and returns the layout's path. ref is
// oci://HOST/REPO@sha256:… (pulled by digest from a registry; plain http
// for loopback registries) or
// oci-layout:DIR@sha256:… (an image layout on disk; a relative DIR is
// resolved against WithDir's folder). Rewrites apply to ref too. The pinned
// digest may be an image's or an index's; for an index the linux image for
// this machine's architecture is taken and Image.Index records the index.
// Every manifest, config and layer is checked against its digest. A cached
// image is returned without network access.
//
// dir is the manifest's folder: a layout must lie below it (or an
// --allow-path folder); the Fetcher's WithDir folder when empty.
func (f *Fetcher) FetchImage(ctx context.Context, ref, dir string) (*Image, error) {
	declared := ref
	ref = f.Rewrite(ref)
	if dir == "" {
		dir = f.dir
	}
	req := f.confine(Request{URI: ref, Dir: dir}, declared)
	img, err := f.fetchImage(ctx, ref, req)
	if err != nil && ref != declared {
		return nil, fmt.Errorf("%w (rewritten from %s)", err, declared)
	}
	return img, err
}

func (f *Fetcher) fetchImage(ctx context.Context, ref string, req Request) (*Image, error) {
	var loc string
	switch {
	case strings.HasPrefix(ref, "oci://"):
		loc = strings.TrimPrefix(ref, "oci://")
	case strings.HasPrefix(ref, "oci-layout:"):
		loc = strings.TrimPrefix(ref, "oci-layout:")
	default:
		return nil, fmt.Errorf("builder image %s: use oci://HOST/REPO@sha256:… (registry) or oci-layout:DIR@sha256:… (image layout on disk)", ref)
	}
	at := strings.LastIndex(loc, "@")
	if at < 0 {
		return nil, fmt.Errorf("builder image %s: %w: no @sha256:… digest; pin it (crane digest or skopeo inspect prints it)", ref, ErrUnpinned)
	}
	want, err := digest.Parse(loc[at+1:])
	if err != nil || want.Algorithm() != digest.SHA256 {
		return nil, fmt.Errorf("builder image %s: %q is not a sha256 digest; write @sha256:<64 hex digits>", ref, loc[at+1:])
	}
	found, quarantined, err := f.cache.Tree(ctx, "oci", want.String())
	if err != nil {
		return nil, err
	}
	if found != nil {
		return cachedImage(ref, want, found)
	}
	if req.Offline {
		return nil, NewOfflineError(ref, quarantined)
	}
	var src v1.Image
	var index string
	if strings.HasPrefix(ref, "oci://") {
		src, index, err = f.remoteImage(ctx, ref, loc, want)
	} else {
		src, index, err = f.layoutImage(ref, loc[:at], want, req)
	}
	if err != nil {
		return nil, err
	}
	imgDigest, err := src.Digest()
	if err != nil {
		return nil, fmt.Errorf("builder image %s: %w", ref, err)
	}
	e, err := f.cache.PutTree(ctx, "oci", want.String(), "image "+want.String()+" from "+ref, func(dir string) error {
		return f.writeLayout(ctx, ref, src, dir)
	})
	if err != nil {
		return nil, err
	}
	img := &Image{Ref: ref, Digest: imgDigest.String(), Index: index, Layout: e.Root}
	for _, q := range []string{quarantined, e.Quarantined} {
		if q != "" {
			img.Quarantined = append(img.Quarantined, q)
		}
	}
	return img, nil
}

// cachedImage reads back which image a cached layout holds. Its content was
// checked against its record; the layout's index must also name the pinned
// digest or the one image the record was made for.
func cachedImage(ref string, want digest.Digest, e *TreeEntry) (*Image, error) {
	p := e.Root
	idx, err := layout.ImageIndexFromPath(p)
	if err != nil {
		return nil, fmt.Errorf("builder image %s: cached layout %s: %w; remove it to fetch again", ref, p, err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		return nil, fmt.Errorf("builder image %s: cached layout %s is damaged; remove it to fetch again", ref, p)
	}
	img := &Image{Ref: ref, Digest: m.Manifests[0].Digest.String(), Layout: p}
	if img.Digest != want.String() {
		img.Index = want.String()
	}
	return img, nil
}

var platform = v1.Platform{OS: "linux", Architecture: runtime.GOARCH}

// remoteImage gets the image pinned by want from a registry.
func (f *Fetcher) remoteImage(ctx context.Context, ref, loc string, want digest.Digest) (v1.Image, string, error) {
	d, err := name.NewDigest(loc)
	if err != nil {
		return nil, "", fmt.Errorf("builder image %s: %w; write oci://HOST/REPO@sha256:…", ref, err)
	}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(platform),
	}
	if f.client.Transport != nil {
		ropts = append(ropts, remote.WithTransport(f.client.Transport))
	}
	f.cache.progress(Event{URI: ref, Phase: "download", Done: 0, Total: -1})
	desc, err := remote.Get(d, ropts...)
	if err != nil {
		return nil, "", fmt.Errorf("pulling builder image %s: %w; check the registry is reachable and holds that digest (or --replace-source to pull from a mirror)", ref, err)
	}
	if desc.Digest.String() != want.String() {
		return nil, "", &DigestMismatchError{URI: ref, Want: want.String(), Got: desc.Digest.String()}
	}
	img, err := desc.Image()
	if err != nil {
		return nil, "", fmt.Errorf("pulling builder image %s: %w", ref, err)
	}
	var index string
	if desc.MediaType.IsIndex() {
		index = want.String()
	}
	return img, index, nil
}

// layoutImage finds the image pinned by want in the OCI layout at dir.
func (f *Fetcher) layoutImage(ref, dir string, want digest.Digest, req Request) (v1.Image, string, error) {
	if dir == "" {
		return nil, "", fmt.Errorf("builder image %s: no folder; write oci-layout:DIR@sha256:…", ref)
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(req.Dir, dir)
	}
	dir, err := ConfinedDir(dir, req)
	if err != nil {
		return nil, "", err
	}
	if err := plainTree(ref, dir); err != nil {
		return nil, "", err
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, "", fmt.Errorf("builder image %s: %s is not an OCI image layout (%v); export the image with skopeo copy or crane into oci-layout form", ref, dir, err)
	}
	h, err := v1.NewHash(want.String())
	if err != nil {
		return nil, "", err
	}
	parent, desc, seen, err := findDescriptor(idx, h, 0)
	if err != nil {
		return nil, "", fmt.Errorf("builder image %s: reading layout %s: %w", ref, dir, err)
	}
	if parent == nil {
		if len(seen) > 4 {
			seen = seen[:4]
		}
		return nil, "", fmt.Errorf("builder image %s: the layout %s holds no manifest %s (it lists %s); check the digest or export that image into the layout", ref, dir, want, strings.Join(seen, ", "))
	}
	if desc.MediaType.IsIndex() {
		child, err := parent.ImageIndex(h)
		if err != nil {
			return nil, "", fmt.Errorf("builder image %s: %w", ref, err)
		}
		if err := checkRaw(ref, want.String(), child.RawManifest); err != nil {
			return nil, "", err
		}
		img, err := platformImage(ref, child)
		return img, want.String(), err
	}
	img, err := parent.Image(h)
	if err != nil {
		return nil, "", fmt.Errorf("builder image %s: %w", ref, err)
	}
	if err := checkRaw(ref, want.String(), img.RawManifest); err != nil {
		return nil, "", err
	}
	return img, "", nil
}

// plainTree refuses an image layout holding anything but folders and
// regular files: a link in a manifest's layout could make reprove read (and
// report the digest of) a file outside it.
func plainTree(ref, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("builder image %s: %w: %s in the layout is a %s; an OCI layout holds only folders and files", ref, ErrConfined, p, typeName(d.Type()))
		}
		return nil
	})
}

// findDescriptor looks for h in idx and the indexes it holds. It returns
// the index listing it (nil when absent) and every digest it saw.
func findDescriptor(idx v1.ImageIndex, h v1.Hash, depth int) (v1.ImageIndex, v1.Descriptor, []string, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, v1.Descriptor{}, nil, err
	}
	var seen []string
	for _, d := range m.Manifests {
		if d.Digest == h {
			return idx, d, nil, nil
		}
		seen = append(seen, d.Digest.String())
	}
	if depth >= 4 {
		return nil, v1.Descriptor{}, seen, nil
	}
	for _, d := range m.Manifests {
		if !d.MediaType.IsIndex() {
			continue
		}
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			continue
		}
		p, found, s, err := findDescriptor(child, h, depth+1)
		if err != nil || p != nil {
			return p, found, s, err
		}
		seen = append(seen, s...)
	}
	return nil, v1.Descriptor{}, seen, nil
}

// platformImage picks the linux image for this architecture from idx and
// checks its manifest against its digest.
func platformImage(ref string, idx v1.ImageIndex) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("builder image %s: %w", ref, err)
	}
	var have []string
	for _, d := range m.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		if d.Platform == nil || d.Platform.Satisfies(platform) {
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("builder image %s: %w", ref, err)
			}
			if err := checkRaw(ref, d.Digest.String(), img.RawManifest); err != nil {
				return nil, err
			}
			return img, nil
		}
		have = append(have, d.Platform.String())
	}
	return nil, fmt.Errorf("builder image %s: the index has no image for %s (it has %s); pin the digest of an image for this machine", ref, platform.String(), strings.Join(have, ", "))
}

func checkRaw(ref, want string, raw func() ([]byte, error)) error {
	b, err := raw()
	if err != nil {
		return fmt.Errorf("builder image %s: reading manifest: %w", ref, err)
	}
	if got := digest.FromBytes(b).String(); got != want {
		return &DigestMismatchError{URI: ref, Want: want, Got: got}
	}
	return nil
}

// writeLayout writes img into a fresh OCI layout at dir, checking every
// blob against the digest its manifest declares.
func (f *Fetcher) writeLayout(ctx context.Context, ref string, img v1.Image, dir string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("builder image %s: writing layout: %w", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("builder image %s: reading manifest: %w", ref, err)
	}
	var total int64
	for _, l := range m.Layers {
		total += l.Size
	}
	pr := &progressReader{emit: func(Event) {}, ev: Event{URI: ref, Phase: "download", Total: total}}
	if f.cache.Progress != nil {
		pr.emit = f.cache.Progress
	}
	for _, l := range m.Layers {
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return fmt.Errorf("builder image %s: layer %s: %w", ref, l.Digest, err)
		}
		rc, err := layer.Compressed()
		if err != nil {
			return fmt.Errorf("builder image %s: layer %s: %w", ref, l.Digest, err)
		}
		pr.r = readerCtx(ctx, rc)
		vr := newVerifyReader(ref+" layer "+l.Digest.String(), l.Digest.String(), l.Size, pr)
		err = p.WriteBlob(l.Digest, readCloser{vr, rc})
		var dm *DigestMismatchError
		if errors.As(err, &dm) {
			return dm // it names the image and the layer
		}
		if err != nil {
			return fmt.Errorf("builder image %s: layer %s: %w", ref, l.Digest, err)
		}
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("builder image %s: reading config: %w", ref, err)
	}
	if got := digest.FromBytes(cfg).String(); got != m.Config.Digest.String() {
		return &DigestMismatchError{URI: ref + " config", Want: m.Config.Digest.String(), Got: got}
	}
	if err := p.WriteBlob(m.Config.Digest, io.NopCloser(bytes.NewReader(cfg))); err != nil {
		return fmt.Errorf("builder image %s: writing config: %w", ref, err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("builder image %s: reading manifest: %w", ref, err)
	}
	h, err := img.Digest()
	if err != nil {
		return err
	}
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(raw))); err != nil {
		return fmt.Errorf("builder image %s: writing manifest: %w", ref, err)
	}
	mt, err := img.MediaType()
	if err != nil {
		return err
	}
	if err := p.AppendDescriptor(v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: h}); err != nil {
		return fmt.Errorf("builder image %s: writing index.json: %w", ref, err)
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// verifyReader fails at the end of its stream unless the bytes had the
// wanted sha256 and size.
type verifyReader struct {
	uri  string
	want string
	size int64
	r    io.Reader
	h    hash.Hash
	n    int64
}

func newVerifyReader(uri, want string, size int64, r io.Reader) *verifyReader {
	return &verifyReader{uri: uri, want: want, size: size, r: r, h: sha256.New()}
}

func (v *verifyReader) Read(b []byte) (int, error) {
	n, err := v.r.Read(b)
	v.h.Write(b[:n])
	v.n += int64(n)
	if errors.Is(err, io.EOF) {
		if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return n, &DigestMismatchError{URI: v.uri, Want: v.want, Got: got}
		}
		if v.size >= 0 && v.n != v.size {
			return n, fmt.Errorf("%s: %d bytes, the manifest declares %d", v.uri, v.n, v.size)
		}
	}
	return n, err
}
