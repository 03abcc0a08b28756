// Package history records verification results over time and answers what a
// nightly job asks of them: each target's latest state, its transitions, and
// which targets regressed.
//
// A database is an embedded SQLite file (pure Go, no cgo) or a shared
// PostgreSQL server; both have the same schema, created and upgraded by
// numbered migrations. Several processes may open and write one database at
// once: SQLite serializes writers with its file lock (every transaction
// begins IMMEDIATE), PostgreSQL with transaction-scoped advisory locks.
package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// DefaultMaxResultSize bounds the size of one result JSON file Import reads.
const DefaultMaxResultSize = 64 << 20

// DB is an open history database. It is safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect dialect
	where   string // the database, for messages (no password)
	// MaxResultSize bounds each file Import reads, in bytes
	// (DefaultMaxResultSize when Open returns).
	MaxResultSize int64
	// now is the clock for recorded_at; time.Now when nil.
	now func() time.Time

	stmtsMu sync.Mutex
	stmts   map[string]*sql.Stmt // prepared queries, by text
}

// ErrNotFound is returned by Open with Existing for an SQLite file that
// does not exist.
var ErrNotFound = errors.New("no history database")

// OpenOption changes how Open opens a database.
type OpenOption func(*openOptions)

type openOptions struct{ existing bool }

// Existing refuses to create an SQLite file: a command that only reads must
// not answer "no regressions" from a new, empty file a typo named.
func Existing() OpenOption { return func(o *openOptions) { o.existing = true } }

// Open opens the history database dsn names, creating and migrating it as
// needed: a postgres:// (or postgresql://) URL is a PostgreSQL server, any
// other string the path of an SQLite file.
func Open(ctx context.Context, dsn string, opts ...OpenOption) (*DB, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	d, source, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	where := d.name + " " + redact(dsn)
	if d.name == "sqlite" {
		where = "sqlite " + dsn
		if _, err := os.Stat(dsn); o.existing && errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: verify --history or history import creates it", ErrNotFound, dsn)
		}
	}
	sdb, err := sql.Open(d.driver, source)
	if err != nil {
		return nil, fmt.Errorf("opening history database %s: %w", where, err)
	}
	h := &DB{db: sdb, dialect: d, where: where, MaxResultSize: DefaultMaxResultSize}
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("opening history database %s: %w", where, err)
	}
	if err := d.prepare(ctx, sdb); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("history database %s: %w", where, err)
	}
	if err := h.migrate(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("history database %s: %w", where, err)
	}
	return h, nil
}

// Close closes the database.
func (h *DB) Close() error {
	h.stmtsMu.Lock()
	for _, st := range h.stmts {
		st.Close()
	}
	h.stmts = nil
	h.stmtsMu.Unlock()
	return h.db.Close()
}

// Kind is "sqlite" or "postgres".
func (h *DB) Kind() string { return h.dialect.name }

// String names the database for messages, without a password.
func (h *DB) String() string { return h.where }

func (h *DB) clock() time.Time {
	if h.now != nil {
		return h.now()
	}
	return time.Now()
}

// inTx runs fn in one transaction, committing when it returns nil.
func (h *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// q is query with the dialect's placeholders.
func (h *DB) q(query string) string { return h.dialect.rebind(query) }
