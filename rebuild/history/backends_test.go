package history

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

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/report"
)

// Every test that touches a database runs against both: an SQLite file in
// a temporary folder, and a fresh database on the PostgreSQL server that
// scripts/test.sh starts (REPROVE_TEST_POSTGRES). Without that variable the
// PostgreSQL half is skipped, except on CI (CI=true), where it fails.

type backend struct {
	name string
	dsn  func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "history.db") }},
	{"postgres", postgresDSN},
}

// eachBackend runs fn as a subtest per backend, each with a new database.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.dsn(t)) })
	}
}

// postgresDSN creates a database of its own on the test server and drops
// it when the test ends.
func postgresDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("REPROVE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("REPROVE_TEST_POSTGRES is not set on CI: scripts/test.sh starts a PostgreSQL server and sets it")
		}
		t.Skip("REPROVE_TEST_POSTGRES not set (scripts/test.sh starts a PostgreSQL server and sets it)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "reprove_test_" + randomHex(t, 8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating a test database on %s: %v", redact(base), err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("dropping test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func openDB(t testing.TB, dsn string) *DB {
	t.Helper()
	h, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// run describes one result to record, for tests.
type run struct {
	name     string
	manifest string // manifest digest, the key
	at       time.Time
	verdict  report.Verdict
	artifact string // digest served; "" when not fetched
	causes   []string
}

var t0 = time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }

func (r run) result() *report.Result {
	res := &report.Result{
		SchemaVersion:   report.SchemaVersion,
		Tool:            report.Tool{Name: "reprove", Version: "v0.0.0-test", ID: "https://github.com/reprove/reprove"},
		Name:            r.name,
		Manifest:        report.Manifest{Path: "/nightly/" + r.name + "/reprove.yaml", Digest: r.manifest},
		Verdict:         r.verdict,
		Artifact:        report.Artifact{URI: "https://example.org/" + r.name + ".tar.gz", Digest: r.artifact},
		Inputs:          []report.Input{},
		Environment:     []string{},
		StartedAt:       r.at.Add(-90 * time.Second),
		FinishedAt:      r.at,
		Timings:         []report.Timing{{Phase: "build", Duration: 80 * time.Second}},
		FirstDifference: -1,
		Backend:         "runc",
	}
	if r.artifact != "" {
		res.Artifact.File = &report.File{Path: "/cache/blobs/x", Digest: r.artifact, Size: 397}
	} else {
		res.Artifact.Digest = "sha256:" + "d0" + hex.EncodeToString(make([]byte, 31)) // as declared, never fetched
	}
	switch r.verdict {
	case report.Reproducible:
		res.Rebuilt = &report.File{Path: "/runs/x/out", Digest: r.artifact, Size: 397}
	case report.NotReproducible:
		res.Rebuilt = &report.File{Path: "/runs/x/out", Digest: "sha256:" + hex.EncodeToString(make([]byte, 32)), Size: 396}
		res.FirstDifference = 28
		res.Diff = &diff.Summary{}
		for _, c := range r.causes {
			res.Diff.Causes = append(res.Diff.Causes, diff.Cause{ID: c, Title: c, Members: []string{}})
		}
	case report.Error:
		res.Error = "artifact: digest mismatch"
	}
	return res
}

func digestOf(c byte) string {
	b := make([]byte, 32)
	for i := range b {
		b[i] = c
	}
	return "sha256:" + hex.EncodeToString(b)
}
