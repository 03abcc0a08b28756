package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/reprove/reprove/rebuild/tree"
)

// The cache layout under Cache.Root:
//
//	blobs/sha256/<hex>      files, named by the sha256 of their bytes, hashed
//	                        again every time they are used
//	trees/<kind>/<key>/     folders derived from something pinned (unpacked
//	                        archives, git checkouts, module sets, image
//	                        layouts): root/ holds the tree, record.json what it
//	                        was derived from and its content digest, checked
//	                        before every use (package tree)
//	quarantine/             entries whose bytes no longer matched their name
//	                        or record, set aside for a person to look at
//	tmp/                    work in progress; never read as a result, and
//	                        removed by the next run once its owner is gone
//	runs/                   one folder per verify: build log and output
//
// Every entry appears by rename only after it is complete and verified, so a
// crash or a concurrent run never sees a partial entry. Nothing is believed
// because it exists: whoever can write the cache folder can change its
// files, so every blob and tree is checked again when it is used, and a
// mismatch is quarantined and derived again from verified bytes.
//
// Folders are created without any access for others (0700, or 0750 when the
// cache root itself is group-readable, for a team sharing one cache through
// a group), and nothing reprove writes keeps setuid, setgid or
// world-writable bits (tree.SafePerm).

// Cache is the content-addressed store under one root folder.
type Cache struct {
	Root     string
	Progress Progress
	// MaxDownloadSize caps every download and copy into the cache;
	// DefaultMaxDownloadSize when zero.
	MaxDownloadSize int64
	// Key authenticates the records of derived trees; when nil, the key at
	// tree.DefaultKeyPath is used (and created on first use). It is never
	// kept in the cache.
	Key tree.Key
}

var (
	defaultKeyOnce sync.Once
	defaultKey     tree.Key
	defaultKeyErr  error
)

// key returns the cache's record key.
func (c *Cache) key() (tree.Key, error) {
	if c.Key != nil {
		return c.Key, nil
	}
	defaultKeyOnce.Do(func() {
		p, err := tree.DefaultKeyPath()
		if err != nil {
			defaultKeyErr = err
			return
		}
		defaultKey, defaultKeyErr = tree.LoadKey(p)
	})
	return defaultKey, defaultKeyErr
}

// DefaultMaxDownloadSize is the largest file reprove stores (--max-download-size).
const DefaultMaxDownloadSize int64 = 16 << 30

func (c *Cache) maxSize() int64 {
	if c.MaxDownloadSize > 0 {
		return c.MaxDownloadSize
	}
	return DefaultMaxDownloadSize
}

// dirMode is the mode of the folders reprove creates in the cache: owner
// only, or owner and group when the cache root is group-readable.
func (c *Cache) dirMode() fs.FileMode {
	if fi, err := os.Stat(c.Root); err == nil && fi.Mode().Perm()&0o050 == 0o050 {
		return 0o750
	}
	return 0o700
}

// mkdir creates a cache folder (and its parents up to the root) with the
// cache's folder mode.
func (c *Cache) mkdir(p string) error {
	if _, err := os.Stat(c.Root); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(c.Root, 0o700); err != nil {
			return fmt.Errorf("creating cache folder %s: %w (set --cache-dir or REPROVE_CACHE_DIR to a writable folder)", c.Root, err)
		}
	}
	if err := os.MkdirAll(p, c.dirMode()); err != nil {
		return fmt.Errorf("creating cache folder %s: %w (set --cache-dir or REPROVE_CACHE_DIR to a writable folder)", p, err)
	}
	return nil
}

// QuarantineDir is where damaged entries are moved.
func (c *Cache) QuarantineDir() string { return filepath.Join(c.Root, "quarantine") }

// BlobPath is where a blob with digest d lives, whether or not it is there.
func (c *Cache) BlobPath(d digest.Digest) string {
	return filepath.Join(c.Root, "blobs", d.Algorithm().String(), d.Encoded())
}

// Blob is a file in the cache whose bytes were hashed in this run.
type Blob struct {
	Path   string
	Digest digest.Digest
	Size   int64
	// Quarantined is where a damaged copy found under the same name was
	// moved before this one was stored, if one was.
	Quarantined string
}

// Blob returns the cached blob with digest d after hashing its bytes again.
// It returns nil when the blob is not cached. A cached file whose bytes do
// not have digest d is moved to the quarantine and reported as absent, with
// where it went, so that the caller fetches it again.
func (c *Cache) Blob(ctx context.Context, d digest.Digest) (b *Blob, quarantined string, err error) {
	p := c.BlobPath(d)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading cached blob %s: %w", p, err)
	}
	if fi.Mode().IsRegular() {
		got, n, herr := hashPath(ctx, p)
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		if herr == nil && got == d {
			touch(p)
			return &Blob{Path: p, Digest: d, Size: n}, "", nil
		}
	}
	q, err := c.quarantine(p)
	if err != nil {
		return nil, "", err
	}
	return nil, q, nil
}

