package deb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/fetch"
)

// Archive reads packages from a set of Debian archives for one
// architecture.
type Archive struct {
	Sources []Source // searched in order; see SuiteSources
	Arch    string   // amd64, arm64…
	Cache   *fetch.Cache
	Client  *http.Client // nil: fetch.DefaultHTTPClient
	// Keyring overrides every source's Signed-By (a file or armored keys).
	Keyring string
	// DebDirs are folders of .deb files to take a package from (matched by
	// sha256) before the network, like apt's archive cache.
	DebDirs []string
	// Offline forbids the network: only the cache and DebDirs are used.
	Offline bool
	Limits  archive.Limits
	Now     func() time.Time

	mu       sync.Mutex
	keyrings map[string]*Keyring
	debDirs  map[string]string // sha256 hex → path, once DebDirs were listed
}

func (a *Archive) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Archive) client() *http.Client {
	if a.Client != nil {
		return a.Client
	}
	return fetch.DefaultHTTPClient()
}

func (a *Archive) keyring(src Source) (*Keyring, error) {
	signedBy := src.SignedBy
	if a.Keyring != "" {
		signedBy = a.Keyring
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if kr, ok := a.keyrings[signedBy]; ok {
		return kr, nil
	}
	kr, err := LoadKeyring(signedBy)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", src, err)
	}
	if a.keyrings == nil {
		a.keyrings = map[string]*Keyring{}
	}
	a.keyrings[signedBy] = kr
	return kr, nil
}

// ErrOffline is wrapped when an index or package is needed from the
// network under Offline.
var ErrOffline = errors.New("not in the cache, and offline")

// Index reads the verified Packages indices of every source and returns
// them as one index. Release files are fetched again every time; the
// indices they name come from the cache when it holds them.
func (a *Archive) Index(ctx context.Context) (*Index, error) {
	if a.Offline {
		return nil, fmt.Errorf("resolving packages needs the archives' release files: %w", ErrOffline)
	}
	if len(a.Sources) == 0 {
		return nil, errors.New("no Debian archive to read packages from")
	}
	idx := &Index{}
	for _, src := range a.Sources {
		rel, err := a.fetchRelease(ctx, src)
		if err != nil {
			return nil, err
		}
		idx.Releases = append(idx.Releases, rel)
		for _, comp := range src.Components {
			if err := a.loadPackages(ctx, idx, rel, comp); err != nil {
				return nil, err
			}
		}
	}
	idx.sort()
	return idx, nil
}

// blob returns the cached file with digest want, or downloads it from url.
func (a *Archive) blob(ctx context.Context, url string, want digest.Digest, size int64) (*fetch.Blob, error) {
	b, _, err := a.Cache.Blob(ctx, want)
	if err != nil || b != nil {
		return b, err
	}
	if b, err := a.fromDebDirs(ctx, want, size); err != nil || b != nil {
		return b, err
	}
	if a.Offline {
		return nil, fmt.Errorf("%s (%s): %w", url, want, ErrOffline)
	}
	return a.Cache.Download(ctx, a.client(), url, fetch.PutOptions{Want: want, Size: size})
}

// fromDebDirs copies the .deb with digest want from a DebDirs folder into
// the cache (through Put, which checks the digest), or returns nil.
func (a *Archive) fromDebDirs(ctx context.Context, want digest.Digest, size int64) (*fetch.Blob, error) {
	if len(a.DebDirs) == 0 {
		return nil, nil
	}
	a.mu.Lock()
	if a.debDirs == nil {
		a.debDirs = listDebDirs(ctx, a.DebDirs)
	}
	p := a.debDirs[want.Encoded()]
	a.mu.Unlock()
	if p == "" {
		return nil, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	b, err := a.Cache.Put(ctx, f, fetch.PutOptions{URI: "file://" + p, Want: want, Size: size, Phase: "copy"})
	var dm *fetch.DigestMismatchError
	if errors.As(err, &dm) {
		return nil, nil // changed since it was listed: fetch it instead
	}
	return b, err
}

// listDebDirs hashes the .deb files of dirs once, by sha256.
func listDebDirs(ctx context.Context, dirs []string) map[string]string {
	out := map[string]string{}
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".deb") || !e.Type().IsRegular() {
				continue
			}
			p := filepath.Join(d, e.Name())
			if dg, err := fileSHA256(ctx, p); err == nil {
				out[dg] = p
			}
		}
	}
	return out
}

// SaveDeb copies a cached .deb into dir under its pool file name, for
// DebDirs on the next run; an existing file is left alone.
func SaveDeb(b *fetch.Blob, poolPath, dir string) error {
	dst := filepath.Join(dir, filepath.Base(poolPath))
	if _, err := os.Stat(dst); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	in, err := os.Open(b.Path)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// Ref names one .deb: the sha256 every byte is checked against, its size,
// and its pool path below an archive root (where to look for it).
type Ref struct {
	Name, Version string
	SHA256        string // hex
	Size          int64
	Filename      string
}

// RefOf is the Ref of an indexed package.
func RefOf(p *Package) Ref {
	return Ref{Name: p.Name, Version: p.Version, SHA256: p.SHA256, Size: p.Size, Filename: p.Filename}
}

// Fetch returns the .deb ref names, checked against its sha256: from the
// cache, a DebDirs folder, or the pool of each source's archive in turn.
func (a *Archive) Fetch(ctx context.Context, ref Ref) (*fetch.Blob, error) {
	want := digest.NewDigestFromEncoded(digest.SHA256, ref.SHA256)
	if err := want.Validate(); err != nil {
		return nil, fmt.Errorf("package %s %s: %q is not a sha256", ref.Name, ref.Version, ref.SHA256)
	}
	if !validPoolPath(ref.Filename) {
		return nil, fmt.Errorf("package %s %s: %q is not a pool path", ref.Name, ref.Version, ref.Filename)
	}
	var errs []error
	seen := map[string]bool{}
	for _, src := range a.Sources {
		if seen[src.URI] {
			continue
		}
		seen[src.URI] = true
		b, err := a.blob(ctx, src.URI+"/"+ref.Filename, want, ref.Size)
		if err == nil {
			return b, nil
		}
		var dm *fetch.DigestMismatchError
		if errors.As(err, &dm) || errors.Is(err, ErrOffline) || ctx.Err() != nil {
			return nil, fmt.Errorf("package %s %s: %w", ref.Name, ref.Version, err)
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("package %s %s: no archive to fetch it from", ref.Name, ref.Version)
	}
	return nil, fmt.Errorf("package %s %s (sha256:%s) is in none of the archives; an old version needs --debian-snapshot: %w", ref.Name, ref.Version, ref.SHA256, errors.Join(errs...))
}

// SnapshotSource is the archive a snapshot URL template names for suite at
// time when: "{date}" in it becomes when as 20060102T150405Z. Its release
// file's Valid-Until is not checked (a snapshot is old on purpose).
func SnapshotSource(template, suite string, when time.Time) Source {
	uri := strings.ReplaceAll(template, "{date}", when.UTC().Format("20060102T150405Z"))
	return Source{URI: strings.TrimRight(uri, "/"), Suite: suite, Components: []string{"main"}, Snapshot: true}
}
