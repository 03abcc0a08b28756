package main

// Handler tests of the history commands, without the CLI: real SQLite and
// PostgreSQL databases (historytest), results built in code.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/history"
	"github.com/reprove/reprove/rebuild/history/historytest"
	"github.com/reprove/reprove/report"
)

var night = time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)

func digest(c byte) string { return "sha256:" + strings.Repeat(fmt.Sprintf("%02x", c), 32) }

// testResult is a verify result of the target "hello" (manifest digest
// digest(1)) finishing at night plus days.
func testResult(days int, v report.Verdict, artifact string) *report.Result {
	at := night.AddDate(0, 0, days)
	res := &report.Result{
		SchemaVersion: report.SchemaVersion, Tool: tool(), Name: "hello",
		Manifest: report.Manifest{Path: "/nightly/hello/reprove.yaml", Digest: digest(1)},
		Verdict:  v, Artifact: report.Artifact{URI: "file:published/hello-1.0.tar.gz", Digest: artifact},
		StartedAt: at.Add(-2 * time.Second), FinishedAt: at, FirstDifference: -1,
	}
	if v != report.Error {
		res.Artifact.File = &report.File{Digest: artifact, Size: 397}
		res.Rebuilt = &report.File{Digest: digest(9), Size: 396}
	} else {
		res.Error = "artifact: digest mismatch: file:published/hello-1.0.tar.gz is sha256:bf42…, the manifest pins sha256:e540…\nmore"
	}
	if v == report.NotReproducible {
		res.Diff = &diff.Summary{Causes: []diff.Cause{
			{ID: "timestamps", Title: "Timestamps", Fix: "SOURCE_DATE_EPOCH", Members: []string{"a"}, Weight: 2},
			{ID: "file-order", Title: "File order", Fix: "sort", Members: []string{"b"}, Weight: 1},
		}}
	}
	return res
}

func record(t *testing.T, dsn string, res *report.Result, opts ...history.RecordOption) *history.Entry {
	t.Helper()
	e, err := recordResult(context.Background(), dsn, res, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRecordVerify(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "h.db")
	ctx := context.Background()
	var stderr bytes.Buffer
	recordVerify(ctx, &stderr, dsn, testResult(0, report.Reproducible, digest(0xaa)), nil)
	if stderr.Len() != 0 {
		t.Errorf("stderr after a first run: %q", stderr.String())
	}
	// The artifact was re-published: verify stops with exit 2 and records it as such.
	verr := fmt.Errorf("artifact: %w", fetch.ErrDigestMismatch)
	recordVerify(ctx, &stderr, dsn, testResult(1, report.Error, digest(0xaa)), verr)
	want := "reprove: regression: hello: reproducible on 2026-11-24T02:00:00Z, now error (exit 2)\n"
	if stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), want)
	}
	db, err := history.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	latest, err := db.Latest(ctx, history.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 1 || latest[0].ExitCode != 2 || latest[0].Regression != history.VerdictRegressed {
		t.Errorf("latest: %+v, want the error recorded with exit class 2 as a regression", latest)
	}

	// Recording never costs the verdict: it warns and returns.
	for _, c := range []struct{ dsn, want string }{
		{"mysql://u:pw@host/db", "unknown scheme mysql://"},
		{"/proc/no/such/history.db", "opening history database sqlite /proc/no/such/history.db"},
	} {
		stderr.Reset()
		recordVerify(ctx, &stderr, c.dsn, testResult(2, report.Reproducible, digest(0xaa)), nil)
		got := stderr.String()
		if !strings.HasPrefix(got, "reprove: warning: the result was not recorded in the history database (the verdict and exit code stand): ") ||
			!strings.Contains(got, c.want) || strings.Contains(got, ":pw@") {
			t.Errorf("--history %s: stderr %q, want a warning naming %q", c.dsn, got, c.want)
		}
	}

	// An interrupted run is not recorded: it would read as a regression.
	stderr.Reset()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	recordVerify(cancelled, &stderr, dsn, testResult(3, report.Error, digest(0xaa)), context.Canceled)
	if !strings.Contains(stderr.String(), "interrupted; its result is not recorded") {
		t.Errorf("stderr after Ctrl-C: %q", stderr.String())
	}
	if latest, _ := db.Latest(ctx, history.Filter{}); len(latest) != 1 || !latest[0].At.Equal(night.AddDate(0, 0, 1)) {
		t.Errorf("the interrupted run was recorded: %+v", latest)
	}
}

// nightlyRuns: reproducible, reproducible, not reproducible, then the
// artifact re-published and the verify stopping at the digest mismatch.
func nightlyRuns(t *testing.T, dsn string) {
	record(t, dsn, testResult(0, report.Reproducible, digest(0xaa)))
	record(t, dsn, testResult(1, report.Reproducible, digest(0xaa)))
	record(t, dsn, testResult(2, report.NotReproducible, digest(0xaa)))
	record(t, dsn, testResult(3, report.Reproducible, digest(0xbb)))
	other := testResult(3, report.Reproducible, digest(0xcc))
	other.Name, other.Manifest.Digest, other.Artifact.URI = "other", digest(2), "https://example.org/other.tar.gz"
	record(t, dsn, other)
}

