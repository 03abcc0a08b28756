package history

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/reprove/reprove/report"
)

// RecordOption changes how Record files a result.
type RecordOption func(*recordOptions)

type recordOptions struct {
	key      string
	exitCode *int
}

// WithKey files the result under key instead of KeyOf(res).
func WithKey(key string) RecordOption { return func(o *recordOptions) { o.key = key } }

// WithExitCode sets the exit class reprove gave the run (2 for an input
// error, 3 for a fetch or build failure); by default it is the verdict's
// as the result says (ExitClassOf).
func WithExitCode(code int) RecordOption { return func(o *recordOptions) { o.exitCode = &code } }

// KeyOf names the target a result is about: the manifest's digest when the
// run read a manifest file, else the artifact URI (with #member), which is
// what a manifest inferred from the artifact is keyed by.
func KeyOf(res *report.Result) string {
	if res.Manifest.Path != "" && res.Manifest.Digest != "" {
		return res.Manifest.Digest
	}
	if res.Artifact.Member != "" && res.Artifact.URI != "" {
		return res.Artifact.URI + "#" + res.Artifact.Member
	}
	return res.Artifact.URI
}

// Record files one result and returns its entry, with the regression it
// shows against the target's previous run. Recording the same result under
// the same key again changes nothing and returns the stored entry with
// Existing set. A result older than the target's latest takes its place in
// time: the entries after it are re-derived against it.
func (h *DB) Record(ctx context.Context, res *report.Result, opts ...RecordOption) (*Entry, error) {
	var o recordOptions
	for _, opt := range opts {
		opt(&o)
	}
	r, err := newRow(res, o, h.clock())
	if err != nil {
		return nil, err
	}
	es, err := h.recordRows(ctx, []row{r})
	if err != nil {
		return nil, err
	}
	return es[0], nil
}

