package rebuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/report"
)

// VerifyPlan tries an adapter's candidate manifests in order and stops at the
// first that reproduces the artifact bit for bit. The Result is that of the
// matching candidate, or of the last one tried; its Adapter field lists
// every candidate tried and the one that matched.
func VerifyPlan(ctx context.Context, plan *adapter.Plan, opts Options) (*report.Result, error) {
	if plan == nil || len(plan.Candidates) == 0 {
		return nil, errors.New("the adapter produced no candidate manifest")
	}
	ad := &report.Adapter{Name: plan.Adapter, Check: plan.Check, Notes: plan.Notes}
	shared, done, err := sharedMounts(opts.Cache, plan.Shared)
	if err != nil {
		return nil, err
	}
	defer done()
	opts.Mounts = append(append([]sandbox.Mount(nil), opts.Mounts...), shared...)
	var res *report.Result
	for i, c := range plan.Candidates {
		ad.Tried = append(ad.Tried, c.Name)
		opts.step("infer", "trying %s candidate %d of %d %q", plan.Adapter, i+1, len(plan.Candidates), c.Name)
		opts.emit(CandidateStarted{Index: i + 1, Total: len(plan.Candidates), Name: c.Name})
		o := opts
		if o.ManifestDigest, err = ManifestDigest(c.Manifest); err != nil {
			break
		}
		res, err = Verify(ctx, c.Manifest, o)
		ad.Candidates = append(ad.Candidates, triedCandidate(c, res))
		if err != nil {
			// A build failure may be the candidate's own; anything
			// else (an input, a fetch, cancellation) is the same for
			// every candidate.
			if ErrorStage(err) != StageBuild || ctx.Err() != nil {
				break
			}
			continue
		}
		if res.Verdict == report.Reproducible {
			ad.Matched = c.Name
			break
		}
	}
	if res == nil {
		return nil, err
	}
	res.Adapter = ad
	return res, err
}

// triedCandidate records how one candidate's verification went.
func triedCandidate(c adapter.Candidate, res *report.Result) report.AdapterCandidate {
	tc := report.AdapterCandidate{Name: c.Name, From: c.From, Verdict: report.Error}
	if res == nil {
		return tc
	}
	tc.Verdict, tc.BuildLog = res.Verdict, res.BuildLog
	for _, t := range res.Timings {
		if t.Phase == "build" {
			tc.Build = t.Duration
		}
	}
	return tc
}

// sharedMounts makes a fresh writable folder in the cache for each shared
// container folder of a plan, and a func that deletes them all.
func sharedMounts(c *fetch.Cache, dests []string) ([]sandbox.Mount, func(), error) {
	var (
		mounts []sandbox.Mount
		temps  []*fetch.Temp
	)
	done := func() {
		for _, t := range temps {
			t.Remove()
		}
	}
	if len(dests) > 0 && c == nil {
		return nil, nil, fmt.Errorf("rebuild: Options needs a Cache for the plan's shared folders")
	}
	for _, d := range dests {
		t, err := c.TempDir("shared-")
		if err != nil {
			done()
			return nil, nil, fmt.Errorf("making the shared folder for %s: %w", d, err)
		}
		temps = append(temps, t)
		mounts = append(mounts, sandbox.Mount{Source: t.Path, Dest: d, Writable: true})
	}
	return mounts, done, nil
}

// ManifestDigest is the sha256 of a manifest's YAML encoding, for manifests
// that were inferred rather than read from a file.
func ManifestDigest(m *manifest.Manifest) (string, error) {
	var b bytes.Buffer
	if err := manifest.Encode(&b, m, ""); err != nil {
		return "", fmt.Errorf("manifest %s: %w", m.Name, err)
	}
	sum := sha256.Sum256(b.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
