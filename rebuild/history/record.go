package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/reprove/reprove/report"
)

// RecordOption changes how Record files a result.
type RecordOption func(*recordOptions)

type recordOptions struct {
	key      string
	exitCode *int
}

// WithKey files the result under key instead of KeyOf(res).
func WithKey(key string) RecordOption { return func(o *recordOptions) { o.key = key } }

// WithExitCode sets the exit class reprove gave the run (2 for an input
// error, 3 for a fetch or build failure); by default it is the verdict's
// (report.Verdict.ExitCode: 3 for every error).
func WithExitCode(code int) RecordOption { return func(o *recordOptions) { o.exitCode = &code } }

// KeyOf names the target a result is about: the manifest's digest when the
// run read a manifest file, else the artifact URI (with #member), which is
// what a manifest inferred from the artifact is keyed by.
func KeyOf(res *report.Result) string {
	if res.Manifest.Path != "" && res.Manifest.Digest != "" {
		return res.Manifest.Digest
	}
	if res.Artifact.Member != "" && res.Artifact.URI != "" {
		return res.Artifact.URI + "#" + res.Artifact.Member
	}
	return res.Artifact.URI
}

// Record files one result and returns its entry, with the regression it
// shows against the target's previous run. Recording the same result under
// the same key again changes nothing and returns the stored entry with
// Existing set. A result older than the target's latest takes its place in
// time: the entry after it is re-derived against it.
func (h *DB) Record(ctx context.Context, res *report.Result, opts ...RecordOption) (*Entry, error) {
	var o recordOptions
	for _, opt := range opts {
		opt(&o)
	}
	r, err := newRow(res, o, h.clock())
	if err != nil {
		return nil, err
	}
	var (
		id       int64
		existing bool
	)
	err = h.inTx(ctx, func(tx *sql.Tx) error {
		id, existing, err = h.insert(ctx, tx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recording %s in %s: %w", r.name, h.where, err)
	}
	e, err := h.entry(ctx, id)
	if err != nil {
		return nil, err
	}
	e.Existing = existing
	return e, nil
}

// row is a result flattened into the results table's columns.
type row struct {
	key, name, verdict, artifactURI, artifactDigest string
	rebuiltDigest, causes, errText, version         string
	at, duration, recorded                          int64
	exitCode                                        int
	digest, json                                    string
}

func newRow(res *report.Result, o recordOptions, now time.Time) (row, error) {
	if err := checkResult(res); err != nil {
		return row{}, fmt.Errorf("%w: %w", errInvalid, err)
	}
	r := row{
		key: o.key, name: res.Name, verdict: string(res.Verdict), artifactURI: res.Artifact.URI,
		errText: res.Error, version: res.Tool.Version,
		at: res.FinishedAt.UnixNano(), recorded: now.UnixNano(), exitCode: res.Verdict.ExitCode(),
	}
	if r.key == "" {
		r.key = KeyOf(res)
	}
	if r.key == "" {
		return row{}, fmt.Errorf("%w: result %q has no manifest digest and no artifact URI to key it by", errInvalid, res.Name)
	}
	if o.exitCode != nil {
		r.exitCode = *o.exitCode
	}
	if res.Artifact.File != nil { // the artifact was fetched and hashed in this run
		r.artifactDigest = res.Artifact.Digest
	}
	if res.Rebuilt != nil {
		r.rebuiltDigest = res.Rebuilt.Digest
	}
	r.duration = int64(duration(res))
	causes := []string{}
	if res.Diff != nil {
		for _, c := range res.Diff.Causes {
			causes = append(causes, c.ID)
		}
	}
	b, _ := json.Marshal(causes)
	r.causes = string(b)
	canon, err := canonicalJSON(res)
	if err != nil {
		return row{}, fmt.Errorf("%w: result %q: %w", errInvalid, res.Name, err)
	}
	r.json = string(canon)
	sum := sha256.Sum256(append([]byte(r.key+"\x00"), canon...))
	r.digest = "sha256:" + hex.EncodeToString(sum[:])
	return r, nil
}

// checkResult refuses what is not a verification result.
func checkResult(res *report.Result) error {
	if res == nil {
		return errors.New("no result to record")
	}
	if res.Mode == report.ModeDiff {
		return fmt.Errorf("result %q is a reprove diff comparison, not a verification: nothing to record", res.Name)
	}
	switch res.Verdict {
	case report.Reproducible, report.ReproducibleAfterNormalization, report.NotReproducible, report.Error:
	default:
		return fmt.Errorf("result %q: verdict %q is none of reproducible, reproducible-after-normalization, not-reproducible, error", res.Name, res.Verdict)
	}
	if res.FinishedAt.IsZero() {
		return fmt.Errorf("result %q: no finishedAt time", res.Name)
	}
	if res.Name == "" {
		return errors.New("result has no name")
	}
	return nil
}

// duration is how long the run took: finish minus start, else the sum of
// its phases.
func duration(res *report.Result) time.Duration {
	if !res.StartedAt.IsZero() && res.FinishedAt.After(res.StartedAt) {
		return res.FinishedAt.Sub(res.StartedAt)
	}
	var d time.Duration
	for _, t := range res.Timings {
		d += t.Duration
	}
	return d
}

// canonicalJSON is res as JSON with object keys sorted, so that a result
// recorded by verify and the same result read back from its --json file
// have the same bytes, and so the same digest.
func canonicalJSON(res *report.Result) ([]byte, error) {
	b, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encoding as JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // int64 nanoseconds stay exact
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("encoding as JSON: %w", err)
	}
	return json.Marshal(v)
}

// insert adds r unless a row with its digest exists, then derives its
// columns, re-derives the rows after it that depend on it, and updates the
// target's latest.
func (h *DB) insert(ctx context.Context, tx *sql.Tx, r row) (id int64, existing bool, err error) {
	if err := h.dialect.lock(ctx, tx, r.key); err != nil {
		return 0, false, err
	}
	err = tx.QueryRowContext(ctx, h.q(`INSERT INTO results (target_key, name, finished_at, verdict, exit_code,
		artifact_uri, artifact_digest, rebuilt_digest, causes, error, duration_ns, reprove_version,
		recorded_at, result_digest, result_json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (result_digest) DO NOTHING RETURNING id`),
		r.key, r.name, r.at, r.verdict, r.exitCode, r.artifactURI, r.artifactDigest, r.rebuiltDigest,
		r.causes, r.errText, r.duration, r.version, r.recorded, r.digest, r.json).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, h.q(`SELECT id FROM results WHERE result_digest = ?`), r.digest).Scan(&id)
		return id, true, err
	}
	if err != nil {
		return 0, false, fmt.Errorf("inserting: %w", err)
	}
	if err := h.rederive(ctx, tx, id); err != nil {
		return 0, false, err
	}
	// A run inserted before others changes what the next run compares
	// its verdict with and, when it fetched the artifact, what the next run
	// that fetched it compares its digest with. Nothing after those sees it.
	after := []string{`SELECT id FROM results WHERE target_key = ? AND (finished_at, id) > (?, ?)
		ORDER BY finished_at, id LIMIT 1`}
	if r.artifactDigest != "" {
		after = append(after, `SELECT id FROM results WHERE target_key = ? AND (finished_at, id) > (?, ?)
		AND artifact_digest <> '' ORDER BY finished_at, id LIMIT 1`)
	}
	for _, query := range after {
		var next int64
		err := tx.QueryRowContext(ctx, h.q(query), r.key, r.at, id).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, false, fmt.Errorf("finding the runs after it: %w", err)
		}
		if err := h.rederive(ctx, tx, next); err != nil {
			return 0, false, err
		}
	}
	return id, false, h.updateLatest(ctx, tx, r.key)
}

