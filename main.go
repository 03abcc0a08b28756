// Command reprove answers one question about a published artifact: was it
// really built from the source it claims? See README.md.
//
// This file only wires flags to package functions and maps results to exit
// codes; the work is done in rebuild/, diff/ and report/.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/fetch"
)

// Exit codes, stable for cron jobs.
const (
	exitReproducible    = 0
	exitNotReproducible = 1
	exitUsage           = 2
	exitFailure         = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	app := newApp()
	err := app.RunContext(ctx, args)
	if err == nil {
		return 0
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "reprove: "+msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "reprove: "+err.Error())
	if code := rebuild.ExitCode(err); code == exitFailure {
		return exitFailure
	}
	return exitUsage
}

// exit wraps err with the exit code its kind of failure has.
func exit(err error) error {
	if err == nil {
		return nil
	}
	return cli.Exit(err.Error(), rebuild.ExitCode(err))
}

// usage is a usage error: exit 2.
func usage(format string, args ...any) error {
	return cli.Exit(fmt.Sprintf(format, args...), exitUsage)
}

var (
	cacheFlag = &cli.StringFlag{
		Name:  "cache-dir",
		Usage: "content-addressed cache of inputs, images and runs (default $REPROVE_CACHE_DIR, else $XDG_CACHE_HOME/reprove)",
		// No EnvVars: the flag is defined at two levels, where an env value
		// would count as set at both; fetch.DefaultCacheDir reads it instead.
	}
	noColorFlag = &cli.BoolFlag{Name: "no-color", Usage: "never color the text output (also: NO_COLOR=1)"}
	quietFlag   = &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress on stderr"}
)

func newApp() *cli.App {
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintf(c.App.Writer, "reprove %s\n", version()) }
	return &cli.App{
		Name:    "reprove",
		Usage:   "check that a published artifact was really built from the source it claims",
		Version: version(),
		Description: `reprove fetches an artifact and its declared source inputs, each pinned by digest,
rebuilds it in a throw-away container with no network, and compares the two bit for bit.
When they differ it shows where and why, and names the likely cause with the fix to try.

Exit codes: 0 reproducible, 1 not reproducible, 2 usage or input error
(bad manifest, unpinned input, digest mismatch), 3 fetch or build failure.`,
		Flags:                []cli.Flag{cacheFlag, noColorFlag, quietFlag},
		EnableBashCompletion: true,
		// Repeat a flag for several values: paths and URIs may hold commas.
		DisableSliceFlagSeparator: true,
		ExitErrHandler:            func(*cli.Context, error) {}, // run() prints and maps exit codes
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit(err.Error(), exitUsage)
		},
		Commands: withCommonFlags(
			verifyCommand(),
			initCommand(),
			diffCommand(),
			reportCommand(),
			keyCommand(),
			attestationCommand(),
			imageCommand(),
		),
	}
}

// withCommonFlags lets the global flags also follow a command's name
// (reprove verify -q …), which is where people type them.
func withCommonFlags(cmds ...*cli.Command) []*cli.Command {
	for _, c := range cmds {
		if c.Action != nil {
			c.Flags = append(c.Flags, cacheFlag, noColorFlag, quietFlag)
		}
		withCommonFlags(c.Subcommands...)
	}
	return cmds
}

// given returns the innermost context whose command line set name. The
// common flags are defined globally and on each command (withCommonFlags);
// urfave/cli reads the innermost definition even when only the global one
// was given.
func given(c *cli.Context, name string) *cli.Context {
	for _, x := range c.Lineage() {
		if x.IsSet(name) {
			return x
		}
	}
	return c
}

// globals reads the flags every command shares.
func globals(c *cli.Context) (common, error) {
	g := common{CacheDir: given(c, "cache-dir").String("cache-dir"), Quiet: given(c, "quiet").Bool("quiet")}
	g.Color = colorWanted(given(c, "no-color").Bool("no-color"))
	if g.CacheDir == "" {
		dir, err := defaultCacheDir()
		if err != nil {
			return g, usage("%v; set --cache-dir or REPROVE_CACHE_DIR", err)
		}
		g.CacheDir = dir
	}
	// Build mounts and runc need absolute host paths.
	abs, err := filepath.Abs(g.CacheDir)
	if err != nil {
		return g, usage("--cache-dir %q: %v", g.CacheDir, err)
	}
	g.CacheDir = abs
	return g, nil
}

var reportFlags = []cli.Flag{
	&cli.StringFlag{Name: "json", Usage: "write the result as JSON to `FILE` (- for stdout)"},
	&cli.StringFlag{Name: "html", Usage: "write a self-contained HTML report to `FILE` (- for stdout)"},
	&cli.StringFlag{Name: "markdown", Usage: "write a Markdown report to `FILE` (- for stdout)"},
	&cli.StringFlag{Name: "junit", Usage: "write JUnit XML to `FILE` (- for stdout)"},
}