func TestRunRegressions(t *testing.T) {
	historytest.Each(t, func(t *testing.T, dsn string) {
		nightlyRuns(t, dsn)
		ctx := context.Background()
		now := func() time.Time { return night.AddDate(0, 0, 3).Add(time.Hour) }
		var out bytes.Buffer
		code, err := runRegressions(ctx, &out, regressionsConfig{DSN: dsn, Since: "2d", Now: now})
		if err != nil || code != exitNotReproducible {
			t.Fatalf("runRegressions: %d, %v; want exit 1", code, err)
		}
		want := `2 regressions since 2026-11-25T03:00:00Z:
✗ 2026-11-26T02:00:00Z  hello: reproducible on 2026-11-25T02:00:00Z, now not-reproducible
    key ` + digest(1) + `  artifact file:published/hello-1.0.tar.gz
    likely causes: timestamps, file-order
✓ 2026-11-27T02:00:00Z  hello: not-reproducible on 2026-11-26T02:00:00Z, now reproducible; the artifact changed: sha256:aaaaaaaaaaaa → sha256:bbbbbbbbbbbb (re-published?)
    key ` + digest(1) + `  artifact file:published/hello-1.0.tar.gz
`
		if diff := cmp.Diff(want, out.String()); diff != "" {
			t.Errorf("text (-want +got):\n%s", diff)
		}

		out.Reset()
		code, err = runRegressions(ctx, &out, regressionsConfig{DSN: dsn, Since: "30m", Now: now})
		if err != nil || code != exitOK || out.String() != "no regressions since 2026-11-27T02:30:00Z\n" {
			t.Errorf("no regressions: exit %d, %v, %q", code, err, out.String())
		}

		out.Reset()
		code, err = runRegressions(ctx, &out, regressionsConfig{DSN: dsn, Since: "48h", JSON: true, Now: now})
		var doc struct {
			Since       time.Time `json:"since"`
			Regressions []struct {
				Name       string   `json:"name"`
				Regression []string `json:"regression"`
				Previous   struct {
					Verdict string `json:"verdict"`
				} `json:"previous"`
			} `json:"regressions"`
		}
		if err != nil || code != 1 || json.Unmarshal(out.Bytes(), &doc) != nil || len(doc.Regressions) != 2 ||
			!cmp.Equal(doc.Regressions[1].Regression, []string{"digest"}) || doc.Regressions[0].Previous.Verdict != "reproducible" {
			t.Errorf("--json: exit %d, %v:\n%s", code, err, out.String())
		}
	})
}

