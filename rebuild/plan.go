package rebuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/manifest"
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
	ad := &report.Adapter{Name: plan.Adapter, Notes: plan.Notes}
	var (
		res *report.Result
		err error
	)
	for i, c := range plan.Candidates {
		ad.Tried = append(ad.Tried, c.Name)
		opts.step("infer", "trying %s candidate %q", plan.Adapter, c.Name)
		opts.emit(CandidateStarted{Index: i + 1, Total: len(plan.Candidates), Name: c.Name})
		o := opts
		if o.ManifestDigest, err = ManifestDigest(c.Manifest); err != nil {
			break
		}
		res, err = Verify(ctx, c.Manifest, o)
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
