package rebuild

import (
	"context"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/image"
)

// debianEnv is what the Debian adapter uses of an Env.
type debianEnv struct{ e *Env }

// Archive is the suite's archives, and the snapshot archive at the given
// time after them when --debian-snapshot names a {date} template.
func (d debianEnv) Archive(suite, arch string, snapshot time.Time) (*deb.Archive, error) {
	a, err := d.e.DebianArchive(suite, arch)
	if err != nil {
		return nil, err
	}
	if t := d.e.cfg.Debian.Snapshot; strings.Contains(t, "{date}") && !snapshot.IsZero() {
		a.Sources = append(a.Sources, deb.SnapshotSource(t, suite, snapshot))
	}
	return a, nil
}

// BuildImage builds the image with the Env's backend (made when the Env
// has none yet: init builds images too).
func (d debianEnv) BuildImage(ctx context.Context, r *image.Recipe, lock *image.Lock, a *deb.Archive) (*image.Image, error) {
	be := d.e.Backend
	if be == nil {
		var err error
		if be, err = newBackend("runc", BackendConfig{CacheDir: d.e.cfg.CacheDir, TreeKey: d.e.Cache.Key}); err != nil {
			return nil, err
		}
	}
	img, err := image.Build(ctx, r, lock, image.Options{Cache: d.e.Cache, Archive: a, Backend: be, Limits: d.e.cfg.Limits, Step: d.e.cfg.Step})
	if err != nil {
		return nil, inStage(StageBuild, err)
	}
	return img, d.e.saveDebs(ctx, a, lock)
}

// Limits bound every archive the adapter reads.
func (d debianEnv) Limits() archive.Limits { return d.e.cfg.Limits }

// debScheme is the deb:NAME=VERSION scheme, over the apt sources' archives.
func debScheme(c SchemeConfig) SchemeSet {
	s := deb.NewScheme(deb.SchemeConfig{
		Archive: func(suite, arch string, cache *fetch.Cache) (*deb.Archive, error) {
			return newDebianArchive(c.Config, suite, arch, cache, c.Client)
		},
		Arch: image.HostArch(), Suite: image.HostSuite(), Client: c.Client, Limits: c.Config.Limits,
	})
	return SchemeSet{Scheme: s, Pinner: debPinner{s}}
}

type debPinner struct{ *deb.Scheme }

func (p debPinner) Pin(ctx context.Context, c *fetch.Cache, uri string) (adapter.Pinned, error) {
	d, err := p.Scheme.Pin(ctx, c, uri)
	if err != nil {
		return adapter.Pinned{}, err
	}
	dg, err := digest.Parse(d)
	if err != nil {
		return adapter.Pinned{}, err
	}
	return adapter.Pinned{URI: uri, Digest: d, Path: c.BlobPath(dg)}, nil
}
