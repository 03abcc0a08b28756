// Package npm fetches package tarballs from an npm registry: the npm: URI
// scheme.
//
//	npm:NAME@VERSION
//	npm:@SCOPE/NAME@VERSION
//	npm:NAME@VERSION?integrity=sha512-BASE64
//
// The registry's packument names the tarball (dist.tarball) and its
// Subresource Integrity hash (dist.integrity, sha512). Fetch checks the
// tarball against both that integrity and the declared sha256 digest, and
// stores it by sha256. ?integrity= pins the registry's hash in the URI too:
// the registry must then agree with it. Unpacking drops the tarball's single
// top folder ("package/"), as npm does when it installs.
package npm

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/reprove/reprove/rebuild/fetch"
)

// Prefix is the URI scheme this package handles.
const Prefix = "npm:"

// Ref is a parsed npm: URI.
type Ref struct {
	Name      string // "left-pad" or "@scope/name"
	Version   string // exact version, e.g. "1.3.0"
	Integrity string // "sha512-…", empty when the URI does not pin it
}

var (
	nameRe    = regexp.MustCompile(`^(@[A-Za-z0-9~-][A-Za-z0-9._~-]*/)?[A-Za-z0-9~-][A-Za-z0-9._~-]*$`)
	versionRe = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$`)
)

// ParseURI parses npm:NAME@VERSION[?integrity=sha512-…].
func ParseURI(uri string) (Ref, error) {
	rest, ok := strings.CutPrefix(uri, Prefix)
	if !ok {
		return Ref{}, fmt.Errorf("%s: not an npm: URI; write npm:NAME@VERSION", uri)
	}
	rest, query, _ := strings.Cut(rest, "?")
	at := strings.LastIndex(rest, "@")
	if at <= 0 {
		return Ref{}, fmt.Errorf("%s: want npm:NAME@VERSION with an exact version, e.g. npm:left-pad@1.3.0", uri)
	}
	r := Ref{Name: rest[:at], Version: rest[at+1:]}
	if len(r.Name) > 214 || !nameRe.MatchString(r.Name) {
		return Ref{}, fmt.Errorf("%s: %q is not a valid npm package name", uri, r.Name)
	}
	if !versionRe.MatchString(r.Version) {
		return Ref{}, fmt.Errorf("%s: %q is not an exact version; ranges and tags can move, write the version, e.g. 1.3.0", uri, r.Version)
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k != "integrity" {
				return Ref{}, fmt.Errorf("%s: unknown parameter %q; only ?integrity=sha512-… is understood", uri, k)
			}
			if _, err := sha512Of(v); err != nil {
				return Ref{}, fmt.Errorf("%s: %w", uri, err)
			}
			r.Integrity = v
		}
	}
	return r, nil
}

// String is the URI form of r.
func (r Ref) String() string {
	s := Prefix + r.Name + "@" + r.Version
	if r.Integrity != "" {
		s += "?integrity=" + r.Integrity
	}
	return s
}

// sha512Of returns the sha512 digest an SRI string declares (the first
// sha512 entry; other algorithms are ignored, as npm prefers the strongest).
func sha512Of(sri string) ([]byte, error) {
	for _, f := range strings.Fields(sri) {
		b64, ok := strings.CutPrefix(f, "sha512-")
		if !ok {
			continue
		}
		if i := strings.IndexByte(b64, '?'); i >= 0 {
			b64 = b64[:i] // SRI options
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(b) != sha512.Size {
			return nil, fmt.Errorf("integrity %q: the sha512 value is not 64 bytes of base64", sri)
		}
		return b, nil
	}
	return nil, fmt.Errorf("integrity %q has no sha512- hash; reprove needs the registry's sha512 integrity", sri)
}

// DefaultRegistry returns the registry npm on this machine uses:
// $npm_config_registry when set, else `npm config get registry`.
func DefaultRegistry(ctx context.Context) (string, error) {
	if r := os.Getenv("npm_config_registry"); r != "" {
		return r, nil
	}
	out, err := exec.CommandContext(ctx, "npm", "config", "get", "registry").Output()
	if err != nil {
		return "", fmt.Errorf("reading the npm registry with `npm config get registry`: %w; install npm or pass the registry URL", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Option configures a Scheme.
type Option func(*Scheme)

// WithRegistry sets the registry URL; without it DefaultRegistry is asked.
func WithRegistry(u string) Option { return func(s *Scheme) { s.registry = u } }

// WithHTTPClient sets the HTTP client.
func WithHTTPClient(c *http.Client) Option { return func(s *Scheme) { s.client = c } }

// Scheme is the fetch.Scheme for npm: URIs.
type Scheme struct {
	registry string
	client   *http.Client
}

// NewScheme returns the npm: scheme.
func NewScheme(opts ...Option) *Scheme {
	s := &Scheme{client: fetch.DefaultHTTPClient()}
	for _, o := range opts {
		o(s)
	}
	return s
}

var _ fetch.Scheme = (*Scheme)(nil)

// Handles reports whether uri is an npm: URI.
func (s *Scheme) Handles(uri string) bool { return strings.HasPrefix(uri, Prefix) }

// Fetch brings the tarball into the cache, checked against the declared
// sha256 and the registry's sha512 integrity. A cached tarball is hashed
// again and used without network access (unless req.Fresh); ?integrity= is
// then checked locally. With req.Unpack, Item.Path is the folder with the
// top folder removed.
func (s *Scheme) Fetch(ctx context.Context, c *fetch.Cache, req fetch.Request) (*fetch.Item, error) {
	ref, err := ParseURI(req.URI)
	if err != nil {
		return nil, err
	}
	if req.Digest == "" {
		return nil, fmt.Errorf("%s: %w: no digest declared; add digest: sha256:<hex> (sha256sum of the tarball)", req.URI, fetch.ErrUnpinned)
	}
	want, err := digest.Parse(req.Digest)
	if err != nil || want.Algorithm() != digest.SHA256 {
		return nil, fmt.Errorf("%s: declared digest %q is not valid; write it as sha256:<64 hex digits>", req.URI, req.Digest)
	}
	it := &fetch.Item{URI: req.URI, Digest: want.String(), Source: fetch.SourceCache}
	var b *fetch.Blob
	if !req.Fresh {
		var q string
		if b, q, err = c.Blob(ctx, want); err != nil {
			return nil, err
		}
		addQuarantined(it, q)
	}
	if b != nil && ref.Integrity != "" {
		if err := checkFile(req.URI, b.Path, ref.Integrity); err != nil {
			return nil, err
		}
	}
	if b == nil {
		if req.Offline {
			return nil, fetch.NewOfflineError(req.URI, it.Quarantined...)
		}
		p, err := s.download(ctx, c, ref, req.URI, want, req.Size)
		if err != nil {
			return nil, err
		}
		b = &fetch.Blob{Path: p.Path, Size: p.Size}
		it.Source = fetch.SourceNetwork
		addQuarantined(it, p.quarantined)
	}
	it.Path, it.Size = b.Path, b.Size
	if req.Unpack {
		if err := unpack(ctx, c, req.URI, it); err != nil {
			return nil, err
		}
	}
	return it, nil
}

func addQuarantined(it *fetch.Item, q string) {
	if q != "" {
		it.Quarantined = append(it.Quarantined, q)
	}
}

// Pinned is a tarball fetched without a declared digest.
type Pinned struct {
	Ref    Ref    // with Integrity set to the registry's
	Digest string // sha256:… of the tarball
	Path   string
	Size   int64

	quarantined string
}

// Pin fetches the tarball uri names, checked against the registry's
// integrity, and returns its digests, for writing a manifest.
func (s *Scheme) Pin(ctx context.Context, c *fetch.Cache, uri string) (*Pinned, error) {
	ref, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	return s.download(ctx, c, ref, uri, "", 0)
}

// dist is the part of a packument version that says where the tarball is.
type dist struct {
	Tarball   string `json:"tarball"`
	Integrity string `json:"integrity"`
}

// ParsePackument finds version's dist in a packument (full or abbreviated).
func ParsePackument(data []byte, name, version string) (tarball, integrity string, err error) {
	var p struct {
		Name     string `json:"name"`
		Versions map[string]struct {
			Dist dist `json:"dist"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return "", "", fmt.Errorf("reading the registry's document for %s: %w", name, err)
	}
	if p.Name != "" && p.Name != name {
		return "", "", fmt.Errorf("the registry answered for package %q, not %q", p.Name, name)
	}
	v, ok := p.Versions[version]
	if !ok {
		return "", "", fmt.Errorf("%s has no version %s in the registry; check the version (npm view %s versions)", name, version, name)
	}
	if v.Dist.Tarball == "" {
		return "", "", fmt.Errorf("%s@%s: the registry gives no dist.tarball", name, version)
	}
	if v.Dist.Integrity == "" {
		return "", "", fmt.Errorf("%s@%s: the registry gives no dist.integrity (only packages published before 2017 lack it); pin it with an https:// source and a sha256 digest instead", name, version)
	}
	if _, err := sha512Of(v.Dist.Integrity); err != nil {
		return "", "", fmt.Errorf("%s@%s: %w", name, version, err)
	}
	u, err := url.Parse(v.Dist.Tarball)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", fmt.Errorf("%s@%s: dist.tarball %q is not an http(s) URL", name, version, v.Dist.Tarball)
	}
	return v.Dist.Tarball, v.Dist.Integrity, nil
}

