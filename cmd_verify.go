package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild"
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
	Limits        archive.Limits // for the diff and for unpacking sources and members
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
	o.Limits = d.Limits
	return o
}

type verifyConfig struct {
	common
	Target    string // manifest path, or artifact URI/path with optional #member
	Backend   string
	Outputs   outputConfig
	Diff      diffConfig
	Replace   []string // OLD=NEW
	Builder   string
	Fetch     fetchConfig
	Debian    rebuild.DebianConfig
	BuildInfo string
}

// fetchConfig is what bounds and confines fetching.
type fetchConfig struct {
	AllowPaths      []string      // --allow-path and REPROVE_ALLOW_PATH
	Offline         bool          // --offline
	StallTimeout    time.Duration // --fetch-stall-timeout
	MaxDownloadSize int64         // --max-download-size
}

// envConfig maps the flags a command shares to the pipeline's Config.
func envConfig(g common, backend string, replace []string, builder string, fc fetchConfig, d diffConfig, p *progress) rebuild.Config {
	return rebuild.Config{
		CacheDir: g.CacheDir, Backend: backend, Replace: replace, BuilderImage: builder,
		AllowPaths: fc.AllowPaths, Offline: fc.Offline, StallTimeout: fc.StallTimeout, MaxDownloadSize: fc.MaxDownloadSize,
		Limits: d.Limits, Diff: d.options(), Tool: tool(), Progress: p.Fetch, Step: p.Step,
	}
}

func tool() report.Tool {
	return report.Tool{Name: "reprove", Version: version(), ID: "https://github.com/reprove/reprove"}
}

func runVerify(ctx context.Context, cfg verifyConfig) (int, error) {
	if err := cfg.Outputs.check(); err != nil {
		return 0, err
	}
	p := newProgress(cfg.Quiet)
	ec := envConfig(cfg.common, cfg.Backend, cfg.Replace, cfg.Builder, cfg.Fetch, cfg.Diff, p)
	ec.Debian, ec.BuildInfo = cfg.Debian, cfg.BuildInfo
	e, err := rebuild.NewEnv(ec)
	if err != nil {
		return 0, err
	}
	res, verr := e.VerifyTarget(ctx, cfg.Target)
	if res == nil {
		return 0, verr
	}
	if err := writeReports(res, cfg.common, cfg.Outputs); err != nil {
		return 0, err
	}
	if verr != nil {
		return 0, verr
	}
	return res.Verdict.ExitCode(), nil
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