// recordRows files rows in one transaction, in key order: PostgreSQL's
// per-key locks are then always taken in the same order, so writers that
// overlap cannot deadlock.
func (h *DB) recordRows(ctx context.Context, rows []row) ([]*Entry, error) {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rows[order[a]].key < rows[order[b]].key })
	es := make([]*Entry, len(rows))
	var existing []int
	err := h.inTx(ctx, func(tx *sql.Tx) error {
		rec, err := h.newRecorder(ctx, tx)
		if err != nil {
			return err
		}
		defer rec.close()
		for _, i := range order {
			e, err := rec.record(ctx, rows[i])
			if err != nil {
				return fmt.Errorf("recording %s in %s: %w", rows[i].name, h.where, err)
			}
			if e.Existing {
				existing = append(existing, i)
			}
			es[i] = e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, i := range existing { // as stored, after the transaction
		e, err := h.entry(ctx, es[i].ID)
		if err != nil {
			return nil, err
		}
		e.Existing = true
		es[i] = e
	}
	return es, nil
}

// row is a result flattened into the results table's columns.
type row struct {
	key, name, verdict, artifactURI, artifactDigest string
	rebuiltDigest, causes, errText, version         string
	at, duration, recorded                          int64
	exitCode                                        int
	digest, json                                    string
	causeIDs                                        []string
}

// ExitClassOf is the exit class a result records when none is given
// (WithExitCode), as it reads back from the result itself: 0 for a pass,
// 1 not reproducible, 2 for an error of class usage or input, 3 for the
// other errors (fetch, build, compare, or none recorded). reprove's exit
// policy (exit.go) gives the same codes; a test there checks they agree.
func ExitClassOf(res *report.Result) int {
	switch res.Verdict {
	case report.Reproducible, report.ReproducibleAfterNormalization:
		return 0
	case report.NotReproducible:
		return 1
	}
	if res.ErrorClass == "usage" || res.ErrorClass == "input" {
		return 2
	}
	return 3
}

func newRow(res *report.Result, o recordOptions, now time.Time) (row, error) {
	if err := checkResult(res); err != nil {
		return row{}, fmt.Errorf("%w: %w", errInvalid, err)
	}
	r := row{
		key: o.key, name: res.Name, verdict: string(res.Verdict), artifactURI: res.Artifact.URI,
		errText: res.Error, version: res.Tool.Version,
		at: res.FinishedAt.UnixNano(), recorded: now.UnixNano(), exitCode: ExitClassOf(res),
	}
	if r.key == "" {
		r.key = KeyOf(res)
	}
	if r.key == "" {
		return row{}, fmt.Errorf("%w: result %q has no manifest digest and no artifact URI to key it by", errInvalid, res.Name)
	}
	if o.exitCode != nil {
		r.exitCode = *o.exitCode
	}
	if servedDigest(res) {
		r.artifactDigest = res.Artifact.Digest
	}
	if res.Rebuilt != nil {
		r.rebuiltDigest = res.Rebuilt.Digest
	}
	r.duration = int64(duration(res))
	causes := []string{}
	if res.Diff != nil {
		for _, c := range res.Diff.Causes {
			causes = append(causes, string(c.ID))
		}
	}
	b, _ := json.Marshal(causes)
	r.causes, r.causeIDs = string(b), causes
	canon, err := canonicalJSON(res)
	if err != nil {
		return row{}, fmt.Errorf("%w: result %q: %w", errInvalid, res.Name, err)
	}
	r.json = string(canon)
	sum := sha256.Sum256(append([]byte(r.key+"\x00"), canon...))
	r.digest = "sha256:" + hex.EncodeToString(sum[:])
	return r, nil
}

// servedDigest is whether res.Artifact.Digest is what its URI served in
// this run: the artifact was fetched and hashed (File is set; or, when its
// digest did not match the declared one, FetchedAt says when it was read),
// and read from its URI rather than from the cache alone (--offline; Source
// "cache").
func servedDigest(res *report.Result) bool {
	fetched := res.Artifact.File != nil || !res.Artifact.FetchedAt.IsZero()
	return fetched && res.Artifact.Digest != "" && res.Artifact.Source != "cache"
}

// checkResult refuses what is not a verification result.
func checkResult(res *report.Result) error {
	if res == nil {
		return errors.New("no result to record")
	}
	if res.Mode == report.ModeDiff {
		return fmt.Errorf("result %q is a reprove diff comparison, not a verification: nothing to record", res.Name)
	}
	switch res.Verdict {
	case report.Reproducible, report.ReproducibleAfterNormalization, report.NotReproducible, report.Error:
	default:
		return fmt.Errorf("result %q: verdict %q is none of reproducible, reproducible-after-normalization, not-reproducible, error", res.Name, res.Verdict)
	}
	if res.FinishedAt.IsZero() {
		return fmt.Errorf("result %q: no finishedAt time", res.Name)
	}
	// Times are stored as Unix nanoseconds, which hold 1678 to 2262.
	if y := res.FinishedAt.UTC().Year(); y < 1970 || y > 2200 {
		return fmt.Errorf("result %q: finishedAt %s is not a time a run finished at", res.Name, res.FinishedAt.Format(time.RFC3339))
	}
	if res.Name == "" {
		return errors.New("result has no name")
	}
	return nil
}

// duration is how long the run took: finish minus start, else the sum of
// its phases.
func duration(res *report.Result) time.Duration {
	if !res.StartedAt.IsZero() && res.FinishedAt.After(res.StartedAt) {
		return res.FinishedAt.Sub(res.StartedAt)
	}
	var d time.Duration
	for _, t := range res.Timings {
		d += t.Duration
	}
	return d
}

// canonicalJSON is res as JSON such that a result recorded by verify and
// the same result read back from its --json file (report.ReadJSON) have the
// same bytes, and so the same digest. Every field of a Result encodes the
// same way before and after a round trip through JSON but Manifest.Body,
// which holds the manifest's own type before and what encoding/json decodes
// into an any after (maps, float64 numbers): so the body alone is taken
// through the same decoding first.
func canonicalJSON(res *report.Result) ([]byte, error) {
	c := *res
	if c.Manifest.Body != nil {
		b, err := json.Marshal(c.Manifest.Body)
		if err != nil {
			return nil, fmt.Errorf("encoding the manifest as JSON: %w", err)
		}
		var body any
		if err := json.Unmarshal(b, &body); err != nil {
			return nil, fmt.Errorf("encoding the manifest as JSON: %w", err)
		}
		c.Manifest.Body = body
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encoding as JSON: %w", err)
	}
	return b, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
