package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/fetch/npm"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/sandbox/runc"
	"github.com/reprove/reprove/report"
)

// outputConfig names where each report goes ("" none, "-" stdout).
type outputConfig struct {
	Text, JSON, HTML, Markdown, JUnit string
	Attestation, SignKey, Provenance  string
}

func (o outputConfig) stdoutTaken() bool {
	for _, p := range []string{o.JSON, o.HTML, o.Markdown, o.JUnit, o.Attestation, o.Provenance} {
		if p == "-" {
			return true
		}
	}
	return false
}

func (o outputConfig) check() error {
	n := 0
	for _, p := range []string{o.Text, o.JSON, o.HTML, o.Markdown, o.JUnit, o.Attestation, o.Provenance} {
		if p == "-" {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("%w: only one report can go to stdout (-); write the others to files", rebuild.ErrUsage)
	}
	if (o.Attestation != "" || o.Provenance != "") && o.SignKey == "" {
		return fmt.Errorf("%w: --attestation and --provenance need --sign-key KEY (make one with reprove key generate)", rebuild.ErrUsage)
	}
	return nil
}

type diffConfig struct {
	Normalize     []string
	MaxDepth      int
	MaxReportSize int64
	MaxDiffLines  int
	MaxTempSize   int64
	Exclude       []string
}

func (d diffConfig) options() diff.Options {
	o := diff.DefaultOptions()
	o.Normalize = d.Normalize
	if d.MaxDepth > 0 {
		o.MaxDepth = d.MaxDepth
	}
	if d.MaxReportSize > 0 {
		o.MaxReportSize = d.MaxReportSize
	}
	if d.MaxDiffLines > 0 {
		o.MaxDiffLines = d.MaxDiffLines
	}
	if d.MaxTempSize > 0 {
		o.MaxTempSize = d.MaxTempSize
	}
	o.Exclude = d.Exclude
	return o
}

type verifyConfig struct {
	common
	Target  string // manifest path, or artifact URI/path with optional #member
	Backend string
	Outputs outputConfig
	Diff    diffConfig
	Replace []string // OLD=NEW
	Builder string
}

// env is everything a pipeline run needs, built once per command.
type env struct {
	cache    *fetch.Cache
	fetcher  *fetch.Fetcher
	backend  sandbox.Backend
	deps     []fetch.DepsResolver
	progress *progress
	rewrites []fetch.Rewrite
	goproxy  string
	gomod    *gomod.Scheme
	npm      *npm.Scheme
}

func newEnv(g common, backendName string, replace []string) (*env, error) {
	p := newProgress(g.Quiet)
	rewrites, err := parseRewrites(replace)
	if err != nil {
		return nil, err
	}
	cache := &fetch.Cache{Root: g.CacheDir, Progress: p.Fetch}
	proxy := goproxy()
	var gopts []gomod.Option
	if proxy != "" {
		gopts = append(gopts, gomod.WithProxy(proxy))
	}
	gm := gomod.NewScheme(gopts...)
	nm := npm.NewScheme()
	e := &env{
		cache:    cache,
		fetcher:  fetch.New(cache, fetch.WithSchemes(gm, nm), fetch.WithRewrites(rewrites), fetch.WithProgress(p.Fetch)),
		deps:     []fetch.DepsResolver{gomod.NewResolver(gopts...)},
		progress: p,
		rewrites: rewrites,
		goproxy:  proxy,
		gomod:    gm,
		npm:      nm,
	}
	if backendName != "" {
		switch backendName {
		case "runc":
			b, err := runc.New(runc.Options{CacheDir: g.CacheDir})
			if err != nil {
				return nil, err
			}
			e.backend = b
		default:
			return nil, fmt.Errorf("%w: --backend %q is not available; this reprove has: runc", rebuild.ErrUsage, backendName)
		}
	}
	return e, nil
}

// goproxy is the GOPROXY the go command on this machine would use; empty
// lets the gomod package ask `go env` itself.
func goproxy() string { return os.Getenv("GOPROXY") }

func parseRewrites(list []string) ([]fetch.Rewrite, error) {
	var rw []fetch.Rewrite
	for _, r := range list {
		old, new, ok := strings.Cut(r, "=")
		if !ok || old == "" {
			return nil, fmt.Errorf("%w: --replace-source %q: write OLD=NEW, e.g. git+https://github.com/acme/=git+file:///mirror/acme/", rebuild.ErrUsage, r)
		}
		rw = append(rw, fetch.Rewrite{Old: old, New: new})
	}
	return rw, nil
}

func (e *env) options(g common, d diffConfig) rebuild.Options {
	return rebuild.Options{
		Cache:   e.cache,
		Fetcher: e.fetcher,
		Backend: e.backend,
		Deps:    e.deps,
		Diff:    d.options(),
		Tool:    tool(),
		Step:    e.progress.Step,
	}
}

func tool() report.Tool {
	return report.Tool{Name: "reprove", Version: version(), ID: "https://github.com/reprove/reprove"}
}

// isManifest reports whether path is a manifest file rather than an artifact.
func isManifest(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	return bytes.Contains(head, []byte("apiVersion"))
}

func runVerify(ctx context.Context, cfg verifyConfig) (int, error) {
	if err := cfg.Outputs.check(); err != nil {
		return 0, err
	}
	e, err := newEnv(cfg.common, cfg.Backend, cfg.Replace)
	if err != nil {
		return 0, err
	}
	opts := e.options(cfg.common, cfg.Diff)
	var (
		res  *report.Result
		verr error
	)
	if isManifest(cfg.Target) {
		m, dgst, err := manifest.Load(cfg.Target)
		if err != nil {
			return 0, err
		}
		opts.ManifestDigest = dgst
		res, verr = rebuild.Verify(ctx, m, opts)
	} else {
		res, verr = verifyInferred(ctx, e, cfg, opts)
		if res == nil {
			return 0, verr
		}
	}
	if err := writeReports(res, cfg.common, cfg.Outputs); err != nil {
		return 0, err
	}
	if verr != nil {
		return 0, verr
	}
	return res.Verdict.ExitCode(), nil
}

// verifyInferred infers candidate manifests from the artifact and tries them
// in order, stopping at the first that reproduces bit for bit.
func verifyInferred(ctx context.Context, e *env, cfg verifyConfig, opts rebuild.Options) (*report.Result, error) {
	plan, err := infer(ctx, e, cfg.Target, cfg.Builder)
	if err != nil {
		return nil, err
	}
	return rebuild.VerifyPlan(ctx, plan, opts)
}

func writeReports(res *report.Result, g common, o outputConfig) error {
	text := o.Text
	if text == "" && !o.stdoutTaken() {
		text = "-"
	}
	var outs []report.Output
	for _, w := range []report.Output{{Format: report.FormatJSON, Path: o.JSON}, {Format: report.FormatHTML, Path: o.HTML}, {Format: report.FormatMarkdown, Path: o.Markdown}, {Format: report.FormatJUnit, Path: o.JUnit}} {
		if w.Path != "" {
			outs = append(outs, w)
		}
	}
	if err := report.WriteOutputs(os.Stdout, res, outs, report.RenderOptions{}); err != nil {
		return err
	}
	if o.Attestation != "" || o.Provenance != "" {
		key, err := report.LoadPrivateKey(o.SignKey)
		if err != nil {
			return fmt.Errorf("--sign-key: %w", err)
		}
		for _, a := range []struct {
			path string
			kind report.AttestationKind
		}{{o.Attestation, report.AttestVerificationSummary}, {o.Provenance, report.AttestProvenance}} {
			if a.path == "" {
				continue
			}
			env, err := report.Attest(res, key, a.kind)
			if err != nil {
				return err
			}
			if err := report.WriteTo(a.path, os.Stdout, func(w io.Writer) error { _, err := w.Write(env); return err }); err != nil {
				return fmt.Errorf("writing attestation to %s: %w", a.path, err)
			}
		}
	}
	if text == "" {
		return nil
	}
	// The text report is written last, so its verdict follows the evidence.
	return report.WriteOutputs(os.Stdout, res, []report.Output{{Format: report.FormatText, Path: text}},
		report.RenderOptions{Color: g.Color && text == "-"})
}
