package history

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

	"github.com/reprove/reprove/report"
)

var (
	digestA = digestOf(0xaa)
	digestB = digestOf(0xbb)
	digestC = digestOf(0xcc)
	m1      = digestOf(0x01) // manifest digests: the targets' keys
	m2      = digestOf(0x02)
)

// nightly is two targets over nine nights, covering every rule: a first
// run, a verdict regression, a recovery, an error that never fetched the
// artifact, a re-published artifact (digest change) seen across that error,
// both kinds at once, and reproducible-after-normalization counting as
// passing.
var nightly = []run{
	{name: "hello", manifest: m1, at: day(0), verdict: report.Reproducible, artifact: digestA},
	{name: "other", manifest: m2, at: day(0), verdict: report.NotReproducible, artifact: digestA, causes: []string{"file-order"}},
	{name: "hello", manifest: m1, at: day(1), verdict: report.Reproducible, artifact: digestA},
	{name: "other", manifest: m2, at: day(1), verdict: report.Error},
	{name: "hello", manifest: m1, at: day(2), verdict: report.NotReproducible, artifact: digestA, causes: []string{"timestamps", "file-order"}},
	{name: "other", manifest: m2, at: day(2), verdict: report.ReproducibleAfterNormalization, artifact: digestA},
	{name: "hello", manifest: m1, at: day(3), verdict: report.NotReproducible, artifact: digestA, causes: []string{"timestamps"}},
	{name: "other", manifest: m2, at: day(3), verdict: report.Error},
	{name: "hello", manifest: m1, at: day(4), verdict: report.Reproducible, artifact: digestA},
	{name: "hello", manifest: m1, at: day(5), verdict: report.Error},
	{name: "hello", manifest: m1, at: day(6), verdict: report.Reproducible, artifact: digestB},
	{name: "hello", manifest: m1, at: day(7), verdict: report.Reproducible, artifact: digestB},
	{name: "hello", manifest: m1, at: day(8), verdict: report.NotReproducible, artifact: digestC, causes: []string{"timestamps"}},
}

// derived is what the database concluded about one run.
type derived struct {
	Name       string
	Day        int
	Transition bool
	Regression string
	PrevDay    int // -1 when none
	PrevDigest string
}

func summarize(es []Entry) []derived {
	var out []derived
	for _, e := range es {
		d := derived{Name: e.Name, Day: int(e.At.Sub(t0) / (24 * time.Hour)), Transition: e.Transition,
			Regression: e.Regression.String(), PrevDay: -1}
		if e.Prev != nil {
			d.PrevDay = int(e.Prev.At.Sub(t0) / (24 * time.Hour))
			d.PrevDigest = e.Prev.ArtifactDigest
		}
		out = append(out, d)
	}
	return out
}

// wantNightly is every run of nightly as the database must see it.
var wantNightly = []derived{
	{"hello", 0, true, "", -1, ""},
	{"hello", 1, false, "", 0, digestA},
	{"hello", 2, true, "verdict", 1, digestA},
	{"hello", 3, false, "", 2, digestA},
	{"hello", 4, true, "", 3, digestA},
	{"hello", 5, true, "verdict", 4, digestA},
	{"hello", 6, true, "digest", 5, digestA}, // compared across the error that fetched nothing
	{"hello", 7, false, "", 6, digestB},
	{"hello", 8, true, "verdict+digest", 7, digestB},
	{"other", 0, true, "", -1, ""},
	{"other", 1, true, "", 0, digestA}, // not reproducible → error: not a regression
	{"other", 2, true, "", 1, digestA},
	{"other", 3, true, "verdict", 2, digestA}, // after-normalization counts as passing
}

func recordAll(t *testing.T, h *DB, runs []run) []*Entry {
	t.Helper()
	var es []*Entry
	for _, r := range runs {
		e, err := h.Record(context.Background(), r.result())
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

// allEntries reads every run, by target then time.
func allEntries(t *testing.T, h *DB) []Entry {
	t.Helper()
	es, err := h.entries(context.Background(), "test", entrySelect+`ORDER BY r.name, r.finished_at, r.id`)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestRecordDerivesTransitionsAndRegressions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		h := openDB(t, dsn)
		es := recordAll(t, h, nightly)
		// Record returns the entry as derived at that moment.
		if got := es[4]; got.Regression != VerdictRegressed || got.Prev == nil || got.Prev.Verdict != report.Reproducible {
			t.Errorf("Record of hello day 2: regression %v, prev %+v; want verdict regression from reproducible", got.Regression, got.Prev)
		}
		if diff := cmp.Diff(wantNightly, summarize(allEntries(t, h))); diff != "" {
			t.Errorf("derived columns (-want +got):\n%s", diff)
		}
	})
}