// rederive sets a row's derived columns from the target's runs before it.
func (h *DB) rederive(ctx context.Context, tx *sql.Tx, id int64) error {
	var (
		key string
		at  int64
		cur state
	)
	if err := tx.QueryRowContext(ctx, h.q(`SELECT target_key, finished_at, verdict, exit_code, artifact_digest
		FROM results WHERE id = ?`), id).Scan(&key, &at, &cur.verdict, &cur.exitCode, &cur.digest); err != nil {
		return fmt.Errorf("reading run %d: %w", id, err)
	}
	var (
		prevID     sql.NullInt64
		prev       state
		pp         *state
		lastDigest string
	)
	err := tx.QueryRowContext(ctx, h.q(`SELECT id, verdict, exit_code, artifact_digest FROM results
		WHERE target_key = ? AND (finished_at, id) < (?, ?) ORDER BY finished_at DESC, id DESC LIMIT 1`),
		key, at, id).Scan(&prevID, &prev.verdict, &prev.exitCode, &prev.digest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("finding the run before %d: %w", id, err)
	default:
		pp = &prev
		lastDigest = prev.digest
	}
	if pp != nil && lastDigest == "" {
		err := tx.QueryRowContext(ctx, h.q(`SELECT artifact_digest FROM results WHERE target_key = ?
			AND (finished_at, id) < (?, ?) AND artifact_digest <> '' ORDER BY finished_at DESC, id DESC LIMIT 1`),
			key, at, id).Scan(&lastDigest)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("finding the digest served before run %d: %w", id, err)
		}
	}
	transition, reg := derive(cur, pp, lastDigest)
	if _, err := tx.ExecContext(ctx, h.q(`UPDATE results SET prev_id = ?, prev_digest = ?, transition = ?, regression = ?
		WHERE id = ?`), prevID, lastDigest, boolInt(transition), int(reg), id); err != nil {
		return fmt.Errorf("updating run %d: %w", id, err)
	}
	return nil
}

func (h *DB) updateLatest(ctx context.Context, tx *sql.Tx, key string) error {
	var latest int64
	if err := tx.QueryRowContext(ctx, h.q(`SELECT id FROM results WHERE target_key = ?
		ORDER BY finished_at DESC, id DESC LIMIT 1`), key).Scan(&latest); err != nil {
		return fmt.Errorf("finding the latest run: %w", err)
	}
	if _, err := tx.ExecContext(ctx, h.q(`INSERT INTO targets (target_key, latest_id) VALUES (?, ?)
		ON CONFLICT (target_key) DO UPDATE SET latest_id = excluded.latest_id`), key, latest); err != nil {
		return fmt.Errorf("updating the latest run: %w", err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
