package main

// The flags of `reprove batch`. Like main.go, this file only maps flags to
// the handler in cmd_batch.go.

import (
	"github.com/urfave/cli/v2"
)

func batchCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "verify `N` targets at once (default: half the CPUs, at least 1)"},
		&cli.StringFlag{Name: "out", Usage: "write each target's reports to `DIR`/NAME/ (result.json, report.html, report.md, build.log), plus DIR/index.html and DIR/summary.json"},
		&cli.StringFlag{Name: "junit", Usage: "write one JUnit XML `FILE` with a test case per target (- for stdout)"},
		&cli.BoolFlag{Name: "keep-runs", Usage: "keep each target's run folder (rebuilt output) in the cache; by default it is removed once its reports are written"},
		&cli.StringFlag{Name: "shard", Usage: "verify only shard `I/N` of the targets (by a stable hash of each target's key)"},
		&cli.IntFlag{Name: "shard-count", Usage: "with the shard index from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs): `N` shards"},
		historyFlag,
		&cli.StringFlag{Name: "fail-on", Usage: "`regression`: exit 1 only when a target regressed (needs --history), 0 otherwise"},
		&cli.StringFlag{Name: "backend", Usage: "run the builds with sandbox backend `NAME`", Value: "runc"},
	}
	flags = flagsOf(flags, diffLimitFlags, fetchFlags, inferFlags, []cli.Flag{cacheFlag, quietFlag, noColorFlag})
	return withExamples(&cli.Command{
		Name:      "batch",
		Usage:     "verify many targets (a nightly job): parallel, one cache, one summary, history and regressions",
		ArgsUsage: "TARGET...",
		Description: `A TARGET is a manifest, a folder (every *.yaml, *.yml and *.json manifest in it, sorted),
a list file (*.txt: one manifest path or artifact per line, # comments, paths relative to
the list), or an artifact. One line per target on stdout; regressions (with --history) last.

Exit codes: 0 all reproducible, 1 any not reproducible, 3 any error (3 wins over 1),
2 usage. With --fail-on regression: 1 when some target regressed, 0 otherwise.`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("batch takes one or more TARGETs (manifests, folders, list files or artifacts)")
			}
			g, err := globals(c)
			if err != nil {
				return err
			}
			d, derr := diffLimits(c)
			if derr != nil {
				return derr
			}
			code, err := runBatch(c.Context, c.App.Writer, c.App.ErrWriter, batchConfig{
				common: g, Targets: c.Args().Slice(), Jobs: c.Int("jobs"), Out: c.String("out"), JUnit: c.String("junit"),
				KeepRuns: c.Bool("keep-runs"), Shard: c.String("shard"), ShardCount: c.Int("shard-count"),
				History: historyDSN(c), FailOn: c.String("fail-on"), Backend: c.String("backend"),
				Diff: d, Replace: c.StringSlice("replace-source"), Builder: c.String("builder-image"), Fetch: fetchSettings(c),
			})
			if err != nil {
				return err
			}
			return answer(code)
		},
	},
		example{"reprove batch --jobs 2 --out night/ --junit night/junit.xml nightly.txt", "every target in the list, two at a time, with their evidence"},
		example{"reprove batch --history nightly.db --fail-on regression manifests/", "a cron job: exit 1 only when something that reproduced stops reproducing"},
		example{"reprove batch --shard-count 4 --history postgres://reprove@db/reprove nightly.txt", "one Kubernetes Indexed Job pod's share (JOB_COMPLETION_INDEX)"},
	)
}
