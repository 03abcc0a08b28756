// Command reprove answers one question about a published artifact: was it
// really built from the source it claims? See README.md.
//
// main.go, cmd_*.go: flags → a config → one package call; exit.go maps the
// result to an exit code. The work is done in rebuild/, diff/ and report/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/fetch"
)

// commands are reprove's commands, one line each, in the order --help
// lists them. Help, examples, usage errors and shell completion are made
// from this list.
var commands = []func() *cli.Command{
	verifyCommand,
	batchCommand,
	initCommand,
	imageCommand,
	diffCommand,
	reportCommand,
	historyCommand,
	cacheCommand,
	keyCommand,
	attestationCommand,
	completionCommand,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs one command line and returns its exit code (exit.go). Errors go
// to stderr as one line; a usage error points at the command's --help.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	st := &runState{cmd: "reprove"}
	app := newApp(st)
	app.Writer, app.ErrWriter = stdout, stderr
	err := app.RunContext(ctx, reorderArgs(app, args))
	code := exitCode(err)
	if err == nil || err.Error() == "" {
		return code
	}
	if classify(err) == classUsage {
		msg := strings.ReplaceAll(err.Error(), "\n", "; ")
		fmt.Fprintf(stderr, "%s: %s (see '%s --help')\n", st.cmd, msg, st.cmd)
	} else {
		fmt.Fprintf(stderr, "reprove: %v\n", err)
	}
	return code
}

// runState is what the run of one command line learns as it goes.
type runState struct {
	cmd string // "reprove verify": the command whose help a usage error points at
}

var (
	cacheFlag = &cli.StringFlag{
		Name:  "cache-dir",
		Usage: "content-addressed cache of inputs, images and runs in `DIR` (default $REPROVE_CACHE_DIR, else $XDG_CACHE_HOME/reprove)",
		// No EnvVars: the flag is defined at two levels, where an env value
		// would count as set at both; fetch.DefaultCacheDir reads it instead.
	}
	noColorFlag = &cli.BoolFlag{Name: "no-color", Usage: "never color the text output (also: NO_COLOR=1)"}
	quietFlag   = &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress on stderr"}
)

func newApp(st *runState) *cli.App {
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintf(c.App.Writer, "reprove %s\n", version()) }
	cmds := make([]*cli.Command, 0, len(commands))
	for _, mk := range commands {
		cmds = append(cmds, mk())
	}
	app := &cli.App{
		Name:    "reprove",
		Usage:   "check that a published artifact was really built from the source it claims",
		Version: version(),
		Description: `reprove fetches an artifact and its declared source inputs, each pinned by digest,
rebuilds it in a throw-away container with no network, and compares the two bit for bit.
When they differ it shows where and why, and names the likely cause with the fix to try.
Flags may come before or after the arguments; -- ends the flags.

Exit codes: 0 reproducible, 1 not reproducible, 2 usage or input error (unknown flag,
bad manifest, unpinned input, digest mismatch, nothing to infer from), 3 fetch or build failure.`,
		Flags: []cli.Flag{cacheFlag, noColorFlag, quietFlag},
		// Repeat a flag for several values: paths and URIs may hold commas.
		DisableSliceFlagSeparator: true,
		HideHelpCommand:           true,
		ExitErrHandler:            func(*cli.Context, error) {}, // run() prints and maps exit codes
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usagef("%s", flagMessage(err))
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("unknown command %q%s", c.Args().First(), suggest(c.Args().First(), c.App.VisibleCommands()))
			}
			return usagef("no command given")
		},
		Commands: cmds,
	}
	finishCommands(cmds, st)
	return app
}

// given returns the innermost context whose command line set name. The
// common flags are defined globally and on the commands they serve;
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
			return g, usagef("%v; set --cache-dir or REPROVE_CACHE_DIR", err)
		}
		g.CacheDir = dir
	}
	// Build mounts and runc need absolute host paths.
	abs, err := filepath.Abs(g.CacheDir)
	if err != nil {
		return g, usagef("--cache-dir %q: %v", g.CacheDir, err)
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
	&cli.StringSliceFlag{Name: "normalize", Usage: "apply the named normalization `PASS` before comparing (repeatable; listed in reprove diff --help)"},
	&cli.Int64Flag{Name: "max-report-size", Usage: "stop adding detail after this many `BYTES` of report", Value: 8 << 20},
	&cli.IntFlag{Name: "max-diff-lines", Usage: "`LINES` per unified or hex diff before it is cut", Value: 400},
	&cli.Int64Flag{Name: "max-temp-size", Usage: "`BYTES` of unpacked members kept on disk at once; members past it are compared as bytes", Value: diff.DefaultMaxTempSize},
	&cli.StringSliceFlag{Name: "exclude", Usage: "skip members matching `GLOB` (repeatable; doublestar: * within one folder level, ** across any, e.g. '**/BUILDINFO'; a GLOB without / matches base names); a GLOB that matches nothing is warned about"},
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

// diffLimits reads the diff flags; a limit must be above 0 (0 would
// silently mean its default).
func diffLimits(c *cli.Context) (diffConfig, error) {
	var lim archive.Limits
	var errs []error
	for _, l := range archive.Catalogue() {
		v := c.Int64(l.Flag)
		if v <= 0 {
			errs = append(errs, usagef("--%s %d: give a number above 0", l.Flag, v))
		}
		l.Set(&lim, v)
	}
	d := diffConfig{
		Normalize: c.StringSlice("normalize"), MaxDepth: int(lim.MaxDepth),
		MaxReportSize: c.Int64("max-report-size"), MaxDiffLines: c.Int("max-diff-lines"),
		MaxTempSize: c.Int64("max-temp-size"), Exclude: c.StringSlice("exclude"), Limits: lim,
	}
	return d, errors.Join(append(errs, d.check())...)
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
}

// flagsOf joins flag groups into one list for a command.
func flagsOf(groups ...[]cli.Flag) []cli.Flag {
	var all []cli.Flag
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}