// download finds the tarball through the registry and streams it into the
// cache through Cache.Put, checked against the registry's sha512 integrity
// and, when want is set, against that sha256.
func (s *Scheme) download(ctx context.Context, c *fetch.Cache, ref Ref, uri string, want digest.Digest, size int64) (*Pinned, error) {
	reg := s.registry
	if reg == "" {
		var err error
		if reg, err = DefaultRegistry(ctx); err != nil {
			return nil, fmt.Errorf("fetching %s: %w", uri, err)
		}
	}
	docURL := strings.TrimSuffix(reg, "/") + "/" + strings.Replace(ref.Name, "/", "%2f", 1)
	body, err := s.get(ctx, docURL, "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8")
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", uri, err)
	}
	doc, err := io.ReadAll(io.LimitReader(body, 256<<20))
	body.Close()
	if err != nil {
		return nil, fmt.Errorf("fetching %s: reading %s: %w", uri, docURL, err)
	}
	tarball, integrity, err := ParsePackument(doc, ref.Name, ref.Version)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", uri, err)
	}
	if ref.Integrity != "" {
		a, _ := sha512Of(ref.Integrity)
		b, _ := sha512Of(integrity)
		if string(a) != string(b) {
			return nil, &fetch.DigestMismatchError{URI: uri, Want: ref.Integrity, Got: integrity + " (from the registry)"}
		}
	}
	tb, err := s.get(ctx, tarball, "")
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", uri, err)
	}
	defer tb.Close()
	h512 := sha512.New()
	wantSHA512, _ := sha512Of(integrity)
	b, err := c.Put(ctx, tb, fetch.PutOptions{URI: uri, Want: want, Size: size, Hashes: []hash.Hash{h512},
		Check: func(string) error {
			if got := h512.Sum(nil); string(got) != string(wantSHA512) {
				return &fetch.DigestMismatchError{URI: uri, Want: integrity, Got: "sha512-" + base64.StdEncoding.EncodeToString(got)}
			}
			return nil
		}})
	if err != nil {
		return nil, err
	}
	ref.Integrity = integrity
	return &Pinned{Ref: ref, Digest: b.Digest.String(), Path: b.Path, Size: b.Size, quarantined: b.Quarantined}, nil
}