// touch records a use of a cache entry (its access time), for cache gc's
// least-recently-used rule; the modification time is left alone.
func touch(p string) { os.Chtimes(p, time.Now(), time.Time{}) }

// quarantine moves a damaged blob or tree entry out of the way.
func (c *Cache) quarantine(p string) (string, error) {
	q, err := tree.Quarantine(p, c.QuarantineDir())
	if err != nil {
		return "", fmt.Errorf("cache entry %s is damaged and could not be moved aside (%w); remove it by hand", p, err)
	}
	return q, nil
}

// hashPath hashes the regular file at p without following a link.
func hashPath(ctx context.Context, p string) (digest.Digest, int64, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, readerCtx(ctx, f), make([]byte, 1<<20))
	if err != nil {
		return "", n, err
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), n, nil
}

// PutOptions says what Put stores and what it must check.
type PutOptions struct {
	URI string // names the input in errors and progress events
	// Want is the digest the bytes must have; empty pins them: the blob is
	// stored under the digest of what arrived (trust on first use).
	Want digest.Digest
	// Size is the size a manifest or registry declared; -1 or 0 when
	// unknown. Put stops reading as soon as more arrives.
	Size int64
	// Hashes are fed the same bytes, for schemes that also check another
	// hash (npm's sha512 integrity).
	Hashes []hash.Hash
	// Check runs on the complete temporary file before it is renamed into
	// place (a Go module zip's h1: hash); an error discards it.
	Check func(path string) error
	// Phase names the progress events ("download", "copy"…).
	Phase string
	// Total is the expected size for progress events, -1 unknown.
	Total int64
}

// SizeError says an input was larger than it may be.
type SizeError struct {
	URI   string
	Limit int64
	What  string // "the declared size", "--max-download-size"…
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%s: more than %d bytes arrived, past %s; the input changed or is hostile (raise --max-download-size only if it is really that large)", e.URI, e.Limit, e.What)
}

// Put is the one way into the blob store: it streams r once through sha256
// (and o.Hashes) into a temporary file, stops past the declared size or
// the cache's size cap, and renames the file into place only when its digest
// is o.Want (or, with no Want, under the digest it has). A mismatch returns
// a *DigestMismatchError and leaves nothing behind.
func (c *Cache) Put(ctx context.Context, r io.Reader, o PutOptions) (*Blob, error) {
	if o.Want != "" {
		if err := o.Want.Validate(); err != nil || o.Want.Algorithm() != digest.SHA256 {
			return nil, fmt.Errorf("%s: declared digest %q is not valid; write it as sha256:<64 hex digits>", o.URI, o.Want)
		}
	}
	tmp, err := c.TempDir("blob-")
	if err != nil {
		return nil, err
	}
	defer tmp.Remove()
	f, err := os.OpenFile(filepath.Join(tmp.Path, "data"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	got, n, err := c.copyHashed(ctx, f, r, o)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%s: writing cache: %w", o.URI, cerr)
	}
	if err != nil {
		return nil, err
	}
	if o.Want != "" && got != o.Want {
		return nil, &DigestMismatchError{URI: o.URI, Want: o.Want.String(), Got: got.String()}
	}
	if o.Check != nil {
		if err := o.Check(f.Name()); err != nil {
			return nil, err
		}
	}
	return c.place(f.Name(), got, n, o.URI)
}

// copyHashed copies r to w through the hashes and the size limits.
func (c *Cache) copyHashed(ctx context.Context, w io.Writer, r io.Reader, o PutOptions) (digest.Digest, int64, error) {
	limit, what := c.maxSize(), "--max-download-size"
	if o.Size > 0 && o.Size < limit {
		limit, what = o.Size, "the declared size"
	}
	h := sha256.New()
	ws := []io.Writer{w, h}
	for _, x := range o.Hashes {
		ws = append(ws, x)
	}
	phase, total := o.Phase, o.Total
	if phase == "" {
		phase = "download"
	}
	if total == 0 {
		total = o.Size
	}
	src := c.progressReader(readerCtx(ctx, r), o.URI, phase, total)
	n, err := io.CopyBuffer(io.MultiWriter(ws...), io.LimitReader(src, limit+1), make([]byte, 1<<20))
	if err != nil {
		return "", n, fmt.Errorf("%s: reading: %w", o.URI, err)
	}
	if n > limit {
		return "", n, &SizeError{URI: o.URI, Limit: limit, What: what}
	}
	if o.Size > 0 && n != o.Size {
		return "", n, fmt.Errorf("%s: %d bytes arrived, %d were declared; the input changed or the transfer broke", o.URI, n, o.Size)
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), n, nil
}

// place renames a verified temporary file to the blob path of d. A damaged
// file already there is quarantined first.
func (c *Cache) place(tmp string, d digest.Digest, n int64, uri string) (*Blob, error) {
	dst := c.BlobPath(d)
	if err := c.mkdir(filepath.Dir(dst)); err != nil {
		return nil, err
	}
	// 0644, as a checkout or download would give: builds mount blobs
	// read-only, and a source's mode can end up in what is built.
	if err := os.Chmod(tmp, 0o644); err != nil {
		return nil, err
	}
	b := &Blob{Path: dst, Digest: d, Size: n}
	if fi, err := os.Lstat(dst); err == nil && !fi.Mode().IsRegular() {
		// A folder or link where a blob belongs: rename cannot replace it.
		q, err := c.quarantine(dst)
		if err != nil {
			return nil, err
		}
		b.Quarantined = q
	}
	if err := os.Rename(tmp, dst); err != nil {
		return nil, fmt.Errorf("%s: storing in cache: %w", uri, err)
	}
	return b, nil
}

// TreeEntry is a derived tree in the cache whose content was checked
// against its record in this run.
type TreeEntry struct {
	Root   string       // the tree itself: mount or read this
	Record *tree.Record // what it was derived from, and its digest
	// Quarantined is where a damaged entry found under the same key was
	// moved before this one was derived, if one was.
	Quarantined string
}

// TreePath is the entry folder of the tree of kind and key, whether or not
// it is there. key must be a digest or commit id; it is made safe for a file
// name.
func (c *Cache) TreePath(kind, key string) string {
	key = strings.NewReplacer(":", "-", "/", "_").Replace(key)
	return filepath.Join(c.Root, "trees", kind, key)
}

// Tree returns the cached tree of kind and key after checking its content
// against its record, or nil when it is not cached. A damaged entry is
// quarantined, and nil is returned with where it went.
func (c *Cache) Tree(ctx context.Context, kind, key string) (e *TreeEntry, quarantined string, err error) {
	if !validTreeKey(key) {
		return nil, "", nil
	}
	entry := c.TreePath(kind, key)
	if _, err := os.Lstat(entry); errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil
	}
	mk, err := c.key()
	if err != nil {
		return nil, "", err
	}
	rec, err := tree.Verify(ctx, entry, mk)
	if err == nil && (rec.Kind != kind || rec.Key != key) {
		err = &tree.CorruptError{Entry: entry, Err: fmt.Errorf("its record is for %s %s", rec.Kind, rec.Key)}
	}
	switch {
	case err == nil:
		touch(entry)
		return &TreeEntry{Root: filepath.Join(entry, tree.RootName), Record: rec}, "", nil
	case errors.Is(err, tree.ErrCorrupt):
		q, qerr := c.quarantine(entry)
		return nil, q, qerr
	default:
		return nil, "", err
	}
}

