package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/batch"
	"github.com/reprove/reprove/rebuild/history"
	"github.com/reprove/reprove/rebuild/shard"
	"github.com/reprove/reprove/report"
)

type batchConfig struct {
	common
	Targets    []string
	Jobs       int
	Out        string
	JUnit      string
	KeepRuns   bool
	Shard      string // --shard I/N
	ShardCount int    // --shard-count N
	History    string // --history DB
	FailOn     string // --fail-on: "" (any failure) or "regression"
	Backend    string
	Diff       diffConfig
	Replace    []string
	Builder    string
	Fetch      fetchConfig
}

// runBatch verifies every target and returns the batch's exit code: 0 all
// reproducible, 1 any not reproducible, 3 any error (3 wins over 1); with
// --fail-on regression, 1 when some target regressed and 0 otherwise.
func runBatch(ctx context.Context, stdout, stderr io.Writer, cfg batchConfig) (int, error) {
	if cfg.FailOn != "" && cfg.FailOn != "regression" {
		return 0, fmt.Errorf("%w: --fail-on %q: the one policy is regression (without it, any failure fails the batch)", rebuild.ErrUsage, cfg.FailOn)
	}
	if cfg.FailOn == "regression" && cfg.History == "" {
		return 0, fmt.Errorf("%w: --fail-on regression needs --history DB (or REPROVE_HISTORY): regressions are found against recorded results", rebuild.ErrUsage)
	}
	sh, err := shard.Resolve(shard.Config{Shard: cfg.Shard, Count: cfg.ShardCount, Getenv: os.Getenv})
	if err != nil {
		return 0, fmt.Errorf("%w: %v", rebuild.ErrUsage, err)
	}
	if err := checkWritableParents(cfg.Out); err != nil {
		return 0, err
	}
	if cfg.Out != "" {
		// Made now, so that --junit DIR/junit.xml (inside it) checks out.
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return 0, fmt.Errorf("%w: --out %s: %v", rebuild.ErrUsage, cfg.Out, err)
		}
	}
	if err := checkWritableParents(cfg.JUnit); err != nil {
		return 0, err
	}
	targets, err := batch.Expand(cfg.Targets)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", rebuild.ErrUsage, err)
	}
	var db *history.DB
	if cfg.History != "" {
		if db, err = openHistory(ctx, cfg.History); err != nil {
			return 0, err
		}
		defer db.Close()
	}
	p := newProgress(cfg.Quiet)
	e, err := rebuild.NewEnv(envConfig(cfg.common, cfg.Backend, cfg.Replace, cfg.Builder, cfg.Fetch, cfg.Diff, p))
	if err != nil {
		return 0, err
	}
	defer e.Close()
	var regressions []*history.Entry
	on := func(o batch.Outcome) {
		fmt.Fprintln(stdout, outcomeLine(o, cfg.Color))
		if db == nil || ctx.Err() != nil {
			return
		}
		entry, err := db.Record(ctx, o.Result, history.WithExitCode(o.Class))
		if err != nil {
			fmt.Fprintf(stderr, "reprove: warning: %s was not recorded in the history database: %v\n", o.Target.Name, err)
			return
		}
		if entry.Regression != 0 {
			regressions = append(regressions, entry)
		}
	}
	sum, err := batch.Run(ctx, e, targets, batch.Config{Jobs: cfg.Jobs, Out: cfg.Out, KeepRuns: cfg.KeepRuns,
		Select: func(t batch.Target) bool { return sh.Has(t.Key) }, Classify: classifyOutcome}, on)
	p.Close()
	if err != nil {
		return 3, err
	}
	if cfg.JUnit != "" {
		if err := writeBatchJUnit(cfg.JUnit, sum); err != nil {
			return 3, err
		}
	}
	printBatchTail(stdout, sum, sh, regressions, db != nil)
	return batchCode(sum, cfg.FailOn, regressions), nil
}

// classifyOutcome is exit.go's policy for one batch target; an error
// result records its class.
func classifyOutcome(res *report.Result, err error) int {
	if err == nil {
		return verdictCode(res.Verdict)
	}
	if res.Verdict == report.Error {
		res.ErrorClass = string(classify(err))
	}
	return exitCode(err)
}

// outcomeLine is "✓ name reproducible 12.3s", "✗ name not-reproducible
// (cause)" or "! name error (class 3: first line of the error)".
func outcomeLine(o batch.Outcome, color bool) string {
	r := o.Result
	d := fmt.Sprintf("%.1fs", o.Duration.Seconds())
	switch o.Class {
	case 0:
		return fmt.Sprintf("✓ %s %s %s", o.Target.Name, r.Verdict, d)
	case 1:
		cause := "no known cause"
		if cs := r.RankedCauses(); len(cs) > 0 {
			cause = string(cs[0].ID)
		}
		return fmt.Sprintf("✗ %s %s (%s) %s", o.Target.Name, r.Verdict, cause, d)
	}
	msg := r.Error
	if o.Err != nil {
		msg = o.Err.Error()
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return fmt.Sprintf("! %s error (class %d: %s) %s", o.Target.Name, o.Class, msg, d)
}

// printBatchTail prints the counts, then the regressions: last, so that a
// person reading a cron mail from the bottom sees them first.
func printBatchTail(w io.Writer, sum *batch.Summary, sh shard.Shard, regs []*history.Entry, recorded bool) {
	counts := map[int]int{}
	for _, o := range sum.Outcomes {
		counts[o.Class]++
	}
	line := fmt.Sprintf("%d targets: %d reproducible, %d not reproducible, %d errors", len(sum.Outcomes), counts[0], counts[1], counts[2]+counts[3])
	if sh.Count > 0 {
		line += fmt.Sprintf(" (shard %s; %d left to other shards)", sh, sum.Skipped)
	}
	fmt.Fprintf(w, "\n%s, %s\n", line, sum.Finished.Sub(sum.Started).Round(100*time.Millisecond))
	if !recorded {
		return
	}
	if len(regs) == 0 {
		fmt.Fprintln(w, "No regressions.")
		return
	}
	sort.Slice(regs, func(i, j int) bool { return regs[i].Name < regs[j].Name })
	fmt.Fprintf(w, "\nREGRESSIONS (%d):\n", len(regs))
	for _, e := range regs {
		fmt.Fprintf(w, "  %s\n", describeRegression(e))
	}
}

// batchCode applies the exit policy of batch.
func batchCode(sum *batch.Summary, failOn string, regs []*history.Entry) int {
	if failOn == "regression" {
		if len(regs) > 0 {
			return 1
		}
		return 0
	}
	code := 0
	for _, o := range sum.Outcomes {
		switch {
		case o.Class >= 2:
			return 3
		case o.Class == 1:
			code = 1
		}
	}
	return code
}

func writeBatchJUnit(path string, sum *batch.Summary) error {
	results := make([]*report.Result, len(sum.Outcomes))
	for i, o := range sum.Outcomes {
		results[i] = o.Result
	}
	return report.WriteTo(path, os.Stdout, func(w io.Writer) error { return report.RenderJUnit(w, results) })
}

// checkWritableParents refuses, before anything runs, output paths whose
// folder does not exist.
func checkWritableParents(paths ...string) error {
	for _, p := range paths {
		if p == "" || p == "-" {
			continue
		}
		dir := p
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			dir = parentDir(p)
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("%w: %s: the folder %s does not exist; create it first", rebuild.ErrUsage, p, dir)
		}
	}
	return nil
}

func parentDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	} else if i == 0 {
		return "/"
	}
	return "."
}
