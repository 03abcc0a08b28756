package main

// End to end: the built binary verifies the hello fixture twice with
// --history (real runc builds), the second time after the vendor
// re-published the artifact, then lists the regression; against SQLite and
// PostgreSQL.

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reprove/reprove/rebuild/history/historytest"
	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
	"github.com/reprove/reprove/report"
)

func TestHistoryEndToEnd(t *testing.T) {
	sandboxtest.Need(t, true)
	image := layoutRef(t)
	historytest.Each(t, func(t *testing.T, dsn string) {
		m := fixture(t, "hello", image)
		dir := t.TempDir()
		night1, night2 := filepath.Join(dir, "night1.json"), filepath.Join(dir, "night2.json")

		cache := t.TempDir() // one cache for both nights: the artifact is read again each time
		r := reprove(t, cache, "verify", "--history", dsn, "--json", night1, m)
		if r.code != 0 || strings.Contains(r.stderr, "warning") || strings.Contains(r.stderr, "regression") {
			t.Fatalf("night 1: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		// The vendor re-publishes hello-1.0.tar.gz with other bytes.
		republished, err := os.ReadFile(filepath.Join("fixtures", "hello-dated", "published", "hello-1.0.tar.gz"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(m), "published", "hello-1.0.tar.gz"), republished, 0o644); err != nil {
			t.Fatal(err)
		}
		r = reprove(t, cache, "verify", "--history", dsn, "--json", night2, m)
		if r.code != exitUsage {
			t.Fatalf("night 2: exit %d, want 2 (digest mismatch)\n%s", r.code, r.stderr)
		}
		regression := regexp.MustCompile(`hello: reproducible on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, now error \(exit 2\)`)
		if !regression.MatchString(r.stderr) || !strings.Contains(r.stderr, "reprove: regression: ") {
			t.Errorf("night 2 stderr does not say the regression:\n%s", r.stderr)
		}

		r = reprove(t, t.TempDir(), "history", "regressions", "--history", dsn, "--since", "24h")
		if r.code != exitNotReproducible || !strings.HasPrefix(r.stdout, "1 regression since ") ||
			!regression.MatchString(r.stdout) || !strings.Contains(r.stdout, "    error: artifact: ") || !strings.Contains(r.stdout, "digest mismatch\n") {
			t.Errorf("history regressions: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		// REPROVE_HISTORY stands in for the flag.
		t.Setenv("REPROVE_HISTORY", dsn)
		r = reprove(t, t.TempDir(), "history", m)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "! hello  error (exit 2)  last run ") ||
			// The served digest changed too: a re-published release.
			!strings.Contains(r.stdout, "reproducible → error (exit 2), artifact sha256:e5404382a78e → sha256:bf422b287168  [regression]") ||
			!strings.Contains(r.stdout, "first run: reproducible") {
			t.Errorf("history MANIFEST: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		// The JSON files hold the same results: importing them adds nothing.
		r = reprove(t, t.TempDir(), "history", "import", night1, night2)
		if r.code != 0 || !strings.Contains(r.stdout, "imported 0 results into ") || !strings.Contains(r.stdout, "(2 already recorded,") {
			t.Errorf("history import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

func TestVerifyHistoryFailureKeepsVerdict(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	r := reprove(t, t.TempDir(), "verify", "--history", "mysql://u:hunter2@db/reprove", m)
	if r.code != 0 || !strings.Contains(r.stdout, "✓ hello: reproducible") {
		t.Errorf("verify with a bad --history: exit %d, want the verdict's 0\n%s", r.code, r.stdout)
	}
	want := "reprove: warning: the result was not recorded in the history database (the verdict and exit code stand): "
	if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "unknown scheme mysql://") || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("stderr:\n%s\nwant the warning %q, without the password", r.stderr, want)
	}
	r = reprove(t, t.TempDir(), "history", "regressions")
	if r.code != exitUsage || !strings.Contains(r.stderr, "no history database: give --history DB") || r.stdout != "" {
		t.Errorf("history regressions without a database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestHistoryFlagBeatsEnv(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	if _, err := recordResult(context.Background(), good, testResult(0, report.Reproducible, digest(0xaa))); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REPROVE_HISTORY", filepath.Join(dir, "missing.db"))
	// --history given to history, or to its subcommand, wins over the
	// variable; the variable alone names a file that does not exist (exit 2).
	for _, args := range [][]string{
		{"history", "--history", good, "regressions"},
		{"history", "regressions", "--history", good},
	} {
		if r := reprove(t, dir, args...); r.code != 0 || !strings.HasPrefix(r.stdout, "no regressions since ") {
			t.Errorf("reprove %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	if r := reprove(t, dir, "history", "regressions"); r.code != exitUsage || !strings.Contains(r.stderr, "missing.db") {
		t.Errorf("REPROVE_HISTORY alone: exit %d\n%s", r.code, r.stderr)
	}
}