// PutTree returns the tree of kind and key, deriving it when it is not
// cached (or was damaged): fill writes the tree into an empty folder, which
// is then sealed (modes made safe, content digest recorded; see package
// tree) and renamed into place. from says what the tree is derived from, for
// its record. When another run put the same tree first, that one is checked
// and kept: trees are derived from pinned inputs.
func (c *Cache) PutTree(ctx context.Context, kind, key, from string, fill func(dir string) error) (*TreeEntry, error) {
	if !validTreeKey(key) {
		return nil, fmt.Errorf("storing %s tree in cache: key %q is not a digest or commit id", kind, key)
	}
	found, quarantined, err := c.Tree(ctx, kind, key)
	if err != nil || found != nil {
		return found, err
	}
	tmp, err := c.TempDir(kind + "-")
	if err != nil {
		return nil, err
	}
	defer tmp.Remove()
	entry := filepath.Join(tmp.Path, "entry")
	root := filepath.Join(entry, tree.RootName)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	if err := fill(root); err != nil {
		return nil, err
	}
	mk, err := c.key()
	if err != nil {
		return nil, err
	}
	rec, err := tree.Seal(ctx, entry, tree.Record{Kind: kind, Key: key, From: from}, mk)
	if err != nil {
		return nil, err
	}
	dst := c.TreePath(kind, key)
	if err := c.mkdir(filepath.Dir(dst)); err != nil {
		return nil, err
	}
	if err := os.Rename(entry, dst); err != nil {
		// A concurrent run won the race: use its tree, once checked.
		if other, q, terr := c.Tree(ctx, kind, key); terr == nil && other != nil {
			other.Quarantined = quarantined
			return other, nil
		} else if q != "" {
			quarantined = q
		}
		return nil, fmt.Errorf("storing %s tree in cache: %w", kind, err)
	}
	return &TreeEntry{Root: filepath.Join(dst, tree.RootName), Record: rec, Quarantined: quarantined}, nil
}

// validTreeKey refuses keys that would name the kind's folder or its parent.
func validTreeKey(key string) bool {
	return key != "" && key != "." && key != ".."
}