func TestRecordOutOfOrder(t *testing.T) {
	// Shards and imports deliver results in any order; each run must still
	// be compared with the one before it in time.
	orders := map[string][]int{
		"reversed":    {12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
		"interleaved": {10, 0, 12, 5, 2, 8, 1, 11, 3, 9, 6, 4, 7},
	}
	eachBackend(t, func(t *testing.T, dsn string) {
		for name, order := range orders {
			t.Run(name, func(t *testing.T) {
				h := openDB(t, dsn)
				for _, i := range order {
					r := nightly[i]
					r.manifest += "-" + name // a target set of its own in the shared database
					if _, err := h.Record(context.Background(), r.result()); err != nil {
						t.Fatal(err)
					}
				}
				var got []Entry
				for _, e := range allEntries(t, h) {
					if strings.HasSuffix(e.Key, "-"+name) {
						got = append(got, e)
					}
				}
				if diff := cmp.Diff(wantNightly, summarize(got)); diff != "" {
					t.Errorf("derived columns (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestRegressionsLatestTransitions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		h := openDB(t, dsn)
		recordAll(t, h, nightly)
		ctx := context.Background()

		regs, err := h.Regressions(ctx, day(0))
		if err != nil {
			t.Fatal(err)
		}
		want := []derived{
			{"hello", 2, true, "verdict", 1, digestA},
			{"other", 3, true, "verdict", 2, digestA},
			{"hello", 5, true, "verdict", 4, digestA},
			{"hello", 6, true, "digest", 5, digestA},
			{"hello", 8, true, "verdict+digest", 7, digestB},
		}
		if diff := cmp.Diff(want, summarize(regs)); diff != "" {
			t.Errorf("Regressions(day 0) (-want +got):\n%s", diff)
		}
		regs, err = h.Regressions(ctx, day(6))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[3:], summarize(regs)); diff != "" {
			t.Errorf("Regressions(day 6) (-want +got):\n%s", diff)
		}
		if regs, _ := h.Regressions(ctx, day(8).Add(time.Second)); len(regs) != 0 {
			t.Errorf("Regressions after the last run: %v, want none", summarize(regs))
		}

		latest, err := h.Latest(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		wantLatest := []derived{{"hello", 8, true, "verdict+digest", 7, digestB}, {"other", 3, true, "verdict", 2, digestA}}
		if diff := cmp.Diff(wantLatest, summarize(latest)); diff != "" {
			t.Errorf("Latest (-want +got):\n%s", diff)
		}
		if got := latest[0]; got.Key != m1 || got.ArtifactDigest != digestC ||
			!cmp.Equal(got.Causes, []string{"timestamps"}) || got.Duration != 90*time.Second ||
			got.Version != "v0.0.0-test" || got.ExitCode != 1 || got.ArtifactURI != "https://example.org/hello.tar.gz" {
			t.Errorf("latest hello entry: %+v", got)
		}
		for _, target := range []string{"other", m2, "https://example.org/other.tar.gz"} {
			got, err := h.Latest(ctx, Filter{Target: target})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantLatest[1:], summarize(got)); diff != "" {
				t.Errorf("Latest(%q) (-want +got):\n%s", target, diff)
			}
		}
		if got, _ := h.Latest(ctx, Filter{Target: "nothing"}); len(got) != 0 {
			t.Errorf("Latest(nothing) = %v, want none", summarize(got))
		}

		tr, err := h.Transitions(ctx, m1, 3)
		if err != nil {
			t.Fatal(err)
		}
		var days []int
		for _, d := range summarize(tr) {
			days = append(days, d.Day)
		}
		if !cmp.Equal(days, []int{8, 6, 5}) {
			t.Errorf("Transitions(hello, 3): days %v, want [8 6 5]", days)
		}
		tr, _ = h.Transitions(ctx, m1, 100)
		if len(tr) != 6 || tr[5].Prev != nil {
			t.Errorf("Transitions(hello, 100): %v, want 6 ending with the first run", summarize(tr))
		}
	})
}

func TestRecordSameResultTwice(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		h := openDB(t, dsn)
		res := nightly[0].result()
		first, err := h.Record(context.Background(), res)
		if err != nil {
			t.Fatal(err)
		}
		again, err := h.Record(context.Background(), res)
		if err != nil {
			t.Fatal(err)
		}
		if first.Existing || !again.Existing || again.ID != first.ID {
			t.Errorf("first %d existing=%v, again %d existing=%v; want the same entry, found the second time", first.ID, first.Existing, again.ID, again.Existing)
		}
		// Under another key it is another target's run.
		other, err := h.Record(context.Background(), res, WithKey("https://example.org/hello.tar.gz"), WithExitCode(2))
		if err != nil {
			t.Fatal(err)
		}
		if other.Existing || other.Key != "https://example.org/hello.tar.gz" || other.ExitCode != 2 {
			t.Errorf("WithKey/WithExitCode: %+v", other)
		}
		if n := len(allEntries(t, h)); n != 2 {
			t.Errorf("%d runs recorded, want 2", n)
		}
		stored, err := h.Result(context.Background(), first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Name != res.Name || !stored.FinishedAt.Equal(res.FinishedAt) || stored.Artifact.File.Digest != digestA {
			t.Errorf("stored result: %+v", stored)
		}
	})
}

func TestRecordRefuses(t *testing.T) {
	h := openDB(t, filepath.Join(t.TempDir(), "h.db"))
	cases := map[string]struct {
		edit func(*report.Result)
		want string
	}{
		"diff result": {func(r *report.Result) { r.Mode = report.ModeDiff }, "reprove diff comparison, not a verification"},
		"unknown":     {func(r *report.Result) { r.Verdict = "maybe" }, `verdict "maybe" is none of`},
		"no time":     {func(r *report.Result) { r.FinishedAt = time.Time{} }, "no finishedAt time"},
		"far future": {func(r *report.Result) { r.FinishedAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) },
			"finishedAt 9999-01-01T00:00:00Z is not a time a run finished at"},
		"no name":          {func(r *report.Result) { r.Name = "" }, "result has no name"},
		"no key":           {func(r *report.Result) { r.Manifest = report.Manifest{}; r.Artifact.URI = "" }, "no manifest digest and no artifact URI"},
		"no result at all": {nil, "no result to record"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var res *report.Result
			if c.edit != nil {
				res = nightly[0].result()
				c.edit(res)
			}
			_, err := h.Record(context.Background(), res)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Record: %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestKeyOf(t *testing.T) {
	manifest := nightly[0].result()
	inferred := nightly[0].result()
	inferred.Manifest.Path = ""
	member := nightly[0].result()
	member.Manifest.Path = ""
	member.Artifact.Member = "bin/gofmt"
	for _, c := range []struct {
		res  *report.Result
		want string
	}{
		{manifest, m1},
		{inferred, "https://example.org/hello.tar.gz"},
		{member, "https://example.org/hello.tar.gz#bin/gofmt"},
	} {
		if got := KeyOf(c.res); got != c.want {
			t.Errorf("KeyOf = %q, want %q", got, c.want)
		}
	}
}

func TestOpenMigratesOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		for i := 0; i < 2; i++ { // the second open finds the schema current
			h := openDB(t, dsn)
			var n, max int
			if err := h.db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&n, &max); err != nil {
				t.Fatal(err)
			}
			if n != SchemaVersion() || max != SchemaVersion() || SchemaVersion() < 1 {
				t.Errorf("open %d: schema_version has %d rows up to %d, want %d", i+1, n, max, SchemaVersion())
			}
		}
	})
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		h := openDB(t, dsn)
		if _, err := h.db.Exec(h.q(`INSERT INTO schema_version (version, applied_at) VALUES (?, 0)`), SchemaVersion()+5); err != nil {
			t.Fatal(err)
		}
		h.Close()
		_, err := Open(context.Background(), dsn)
		want := fmt.Sprintf("schema version %d is newer than this reprove knows (%d): use a newer reprove", SchemaVersion()+5, SchemaVersion())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open: %v, want %q", err, want)
		}
	})
}

