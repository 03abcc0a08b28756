// Package historytest gives tests a fresh history database of each kind:
// an SQLite file in a temporary folder, and a database of its own on the
// PostgreSQL server that scripts/test.sh starts (REPROVE_TEST_POSTGRES).
// Without that variable the PostgreSQL backend skips its test, except on CI
// (CI=true), where it fails it.
package historytest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// EnvPostgres names the variable holding the test server's URL.
const EnvPostgres = "REPROVE_TEST_POSTGRES"

// Backend makes a new, empty database and returns the name history.Open
// takes for it.
type Backend struct {
	Name string
	DSN  func(t testing.TB) string
}

// Backends are SQLite and PostgreSQL, for tests that run on both.
var Backends = []Backend{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "history.db") }},
	{"postgres", PostgresDSN},
}

// Each runs fn as a subtest per backend, each with a new database.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, b := range Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.DSN(t)) })
	}
}

// PostgresDSN creates a database of its own on the test server and drops it
// when the test ends.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set on CI: scripts/test.sh starts a PostgreSQL server and sets it", EnvPostgres)
		}
		t.Skipf("%s not set (scripts/test.sh starts a PostgreSQL server and sets it)", EnvPostgres)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: not a URL", EnvPostgres)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "reprove_test_" + hex.EncodeToString(b)
	if err := admin(base, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating a test database on %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		if err := admin(base, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

func admin(dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = db.ExecContext(ctx, stmt)
	return err
}
