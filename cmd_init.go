package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/fetch/npm"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/report"
)

type initConfig struct {
	common
	Target  string
	Output  string
	Force   bool
	Replace []string
	Builder string
}

// runInit writes the first inferred candidate manifest for a person to review.
func runInit(ctx context.Context, cfg initConfig) error {
	if cfg.Output != "-" && !cfg.Force {
		if _, err := os.Stat(cfg.Output); err == nil {
			return fmt.Errorf("%w: %s exists; pass --force to overwrite it", rebuild.ErrUsage, cfg.Output)
		}
	}
	e, err := newEnv(cfg.common, "", cfg.Replace, archive.Limits{})
	if err != nil {
		return err
	}
	plan, err := infer(ctx, e, cfg.Target, cfg.Builder)
	if err != nil {
		return err
	}
	c := plan.Candidates[0]
	var header strings.Builder
	fmt.Fprintf(&header, "Inferred by reprove %s (%s adapter) from %s.\nReview every input before trusting a verdict.", version(), plan.Adapter, cfg.Target)
	for _, n := range plan.Notes {
		header.WriteString("\n" + n)
	}
	if len(plan.Candidates) > 1 {
		header.WriteString("\nThis is candidate " + c.Name + "; others that `reprove verify ARTIFACT` also tries:")
		for _, o := range plan.Candidates[1:] {
			header.WriteString("\n  - " + o.Name)
		}
	}
	return report.WriteTo(cfg.Output, os.Stdout, func(w io.Writer) error {
		return manifest.Encode(w, c.Manifest, header.String())
	})
}

// infer pins the artifact, fetches it and asks the adapters for a plan.
func infer(ctx context.Context, e *env, target, builder string) (*adapter.Plan, error) {
	uri, member := splitMember(target)
	uri, dgst, err := pinArtifact(ctx, e, uri)
	if err != nil {
		return nil, err
	}
	item, err := e.fetcher.Fetch(ctx, fetch.Request{URI: uri, Digest: dgst})
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	path := item.Path
	if member != "" && strings.HasPrefix(uri, gomod.Prefix) {
		// Members of a module zip are named relative to the module root,
		// as the module's files are (gomod:…toolchain@…#bin/gofmt).
		if ref, err := gomod.ParseURI(uri); err == nil && !strings.HasPrefix(member, ref.ZipPrefix()) {
			member = ref.ZipPrefix() + member
		}
	}
	if member != "" {
		p, err := e.fetcher.Member(ctx, item.Path, member)
		if err != nil && strings.HasPrefix(uri, npm.Prefix) && !strings.HasPrefix(member, "package/") {
			// npm tarballs keep a package's files under package/; let
			// members be named from the package root (#bin/tool).
			if p2, err2 := e.fetcher.Member(ctx, item.Path, "package/"+member); err2 == nil {
				p, err, member = p2, nil, "package/"+member
			}
		}
		if err != nil {
			return nil, fmt.Errorf("artifact member: %w", err)
		}
		path = p
	}
	plan, err := adapter.Infer(ctx, adapter.Input{
		Path: path, URI: uri, Digest: dgst, Member: member,
		Rewrites: e.rewrites, BuilderImage: builder, GOPROXY: e.goproxy,
		Cache: e.cache,
	})
	if err != nil {
		return nil, err
	}
	if len(plan.Candidates) == 0 {
		return nil, fmt.Errorf("%s adapter found nothing to rebuild in %s", plan.Adapter, target)
	}
	return plan, nil
}

// splitMember splits ARTIFACT#MEMBER.
func splitMember(target string) (string, string) {
	if i := strings.LastIndex(target, "#"); i >= 0 {
		return target[:i], target[i+1:]
	}
	return target, ""
}

// pinArtifact finds the digest of an artifact named on the command line: it
// is trusted on first use, like any digest a person would copy into a
// manifest, and recorded in the report.
func pinArtifact(ctx context.Context, e *env, uri string) (string, string, error) {
	switch {
	case strings.HasPrefix(uri, "http://"), strings.HasPrefix(uri, "https://"):
		_, d, _, err := e.cache.DownloadPinned(ctx, nil, uri)
		return uri, d.String(), err
	case strings.HasPrefix(uri, "gomod:"):
		p, err := e.gomod.Pin(ctx, e.cache, uri)
		if err != nil {
			return "", "", err
		}
		return uri, p.Digest, nil
	case strings.HasPrefix(uri, "npm:"):
		p, err := e.npm.Pin(ctx, e.cache, uri)
		if err != nil {
			return "", "", err
		}
		return uri, p.Digest, nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(uri, "file://"), "file:")
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	d, _, err := rebuild.FileDigest(abs)
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe) && pe.Op == "open":
		return "", "", fmt.Errorf("%w: artifact %s: %v", rebuild.ErrUsage, uri, err)
	case err != nil:
		return "", "", fmt.Errorf("reading artifact %s: %w", uri, err)
	}
	return "file://" + abs, d, nil
}