func (s *Scheme) get(ctx context.Context, u, accept string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return resp.Body, nil
}

func checkFile(uri, path, integrity string) error {
	want, err := sha512Of(integrity)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if string(h.Sum(nil)) != string(want) {
		return &fetch.DigestMismatchError{URI: uri, Want: integrity, Got: "sha512-" + base64.StdEncoding.EncodeToString(h.Sum(nil))}
	}
	return nil
}

// unpack extracts the tarball with fetch.Unpack (which refuses unsafe
// entries) and keeps what is inside its single top folder.
func unpack(ctx context.Context, c *fetch.Cache, uri string, it *fetch.Item) error {
	e, err := c.PutTree(ctx, "npm", it.Digest, "npm tarball "+it.Digest+" of "+uri, func(dir string) error {
		raw, err := c.TempDir("npm-raw-")
		if err != nil {
			return err
		}
		defer raw.Remove()
		x := filepath.Join(raw.Path, "x")
		if err := fetch.Unpack(ctx, it.Path, x); err != nil {
			return err
		}
		return keepTopFolder(x, dir)
	})
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", uri, err)
	}
	it.Path, it.TreeDigest = e.Root, e.Record.Digest
	addQuarantined(it, e.Quarantined)
	return nil
}

// keepTopFolder moves what is inside raw's one top folder into dir.
func keepTopFolder(raw, dir string) error {
	entries, err := os.ReadDir(raw)
	if err != nil {
		return err
	}
	top := entries
	if len(top) != 1 || !top[0].IsDir() {
		return errors.New("an npm tarball holds one top folder (package/); this one does not")
	}
	inner, err := os.ReadDir(filepath.Join(raw, top[0].Name()))
	if err != nil {
		return err
	}
	for _, e := range inner {
		if err := os.Rename(filepath.Join(raw, top[0].Name(), e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
