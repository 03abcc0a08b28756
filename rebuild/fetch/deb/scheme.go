package deb

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/fetch"
)

// Prefix is the URI scheme of a binary package in the archives:
// deb:NAME=VERSION, with ?arch=ARCH (default: this machine's) and
// ?suite=SUITE (default: this machine's release).
const Prefix = "deb:"

// URIRef is a parsed deb: URI.
type URIRef struct {
	Name, Version, Arch, Suite string
}

var nameVersionRe = regexp.MustCompile(`^([a-z0-9][a-z0-9+.-]+)=([A-Za-z0-9.+~:-]+)$`)

// ParseURI reads deb:NAME=VERSION[?arch=ARCH&suite=SUITE]; empty arch and
// suite take defArch and defSuite.
func ParseURI(uri, defArch, defSuite string) (URIRef, error) {
	rest, ok := strings.CutPrefix(uri, Prefix)
	if !ok {
		return URIRef{}, fmt.Errorf("%s is not a deb: URI", uri)
	}
	nv, query, _ := strings.Cut(rest, "?")
	m := nameVersionRe.FindStringSubmatch(nv)
	if m == nil {
		return URIRef{}, fmt.Errorf("%s: write deb:NAME=VERSION, e.g. deb:hello=2.10-3 (optionally ?arch=amd64)", uri)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return URIRef{}, fmt.Errorf("%s: %w", uri, err)
	}
	r := URIRef{Name: m[1], Version: m[2], Arch: q.Get("arch"), Suite: q.Get("suite")}
	for k := range q {
		if k != "arch" && k != "suite" {
			return URIRef{}, fmt.Errorf("%s: unknown parameter %q (arch and suite are known)", uri, k)
		}
	}
	if r.Arch == "" {
		r.Arch = defArch
	}
	if r.Suite == "" {
		r.Suite = defSuite
	}
	return r, nil
}

// SchemeConfig makes the archives a deb: URI is looked up in.
type SchemeConfig struct {
	// Archive is the set of archives of suite and arch (the apt sources',
	// or --mirror's), storing into c.
	Archive func(suite, arch string, c *fetch.Cache) (*Archive, error)
	Arch    string // the default architecture
	Suite   string // the default suite
	Client  *http.Client
	Limits  archive.Limits
}

// Scheme fetches deb: URIs: the package is looked up in the archives'
// verified Packages indices, which pin its sha256, and fetched by it.
type Scheme struct{ cfg SchemeConfig }

// NewScheme returns the deb: scheme.
func NewScheme(cfg SchemeConfig) *Scheme { return &Scheme{cfg: cfg} }

// Handles reports deb: URIs.
func (s *Scheme) Handles(uri string) bool { return strings.HasPrefix(uri, Prefix) }

// locate finds the package uri names in the verified indices.
func (s *Scheme) locate(ctx context.Context, c *fetch.Cache, uri string) (*Archive, *Package, error) {
	ref, err := ParseURI(uri, s.cfg.Arch, s.cfg.Suite)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.cfg.Archive(ref.Suite, ref.Arch, c)
	if err != nil {
		return nil, nil, err
	}
	idx, err := a.Index(ctx)
	if err != nil {
		return nil, nil, err
	}
	p := idx.Find(ref.Name, ref.Version)
	if p == nil || (p.Architecture != ref.Arch && p.Architecture != "all") {
		return nil, nil, fmt.Errorf("%s: %w: no %s %s for %s in %s (it has %s); an older version needs --debian-snapshot",
			uri, ErrUnresolved, ref.Name, ref.Version, ref.Arch, idx.describe(), versionList(idx.Versions(ref.Name)))
	}
	return a, p, nil
}

// Pin is the sha256 the archive's signed index gives the package.
func (s *Scheme) Pin(ctx context.Context, c *fetch.Cache, uri string) (string, error) {
	_, p, err := s.locate(ctx, c, uri)
	if err != nil {
		return "", err
	}
	return p.Digest().String(), nil
}

// Fetch brings the package into the cache, checked against req.Digest.
func (s *Scheme) Fetch(ctx context.Context, c *fetch.Cache, req fetch.Request) (*fetch.Item, error) {
	want, err := digest.Parse(req.Digest)
	if err != nil {
		return nil, fmt.Errorf("%s: declared digest %q: %w", req.URI, req.Digest, err)
	}
	it := &fetch.Item{URI: req.URI, Digest: want.String(), Source: fetch.SourceCache}
	if !req.Fresh {
		if b, q, err := c.Blob(ctx, want); err != nil {
			return nil, err
		} else if b != nil {
			it.Path, it.Size = b.Path, b.Size
			return it, nil
		} else if q != "" {
			it.Quarantined = append(it.Quarantined, q)
		}
	}
	if req.Offline {
		return nil, fetch.NewOfflineError(req.URI, it.Quarantined...)
	}
	_, p, err := s.locate(ctx, c, req.URI)
	if err != nil {
		return nil, err
	}
	if p.Digest() != want {
		return nil, &fetch.DigestMismatchError{URI: req.URI, Want: want.String(), Got: p.Digest().String()}
	}
	b, err := c.Download(ctx, s.cfg.Client, p.URL(), fetch.PutOptions{URI: req.URI, Want: want, Size: p.Size})
	if err != nil {
		return nil, err
	}
	it.Path, it.Size, it.Source = b.Path, b.Size, fetch.SourceNetwork
	return it, nil
}
