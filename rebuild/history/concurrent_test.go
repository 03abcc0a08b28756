package history

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/report"
)

// The concurrency test runs real processes: this test binary, started again
// as a worker that opens the database and records runs.
func TestMain(m *testing.M) {
	if dsn := os.Getenv("HISTORY_TEST_WORKER_DSN"); dsn != "" {
		if os.Getenv("HISTORY_TEST_MIGRATION_2") != "" {
			withMigration2()
		}
		os.Exit(worker(dsn))
	}
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

const (
	workers       = 4
	runsPerWorker = 12
)

// concurrentRun is the i-th run of the shared target: the runs of all
// workers interleave in time.
func concurrentRun(i int) run {
	r := run{name: "shared", manifest: digestOf(0x33), at: day(i),
		verdict: report.Reproducible, artifact: digestOf(byte(0x40 + i/5))}
	switch i % 4 {
	case 2:
		r.verdict = report.NotReproducible
	case 3:
		r.verdict, r.artifact = report.Error, ""
	}
	return r
}

func worker(dsn string) int {
	w, _ := strconv.Atoi(os.Getenv("HISTORY_TEST_WORKER"))
	start, _ := strconv.ParseInt(os.Getenv("HISTORY_TEST_START"), 10, 64)
	time.Sleep(time.Until(time.Unix(0, start))) // every worker opens at once
	ctx := context.Background()
	h, err := Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer h.Close()
	for k := 0; k < runsPerWorker; k++ {
		if _, err := h.Record(ctx, concurrentRun(k*workers+w).result()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// withMigration2 adds a second migration, as a newer reprove would have.
func withMigration2() {
	m := fstest.MapFS{"migrations/0002_note.sql": {Data: []byte("ALTER TABLE results ADD COLUMN note TEXT NOT NULL DEFAULT '';")}}
	entries, _ := fs.ReadDir(migrationFiles, "migrations")
	for _, e := range entries {
		b, _ := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		m["migrations/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	migrationSource = m
}

// startWorkers runs the workers, each in a process of its own, all opening
// dsn at the same moment, and reports each one's failure.
func startWorkers(t *testing.T, dsn string, env ...string) {
	t.Helper()
	start := time.Now().Add(time.Second).UnixNano()
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "HISTORY_TEST_WORKER_DSN="+dsn,
				"HISTORY_TEST_WORKER="+strconv.Itoa(w), "HISTORY_TEST_START="+strconv.FormatInt(start, 10))
			cmd.Env = append(cmd.Env, env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[w] = fmt.Errorf("worker %d: %v\n%s", w, err, out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func schemaVersions(t *testing.T, h *DB) int {
	t.Helper()
	var n int
	if err := h.db.QueryRow(`SELECT COUNT(*) FROM schema_version`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestConcurrentFirstUse starts several processes on a database that does
// not exist yet: each migration must be applied once, no process may fail,
// and every run's derived columns must be those of the runs in time order,
// whatever order the processes wrote them in.
func TestConcurrentFirstUse(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		startWorkers(t, dsn)
		h := openDB(t, dsn)
		if n := schemaVersions(t, h); n != SchemaVersion() {
			t.Errorf("schema_version has %d rows, want %d: a migration ran twice", n, SchemaVersion())
		}
		var runs []run
		for i := 0; i < workers*runsPerWorker; i++ {
			runs = append(runs, concurrentRun(i))
		}
		if diff := cmp.Diff(expectDerived(runs), summarize(allEntries(t, h))); diff != "" {
			t.Errorf("derived columns after concurrent writers (-want +got):\n%s", diff)
		}
	})
}

// TestConcurrentUpgrade starts several processes of a newer reprove (one
// more migration) on an existing database at once: the migration must be
// applied once, and no process may fail for having raced another.
func TestConcurrentUpgrade(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		h := openDB(t, dsn)
		recordAll(t, h, nightly[:2])
		h.Close()
		startWorkers(t, dsn, "HISTORY_TEST_MIGRATION_2=1")
		withMigration2() // to read the database the workers upgraded
		t.Cleanup(func() { migrationSource = migrationFiles })
		h = openDB(t, dsn)
		if n := schemaVersions(t, h); n != 2 {
			t.Errorf("schema_version has %d rows, want 2", n)
		}
		var notes int
		if err := h.db.QueryRow(`SELECT COUNT(note) FROM results`).Scan(&notes); err != nil {
			t.Fatalf("the new column: %v", err)
		}
		if notes != 2+workers*runsPerWorker {
			t.Errorf("%d runs, want %d", notes, 2+workers*runsPerWorker)
		}
	})
}

// expectDerived is what the database must conclude about runs of one
// target, computed from the runs in time order.
func expectDerived(runs []run) []derived {
	sort.Slice(runs, func(i, j int) bool { return runs[i].at.Before(runs[j].at) })
	var (
		out        []derived
		prev       *state
		prevAt     time.Time
		lastDigest string
	)
	for _, r := range runs {
		cur := state{verdict: string(r.verdict), exitCode: ExitClassOf(&report.Result{Verdict: r.verdict}), digest: r.artifact}
		tr, reg := derive(cur, prev, lastDigest)
		d := derived{Name: r.name, Day: int(r.at.Sub(t0) / (24 * time.Hour)), Transition: tr, Regression: reg.String(), PrevDay: -1}
		if prev != nil {
			d.PrevDay = int(prevAt.Sub(t0) / (24 * time.Hour))
			d.PrevDigest = lastDigest
		}
		out = append(out, d)
		prev, prevAt = &cur, r.at
		if r.artifact != "" {
			lastDigest = r.artifact
		}
	}
	return out
}
