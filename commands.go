package main

// The command definitions: each maps its flags to a config and calls one
// handler from cmd_*.go. Register a new command with one line in
// main.go's commands.

import "github.com/urfave/cli/v2"

func verifyCommand() *cli.Command {
	flags := flagsOf([]cli.Flag{
		&cli.StringFlag{Name: "backend", Usage: "run the build with sandbox backend `NAME`", Value: "runc"},
		&cli.StringFlag{Name: "attestation", Usage: "write a signed in-toto attestation (DSSE) to `FILE`; needs --sign-key"},
		&cli.StringFlag{Name: "sign-key", Usage: "Ed25519 private key `FILE` (PEM, from reprove key generate)"},
		&cli.StringFlag{Name: "provenance", Usage: "write a signed SLSA provenance statement for the rebuild to `FILE`; needs --sign-key"},
		&cli.BoolFlag{Name: "all-members", Usage: "ARTIFACT is an archive named without #MEMBER: verify each member an adapter recognises (its Go binaries); report files get the member's name before their extension"},
	}, reportFlags, diffLimitFlags, fetchFlags, inferFlags, []cli.Flag{buildinfoFlag}, debianFlags, []cli.Flag{historyFlag, cacheFlag, quietFlag, noColorFlag})
	return withExamples(&cli.Command{
		Name:      "verify",
		Usage:     "rebuild an artifact from its declared inputs and compare bit for bit",
		ArgsUsage: "MANIFEST | ARTIFACT[#MEMBER]",
		Description: `MANIFEST is a reprove/v1 manifest (reprove.yaml). ARTIFACT is anything a manifest may
name (a path, file:, https://, gomod:MODULE@VERSION, npm:NAME@VERSION, deb:NAME=VERSION);
reprove then infers the manifest from what the artifact declares (a Go binary's build info,
a .deb's .buildinfo: --buildinfo, else one derived from the archive, and the result says its
inputs are approximated) and tries its candidates.
The verdict goes to stdout as text unless a report is written to stdout (-). Reports are
written for every outcome, errors included (verdict "error").

Exit codes: 0 reproducible, 1 not reproducible, 2 usage or input error, 3 fetch or build failure.`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "one MANIFEST or ARTIFACT"); err != nil {
				return err
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			d, derr := diffLimits(c)
			return runVerify(c.Context, verifyConfig{
				common:   g,
				Target:   c.Args().First(),
				Backend:  c.String("backend"),
				Outputs:  outputs(c),
				Diff:     d,
				Replace:  c.StringSlice("replace-source"),
				Builder:  c.String("builder-image"),
				Fetch:    fetchSettings(c),
				History:  historyDSN(c),
				Debian:   debianSettings(c),
				All:      c.Bool("all-members"),
				FlagErrs: derr,
			})
		},
	},
		example{"reprove verify reprove.yaml", "rebuild what the manifest declares; the verdict on stdout"},
		example{"reprove verify reprove.yaml --json r.json --html r.html", "keep evidence (several formats at once; - is stdout)"},
		example{"reprove verify --attestation vsa.json --sign-key key.pem reprove.yaml", "a signed in-toto attestation of the verdict"},
		example{"reprove verify ./hello --builder-image oci-layout:img@sha256:…", "no manifest: infer it from a Go binary's build info"},
		example{"reprove verify --buildinfo hello_1.0_amd64.buildinfo hello_1.0_amd64.deb", "a Debian package, rebuilt as its .buildinfo says"},
		example{"reprove verify --all-members --json r.json npm:tool-linux-x64@1.2.3", "every Go binary of an npm package, one report each (r.NAME.json)"},
		example{"reprove verify gomod:golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64", "a whole Go release rebuilt from a bootstrap toolchain (tens of minutes)"},
	)
}

func initCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:      "init",
		Usage:     "infer a manifest from what an artifact declares, for a person to review",
		ArgsUsage: "ARTIFACT[#MEMBER]",
		Description: `Writes the first candidate manifest inferred from the artifact (a Go binary's build info,
a .deb's .buildinfo), with comments saying what was inferred and from where. Review every
input before trusting it.

Exit codes: 0 written, 2 usage or input error (nothing to infer from), 3 fetch failure.`,
		Flags: flagsOf([]cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the manifest to `FILE` (- for stdout)", Value: "-"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite FILE if it exists"},
		}, fetchFlags, inferFlags, []cli.Flag{buildinfoFlag}, debianFlags, []cli.Flag{cacheFlag, quietFlag}),
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "one ARTIFACT"); err != nil {
				return err
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			return runInit(c.Context, initConfig{
				common: g, Target: c.Args().First(), Output: c.String("output"), Force: c.Bool("force"),
				Replace: c.StringSlice("replace-source"), Builder: c.String("builder-image"), Fetch: fetchSettings(c),
				Debian: debianSettings(c),
			})
		},
	},
		example{"reprove init ./hello -o reprove.yaml", "write the manifest inferred from a Go binary"},
		example{"reprove init 'gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64#bin/gofmt'", "infer from a member of a module zip"},
		example{"reprove init deb:hello=2.10-3 -o reprove.yaml", "a manifest for a package of the archive (its build image is built too)"},
	)
}

func diffCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:      "diff",
		Usage:     "compare two files or folders deeply and name the likely causes",
		ArgsUsage: "A B",
		Description: "Exit codes: 0 identical (or equivalent after the asked normalizations), 1 different, 2 error.\n\n" +
			"Normalizations:\n" + normalizationHelp(),
		Flags: flagsOf([]cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "write `FORMAT`: text, json, markdown, html or diffoscope-json", Value: "text"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of stdout"},
		}, diffLimitFlags, []cli.Flag{noColorFlag}),
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 2, "two paths A and B"); err != nil {
				return err
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			d, err := diffLimits(c)
			if err != nil {
				return err
			}
			return runDiff(c.Context, diffCommandConfig{
				common: g, A: c.Args().Get(0), B: c.Args().Get(1),
				Format: c.String("format"), Output: c.String("output"), Diff: d,
			})
		},
	},
		example{"reprove diff a.tar.gz b.tar.gz", "the deep diff, with likely causes"},
		example{"reprove diff --normalize tar-mtime a.tar b.tar", "ignore what a normalization removes"},
		example{"reprove diff a.zip b.zip --format html -o diff.html", "a self-contained HTML page"},
	)
}

func reportCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:        "report",
		Usage:       "render a saved JSON result again, in other formats",
		ArgsUsage:   "RESULT.json",
		Description: "Exit codes: 0 rendered, 2 usage or input error (unreadable result, unwritable output).",
		Flags: flagsOf([]cli.Flag{&cli.StringFlag{Name: "text", Usage: "write the text report to `FILE` (- for stdout)"}},
			reportFlags, []cli.Flag{noColorFlag}),
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 1, "one RESULT.json"); err != nil {
				return err
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			o := outputs(c)
			o.Text = c.String("text")
			return runReport(reportConfig{common: g, Input: c.Args().First(), Outputs: o})
		},
	},
		example{"reprove report r.json --html r.html", "render a saved result as HTML"},
		example{"reprove report r.json --markdown - ", "Markdown on stdout, for a pull-request comment"},
	)
}

func keyCommand() *cli.Command {
	return &cli.Command{
		Name:  "key",
		Usage: "manage signing keys for attestations",
		Subcommands: []*cli.Command{withExamples(&cli.Command{
			Name:        "generate",
			Usage:       "write a new Ed25519 key pair as PEM (PKCS#8 private, mode 0600; PKIX public)",
			Description: "Exit codes: 0 written, 2 usage or input error (a key file exists, a folder is missing).",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "private", Usage: "private key `FILE`", Required: true},
				&cli.StringFlag{Name: "public", Usage: "public key `FILE`", Required: true},
			},
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 0, "no arguments"); err != nil {
					return err
				}
				return runKeyGenerate(c.String("private"), c.String("public"))
			},
		},
			example{"reprove key generate --private key.pem --public key.pub", "a key pair for --sign-key and attestation verify --key"},
		)},
	}
}

func attestationCommand() *cli.Command {
	return &cli.Command{
		Name:  "attestation",
		Usage: "check signed attestations",
		Subcommands: []*cli.Command{withExamples(&cli.Command{
			Name:      "verify",
			Usage:     "check a DSSE envelope's signature and print its statement",
			ArgsUsage: "FILE",
			Description: `Exit codes: 0 the signature is valid and the statement says what was expected,
1 it is not, 2 usage or input error (unreadable key or file).`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "key", Usage: "public key `FILE` (PEM)", Required: true},
				&cli.StringFlag{Name: "artifact", Usage: "fail unless the sha256 of `FILE` is a subject of the statement"},
				&cli.StringFlag{Name: "expect", Usage: "fail unless the verification summary's result is `RESULT` (PASSED or FAILED)"},
			},
			Action: func(c *cli.Context) error {
				if err := needArgs(c, 1, "one FILE"); err != nil {
					return err
				}
				return runAttestationVerify(c.App.Writer, attestationCheck{
					Key: c.String("key"), File: c.Args().First(), Artifact: c.String("artifact"), Expect: c.String("expect"),
				})
			},
		},
			example{"reprove attestation verify --key key.pub vsa.json", "check the signature"},
			example{"reprove attestation verify --key key.pub --artifact hello.tar.gz --expect PASSED vsa.json", "check what it says about an artifact"},
		)},
	}
}

// needArgs is a usage error unless c has n arguments.
func needArgs(c *cli.Context, n int, what string) error {
	if c.NArg() == n {
		return nil
	}
	return usagef("%s takes %s, got %d %s", c.Command.Name, what, c.NArg(), plural(c.NArg(), "argument", "arguments"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
