package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/singleflight"

	"github.com/opencontainers/go-digest"

	"github.com/reprove/reprove/diff/archive"
)

// Fetcher brings declared inputs into a Cache. It is safe for concurrent use,
// and several processes may share one cache folder.
type Fetcher struct {
	cache    Cache // a copy, carrying the progress callback to schemes
	schemes  []Scheme
	rewrites []Rewrite
	client   *http.Client
	progress Progress
	dir      string
	allow    []string // --allow-path folders
	offline  bool
	flight   *singleflight.Group // identical requests in flight share one fetch
	limits   archive.Limits      // for unpacking sources and members (WithLimits)
}

// Option configures a Fetcher.
type Option func(*Fetcher)

// Rewrite replaces the prefix Old of a URI with New before fetching, like
// git's insteadOf (--replace-source OLD=NEW). The declared digest or commit
// is still enforced on what the new location serves.
type Rewrite struct {
	Old string
	New string
}

// WithSchemes adds schemes tried, in order, before the built-in ones.
func WithSchemes(s ...Scheme) Option {
	return func(f *Fetcher) { f.schemes = append(f.schemes, s...) }
}

// WithRewrites sets URI prefix rewrites; the longest matching Old wins.
func WithRewrites(r []Rewrite) Option {
	return func(f *Fetcher) { f.rewrites = append(f.rewrites, r...) }
}

// WithHTTPClient sets the client for https:// and http:// downloads and,
// through its Transport, for registry pulls; NewHTTPClient's by default.
func WithHTTPClient(c *http.Client) Option {
	return func(f *Fetcher) { f.client = c }
}

// WithProgress sets the callback that receives progress events.
func WithProgress(p Progress) Option {
	return func(f *Fetcher) { f.progress = p }
}

// WithDir sets the folder that relative oci-layout: folders, and file: URIs
// of requests without a Dir, are resolved against (the manifest's folder).
func WithDir(dir string) Option {
	return func(f *Fetcher) { f.dir = dir }
}

// WithAllowPaths widens the folders local paths of a manifest may name
// (file:, git+file:, oci-layout:) beyond the manifest's own folder tree
// (--allow-path). Each folder is taken whole, symbolic links resolved inside.
func WithAllowPaths(dirs ...string) Option {
	return func(f *Fetcher) {
		for _, d := range dirs {
			if abs, err := filepath.Abs(d); err == nil {
				f.allow = append(f.allow, abs)
			}
		}
	}
}

// WithOffline forbids every network access and every read of a URI's
// files: inputs come only from the cache, each re-verified (--offline).
func WithOffline() Option {
	return func(f *Fetcher) { f.offline = true }
}

// New returns a Fetcher that stores into c.
func New(c *Cache, opts ...Option) *Fetcher {
	f := &Fetcher{cache: *c, flight: new(singleflight.Group)}
	for _, o := range opts {
		o(f)
	}
	if f.client == nil {
		f.client = defaultClient()
	}
	if f.progress != nil {
		f.cache.Progress = f.progress
	}
	f.progress = f.cache.Progress
	return f
}

// With returns a copy of f with more options applied (e.g. WithAllowPaths
// for the folder of an artifact named on the command line).
func (f *Fetcher) With(opts ...Option) *Fetcher {
	g := *f
	g.schemes = append([]Scheme(nil), f.schemes...)
	g.rewrites = append([]Rewrite(nil), f.rewrites...)
	g.allow = append([]string(nil), f.allow...)
	for _, o := range opts {
		o(&g)
	}
	return &g
}

// Cache returns the cache the fetcher stores into (with its progress callback).
func (f *Fetcher) Cache() *Cache { return &f.cache }

// Offline reports whether the fetcher may only use the cache.
func (f *Fetcher) Offline() bool { return f.offline }

// Rewrite applies the fetcher's URI rewrites to uri.
func (f *Fetcher) Rewrite(uri string) string {
	best := -1
	for i, r := range f.rewrites {
		if r.Old != "" && strings.HasPrefix(uri, r.Old) && (best < 0 || len(r.Old) > len(f.rewrites[best].Old)) {
			best = i
		}
	}
	if best < 0 {
		return uri
	}
	return f.rewrites[best].New + strings.TrimPrefix(uri, f.rewrites[best].Old)
}