func TestHistoryUsageErrors(t *testing.T) {
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "h.db")
	record(t, dsn, testResult(0, report.Reproducible, digest(0xaa)))
	for name, run := range map[string]func() error{
		"bad since": func() error {
			_, err := runRegressions(ctx, &bytes.Buffer{}, regressionsConfig{DSN: dsn, Since: "yesterday"})
			return err
		},
		"negative since": func() error {
			_, err := runRegressions(ctx, &bytes.Buffer{}, regressionsConfig{DSN: dsn, Since: "-1h"})
			return err
		},
		"no database": func() error {
			_, err := runRegressions(ctx, &bytes.Buffer{}, regressionsConfig{Since: "24h"})
			return err
		},
		"bad scheme": func() error { return runHistory(ctx, &bytes.Buffer{}, historyConfig{DSN: "sqlite://x"}) },
		"missing file": func() error {
			_, err := runRegressions(ctx, &bytes.Buffer{}, regressionsConfig{DSN: filepath.Join(filepath.Dir(dsn), "typo.db"), Since: "24h"})
			return err
		},
		"unknown target": func() error { return runHistory(ctx, &bytes.Buffer{}, historyConfig{DSN: dsn, Target: "nope"}) },
		"import nothing": func() error { return runHistoryImport(ctx, &bytes.Buffer{}, importConfig{DSN: dsn}) },
	} {
		if err := run(); !errors.Is(err, rebuild.ErrUsage) || exitCode(err) != exitUsage {
			t.Errorf("%s: %v, want a usage error (exit 2)", name, err)
		}
	}
	// A database that cannot be read is a failure, exit 3.
	notDB := filepath.Join(t.TempDir(), "not.db")
	if err := os.WriteFile(notDB, bytes.Repeat([]byte("not an SQLite file\n"), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runRegressions(ctx, &bytes.Buffer{}, regressionsConfig{DSN: notDB, Since: "24h"})
	if err == nil || exitCode(err) != exitFailure || !strings.Contains(err.Error(), "not a database") {
		t.Errorf("a file that is not a database: %v, want exit 3", err)
	}
}

func TestRunHistory(t *testing.T) {
	historytest.Each(t, func(t *testing.T, dsn string) {
		nightlyRuns(t, dsn)
		ctx := context.Background()
		var out bytes.Buffer
		if err := runHistory(ctx, &out, historyConfig{DSN: dsn, Transitions: 5}); err != nil {
			t.Fatal(err)
		}
		want := `✓ hello  reproducible  last run 2026-11-27T02:00:00Z
    key ` + digest(1) + `  artifact file:published/hello-1.0.tar.gz
    2026-11-27T02:00:00Z  not-reproducible → reproducible, artifact sha256:aaaaaaaaaaaa → sha256:bbbbbbbbbbbb  [regression]
    2026-11-26T02:00:00Z  reproducible → not-reproducible  [regression]
    2026-11-24T02:00:00Z  first run: reproducible
✓ other  reproducible  last run 2026-11-27T02:00:00Z
    key ` + digest(2) + `  artifact https://example.org/other.tar.gz
    2026-11-27T02:00:00Z  first run: reproducible
`
		if diff := cmp.Diff(want, out.String()); diff != "" {
			t.Errorf("text (-want +got):\n%s", diff)
		}

		out.Reset()
		if err := runHistory(ctx, &out, historyConfig{DSN: dsn, Target: "other", Transitions: 1, JSON: true}); err != nil {
			t.Fatal(err)
		}
		var doc []struct {
			Latest      history.Entry   `json:"latest"`
			Transitions []history.Entry `json:"transitions"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc) != 1 || doc[0].Latest.Name != "other" || len(doc[0].Transitions) != 1 {
			t.Errorf("--json other: %v\n%s", err, out.String())
		}
	})
}

func TestHistoryTargetByManifestPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "reprove.yaml")
	body := `apiVersion: reprove/v1
name: hello
artifact: {uri: "file:hello.tar.gz", digest: "` + digest(0xaa) + `"}
builder: {image: "oci-layout:img@` + digest(0x11) + `"}
build: {script: "true", output: /out/hello.tar.gz}
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	key := targetKey(path)
	if !strings.HasPrefix(key, "sha256:") || key == path {
		t.Fatalf("targetKey(manifest) = %q, want its digest", key)
	}
	dsn := filepath.Join(dir, "h.db")
	res := testResult(0, report.Reproducible, digest(0xaa))
	res.Manifest.Digest = key
	record(t, dsn, res)
	var out bytes.Buffer
	if err := runHistory(context.Background(), &out, historyConfig{DSN: dsn, Target: path, Transitions: 1}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "✓ hello  reproducible") {
		t.Errorf("history %s:\n%s", path, out.String())
	}
}

func TestRunHistoryImport(t *testing.T) {
	historytest.Each(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		for i, v := range []report.Verdict{report.Reproducible, report.NotReproducible} {
			var b bytes.Buffer
			if err := report.WriteJSON(&b, testResult(i, v, digest(0xaa))); err != nil {
				t.Fatal(err)
			}
			sub := filepath.Join(dir, "out", fmt.Sprint(i))
			os.MkdirAll(sub, 0o755)
			os.WriteFile(filepath.Join(sub, "result.json"), b.Bytes(), 0o644)
		}
		os.WriteFile(filepath.Join(dir, "out", "summary.json"), []byte(`{"targets": 2}`), 0o644)
		var out bytes.Buffer
		ctx := context.Background()
		if err := runHistoryImport(ctx, &out, importConfig{DSN: dsn, Paths: []string{filepath.Join(dir, "out")}}); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if !strings.HasPrefix(out.String(), "imported 2 results into ") || !strings.HasSuffix(out.String(), " (0 already recorded, 1 other JSON file skipped, 0 failed)\n") {
			t.Errorf("import: %q", out.String())
		}
		out.Reset()
		broken := filepath.Join(dir, "broken.json")
		os.WriteFile(broken, []byte(`{"schemaVersion": "reprove.result/v1"`), 0o644)
		err := runHistoryImport(ctx, &out, importConfig{DSN: dsn, Paths: []string{broken, filepath.Join(dir, "out", "0", "result.json")}})
		if !errors.Is(err, rebuild.ErrUsage) || !strings.Contains(out.String(), "imported 0 results into ") ||
			!strings.Contains(out.String(), "(1 already recorded, 0 other JSON files skipped, 1 failed)\nfailed: "+broken+": reading result: not JSON") {
			t.Errorf("import of a broken file: %v\n%s", err, out.String())
		}
		out.Reset()
		err = runHistoryImport(ctx, &out, importConfig{DSN: dsn, Paths: []string{filepath.Join(dir, "out", "0", "result.json")}, MaxResultSize: 100})
		if !errors.Is(err, rebuild.ErrUsage) || !strings.Contains(out.String(), "over the 100-byte limit for a result") {
			t.Errorf("import with --max-result-size 100: %v\n%s", err, out.String())
		}
	})
}
