package history

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/rebuild/history/historytest"
	"github.com/reprove/reprove/report"
)

// Every test that touches a database runs against both SQLite and
// PostgreSQL (historytest).
var eachBackend = historytest.Each

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
			res.Diff.Causes = append(res.Diff.Causes, diff.Cause{ID: diff.CauseID(c), Title: c, Members: []string{}})
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
