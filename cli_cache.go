package main

// The flags of `reprove cache`. Like main.go, this file only maps flags to
// the handlers in cmd_cache.go.

import "github.com/urfave/cli/v2"

var cacheJSONFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON on stdout"}

func cacheCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:        "cache",
		Usage:       "show and prune the cache",
		Subcommands: []*cli.Command{cacheLsCommand(), cacheGCCommand()},
	},
		example{"reprove cache ls", "what the cache holds, by kind, with sizes"},
		example{"reprove cache gc --keep-runs 5 --older-than 30d", "prune run folders and entries not used this month"},
	)
}

func cacheLsCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:  "ls",
		Usage: "show what the cache holds, by kind, with sizes",
		Flags: []cli.Flag{cacheJSONFlag, cacheFlag},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 0, "no arguments"); err != nil {
				return err
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			return runCacheLs(c.App.Writer, g, c.Bool("json"))
		},
	},
		example{"reprove cache ls", "blobs, trees by kind, run folders and quarantined entries, with sizes"},
	)
}

func cacheGCCommand() *cli.Command {
	return withExamples(&cli.Command{
		Name:  "gc",
		Usage: "remove old run folders and cache entries not used lately (never while another reprove uses the cache)",
		Description: `Run folders beyond --keep-runs go (newest kept), then entries not used for --older-than,
then the least recently used until the cache fits in --max-size. Every entry is verified
again when it is next used, so removing one only costs fetching or deriving it again.

Exit codes: 0 done, 2 usage, 3 the cache is in use by another reprove (try again later).`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "keep-runs", Usage: "keep the `N` newest run folders (build logs and rebuilt outputs)", Value: 10},
			&cli.StringFlag{Name: "older-than", Usage: "remove entries not used for `DURATION` (30d, 12h)"},
			&cli.StringFlag{Name: "max-size", Usage: "then remove the least recently used until the cache fits in `SIZE` (20GiB)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "say what would go, remove nothing"},
			cacheJSONFlag, cacheFlag,
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c, 0, "no arguments"); err != nil {
				return err
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			return runCacheGC(c.App.Writer, cacheGCConfig{common: g, KeepRuns: c.Int("keep-runs"),
				MaxSize: c.String("max-size"), OlderThan: c.String("older-than"), DryRun: c.Bool("dry-run"), JSON: c.Bool("json")})
		},
	},
		example{"reprove cache gc --keep-runs 5 --older-than 30d", "keep the last five runs and what was used this month"},
		example{"reprove cache gc --max-size 20GiB --dry-run", "what would go to fit in 20 GiB"},
	)
}
