package main

// The flags of `reprove image` and the Debian flags verify and init share.
// Like main.go, this file only maps flags to the handlers in cmd_image.go.

import (
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/image"
)

// debianFlags say where Debian packages come from (image build, and
// verify and init of .deb files).
var debianFlags = []cli.Flag{
	&cli.StringFlag{Name: "mirror", Usage: "take Debian packages from the archive at `URL` instead of the one the apt sources name for the suite"},
	&cli.StringFlag{Name: "debian-snapshot", Usage: "archive `URL` template for package versions the current archive no longer has; {date} becomes the build's time stamp (see README: Debian packages)"},
	&cli.StringFlag{Name: "debs", Usage: "take .deb files from `DIR` before the network, and keep downloaded ones there"},
}

// buildinfoFlag names a .deb's .buildinfo (verify and init).
var buildinfoFlag = &cli.StringFlag{Name: "buildinfo", Usage: "the .buildinfo (`FILE` or URL) a .deb was built with; without it one is derived and every report says the inputs are approximated"}

// debianSettings reads the Debian flags of verify and init.
func debianSettings(c *cli.Context) debianConfig {
	return debianConfig{DebianConfig: debianArchive(c), BuildInfo: c.String("buildinfo")}
}

func debianArchive(c *cli.Context) rebuild.DebianConfig {
	return rebuild.DebianConfig{Mirror: c.String("mirror"), Snapshot: c.String("debian-snapshot"), Debs: c.String("debs")}
}

func imageCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:        "image",
		Usage:       "build builder images from pinned Debian packages",
		Subcommands: []*cli.Command{imageBuildCommand()},
	},
		example{"reprove image build go-cgo -o img", "gcc, libc6-dev and git on Debian's Essential set; prints oci-layout:img@sha256:…"},
	)
}

func imageBuildCommand() *cli.Command {
	flags := flagsOf([]cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the OCI image layout to `DIR`", Required: true},
		&cli.StringFlag{Name: "lock", Usage: "the lock `FILE` (default: RECIPE.lock beside a recipe file, DIR.lock for a built-in)"},
		&cli.BoolFlag{Name: "update", Usage: "resolve the packages again even when the lock fits the recipe"},
		&cli.StringFlag{Name: "suite", Usage: "Debian suite `NAME` for built-ins and recipes that name none (default: this machine's)"},
		&cli.StringFlag{Name: "arch", Usage: "Debian architecture `NAME` (default: this machine's)"},
		&cli.StringFlag{Name: "source-date-epoch", Usage: "every mtime and the created time, in `SECONDS` since 1970 (default $SOURCE_DATE_EPOCH, else 0)", EnvVars: []string{"SOURCE_DATE_EPOCH"}},
		&cli.StringFlag{Name: "backend", Usage: "run the maintainer scripts with sandbox backend `NAME`", Value: "runc"},
	}, debianFlags, fetchFlags, []cli.Flag{cacheFlag, quietFlag})
	return withExamples(&cli.Command{
		Name:      "build",
		Usage:     "build a deterministic OCI image from a recipe and print oci-layout:DIR@sha256:…",
		ArgsUsage: "RECIPE (a recipe file, or one of " + strings.Join(image.Builtins(), ", ") + ")",
		Description: `Resolves the recipe's packages against the archive's signed indices (InRelease checked
against the Debian archive keyring), writes a lock (name, version and sha256 of every
package), fetches each .deb by sha256, unpacks them, runs their maintainer scripts in the
sandbox with no network, and writes one layer with sorted entries, fixed mtimes and owners.
The same lock gives the same image digest on any machine. The printed reference is a
builder.image. Running maintainer scripts needs root (runc's root mode).

Exit codes: 0 built, 2 usage or input error (bad recipe or lock, unresolvable packages),
3 fetch or build failure.`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "one RECIPE"); err != nil {
				return err
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			var epoch int64
			if s := c.String("source-date-epoch"); s != "" {
				if epoch, err = strconv.ParseInt(s, 10, 64); err != nil || epoch < 0 {
					return usagef("--source-date-epoch %q: give seconds since 1970, e.g. 1700000000", s)
				}
			}
			return runImageBuild(c.Context, c.App.Writer, imageBuildConfig{
				common: g, Backend: c.String("backend"), Debian: debianArchive(c), Fetch: fetchSettings(c),
				Image: rebuild.ImageConfig{Recipe: c.Args().First(), Output: c.String("output"), Lock: c.String("lock"),
					Update: c.Bool("update"), Suite: c.String("suite"), Arch: c.String("arch"), Epoch: epoch},
			})
		},
	},
		example{"reprove image build go-cgo -o img", "a built-in recipe; the lock is written to img.lock"},
		example{"reprove image build recipe.yaml -o img --source-date-epoch 1700000000", "a recipe file; its lock is recipe.yaml.lock"},
		example{"reprove image build recipe.yaml -o img --update", "take the archive's newer packages into the lock"},
	)
}
