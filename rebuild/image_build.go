package rebuild

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
	"time"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/image"
)

// DebianConfig says where Debian packages come from.
type DebianConfig struct {
	// Mirror replaces the archive the apt sources name for the suite
	// (--mirror); empty reads /etc/apt/sources.list*.
	Mirror string
	// Snapshot is an archive URL template for versions the current
	// archive no longer has (--debian-snapshot); "{date}" in it becomes a
	// time stamp such as 20240101T000000Z.
	Snapshot string
	// Debs is a folder of .deb files to take packages from before the
	// network, and where downloaded ones are kept (--debs).
	Debs string
	// Keyring overrides the archive keyring (tests use their own).
	Keyring string
	// AptRoot is the folder whose etc/apt is read ("/" when empty).
	AptRoot string
}

// ImageConfig is one `reprove image build`.
type ImageConfig struct {
	Recipe string // a built-in's name or a recipe file
	Output string // folder the OCI layout is written to
	// Lock is the lock file; empty: RECIPE.lock beside a recipe file, or
	// OUTPUT.lock for a built-in.
	Lock   string
	Update bool   // resolve again even when the lock fits the recipe
	Suite  string // for built-ins and recipes that name none; the host's when empty
	Arch   string
	Epoch  int64 // SOURCE_DATE_EPOCH
}

// ImageResult is what BuildImage made.
type ImageResult struct {
	*image.Image
	Ref      string // oci-layout:OUTPUT@sha256:…
	LockPath string
	Resolved bool // the lock was (re)written in this run
}

// BuildImage resolves (or reads) the lock of a recipe, builds its image and
// writes it as an OCI layout to c.Output.
func (e *Env) BuildImage(ctx context.Context, c ImageConfig) (*ImageResult, error) {
	if e.Backend == nil {
		return nil, errors.New("rebuild: building an image needs a sandbox backend (Config.Backend)")
	}
	r, err := image.Load(c.Recipe, c.Suite, c.Arch)
	if err != nil {
		return nil, err
	}
	res := &ImageResult{LockPath: c.Lock}
	if res.LockPath == "" {
		res.LockPath = filepath.Clean(c.Output) + ".lock"
		if r.Path != "" {
			res.LockPath = r.Path + ".lock"
		}
	}
	a, err := e.DebianArchive(r.Suite, r.Architecture)
	if err != nil {
		return nil, err
	}
	lock, err := e.imageLock(ctx, r, a, res, c.Update)
	if err != nil {
		return nil, err
	}
	img, err := image.Build(ctx, r, lock, image.Options{Cache: e.Cache, Archive: a, Backend: e.Backend, Epoch: c.Epoch, Limits: e.cfg.Limits, Step: e.cfg.Step})
	if err != nil {
		return nil, inStage(StageBuild, err)
	}
	res.Image = img
	if err := e.saveDebs(ctx, a, lock); err != nil {
		return nil, err
	}
	if err := copyLayout(img.Layout, c.Output); err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(c.Output)
	res.Ref = "oci-layout:" + abs + "@" + img.Digest
	return res, nil
}

// imageLock reads the lock when it was made for this recipe, else resolves
// one and writes it.
func (e *Env) imageLock(ctx context.Context, r *image.Recipe, a *deb.Archive, res *ImageResult, update bool) (*image.Lock, error) {
	if !update {
		l, err := image.ReadLock(res.LockPath)
		switch {
		case err == nil && image.LockFits(l, r):
			return l, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
	}
	if e.Step() != nil {
		e.Step()("resolve", fmt.Sprintf("%s against %d archive(s) of %s/%s", r.Name, len(a.Sources), r.Suite, r.Architecture))
	}
	l, err := image.Resolve(ctx, r, a)
	if err != nil {
		return nil, inStage(StageFetch, err)
	}
	if err := image.WriteLock(res.LockPath, l); err != nil {
		return nil, err
	}
	res.Resolved = true
	return l, nil
}

// Step is the progress callback of the environment, or nil.
func (e *Env) Step() func(phase, detail string) { return e.cfg.Step }

// DebianArchive is the set of archives packages of suite and arch come
// from: the apt sources' (or --mirror's), and the snapshot template.
func (e *Env) DebianArchive(suite, arch string) (*deb.Archive, error) {
	return newDebianArchive(e.cfg, suite, arch, e.Cache, e.Client)
}

func newDebianArchive(cfg Config, suite, arch string, c *fetch.Cache, client *http.Client) (*deb.Archive, error) {
	dc := cfg.Debian
	root := dc.AptRoot
	if root == "" {
		root = "/"
	}
	all, err := deb.AptSources(root)
	if err != nil {
		return nil, err
	}
	srcs, err := deb.SuiteSources(all, suite, dc.Mirror)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	a := &deb.Archive{Sources: srcs, Arch: arch, Cache: c, Client: client, Keyring: dc.Keyring,
		Offline: cfg.Offline, Limits: cfg.Limits}
	if dc.Debs != "" {
		a.DebDirs = []string{dc.Debs}
	}
	if dc.Snapshot != "" && !strings.Contains(dc.Snapshot, "{date}") {
		a.Sources = append(a.Sources, deb.SnapshotSource(dc.Snapshot, suite, time.Time{}))
	}
	return a, nil
}

// saveDebs keeps the image's packages in the --debs folder.
func (e *Env) saveDebs(ctx context.Context, a *deb.Archive, l *image.Lock) error {
	dir := e.cfg.Debian.Debs
	if dir == "" {
		return nil
	}
	for _, p := range append([]image.Locked{l.Helper}, l.Packages...) {
		b, err := a.Fetch(ctx, deb.Ref{Name: p.Name, Version: p.Version, SHA256: p.SHA256, Size: p.Size, Filename: p.Filename})
		if err != nil {
			return err
		}
		if err := deb.SaveDeb(b, p.Filename, dir); err != nil {
			return fmt.Errorf("keeping %s in %s: %w", p.Name, dir, err)
		}
	}
	return nil
}

// copyLayout writes the OCI layout at src to dst: dst must be missing, empty
// or an OCI layout (which is replaced).
func copyLayout(src, dst string) error {
	if ents, err := os.ReadDir(dst); err == nil && len(ents) > 0 {
		if _, err := os.Stat(filepath.Join(dst, "oci-layout")); err != nil {
			return fmt.Errorf("%w: %s is not empty and not an OCI layout; choose another -o folder", ErrUsage, dst)
		}
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file in an OCI layout", p)
		}
		return copyRegular(p, out)
	})
}

func copyRegular(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
