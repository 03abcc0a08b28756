package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/reprove/reprove/report"
)

// Filter narrows Latest.
type Filter struct {
	// Target, when set, keeps the targets whose key, name or artifact URI
	// (of the latest run) is exactly this.
	Target string
}

// entrySelect reads entries with their previous run; queries add WHERE,
// ORDER BY and LIMIT.
const entrySelect = `SELECT r.id, r.target_key, r.name, r.finished_at, r.verdict, r.exit_code,
	r.artifact_uri, r.artifact_digest, r.rebuilt_digest, r.causes, r.error, r.duration_ns,
	r.reprove_version, r.transition, r.regression,
	p.id, p.finished_at, p.verdict, p.exit_code, r.prev_digest
	FROM results r LEFT JOIN results p ON p.id = r.prev_id `

// Latest returns each target's latest run, by name then key.
func (h *DB) Latest(ctx context.Context, f Filter) ([]Entry, error) {
	query := entrySelect + `JOIN targets t ON t.latest_id = r.id `
	var args []any
	if f.Target != "" {
		query += `WHERE r.target_key = ? OR r.name = ? OR r.artifact_uri = ? `
		args = append(args, f.Target, f.Target, f.Target)
	}
	query += `ORDER BY r.name, r.target_key`
	return h.entries(ctx, "reading the latest runs", query, args...)
}

// Transitions returns a target's last n state changes (verdict, exit class
// or artifact digest; its first run counts as one), newest first.
func (h *DB) Transitions(ctx context.Context, key string, n int) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	return h.entries(ctx, "reading transitions of "+key,
		entrySelect+`WHERE r.target_key = ? AND r.transition <> 0 ORDER BY r.finished_at DESC, r.id DESC LIMIT ?`, key, n)
}

// Regressions returns the runs that finished at or after since and
// regressed from their target's run before them, oldest first.
func (h *DB) Regressions(ctx context.Context, since time.Time) ([]Entry, error) {
	return h.entries(ctx, "reading regressions",
		entrySelect+`WHERE r.regression <> 0 AND r.finished_at >= ? ORDER BY r.finished_at, r.id`, since.UnixNano())
}

// Result returns the result an entry recorded, as it was recorded.
func (h *DB) Result(ctx context.Context, id int64) (*report.Result, error) {
	var body string
	err := h.db.QueryRowContext(ctx, h.q(`SELECT result_json FROM results WHERE id = ?`), id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("no recorded run %d in %s", id, h.where)
	}
	if err != nil {
		return nil, fmt.Errorf("reading run %d from %s: %w", id, h.where, err)
	}
	var res report.Result
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		return nil, fmt.Errorf("run %d in %s: stored result: %w", id, h.where, err)
	}
	return &res, nil
}

func (h *DB) entry(ctx context.Context, id int64) (*Entry, error) {
	es, err := h.entries(ctx, "reading a run", entrySelect+`WHERE r.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(es) != 1 {
		return nil, fmt.Errorf("no recorded run %d in %s", id, h.where)
	}
	return &es[0], nil
}

func (h *DB) entries(ctx context.Context, what, query string, args ...any) ([]Entry, error) {
	st, err := h.prepared(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("%s from %s: %w", what, h.where, err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s from %s: %w", what, h.where, err)
	}
	defer rows.Close()
	var es []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("%s from %s: %w", what, h.where, err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s from %s: %w", what, h.where, err)
	}
	return es, nil
}

func scanEntry(rows *sql.Rows) (Entry, error) {
	var (
		e               Entry
		at, dur         int64
		verdict, causes string
		transition, reg int
		pID, pAt, pExit sql.NullInt64
		pVerdict        sql.NullString
		prevDigest      string
	)
	if err := rows.Scan(&e.ID, &e.Key, &e.Name, &at, &verdict, &e.ExitCode,
		&e.ArtifactURI, &e.ArtifactDigest, &e.RebuiltDigest, &causes, &e.Error, &dur,
		&e.Version, &transition, &reg,
		&pID, &pAt, &pVerdict, &pExit, &prevDigest); err != nil {
		return e, err
	}
	e.At = time.Unix(0, at).UTC()
	e.Verdict = report.Verdict(verdict)
	e.Duration = time.Duration(dur)
	e.Transition = transition != 0
	e.Regression = Regression(reg)
	if err := json.Unmarshal([]byte(causes), &e.Causes); err != nil {
		return e, fmt.Errorf("run %d: causes: %w", e.ID, err)
	}
	if pID.Valid {
		e.Prev = &Prior{ID: pID.Int64, At: time.Unix(0, pAt.Int64).UTC(), Verdict: report.Verdict(pVerdict.String),
			ExitCode: int(pExit.Int64), ArtifactDigest: prevDigest}
	}
	return e, nil
}

// prepared is query prepared once per DB: a listing runs the same queries
// for every target, and parsing them again each time would cost more than
// running them.
func (h *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	h.stmtsMu.Lock()
	defer h.stmtsMu.Unlock()
	if st, ok := h.stmts[query]; ok {
		return st, nil
	}
	st, err := h.db.PrepareContext(ctx, h.q(query))
	if err != nil {
		return nil, err
	}
	if h.stmts == nil {
		h.stmts = map[string]*sql.Stmt{}
	}
	h.stmts[query] = st
	return st, nil
}
