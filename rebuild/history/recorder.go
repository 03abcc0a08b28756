package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/reprove/reprove/report"
)

// recorder writes rows within one transaction, with its statements
// prepared once for the whole batch.
type recorder struct {
	h     *DB
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

// The statements a recorder runs, by name.
var recorderSQL = map[string]string{
	"insert": `INSERT INTO results (target_key, name, finished_at, verdict, exit_code,
		artifact_uri, artifact_digest, rebuilt_digest, causes, error, duration_ns, reprove_version,
		recorded_at, result_digest, result_json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (result_digest) DO NOTHING RETURNING id`,
	"byDigest": `SELECT id FROM results WHERE result_digest = ?`,
	"get":      `SELECT target_key, finished_at, verdict, exit_code, artifact_digest FROM results WHERE id = ?`,
	// The run before one, and the digest of the latest earlier run that
	// fetched the artifact.
	"prev": `SELECT id, finished_at, verdict, exit_code, artifact_digest FROM results
		WHERE target_key = ? AND (finished_at, id) < (?, ?) ORDER BY finished_at DESC, id DESC LIMIT 1`,
	"prevDigest": `SELECT artifact_digest FROM results WHERE target_key = ? AND (finished_at, id) < (?, ?)
		AND artifact_digest <> '' ORDER BY finished_at DESC, id DESC LIMIT 1`,
	// The run after one, and the next run that fetched the artifact.
	"next": `SELECT id FROM results WHERE target_key = ? AND (finished_at, id) > (?, ?)
		ORDER BY finished_at, id LIMIT 1`,
	"nextDigest": `SELECT id FROM results WHERE target_key = ? AND (finished_at, id) > (?, ?)
		AND artifact_digest <> '' ORDER BY finished_at, id LIMIT 1`,
	"update": `UPDATE results SET prev_id = ?, prev_digest = ?, transition = ?, regression = ? WHERE id = ?`,
	"latest": `SELECT id FROM results WHERE target_key = ? ORDER BY finished_at DESC, id DESC LIMIT 1`,
	"setLatest": `INSERT INTO targets (target_key, latest_id) VALUES (?, ?)
		ON CONFLICT (target_key) DO UPDATE SET latest_id = excluded.latest_id`,
}

func (h *DB) newRecorder(ctx context.Context, tx *sql.Tx) (*recorder, error) {
	rec := &recorder{h: h, tx: tx, stmts: map[string]*sql.Stmt{}}
	for name, query := range recorderSQL {
		st, err := tx.PrepareContext(ctx, h.q(query))
		if err != nil {
			rec.close()
			return nil, fmt.Errorf("preparing %s: %w", name, err)
		}
		rec.stmts[name] = st
	}
	return rec, nil
}

func (rec *recorder) close() {
	for _, st := range rec.stmts {
		st.Close()
	}
}

// record adds r unless a row with its digest exists, derives its columns,
// re-derives the rows after it that depend on it, and updates the target's
// latest. The entry it returns is complete unless Existing is set.
func (rec *recorder) record(ctx context.Context, r row) (*Entry, error) {
	if err := rec.h.dialect.lock(ctx, rec.tx, r.key); err != nil {
		return nil, err
	}
	var id int64
	err := rec.stmts["insert"].QueryRowContext(ctx, r.key, r.name, r.at, r.verdict, r.exitCode, r.artifactURI,
		r.artifactDigest, r.rebuiltDigest, r.causes, r.errText, r.duration, r.version, r.recorded, r.digest, r.json).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if err := rec.stmts["byDigest"].QueryRowContext(ctx, r.digest).Scan(&id); err != nil {
			return nil, fmt.Errorf("finding the recorded copy: %w", err)
		}
		return &Entry{ID: id, Existing: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inserting: %w", err)
	}
	d, err := rec.rederive(ctx, id)
	if err != nil {
		return nil, err
	}
	// A run inserted before others changes what the next run compares its
	// verdict with and, when it fetched the artifact, what the next run that
	// fetched it compares its digest with. Nothing after those sees it.
	after := []string{"next"}
	if r.artifactDigest != "" {
		after = append(after, "nextDigest")
	}
	for _, name := range after {
		var next int64
		err := rec.stmts[name].QueryRowContext(ctx, r.key, r.at, id).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("finding the runs after it: %w", err)
		}
		if _, err := rec.rederive(ctx, next); err != nil {
			return nil, err
		}
	}
	if err := rec.updateLatest(ctx, r.key); err != nil {
		return nil, err
	}
	return r.entry(id, d), nil
}

// derivation is what rederive concluded about a row.
type derivation struct {
	prev       *Prior
	transition bool
	regression Regression
}

// rederive sets a row's derived columns from the target's runs before it.
func (rec *recorder) rederive(ctx context.Context, id int64) (derivation, error) {
	var (
		key string
		at  int64
		cur state
	)
	if err := rec.stmts["get"].QueryRowContext(ctx, id).Scan(&key, &at, &cur.verdict, &cur.exitCode, &cur.digest); err != nil {
		return derivation{}, fmt.Errorf("reading run %d: %w", id, err)
	}
	var (
		d      derivation
		prevID sql.NullInt64
		prevAt int64
		prev   state
		pp     *state
	)
	err := rec.stmts["prev"].QueryRowContext(ctx, key, at, id).Scan(&prevID, &prevAt, &prev.verdict, &prev.exitCode, &prev.digest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return d, fmt.Errorf("finding the run before %d: %w", id, err)
	default:
		pp = &prev
		d.prev = &Prior{ID: prevID.Int64, At: time.Unix(0, prevAt).UTC(), Verdict: report.Verdict(prev.verdict),
			ExitCode: prev.exitCode, ArtifactDigest: prev.digest}
	}
	if d.prev != nil && d.prev.ArtifactDigest == "" {
		err := rec.stmts["prevDigest"].QueryRowContext(ctx, key, at, id).Scan(&d.prev.ArtifactDigest)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return d, fmt.Errorf("finding the digest served before run %d: %w", id, err)
		}
	}
	lastDigest := ""
	if d.prev != nil {
		lastDigest = d.prev.ArtifactDigest
	}
	d.transition, d.regression = derive(cur, pp, lastDigest)
	if _, err := rec.stmts["update"].ExecContext(ctx, prevID, lastDigest, boolInt(d.transition), int(d.regression), id); err != nil {
		return d, fmt.Errorf("updating run %d: %w", id, err)
	}
	return d, nil
}

func (rec *recorder) updateLatest(ctx context.Context, key string) error {
	var latest int64
	if err := rec.stmts["latest"].QueryRowContext(ctx, key).Scan(&latest); err != nil {
		return fmt.Errorf("finding the latest run: %w", err)
	}
	if _, err := rec.stmts["setLatest"].ExecContext(ctx, key, latest); err != nil {
		return fmt.Errorf("updating the latest run: %w", err)
	}
	return nil
}

// entry is the row as stored under id, with what rederive derived.
func (r row) entry(id int64, d derivation) *Entry {
	return &Entry{
		ID: id, Key: r.key, Name: r.name, At: time.Unix(0, r.at).UTC(), Verdict: report.Verdict(r.verdict),
		ExitCode: r.exitCode, ArtifactURI: r.artifactURI, ArtifactDigest: r.artifactDigest,
		RebuiltDigest: r.rebuiltDigest, Causes: r.causeIDs, Error: r.errText, Duration: time.Duration(r.duration),
		Version: r.version, Transition: d.transition, Regression: d.regression, Prev: d.prev,
	}
}
