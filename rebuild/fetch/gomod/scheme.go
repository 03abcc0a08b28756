package gomod

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"

	"github.com/reprove/reprove/rebuild/fetch"
)

// Option configures a Scheme or a Resolver.
type Option func(*config)

type config struct {
	proxy  string
	client *http.Client
}

// WithProxy sets the GOPROXY list to download through (same syntax as the
// GOPROXY variable; "direct" entries are skipped, file:// folders work).
// Without it, DefaultProxy is asked at the first download.
func WithProxy(list string) Option { return func(c *config) { c.proxy = list } }

// WithHTTPClient sets the client for http(s) proxies.
func WithHTTPClient(cl *http.Client) Option { return func(c *config) { c.client = cl } }

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return c
}

func (c config) openProxy(ctx context.Context) (*proxy, error) {
	list := c.proxy
	if list == "" {
		var err error
		if list, err = DefaultProxy(ctx); err != nil {
			return nil, err
		}
	}
	return newProxy(list, c.client)
}

// Scheme is the fetch.Scheme for gomod: URIs.
type Scheme struct{ cfg config }

// NewScheme returns the gomod: scheme.
func NewScheme(opts ...Option) *Scheme { return &Scheme{cfg: newConfig(opts)} }

var _ fetch.Scheme = (*Scheme)(nil)

// Handles reports whether uri is a gomod: URI.
func (s *Scheme) Handles(uri string) bool { return strings.HasPrefix(uri, Prefix) }

// Fetch downloads the module zip (unless cached, or with req.Fresh), keeps
// it only if its sha256 is req.Digest and, when the URI carries ?sum=, its
// h1: hash matches, and with req.Unpack extracts it without its
// MODULE@VERSION/ prefix. A cached zip is hashed again before use. A
// toolchain zip (golang.org/toolchain) is finished the way the go command
// finishes it: bin/, pkg/tool/ and lib/…/go_*_*_exec made executable, and
// every _go.mod copied to go.mod. Item.Path is the zip, or the folder when
// unpacked.
func (s *Scheme) Fetch(ctx context.Context, c *fetch.Cache, req fetch.Request) (*fetch.Item, error) {
	ref, err := ParseURI(req.URI)
	if err != nil {
		return nil, err
	}
	want, err := parseDigest(req.URI, req.Digest)
	if err != nil {
		return nil, err
	}
	it := &fetch.Item{URI: req.URI, Digest: want.String(), Source: fetch.SourceCache}
	b, err := s.cached(ctx, c, req, ref, want, it)
	if err != nil {
		return nil, err
	}
	if b == nil {
		if req.Offline {
			return nil, fetch.NewOfflineError(req.URI, it.Quarantined...)
		}
		if b, err = s.download(ctx, c, req.URI, ref, fetch.PutOptions{URI: req.URI, Want: want, Size: req.Size}); err != nil {
			return nil, err
		}
		it.Source = fetch.SourceNetwork
		addQuarantined(it, b.Quarantined)
	}
	it.Path, it.Size = b.Path, b.Size
	if req.Unpack {
		if err := unpack(ctx, c, ref, it); err != nil {
			return nil, err
		}
	}
	return it, nil
}

