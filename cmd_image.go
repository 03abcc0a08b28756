package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/image"
)

// debianFlags say where Debian packages come from (image build, and
// verify/init of .deb files).
var debianFlags = []cli.Flag{
	&cli.StringFlag{Name: "mirror", Usage: "Debian archive `URL` to use instead of the one the apt sources name for the suite"},
	&cli.StringFlag{Name: "debian-snapshot", Usage: "archive `URL` template for package versions the current archive no longer has; {date} becomes the build's time stamp (see README: Debian)"},
	&cli.StringFlag{Name: "debs", Usage: "folder of .deb files to take packages from before the network; downloaded ones are kept there (`DIR`)"},
}

func debianSettings(c *cli.Context) rebuild.DebianConfig {
	return rebuild.DebianConfig{Mirror: c.String("mirror"), Snapshot: c.String("debian-snapshot"), Debs: c.String("debs")}
}

type imageBuildConfig struct {
	common
	Image   rebuild.ImageConfig
	Backend string
	Debian  rebuild.DebianConfig
	Fetch   fetchConfig
}

func runImageBuild(ctx context.Context, cfg imageBuildConfig) error {
	p := newProgress(cfg.Quiet)
	ec := envConfig(cfg.common, cfg.Backend, nil, "", cfg.Fetch, diffConfig{}, p)
	ec.Debian = cfg.Debian
	e, err := rebuild.NewEnv(ec)
	if err != nil {
		return err
	}
	res, err := e.BuildImage(ctx, cfg.Image)
	if err != nil {
		return err
	}
	how := "built"
	if res.Cached {
		how = "reused from the cache"
	}
	p.Step("image", fmt.Sprintf("%s: %d packages, lock %s%s, %s in %s", how, res.Packages, res.LockPath, map[bool]string{true: " (written)", false: ""}[res.Resolved], res.Digest, res.Took.Round(1e7)))
	fmt.Println(res.Ref)
	return nil
}

func imageCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the OCI image layout to `DIR`", Required: true},
		&cli.StringFlag{Name: "lock", Usage: "lock `FILE` (default: RECIPE.lock beside a recipe file, DIR.lock for a built-in)"},
		&cli.BoolFlag{Name: "update", Usage: "resolve the packages again even when the lock fits the recipe"},
		&cli.StringFlag{Name: "suite", Usage: "Debian suite for built-ins and recipes that name none (default: this machine's)"},
		&cli.StringFlag{Name: "arch", Usage: "Debian architecture (default: this machine's)"},
		&cli.StringFlag{Name: "source-date-epoch", Usage: "every mtime and the created time, in `SECONDS` (default $SOURCE_DATE_EPOCH, else 0)", EnvVars: []string{"SOURCE_DATE_EPOCH"}},
		&cli.StringFlag{Name: "backend", Usage: "sandbox backend for the maintainer scripts", Value: "runc"},
	}
	flags = append(flags, debianFlags...)
	flags = append(flags, fetchFlags...)
	return &cli.Command{
		Name:  "image",
		Usage: "builder images from pinned Debian packages",
		Subcommands: []*cli.Command{{
			Name:      "build",
			Usage:     "build a deterministic OCI image from a recipe and print oci-layout:DIR@sha256:…",
			ArgsUsage: "RECIPE (a recipe file, or one of " + strings.Join(image.Builtins(), ", ") + ")",
			Description: `Resolves the recipe's packages against the archive's signed indices (InRelease checked
against the Debian archive keyring), writes a lock (name version sha256 of every package),
fetches each .deb by sha256, unpacks them, runs their maintainer scripts in the sandbox with
no network, and writes one layer with sorted entries, fixed mtimes and owners. The same lock
gives the same image digest on any machine. The printed reference is a builder.image.`,
			Flags: flags,
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return usage("image build takes one RECIPE, got %d arguments", c.NArg())
				}
				g, err := globals(c)
				if err != nil {
					return err
				}
				var epoch int64
				if s := c.String("source-date-epoch"); s != "" {
					if epoch, err = strconv.ParseInt(s, 10, 64); err != nil || epoch < 0 {
						return usage("--source-date-epoch %q: want seconds since 1970", s)
					}
				}
				return exit(runImageBuild(c.Context, imageBuildConfig{
					common: g, Backend: c.String("backend"), Debian: debianSettings(c), Fetch: fetchSettings(c),
					Image: rebuild.ImageConfig{Recipe: c.Args().First(), Output: c.String("output"), Lock: c.String("lock"),
						Update: c.Bool("update"), Suite: c.String("suite"), Arch: c.String("arch"), Epoch: epoch},
				}))
			},
		}},
	}
}