func TestParseDSN(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ dsn, kind, err string }{
		{"", "", "none given"},
		{"mysql://u:secret@host/db", "", `unknown scheme mysql://`},
		{"postgres://u:secret@127.0.0.1:1/db", "postgres", ""},
		{"postgresql://127.0.0.1/db", "postgres", ""},
		{filepath.Join(dir, "a.db"), "sqlite", ""},
		{"relative/h.db", "sqlite", ""},
	} {
		d, _, err := parseDSN(c.dsn)
		if c.err != "" {
			if !errors.Is(err, ErrDSN) || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "secret") {
				t.Errorf("parseDSN(%q): %v, want an error with %q and no password", c.dsn, err, c.err)
			}
			continue
		}
		if err != nil || d.name != c.kind {
			t.Errorf("parseDSN(%q) = %s, %v; want %s", c.dsn, d.name, err, c.kind)
		}
	}
}

func TestSQLitePathIsLiteral(t *testing.T) {
	// ? and # are parts of a file name, not a query or fragment.
	p := filepath.Join(t.TempDir(), "odd?name#1 %41.db")
	h := openDB(t, p)
	recordAll(t, h, nightly[:1])
	if _, err := os.Stat(p); err != nil {
		t.Errorf("database not at the path given: %v", err)
	}
}