// Fetch brings one input into the cache and verifies it in this run: a file
// against its digest (a cached one is hashed again), a git checkout against
// its commit id and its tree record. With req.Unpack the archive is
// extracted into a tree keyed by its digest and Item.Path is that folder.
// A cached input is used without network access unless req.Fresh.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (*Item, error) {
	declared := req.URI
	req.URI = f.Rewrite(req.URI)
	if req.Dir == "" {
		req.Dir = f.dir
	}
	req = f.confine(req, declared)
	// Concurrent verifications over one cache (reprove batch) that need the
	// same input wait for one fetch of it.
	key := fmt.Sprintf("%q %q %q %v %v %v %q %v", req.URI, req.Digest, req.Rev, req.Unpack, req.Fresh, req.Offline, req.Roots, req.Unconfined)
	v, err, _ := f.flight.Do(key, func() (any, error) { return f.fetch(ctx, req, declared) })
	if err != nil {
		return nil, err
	}
	it := *v.(*Item)
	it.Quarantined = append([]string(nil), it.Quarantined...)
	return &it, nil
}

func (f *Fetcher) fetch(ctx context.Context, req Request, declared string) (*Item, error) {
	s, err := f.scheme(req.URI)
	if err != nil {
		return nil, err
	}
	it, err := s.Fetch(ctx, &f.cache, req)
	if err != nil {
		if req.URI != declared {
			return nil, fmt.Errorf("%w (rewritten from %s)", err, declared)
		}
		return nil, err
	}
	if req.Unpack {
		if fi, err := os.Stat(it.Path); err == nil && fi.Mode().IsRegular() {
			if _, err := digest.Parse(it.Digest); err != nil {
				return nil, fmt.Errorf("%s: the fetched file has no valid digest (%q) to key its unpacked tree by; this is a bug in the URI's scheme", req.URI, it.Digest)
			}
			if err := f.unpackBlob(ctx, req.URI, it); err != nil {
				return nil, err
			}
		}
	}
	return it, nil
}

// confine sets what local paths req may name: the manifest's folder and the
// --allow-path folders, or anything for a URI the user rewrote.
func (f *Fetcher) confine(req Request, declared string) Request {
	req.Offline = req.Offline || f.offline
	req.Roots = nil
	if req.Dir != "" {
		if abs, err := filepath.Abs(req.Dir); err == nil {
			req.Roots = append(req.Roots, abs)
		}
	}
	req.Roots = append(req.Roots, f.allow...)
	req.Unconfined = req.URI != declared
	return req
}

func (f *Fetcher) scheme(uri string) (Scheme, error) {
	for _, s := range f.schemes {
		if s.Handles(uri) {
			return s, nil
		}
	}
	for _, s := range []Scheme{gitScheme{}, fileScheme{}, httpScheme{client: f.client}} {
		if s.Handles(uri) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%s: unsupported URI scheme; use file:, https://, git+https:// or git+file: (with rev), oci:// or oci-layout: for images, or a scheme such as gomod: or npm: when it is installed", uri)
}

// unpackBlob extracts a fetched archive into trees/unpack/<digest>, or
// finds it there once its content matches its record. The archive's bytes
// were hashed by the scheme in this run.
func (f *Fetcher) unpackBlob(ctx context.Context, uri string, it *Item) error {
	f.cache.progress(Event{URI: uri, Phase: "unpack", Done: 0, Total: -1})
	e, err := f.cache.PutTree(ctx, "unpack", it.Digest, "blob "+it.Digest, func(dir string) error {
		return UnpackWith(ctx, it.Path, dir, UnpackOptions{Limits: f.limits})
	})
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", uri, err)
	}
	it.Path, it.TreeDigest = e.Root, e.Record.Digest
	it.quarantined(e.Quarantined)
	return nil
}

// parseDigest checks a declared digest; an empty one is ErrUnpinned.
func parseDigest(uri, d string) (digest.Digest, error) {
	if d == "" {
		return "", fmt.Errorf("%s: %w: no digest declared; add digest: sha256:<hex> (sha256sum of the file)", uri, ErrUnpinned)
	}
	dg, err := digest.Parse(d)
	if err != nil {
		return "", fmt.Errorf("%s: declared digest %q is not valid (%v); write it as sha256:<64 hex digits>", uri, d, err)
	}
	if dg.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("%s: declared digest %q: only sha256 is supported; write it as sha256:<64 hex digits>", uri, d)
	}
	return dg, nil
}

// DefaultCacheDir is $REPROVE_CACHE_DIR, else $XDG_CACHE_HOME/reprove, else
// ~/.cache/reprove.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("REPROVE_CACHE_DIR"); d != "" {
		return filepath.Abs(d)
	}
	// The XDG spec says a relative path is invalid and to be ignored.
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "reprove"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("no cache folder: HOME is not set; set REPROVE_CACHE_DIR or pass --cache-dir")
	}
	return filepath.Join(home, ".cache", "reprove"), nil
}
