package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/reprove/reprove/rebuild"
)

// debianConfig is what the Debian flags of verify and init say.
type debianConfig struct {
	rebuild.DebianConfig
	BuildInfo string // --buildinfo
}

// apply sets the Debian fields of an environment's configuration.
func (d debianConfig) apply(c *rebuild.Config) { c.Debian, c.BuildInfo = d.DebianConfig, d.BuildInfo }

type imageBuildConfig struct {
	common
	Image   rebuild.ImageConfig
	Backend string
	Debian  rebuild.DebianConfig
	Fetch   fetchConfig
}

// runImageBuild builds the image and prints its reference on w.
func runImageBuild(ctx context.Context, w io.Writer, cfg imageBuildConfig) error {
	if err := errors.Join(cfg.Fetch.check(), checkBackend(cfg.Backend)); err != nil {
		return err
	}
	p := newProgress(cfg.Quiet)
	defer p.Close()
	ec := envConfig(cfg.common, cfg.Backend, nil, "", cfg.Fetch, diffConfig{}, p)
	ec.Debian = cfg.Debian
	e, err := rebuild.NewEnv(ec)
	if err != nil {
		return err
	}
	defer e.Close()
	res, err := e.BuildImage(ctx, cfg.Image)
	if err != nil {
		return err
	}
	how := "built"
	if res.Cached {
		how = "reused from the cache"
	}
	written := ""
	if res.Resolved {
		written = " (written)"
	}
	p.Step("image", fmt.Sprintf("%s: %d packages, lock %s%s, %s in %s", how, res.Packages, res.LockPath, written, res.Digest, res.Took.Round(1e7)))
	_, err = fmt.Fprintln(w, res.Ref)
	return err
}