// cached returns the zip from the cache, hashed again, or nil.
func (s *Scheme) cached(ctx context.Context, c *fetch.Cache, req fetch.Request, ref Ref, want digest.Digest, it *fetch.Item) (*fetch.Blob, error) {
	if req.Fresh {
		return nil, nil
	}
	b, q, err := c.Blob(ctx, want)
	addQuarantined(it, q)
	if err != nil || b == nil {
		return nil, err
	}
	if ref.Sum != "" {
		if err := checkZipSum(req.URI, b.Path, ref.Sum); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func addQuarantined(it *fetch.Item, q string) {
	if q != "" {
		it.Quarantined = append(it.Quarantined, q)
	}
}

// download streams the zip from the proxy into the cache through
// Cache.Put, checking the h1: hash when ref carries one. o.Want may be
// empty (Pin).
func (s *Scheme) download(ctx context.Context, c *fetch.Cache, uri string, ref Ref, o fetch.PutOptions) (*fetch.Blob, error) {
	p, err := s.cfg.openProxy(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", uri, err)
	}
	rc, size, err := p.open(ctx, ref.Module, "zip")
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", uri, err)
	}
	defer rc.Close()
	o.Total = size
	check := o.Check
	o.Check = func(path string) error {
		if ref.Sum != "" {
			if err := checkZipSum(uri, path, ref.Sum); err != nil {
				return err
			}
		}
		if check != nil {
			return check(path)
		}
		return nil
	}
	return c.Put(ctx, rc, o)
}

// Pinned is a module zip fetched without a declared digest, so that a
// manifest can declare the digests it was found to have.
type Pinned struct {
	Ref    Ref    // with Sum set to the zip's h1: hash
	Digest string // sha256:… of the zip
	Path   string // the zip in the cache
	Size   int64
}

// Pin downloads the zip that uri names, trusting the proxy (as the go command
// does for a module not yet in go.sum, minus the checksum database), and
// returns its sha256 and h1: hash. When uri carries ?sum=, the zip must match
// it. Use it to write a manifest; Fetch then enforces what Pin found.
func (s *Scheme) Pin(ctx context.Context, c *fetch.Cache, uri string) (*Pinned, error) {
	ref, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	var sum string
	b, err := s.download(ctx, c, uri, ref, fetch.PutOptions{URI: uri, Check: func(path string) error {
		var err error
		if sum, err = dirhash.HashZip(path, dirhash.Hash1); err != nil {
			return fmt.Errorf("pinning %s: hashing the module zip: %w", uri, err)
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	ref.Sum = sum
	return &Pinned{Ref: ref, Digest: b.Digest.String(), Path: b.Path, Size: b.Size}, nil
}

func checkZipSum(uri, path, want string) error {
	got, err := dirhash.HashZip(path, dirhash.Hash1)
	if err != nil {
		return fmt.Errorf("%s: hashing the module zip: %w", uri, err)
	}
	if got != want {
		return &fetch.DigestMismatchError{URI: uri, Want: want, Got: got}
	}
	return nil
}

// unpack extracts a module zip into trees/gomod/<digest>, checking every
// restriction of module zips (paths, sizes, case collisions) on the way, or
// finds it there once its content matches its record.
func unpack(ctx context.Context, c *fetch.Cache, ref Ref, it *fetch.Item) error {
	if c.Progress != nil {
		c.Progress(fetch.Event{URI: ref.String(), Phase: "unpack", Total: -1})
	}
	e, err := c.PutTree(ctx, "gomod", it.Digest, "module zip "+it.Digest+" of "+ref.String(), func(dir string) error {
		if err := modzip.Unzip(dir, ref.Module, it.Path); err != nil {
			return err
		}
		if ref.IsToolchain() {
			return finishToolchain(dir)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", ref, err)
	}
	it.Path, it.TreeDigest = e.Root, e.Record.Digest
	addQuarantined(it, e.Quarantined)
	return nil
}

// finishToolchain does what cmd/go/internal/toolchain does after unzipping a
// toolchain: module zips hold no modes and no nested go.mod files, so it
// sets the execute bits of the programs and restores the go.mod files that
// the zip carries as _go.mod.
func finishToolchain(dir string) error {
	allowExec := func(sub, pattern string) error {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			if pattern != "" {
				if ok, _ := filepath.Match(pattern, d.Name()); !ok {
					return nil
				}
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			return os.Chmod(p, fi.Mode()&0o777|0o111)
		})
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	for _, s := range []struct{ sub, pattern string }{{"pkg/tool", ""}, {"lib", "go_?*_?*_exec"}, {"bin", ""}} {
		if err := allowExec(s.sub, s.pattern); err != nil {
			return fmt.Errorf("making toolchain programs executable: %w", err)
		}
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "_go.mod" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(filepath.Dir(p), "go.mod")
		if _, err := os.Lstat(dst); err == nil {
			return nil // the zip carries both; keep its go.mod
		}
		return os.WriteFile(dst, b, 0o444)
	})
}

func parseDigest(uri, d string) (digest.Digest, error) {
	if d == "" {
		return "", fmt.Errorf("%s: %w: no digest declared; add digest: sha256:<hex> (sha256sum of the module zip)", uri, fetch.ErrUnpinned)
	}
	dg, err := digest.Parse(d)
	if err != nil || dg.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("%s: declared digest %q is not valid; write it as sha256:<64 hex digits>", uri, d)
	}
	return dg, nil
}
