// Package imagetest builds builder images for tests with reprove's own
// image builder, once per test process and once per machine: locks live in
// <module>/.cache/images, packages in $REPROVE_TEST_DEBS (default
// <module>/.cache/debs) and images in <module>/.cache/test-images, so a
// machine downloads each package once and builds an image again only when
// its lock changes (delete the lock to take newer packages).
package imagetest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/image"
	"github.com/reprove/reprove/rebuild/sandbox/runc"
)

// Busybox is the recipe of the demo fixtures' image: a static busybox
// with its applet links (a shell and the usual tools, about 2 MiB).
const Busybox = "fixtures/recipes/busybox.yaml"

type built struct {
	once           sync.Once
	layout, digest string
	err            error
}

var (
	mu     sync.Mutex
	images = map[string]*built{}
)

// Build returns the OCI layout (in the test image cache: read it, never
// write it) and manifest digest of recipe: a built-in's name or a recipe
// file relative to the module root.
func Build(t testing.TB, recipe string) (layout, digest string) {
	t.Helper()
	mu.Lock()
	b := images[recipe]
	if b == nil {
		b = &built{}
		images[recipe] = b
	}
	mu.Unlock()
	b.once.Do(func() { b.layout, b.digest, b.err = build(recipe) })
	if b.err != nil {
		t.Fatalf("building the %s test image: %v", recipe, b.err)
	}
	return b.layout, b.digest
}

// Env is a recipe with its lock and where its packages come from.
type Env struct {
	Recipe  *image.Recipe
	Lock    *image.Lock
	Sources []deb.Source // the machine's apt sources for the recipe's suite
	Debs    string       // the folder of downloaded .debs
	Root    string       // the module root
}

// Archive reads packages into cache: from Debs first, then the sources.
func (e *Env) Archive(cache *fetch.Cache) *deb.Archive {
	return &deb.Archive{Sources: e.Sources, Arch: e.Recipe.Architecture, Cache: cache, DebDirs: []string{e.Debs}}
}

// Prepare loads recipe and reads its lock from <module>/.cache/images, or
// resolves it there against the machine's apt sources.
func Prepare(recipe string) (*Env, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	path := recipe
	if _, err := os.Stat(filepath.Join(root, recipe)); err == nil {
		path = filepath.Join(root, recipe)
	}
	r, err := image.Load(path, "", "")
	if err != nil {
		return nil, err
	}
	e := &Env{Recipe: r, Root: root, Debs: os.Getenv("REPROVE_TEST_DEBS")}
	if e.Debs == "" {
		e.Debs = filepath.Join(root, ".cache", "debs")
	}
	all, err := deb.AptSources("/")
	if err != nil {
		return nil, err
	}
	if e.Sources, err = deb.SuiteSources(all, r.Suite, ""); err != nil {
		return nil, err
	}
	a := e.Archive(&fetch.Cache{Root: filepath.Join(root, ".cache", "test-images")})
	e.Lock, err = lockFor(context.Background(), r, a, filepath.Join(root, ".cache", "images", fmt.Sprintf("%s-%s-%s.lock", r.Name, r.Suite, r.Architecture)))
	return e, err
}

// SaveDebs keeps the lock's packages, fetched into a's cache, in e.Debs.
func (e *Env) SaveDebs(ctx context.Context, a *deb.Archive) error {
	for _, p := range append([]image.Locked{e.Lock.Helper}, e.Lock.Packages...) {
		b, err := a.Fetch(ctx, deb.Ref{Name: p.Name, Version: p.Version, SHA256: p.SHA256, Size: p.Size, Filename: p.Filename})
		if err == nil {
			err = deb.SaveDeb(b, p.Filename, e.Debs)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func build(recipe string) (string, string, error) {
	e, err := Prepare(recipe)
	if err != nil {
		return "", "", err
	}
	ctx := context.Background()
	a := e.Archive(&fetch.Cache{Root: filepath.Join(e.Root, ".cache", "test-images")})
	be, err := runc.New(runc.Options{CacheDir: a.Cache.Root})
	if err != nil {
		return "", "", err
	}
	img, err := image.Build(ctx, e.Recipe, e.Lock, image.Options{Cache: a.Cache, Archive: a, Backend: be})
	if err != nil {
		return "", "", err
	}
	if err := e.SaveDebs(ctx, a); err != nil {
		return "", "", err
	}
	return img.Layout, img.Digest, nil
}

// lockFor reads the lock at p when it fits r, else resolves and writes it.
func lockFor(ctx context.Context, r *image.Recipe, a *deb.Archive, p string) (*image.Lock, error) {
	l, err := image.ReadLock(p)
	if err == nil && image.LockFits(l, r) {
		return l, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if l, err = image.Resolve(ctx, r, a); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return l, image.WriteLock(p, l)
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("imagetest: no go.mod above the working folder")
		}
		dir = parent
	}
}