func outputs(c *cli.Context) outputConfig {
	return outputConfig{
		JSON: c.String("json"), HTML: c.String("html"), Markdown: c.String("markdown"), JUnit: c.String("junit"),
		Attestation: c.String("attestation"), SignKey: c.String("sign-key"), Provenance: c.String("provenance"),
	}
}

var diffLimitFlags = append([]cli.Flag{
	&cli.StringSliceFlag{Name: "normalize", Usage: "apply named normalization `PASS`es before comparing (repeatable; see reprove diff --help)"},
	&cli.Int64Flag{Name: "max-report-size", Usage: "stop adding detail after this many `BYTES` of report", Value: 8 << 20},
	&cli.IntFlag{Name: "max-diff-lines", Usage: "lines per unified or hex diff before it is cut", Value: 400},
	&cli.Int64Flag{Name: "max-temp-size", Usage: "`BYTES` of unpacked members kept on disk at once; members past it are compared as bytes", Value: diff.DefaultMaxTempSize},
	&cli.StringSliceFlag{Name: "exclude", Usage: "skip members whose path matches `GLOB` (repeatable)"},
}, archiveLimitFlags()...)

// archiveLimitFlags are the flags of archive.Limits, one per limit, made
// from its catalogue.
func archiveLimitFlags() []cli.Flag {
	var flags []cli.Flag
	for _, l := range archive.Catalogue() {
		flags = append(flags, &cli.Int64Flag{Name: l.Flag, Usage: l.Usage, Value: l.Default})
	}
	return flags
}

func diffLimits(c *cli.Context) diffConfig {
	var lim archive.Limits
	for _, l := range archive.Catalogue() {
		l.Set(&lim, c.Int64(l.Flag))
	}
	return diffConfig{
		Normalize: c.StringSlice("normalize"), MaxDepth: int(lim.MaxDepth),
		MaxReportSize: c.Int64("max-report-size"), MaxDiffLines: c.Int("max-diff-lines"),
		MaxTempSize: c.Int64("max-temp-size"), Exclude: c.StringSlice("exclude"), Limits: lim,
	}
}

var fetchFlags = []cli.Flag{
	&cli.StringSliceFlag{Name: "allow-path", Usage: "let the manifest's file:, git+file: and oci-layout: inputs read below `DIR` too, not only below the manifest's folder (repeatable; also REPROVE_ALLOW_PATH, colon-separated)"},
	&cli.BoolFlag{Name: "offline", Usage: "use only the cache, every entry re-verified: the artifact is not read from its URI again (the report says so)"},
	&cli.DurationFlag{Name: "fetch-stall-timeout", Usage: "give up a download that receives nothing for `DURATION`", Value: fetch.DefaultStallTimeout},
	&cli.Int64Flag{Name: "max-download-size", Usage: "refuse any input larger than `BYTES`", Value: fetch.DefaultMaxDownloadSize},
}

// fetchSettings reads the flags that bound and confine fetching.
func fetchSettings(c *cli.Context) fetchConfig {
	allow := c.StringSlice("allow-path")
	for _, p := range filepath.SplitList(os.Getenv("REPROVE_ALLOW_PATH")) {
		if p != "" {
			allow = append(allow, p)
		}
	}
	return fetchConfig{AllowPaths: allow, Offline: c.Bool("offline"),
		StallTimeout: c.Duration("fetch-stall-timeout"), MaxDownloadSize: c.Int64("max-download-size")}
}

var inferFlags = []cli.Flag{
	&cli.StringSliceFlag{Name: "replace-source", Usage: "rewrite source URIs starting with OLD to start with NEW (`OLD=NEW`, repeatable); pins are still enforced"},
	&cli.StringFlag{Name: "builder-image", Usage: "builder image `REF` for inferred manifests (oci://…@sha256:… or oci-layout:DIR@sha256:…)", EnvVars: []string{"REPROVE_BUILDER_IMAGE"}},
	&cli.StringFlag{Name: "buildinfo", Usage: "the .buildinfo (`FILE` or URL) a .deb was built with; without it one is derived and the result says its inputs are approximated"},
}

func verifyCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "backend", Usage: "sandbox backend", Value: "runc"},
		&cli.StringFlag{Name: "attestation", Usage: "write a signed in-toto attestation (DSSE) to `FILE`; needs --sign-key"},
		&cli.StringFlag{Name: "sign-key", Usage: "Ed25519 private key `FILE` (PEM, from reprove key generate)"},
		&cli.StringFlag{Name: "provenance", Usage: "write a signed SLSA provenance statement for the rebuild to `FILE`; needs --sign-key"},
	}
	flags = append(flags, reportFlags...)
	flags = append(flags, diffLimitFlags...)
	flags = append(flags, fetchFlags...)
	flags = append(flags, inferFlags...)
	flags = append(flags, debianFlags...)
	return &cli.Command{
		Name:      "verify",
		Usage:     "rebuild an artifact from its declared inputs and compare bit for bit",
		ArgsUsage: "MANIFEST | ARTIFACT[#MEMBER]",
		Description: `MANIFEST is a reprove/v1 manifest (reprove.yaml). ARTIFACT is anything a manifest may
name (a path, file:, https://, gomod:MODULE@VERSION, npm:NAME@VERSION); reprove then infers
the manifest from what the artifact declares (Go build info) and tries its candidates.
The verdict goes to stdout as text unless a report is written to stdout (-).`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usage("verify takes one MANIFEST or ARTIFACT, got %d arguments (see reprove verify --help)", c.NArg())
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			code, err := runVerify(c.Context, verifyConfig{
				common:  g,
				Target:  c.Args().First(),
				Backend: c.String("backend"),
				Outputs: outputs(c),
				Diff:    diffLimits(c),
				Replace: c.StringSlice("replace-source"),
				Builder: c.String("builder-image"),
				Fetch:   fetchSettings(c),
				Debian:  debianSettings(c), BuildInfo: c.String("buildinfo"),
			})
			if err != nil {
				return exit(err)
			}
			return cli.Exit("", code)
		},
	}
}

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "infer a manifest from what an artifact declares, for a person to review",
		ArgsUsage: "ARTIFACT[#MEMBER]",
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the manifest to `FILE` (- for stdout)", Value: "-"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite FILE if it exists"},
		}, fetchFlags...), append(inferFlags, debianFlags...)...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usage("init takes one ARTIFACT, got %d arguments", c.NArg())
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			return exit(runInit(c.Context, initConfig{
				common: g, Target: c.Args().First(), Output: c.String("output"), Force: c.Bool("force"),
				Replace: c.StringSlice("replace-source"), Builder: c.String("builder-image"), Fetch: fetchSettings(c),
				Debian: debianSettings(c), BuildInfo: c.String("buildinfo"),
			}))
		},
	}
}

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "compare two files or folders deeply and name the likely causes",
		ArgsUsage: "A B",
		Description: "Exit codes: 0 identical (or equivalent after the asked normalizations), 1 different, 2 error.\n\n" +
			"Normalizations:\n" + normalizationHelp(),
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "text, json, markdown, html or diffoscope-json", Value: "text"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of stdout"},
		}, diffLimitFlags...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usage("diff takes two paths A and B, got %d arguments", c.NArg())
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			code, err := runDiff(c.Context, diffCommandConfig{
				common: g, A: c.Args().Get(0), B: c.Args().Get(1),
				Format: c.String("format"), Output: c.String("output"), Diff: diffLimits(c),
			})
			if err != nil {
				return cli.Exit(err.Error(), exitUsage) // diff: every error is 2
			}
			return cli.Exit("", code)
		},
	}
}

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "render a saved JSON result again, in other formats",
		ArgsUsage: "RESULT.json",
		Flags:     append([]cli.Flag{&cli.StringFlag{Name: "text", Usage: "write the text report to `FILE` (- for stdout)"}}, reportFlags...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usage("report takes one RESULT.json, got %d arguments", c.NArg())
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			o := outputs(c)
			o.Text = c.String("text")
			return exit(runReport(reportConfig{common: g, Input: c.Args().First(), Outputs: o}))
		},
	}
}

func keyCommand() *cli.Command {
	return &cli.Command{
		Name:  "key",
		Usage: "manage signing keys for attestations",
		Subcommands: []*cli.Command{{
			Name:  "generate",
			Usage: "write a new Ed25519 key pair as PEM (PKCS#8 private, mode 0600; PKIX public)",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "private", Usage: "private key `FILE`", Required: true},
				&cli.StringFlag{Name: "public", Usage: "public key `FILE`", Required: true},
			},
			Action: func(c *cli.Context) error {
				return exit(runKeyGenerate(c.String("private"), c.String("public")))
			},
		}},
	}
}

func attestationCommand() *cli.Command {
	return &cli.Command{
		Name:  "attestation",
		Usage: "check signed attestations",
		Subcommands: []*cli.Command{{
			Name:      "verify",
			Usage:     "check a DSSE envelope's signature and print its statement",
			ArgsUsage: "FILE",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "key", Usage: "public key `FILE` (PEM)", Required: true},
				&cli.StringFlag{Name: "artifact", Usage: "fail unless the sha256 of `FILE` is a subject of the statement"},
				&cli.StringFlag{Name: "expect", Usage: "fail unless the verification summary's result is `RESULT` (PASSED or FAILED)"},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return usage("attestation verify takes one FILE, got %d arguments", c.NArg())
				}
				err := runAttestationVerify(c.App.Writer, attestationCheck{
					Key: c.String("key"), File: c.Args().First(), Artifact: c.String("artifact"), Expect: c.String("expect"),
				})
				if errors.Is(err, errAttestationInvalid) {
					return cli.Exit(err.Error(), exitNotReproducible)
				}
				return exit(err)
			},
		}},
	}
}
