package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/history"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/report"
)

// recordTimeout bounds how long verify waits for the history database
// (a PostgreSQL server that does not answer, say) after the verdict.
const recordTimeout = time.Minute

// recordVerify files a verify result in the history database when --history
// (or REPROVE_HISTORY) names one. It runs after the verdict is known and the
// reports are written, and never changes the verdict or its exit code: a
// failure to record is a warning on stderr. A run stopped by Ctrl-C is not
// recorded, so that an interruption is never taken for a regression.
func recordVerify(ctx context.Context, stderr io.Writer, dsn string, res *report.Result, verr error) {
	if dsn == "" || res == nil || history.KeyOf(res) == "" {
		return // nothing to record, or nothing to file it under (a manifest that did not load)
	}
	if verr != nil && classify(verr) == classUsage {
		return // a mistake on the command line says nothing about the target
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "reprove: warning: the run was interrupted; its result is not recorded in the history database\n")
		return
	}
	code := verdictCode(res.Verdict)
	if verr != nil {
		code = exitCode(verr)
	}
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	e, err := recordResult(ctx, dsn, res, history.WithExitCode(code))
	if err != nil {
		fmt.Fprintf(stderr, "reprove: warning: the result was not recorded in the history database (the verdict and exit code stand): %v\n", err)
		return
	}
	if e.Regression != 0 {
		fmt.Fprintf(stderr, "reprove: regression: %s\n", describeRegression(e))
	}
}

func recordResult(ctx context.Context, dsn string, res *report.Result, opts ...history.RecordOption) (*history.Entry, error) {
	db, err := history.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	e, err := db.Record(ctx, res, opts...)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return e, err
}

// errDatabase marks a failure of the history database itself: exit 3.
var errDatabase = errors.New("the history database failed")

// dbFailure marks err, from the history database, as its failure (exit 3),
// unless it is a usage error or already marked.
func dbFailure(err error) error {
	if err == nil || errors.Is(err, rebuild.ErrUsage) || errors.Is(err, errDatabase) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", errDatabase, err)
}

// openHistory opens the database a history command uses; no database is
// a usage error.
func openHistory(ctx context.Context, dsn string, opts ...history.OpenOption) (*history.DB, error) {
	if dsn == "" {
		return nil, fmt.Errorf("%w: no history database: give --history DB (an SQLite file or a postgres:// URL) or set REPROVE_HISTORY", rebuild.ErrUsage)
	}
	db, err := history.Open(ctx, dsn, opts...)
	if errors.Is(err, history.ErrDSN) || errors.Is(err, history.ErrNotFound) {
		return nil, fmt.Errorf("%w: --history: %v", rebuild.ErrUsage, err)
	}
	return db, dbFailure(err)
}

type historyConfig struct {
	DSN         string
	Target      string // key, name, artifact URI or manifest path; "" for every target
	Transitions int    // how many of each target's last transitions to show
	JSON        bool
}

// targetHistory is one target's latest run and its last transitions.
type targetHistory struct {
	Latest      history.Entry   `json:"latest"`
	Transitions []history.Entry `json:"transitions"`
}

// runHistory lists each target's latest state and its last transitions.
func runHistory(ctx context.Context, w io.Writer, cfg historyConfig) error {
	return dbFailure(listHistory(ctx, w, cfg))
}

