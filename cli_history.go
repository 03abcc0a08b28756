package main

// The flags of `reprove history` and its subcommands, and --history on
// verify. Like main.go, this file only maps flags to the handlers in
// cmd_history.go.

import (
	"github.com/urfave/cli/v2"

	"github.com/reprove/reprove/rebuild/history"
)

// historyFlag is --history on every command that records or reads results.
// No EnvVars: it is defined at two levels (history and its subcommands),
// where an env value would count as set at both; historyDSN reads it.
var historyFlag = &cli.StringFlag{
	Name:  "history",
	Usage: "the history database `DB`: an SQLite file path, or a postgres://USER:PASSWORD@HOST/DATABASE URL (default $REPROVE_HISTORY)",
}

// historyDSN is --history where the command line gave it, else
// REPROVE_HISTORY.
func historyDSN(c *cli.Context) string {
	if x := given(c, "history"); x.IsSet("history") {
		return x.String("history")
	}
	return historyEnv()
}

func historyCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:      "history",
		Usage:     "show each target's latest state and its last transitions, from the history database",
		ArgsUsage: "[TARGET]",
		Description: `Results are recorded by reprove verify --history DB (and reprove batch), or loaded with
reprove history import. TARGET is a target key (manifest digest or artifact URI), a name,
an artifact URI or a manifest path; without it every target is listed.`,
		Flags: []cli.Flag{
			historyFlag,
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"},
			&cli.IntFlag{Name: "transitions", Usage: "show each target's last `N` transitions", Value: 5},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usagef("history takes at most one TARGET, got %d arguments", c.NArg())
			}
			return runHistory(c.Context, c.App.Writer, historyConfig{
				DSN: historyDSN(c), Target: c.Args().First(), Transitions: c.Int("transitions"), JSON: c.Bool("json"),
			})
		},
		Subcommands: []*cli.Command{historyRegressionsCommand(), historyImportCommand()},
	},
		example{"reprove history --history nightly.db", "each target's latest state and its last transitions"},
		example{"reprove history --history nightly.db hello --json", "one target, as JSON"},
	)
}

func historyRegressionsCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:  "regressions",
		Usage: "list the targets that regressed: exit 1 if any, 0 if none",
		Description: `A target regresses when its previous run was reproducible (or reproducible after the
asked normalizations) and this one is not reproducible or an error, or when the digest
served at its artifact URI changed since the last run that fetched it (a re-published
release). Exit codes: 0 no regression, 1 regressions, 2 usage, 3 the database failed.`,
		Flags: []cli.Flag{
			historyFlag,
			&cli.StringFlag{Name: "since", Usage: "look back `DURATION` from now (24h, 90m, 7d)", Value: "24h"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("history regressions takes no arguments, got %d", c.NArg())
			}
			code, err := runRegressions(c.Context, c.App.Writer, regressionsConfig{
				DSN: historyDSN(c), Since: c.String("since"), JSON: c.Bool("json"),
			})
			if err != nil {
				return err
			}
			return answer(code)
		},
	},
		example{"reprove history regressions --history nightly.db --since 24h", "what regressed last night; exit 1 if anything did"},
		example{"REPROVE_HISTORY=postgres://reprove@db/reprove reprove history regressions --since 7d --json", "a week of regressions from a shared PostgreSQL"},
	)
}

func historyImportCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:      "import",
		Usage:     "load result files written elsewhere (reprove verify --json, batch shards) into the database",
		ArgsUsage: "RESULT.json|DIR...",
		Description: `Folders are searched for *.json files; those that are not reprove results (summary.json)
are skipped. A result recorded before is not recorded twice. Exit codes: 0 imported,
2 some file could not be read or is not a valid result (the others are imported),
3 the database failed.`,
		Flags: []cli.Flag{
			historyFlag,
			&cli.Int64Flag{Name: "max-result-size", Usage: "refuse result files over `BYTES`", Value: history.DefaultMaxResultSize},
		},
		Action: func(c *cli.Context) error {
			return runHistoryImport(c.Context, c.App.Writer, importConfig{
				DSN: historyDSN(c), Paths: c.Args().Slice(), MaxResultSize: c.Int64("max-result-size"),
			})
		},
	},
		example{"reprove history import --history nightly.db out/", "load every result a batch shard wrote under out/"},
	)
}
