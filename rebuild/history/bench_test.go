package history

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/reprove/reprove/report"
)

// The benchmarks read a database of 100,000 results: 1,000 targets verified
// every night for 100 nights, mostly reproducible, now and then not
// reproducible or an error, and now and then re-published. scripts/bench.sh
// history runs them and times the CLI on the same file (REPROVE_BENCH_DB
// keeps it). SQLite only: the figures the README quotes.
const (
	benchTargets = 1000
	benchNights  = 100
)

// benchBase is night 0, so that the last night ended an hour ago and the
// CLI's --since 24h finds it.
var benchBase = time.Now().UTC().Add(-benchNights*24*time.Hour + time.Hour).Truncate(time.Second)

func benchNight(n int) time.Time { return benchBase.Add(time.Duration(n) * 24 * time.Hour) }

// benchRun is target i's run on night n: the same verdicts on every machine.
func benchRun(i, n int) *report.Result {
	h := sha256.Sum256([]byte(fmt.Sprintf("%d/%d", i, n)))
	roll := binary.BigEndian.Uint16(h[:2]) % 1000
	r := run{name: fmt.Sprintf("pkg-%04d", i), manifest: digestOf(byte(i)), at: benchNight(n).Add(time.Duration(i) * time.Second),
		verdict: report.Reproducible, artifact: digestOf(byte(0x80 + n/40))}
	r.manifest = r.manifest[:len(r.manifest)-8] + fmt.Sprintf("%08x", i) // 1,000 distinct keys
	switch {
	case roll < 50:
		r.verdict, r.causes = report.NotReproducible, []string{"timestamps"}
	case roll < 70:
		r.verdict, r.artifact = report.Error, ""
	}
	return r.result()
}

// fill records every bench run, night by night, a batch at a time as
// Import does, and returns how long the inserts took.
func fill(tb testing.TB, h *DB) time.Duration {
	ctx := context.Background()
	start := time.Now()
	var batch []row
	for n := 0; n < benchNights; n++ {
		for i := 0; i < benchTargets; i++ {
			r, err := newRow(benchRun(i, n), recordOptions{}, h.clock())
			if err != nil {
				tb.Fatal(err)
			}
			if batch = append(batch, r); len(batch) == importBatch {
				if _, err := h.recordRows(ctx, batch); err != nil {
					tb.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if _, err := h.recordRows(ctx, batch); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

var (
	benchOnce   sync.Once
	benchPath   string        // the SQLite file of the bench runs
	benchInsert time.Duration // how long filling it took
	benchDir    string        // removed by TestMain
)

// filled opens an SQLite database of the bench runs, made once per process
// (at REPROVE_BENCH_DB when set, and kept there).
func filled(b *testing.B) *DB {
	benchOnce.Do(func() {
		benchPath = os.Getenv("REPROVE_BENCH_DB")
		if benchPath == "" {
			dir, err := os.MkdirTemp("", "reprove-history-bench-")
			if err != nil {
				b.Fatal(err)
			}
			benchDir, benchPath = dir, filepath.Join(dir, "history.db")
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(benchPath + suffix)
		}
		h, err := Open(context.Background(), benchPath)
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		benchInsert = fill(b, h)
	})
	return openDB(b, benchPath)
}

// BenchmarkInsert100k reports the time to record 100,000 results into
// SQLite, 500 to a transaction as Import records them.
func BenchmarkInsert100k(b *testing.B) {
	filled(b)
	b.ReportMetric(benchInsert.Seconds(), "s/100k")
	b.ReportMetric(float64(benchInsert.Microseconds())/benchTargets/benchNights, "µs/result")
}

// BenchmarkRecord: one more result, in a transaction of its own as verify
// records it, into the database of 100,000.
func BenchmarkRecord(b *testing.B) {
	h := filled(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := run{name: "extra", manifest: digestOf(0xee), at: benchNight(benchNights).Add(time.Duration(i) * time.Second),
			verdict: report.Reproducible, artifact: digestA}
		if _, err := h.Record(ctx, r.result()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRegressions: the last night's regressions among 100,000 results.
func BenchmarkRegressions(b *testing.B) {
	h := filled(b)
	since := benchNight(benchNights - 1)
	ctx := context.Background()
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		regs, err := h.Regressions(ctx, since)
		if err != nil {
			b.Fatal(err)
		}
		n = len(regs)
	}
	b.ReportMetric(float64(n), "regressions")
}

// BenchmarkLatest: every target's latest run.
func BenchmarkLatest(b *testing.B) {
	h := filled(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		es, err := h.Latest(ctx, Filter{})
		if err != nil || len(es) < benchTargets {
			b.Fatalf("%d targets, %v", len(es), err)
		}
	}
}

// BenchmarkTransitions: one target's last 5 transitions.
func BenchmarkTransitions(b *testing.B) {
	h := filled(b)
	ctx := context.Background()
	key := KeyOf(benchRun(7, 0))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Transitions(ctx, key, 5); err != nil {
			b.Fatal(err)
		}
	}
}
