package fetch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
)

// The cache layout under Cache.Root:
//
//	blobs/sha256/<hex>      verified files, named by the sha256 of their bytes
//	trees/<kind>/<key>      directories derived from something pinned (unpacked
//	                        archives, git checkouts, image rootfs), named by it;
//	                        fetch uses the kinds unpack/<blob digest>,
//	                        git/<commit>, oci/<pinned digest> (an OCI image
//	                        layout) and member/<archive hex>-<name hash>
//	tmp/                    work in progress; never read as a result
//
// Every entry appears by rename only after it is complete and verified, so a
// crash or a concurrent run never sees a partial entry.

// BlobPath is where a blob with digest d lives, whether or not it is there.
func (c *Cache) BlobPath(d digest.Digest) string {
	return filepath.Join(c.Root, "blobs", d.Algorithm().String(), d.Encoded())
}

// Blob returns the path of a cached blob with digest d, if it is cached.
func (c *Cache) Blob(d digest.Digest) (string, bool) {
	p := c.BlobPath(d)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p, true
	}
	return "", false
}

// TempDir makes a fresh folder under the cache's tmp/ (same file system as
// its entries, so a rename into place is atomic). The caller removes it.
func (c *Cache) TempDir(pattern string) (string, error) {
	dir := filepath.Join(c.Root, "tmp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating cache folder %s: %w (set --cache-dir or REPROVE_CACHE_DIR to a writable folder)", dir, err)
	}
	return os.MkdirTemp(dir, pattern)
}

// PutBlob copies r into the cache, hashing as it goes, and keeps it only if
// its sha256 equals want. uri names the input in errors. A mismatch leaves
// nothing behind and returns a *DigestMismatchError.
func (c *Cache) PutBlob(uri string, want digest.Digest, r io.Reader) (string, int64, error) {
	if err := want.Validate(); err != nil {
		return "", 0, fmt.Errorf("%s: declared digest %q: %w", uri, want, err)
	}
	if want.Algorithm() != digest.SHA256 {
		return "", 0, fmt.Errorf("%s: declared digest %q: only sha256 is supported", uri, want)
	}
	p, _, n, err := c.putBlob(uri, want, r)
	return p, n, err
}

// PinBlob copies r into the cache under the sha256 of what it reads, and
// returns that digest: trust on first use, for an artifact named on the
// command line without a digest, whose digest then goes into the report.
// Everything else is fetched with PutBlob, against a declared digest.
func (c *Cache) PinBlob(uri string, r io.Reader) (string, digest.Digest, int64, error) {
	return c.putBlob(uri, "", r)
}

// putBlob stores r as a blob; when want is set, only if its digest is want.
func (c *Cache) putBlob(uri string, want digest.Digest, r io.Reader) (string, digest.Digest, int64, error) {
	tmp, err := c.TempDir("blob-")
	if err != nil {
		return "", "", 0, err
	}
	defer os.RemoveAll(tmp)
	f, err := os.Create(filepath.Join(tmp, "data"))
	if err != nil {
		return "", "", 0, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err != nil {
		f.Close()
		return "", "", n, fmt.Errorf("%s: reading: %w", uri, err)
	}
	if err := f.Close(); err != nil {
		return "", "", n, fmt.Errorf("%s: writing cache: %w", uri, err)
	}
	got := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil)))
	if want != "" && got != want {
		return "", "", n, &DigestMismatchError{URI: uri, Want: want.String(), Got: got.String()}
	}
	dst := c.BlobPath(got)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", "", n, err
	}
	// 0644, as a checkout or download would give: builds mount blobs
	// read-only, and a source's mode can end up in what is built.
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return "", "", n, err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return "", "", n, fmt.Errorf("%s: storing in cache: %w", uri, err)
	}
	return dst, got, n, nil
}

// TreePath is where the tree of kind and key lives, whether or not it is there.
// key must be a digest or commit id; it is made safe for a file name.
func (c *Cache) TreePath(kind, key string) string {
	key = strings.NewReplacer(":", "-", "/", "_").Replace(key)
	return filepath.Join(c.Root, "trees", kind, key)
}

// Tree returns the path of a cached tree, if it is there.
func (c *Cache) Tree(kind, key string) (string, bool) {
	if !validTreeKey(key) {
		return "", false
	}
	p := c.TreePath(kind, key)
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return p, true
	}
	return "", false
}

// PutTree builds a tree with fill into a temporary folder and renames it into
// place. When another run put the same tree first, that one is kept and this
// one discarded: trees are derived from pinned inputs, so both are equal.
func (c *Cache) PutTree(kind, key string, fill func(dir string) error) (string, error) {
	if !validTreeKey(key) {
		return "", fmt.Errorf("storing %s tree in cache: key %q is not a digest or commit id", kind, key)
	}
	if p, ok := c.Tree(kind, key); ok {
		return p, nil
	}
	tmp, err := c.TempDir(kind + "-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "tree")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	if err := fill(dir); err != nil {
		return "", err
	}
	dst := c.TreePath(kind, key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(dir, dst); err != nil {
		if p, ok := c.Tree(kind, key); ok {
			return p, nil // a concurrent run won the race
		}
		return "", fmt.Errorf("storing %s tree in cache: %w", kind, err)
	}
	return dst, nil
}

// validTreeKey refuses keys that would name the kind's folder or its parent.
func validTreeKey(key string) bool {
	return key != "" && key != "." && key != ".."
}