func TestOpenPostgresErrorHidesPassword(t *testing.T) {
	// Nothing listens on port 1 of loopback.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://reprove:hunter2secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5")
	if err == nil {
		t.Fatal("Open of a server that is not there succeeded")
	}
	if strings.Contains(err.Error(), "hunter2secret") || !strings.Contains(err.Error(), "opening history database postgres postgres://reprove:xxxxx@127.0.0.1:1/db") {
		t.Errorf("error %q: want the redacted URL and no password", err)
	}
}

func TestRegressionJSON(t *testing.T) {
	b, err := json.Marshal(struct{ R, Z Regression }{VerdictRegressed | DigestChanged, 0})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"R":["verdict","digest"],"Z":[]}` {
		t.Errorf("JSON %s", got)
	}
}

func TestCanonicalJSONSurvivesRoundTrip(t *testing.T) {
	// verify records the Result it holds, with the manifest as its own
	// type; importing the --json file later must find the same digest.
	res := nightly[4].result()
	res.Manifest.Body = struct {
		Zeta  string            `json:"zeta"`
		Alpha map[string]string `json:"alpha"`
		Big   int64             `json:"big"`
	}{"z", map[string]string{"b": "2", "a": "1"}, 1<<62 + 1}
	res.Timings = append(res.Timings, report.Timing{Phase: "compare", Duration: 1<<60 + 3})
	var b bytes.Buffer
	if err := report.WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	back, err := ParseResult(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	r1, err := newRow(res, recordOptions{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := newRow(back, recordOptions{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if r1.digest != r2.digest {
		t.Errorf("digest differs after a round trip:\n%s\n%s", r1.json, r2.json)
	}
}

func TestOpenExistingCreatesNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "typo.db")
	_, err := Open(context.Background(), p, Existing())
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no history database at "+p) {
		t.Errorf("Open(missing, Existing()): %v, want ErrNotFound naming the path", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing, Existing()) created %s", p)
	}
	openDB(t, p).Close() // created without Existing
	h, err := Open(context.Background(), p, Existing())
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
}

func TestOfflineRunIsNoDigestEvidence(t *testing.T) {
	// --offline reads the artifact from the cache: what its URI serves now
	// is unknown, so the run neither shows nor hides a re-publication.
	eachBackend(t, func(t *testing.T, dsn string) {
		h := openDB(t, dsn)
		recordAll(t, h, []run{{name: "hello", manifest: m1, at: day(0), verdict: report.Reproducible, artifact: digestA}})
		offline := run{name: "hello", manifest: m1, at: day(1), verdict: report.Reproducible, artifact: digestA}.result()
		offline.Offline, offline.Artifact.Source = true, "cache"
		e, err := h.Record(context.Background(), offline)
		if err != nil {
			t.Fatal(err)
		}
		if e.ArtifactDigest != "" || e.Transition {
			t.Errorf("offline run: artifact digest %q, transition %v; want none recorded, no transition", e.ArtifactDigest, e.Transition)
		}
		es := recordAll(t, h, []run{{name: "hello", manifest: m1, at: day(2), verdict: report.Reproducible, artifact: digestB}})
		if es[0].Regression != DigestChanged || es[0].Prev.ArtifactDigest != digestA {
			t.Errorf("the next fetched run: regression %v against %+v; want a digest change from night 0", es[0].Regression, es[0].Prev)
		}
	})
}
