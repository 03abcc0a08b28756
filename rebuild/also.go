package rebuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/report"
)

// compareAlso compares each of the manifest's also files, read fresh from
// its URI and checked against its digest, with the file the build left
// under /out. The result's verdict covers them: one that differs makes it
// not reproducible, and when the artifact itself reproduced, the result
// carries that file's diff.
func compareAlso(ctx context.Context, m *manifest.Manifest, outDir string, opts Options, res *report.Result) error {
	for i, a := range m.Also {
		opts.step("compare", "also %s", a.URI)
		item, err := opts.Fetcher.Fetch(ctx, fetch.Request{URI: a.URI, Digest: a.Digest, Dir: m.Dir, Size: int64(a.Size), Fresh: !opts.Fetcher.Offline()})
		if err != nil {
			return inStage(StageFetch, fmt.Errorf("also[%d]: %w", i, err))
		}
		rebuilt, err := outputFile(outDir, a.Output)
		if err != nil {
			return fmt.Errorf("also[%d].output: %w", i, err)
		}
		d, size, err := FileDigest(rebuilt)
		if err != nil {
			return err
		}
		r := report.Also{URI: a.URI, Digest: item.Digest, Output: a.Output, Rebuilt: &report.File{Path: rebuilt, Digest: d, Size: size}, Verdict: report.Reproducible}
		if d != item.Digest {
			dopts := opts.Diff
			dopts.Name1, dopts.Name2 = artifactName(report.Artifact{URI: a.URI}), artifactName(report.Artifact{URI: a.URI})
			if r.Diff, err = diff.Run(ctx, item.Path, rebuilt, dopts); err != nil {
				return fmt.Errorf("comparing also[%d]: %w", i, err)
			}
			r.Verdict = report.NotReproducible
			if res.Verdict == report.Reproducible {
				res.Verdict, res.Diff = report.NotReproducible, r.Diff
			}
		}
		res.Also = append(res.Also, r)
	}
	return nil
}

// outputFile is the regular file the build left at the container path p
// (under /out), found without following links out of the output folder.
func outputFile(outDir, p string) (string, error) {
	rel, ok := strings.CutPrefix(p, "/out/")
	if !ok {
		return "", fmt.Errorf("%q is not under /out", p)
	}
	root, err := os.OpenRoot(outDir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	f, err := root.Open(rel)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("the build left nothing at %s: %w", p, sandbox.ErrNoOutput)
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", p)
	}
	// Copy it beside: the path handed on must be the file checked here.
	dst := filepath.Join(filepath.Dir(outDir), "also", filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, f)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return dst, err
}

// buildTimes tells the diff when the rebuild ran and with which
// SOURCE_DATE_EPOCH, so that dates the build took from its clock are named.
func buildTimes(m *manifest.Manifest, now time.Time) diff.BuildTimes {
	t := diff.BuildTimes{Rebuilt: now}
	if s, err := strconv.ParseInt(m.Build.Env["SOURCE_DATE_EPOCH"], 10, 64); err == nil {
		t.Epoch = time.Unix(s, 0).UTC()
	}
	return t
}