func listHistory(ctx context.Context, w io.Writer, cfg historyConfig) error {
	db, err := openHistory(ctx, cfg.DSN, history.Existing())
	if err != nil {
		return err
	}
	defer db.Close()
	latest, err := db.Latest(ctx, history.Filter{Target: targetKey(cfg.Target)})
	if err != nil {
		return err
	}
	if cfg.Target != "" && len(latest) == 0 {
		return fmt.Errorf("%w: no target %q in %s (give a key, name, artifact URI or manifest path)", rebuild.ErrUsage, cfg.Target, db)
	}
	list := make([]targetHistory, 0, len(latest))
	for _, e := range latest {
		tr, err := db.Transitions(ctx, e.Key, cfg.Transitions)
		if err != nil {
			return err
		}
		list = append(list, targetHistory{Latest: e, Transitions: nonNil(tr)})
	}
	if cfg.JSON {
		return writeJSON(w, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(w, "no results recorded in %s\n", db)
		return nil
	}
	for _, t := range list {
		writeTargetHistory(w, t)
	}
	return nil
}

// targetKey turns a manifest path into its target key (the manifest's
// digest); anything else is matched as given.
func targetKey(target string) string {
	if target == "" || !rebuild.IsManifest(target) {
		return target
	}
	if _, digest, err := manifest.Load(target); err == nil {
		return digest
	}
	return target
}

func writeTargetHistory(w io.Writer, t targetHistory) {
	e := t.Latest
	fmt.Fprintf(w, "%s %s  %s  last run %s\n", verdictMark(e.Verdict), e.Name, stateText(e.Verdict, e.ExitCode), stamp(e.At))
	fmt.Fprintf(w, "    key %s  artifact %s\n", e.Key, e.ArtifactURI)
	for _, tr := range t.Transitions {
		fmt.Fprintf(w, "    %s  %s\n", stamp(tr.At), transitionText(tr))
	}
}

// transitionText says what changed at a run, and whether it regressed.
func transitionText(e history.Entry) string {
	if e.Prev == nil {
		return "first run: " + stateText(e.Verdict, e.ExitCode)
	}
	s := stateText(e.Prev.Verdict, e.Prev.ExitCode) + " → " + stateText(e.Verdict, e.ExitCode)
	if e.Regression&history.DigestChanged != 0 {
		s += ", artifact " + shortDigest(e.Prev.ArtifactDigest) + " → " + shortDigest(e.ArtifactDigest)
	}
	if e.Regression != 0 {
		s += "  [regression]"
	}
	return s
}

type regressionsConfig struct {
	DSN   string
	Since string // a duration back from now: 24h, 90m, 7d
	JSON  bool
	Now   func() time.Time
}

// runRegressions lists the runs that regressed since then: exit 1 if any.
func runRegressions(ctx context.Context, w io.Writer, cfg regressionsConfig) (int, error) {
	code, err := listRegressions(ctx, w, cfg)
	return code, dbFailure(err)
}

func listRegressions(ctx context.Context, w io.Writer, cfg regressionsConfig) (int, error) {
	back, err := parseSince(cfg.Since)
	if err != nil {
		return 0, err
	}
	db, err := openHistory(ctx, cfg.DSN, history.Existing())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	since := now().UTC().Add(-back)
	regs, err := db.Regressions(ctx, since)
	if err != nil {
		return 0, err
	}
	code := exitOK
	if len(regs) > 0 {
		code = exitNotReproducible
	}
	if cfg.JSON {
		return code, writeJSON(w, struct {
			Since       time.Time       `json:"since"`
			Regressions []history.Entry `json:"regressions"`
		}{since, nonNil(regs)})
	}
	if len(regs) == 0 {
		fmt.Fprintf(w, "no regressions since %s\n", stamp(since))
		return code, nil
	}
	fmt.Fprintf(w, "%d %s since %s:\n", len(regs), plural(len(regs), "regression", "regressions"), stamp(since))
	for _, e := range regs {
		writeRegression(w, e)
	}
	return code, nil
}

func writeRegression(w io.Writer, e history.Entry) {
	fmt.Fprintf(w, "%s %s  %s\n", verdictMark(e.Verdict), stamp(e.At), describeRegression(&e))
	fmt.Fprintf(w, "    key %s  artifact %s\n", e.Key, e.ArtifactURI)
	if len(e.Causes) > 0 {
		fmt.Fprintf(w, "    likely causes: %s\n", strings.Join(e.Causes, ", "))
	}
	if e.Error != "" {
		msg, _, _ := strings.Cut(e.Error, "\n")
		fmt.Fprintf(w, "    error: %s\n", msg)
	}
}

// describeRegression is one line: which target, what it was, what it is.
func describeRegression(e *history.Entry) string {
	s := e.Name + ": "
	if e.Prev != nil {
		s += stateText(e.Prev.Verdict, e.Prev.ExitCode) + " on " + stamp(e.Prev.At) + ", now "
	}
	s += stateText(e.Verdict, e.ExitCode)
	if e.Regression&history.DigestChanged != 0 && e.Prev != nil {
		s += "; the artifact changed: " + shortDigest(e.Prev.ArtifactDigest) + " → " + shortDigest(e.ArtifactDigest) + " (re-published?)"
	}
	return s
}

// parseSince reads a duration back from now: Go's syntax (24h, 90m) or
// whole days (7d).
func parseSince(s string) (time.Duration, error) { return parseAge("--since", s) }

// parseAge reads a non-negative duration given to flag: Go's syntax (24h,
// 90m) or whole days (7d).
func parseAge(flag, s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 100000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%w: %s %q: give a duration, e.g. 24h, 90m or 7d", rebuild.ErrUsage, flag, s)
}

type importConfig struct {
	DSN           string
	Paths         []string
	MaxResultSize int64 // bytes; history.DefaultMaxResultSize when 0
}

// runHistoryImport loads result files written elsewhere (shards, other
// machines) into the database.
func runHistoryImport(ctx context.Context, w io.Writer, cfg importConfig) error {
	return dbFailure(importHistory(ctx, w, cfg))
}

func importHistory(ctx context.Context, w io.Writer, cfg importConfig) error {
	if len(cfg.Paths) == 0 {
		return fmt.Errorf("%w: history import takes RESULT.json files or folders of them", rebuild.ErrUsage)
	}
	db, err := openHistory(ctx, cfg.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.MaxResultSize > 0 {
		db.MaxResultSize = cfg.MaxResultSize
	}
	st, err := db.Import(ctx, cfg.Paths...)
	fmt.Fprintf(w, "imported %d result%s into %s (%d already recorded, %d other JSON file%s skipped, %d failed)\n",
		st.Added, plural(st.Added, "", "s"), db, st.Existing, len(st.Skipped), plural(len(st.Skipped), "", "s"), len(st.Failed))
	for _, f := range st.Failed {
		fmt.Fprintf(w, "failed: %v\n", f)
	}
	if errors.Is(err, history.ErrImport) {
		return fmt.Errorf("%w: %d file(s) could not be imported", rebuild.ErrUsage, len(st.Failed))
	}
	return err
}

func verdictMark(v report.Verdict) string {
	switch v {
	case report.Reproducible, report.ReproducibleAfterNormalization:
		return "✓"
	case report.NotReproducible:
		return "✗"
	default:
		return "!"
	}
}

// stateText is a verdict with its exit class when that says more (errors).
func stateText(v report.Verdict, exitCode int) string {
	if v == report.Error {
		return fmt.Sprintf("%s (exit %d)", v, exitCode)
	}
	return string(v)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// shortDigest is a digest cut to 12 hex digits, as the text report shows them.
func shortDigest(digest string) string {
	if digest == "" {
		return "(none)"
	}
	if algo, hex, ok := strings.Cut(digest, ":"); ok && len(hex) > 12 {
		return algo + ":" + hex[:12]
	}
	return digest
}

func nonNil(es []history.Entry) []history.Entry {
	if es == nil {
		return []history.Entry{}
	}
	return es
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// historyEnv is where --history is read from when the flag is not given.
func historyEnv() string { return os.Getenv("REPROVE_HISTORY") }
