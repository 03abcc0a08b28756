package main

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
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
	Target  string // manifest path, or artifact URI/path with optional #member
	Backend string
	Outputs outputConfig
	Diff    diffConfig
	Replace []string // OLD=NEW
	Builder string
	Fetch   fetchConfig
	All     bool   // --all-members
	History string // --history DB: record the result there
	Debian  debianConfig
	// FlagErrs are problems found reading the flags; they are reported
	// with the others, before anything is fetched.
	FlagErrs error
}

// check finds every problem of the command line before anything is
// fetched or built, and loads the signing key. It returns the outputs
// that can be written.
func (cfg verifyConfig) check() (outputConfig, crypto.Signer, error) {
	outs, key, err := cfg.Outputs.checkOutputs()
	return outs, key, errors.Join(cfg.FlagErrs, err, cfg.Fetch.check(), checkBackend(cfg.Backend), checkInfer(cfg.Replace, cfg.Builder))
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
		Limits: d.Limits, Diff: d.options(), Tool: tool(), Progress: p.Fetch, Step: p.Step, Events: p.Event,
	}
}

func tool() report.Tool {
	return report.Tool{Name: "reprove", Version: version(), ID: "https://github.com/reprove/reprove"}
}

// runVerify verifies cfg.Target and writes every report asked for, for
// every outcome: a verdict, or an error (verdict "error", with its class),
// and records it in the history database when --history names one. The
// error it returns is the verdict's answer (exit.go) or what stopped the
// check.
func runVerify(ctx context.Context, cfg verifyConfig) error {
	started := time.Now()
	outs, key, err := cfg.check()
	if err == nil && cfg.All {
		return verifyEachMember(ctx, cfg, outs, key, started)
	}
	var res *report.Result
	if err == nil {
		p := newProgress(cfg.Quiet)
		var e *rebuild.Env
		ec := envConfig(cfg.common, cfg.Backend, cfg.Replace, cfg.Builder, cfg.Fetch, cfg.Diff, p)
		cfg.Debian.apply(&ec)
		if e, err = rebuild.NewEnv(ec); err == nil {
			res, err = e.VerifyTarget(ctx, cfg.Target)
			e.Close()
		}
		p.Close()
	}
	return finishVerify(ctx, cfg, outs, key, started, res, err)
}

// finishVerify writes the reports of one check, whatever its outcome, and
// records it; the error it returns is the verdict's answer or what stopped
// the check.
func finishVerify(ctx context.Context, cfg verifyConfig, outs outputConfig, key crypto.Signer, started time.Time, res *report.Result, err error) error {
	if res == nil {
		res = rebuild.ErrorResult(tool(), cfg.Target, started, err)
	}
	if res.Verdict == report.Error && err != nil {
		res.ErrorClass = string(classify(err))
	}
	if res.Diff != nil {
		warn(res.Diff.Warnings)
	}
	if werr := writeReports(res, cfg.common, outs, key); werr != nil && err == nil {
		err = werr
	}
	recordVerify(ctx, os.Stderr, cfg.History, res, err)
	if err != nil {
		return err
	}
	return answer(verdictCode(res.Verdict))
}

// verifyEachMember verifies every recognised member of an archive
// (--all-members); each member's reports go to the files named, with the
// member's name before the extension, and each result is recorded. The
// answer is the worst verdict's.
func verifyEachMember(ctx context.Context, cfg verifyConfig, outs outputConfig, key crypto.Signer, started time.Time) error {
	p := newProgress(cfg.Quiet)
	e, err := rebuild.NewEnv(envConfig(cfg.common, cfg.Backend, cfg.Replace, cfg.Builder, cfg.Fetch, cfg.Diff, p))
	var results []*report.Result
	if err == nil {
		results, err = e.VerifyEachMember(ctx, cfg.Target)
		e.Close()
	}
	p.Close()
	if len(results) == 0 {
		return finishVerify(ctx, cfg, outs, key, started, nil, err)
	}
	code := exitOK
	tags := memberTags(results)
	for i, res := range results {
		if res.Diff != nil {
			warn(res.Diff.Warnings)
		}
		if werr := writeReports(res, cfg.common, outs.forMember(tags[i]), key); werr != nil && err == nil {
			err = werr
		}
		recordVerify(ctx, os.Stderr, cfg.History, res, nil)
		code = max(code, verdictCode(res.Verdict))
	}
	if err != nil {
		return err
	}
	return answer(code)
}

// memberTags are the names report files of each member get: the member's
// base name, or its position when two members share one.
func memberTags(results []*report.Result) []string {
	tags := make([]string, len(results))
	seen := map[string]int{}
	for i, r := range results {
		tags[i] = strings.Map(func(c rune) rune {
			if c == '/' || c == os.PathSeparator || c < ' ' {
				return '_'
			}
			return c
		}, path.Base(r.Artifact.Member))
		seen[tags[i]]++
	}
	for i := range tags {
		if seen[tags[i]] > 1 {
			tags[i] = strconv.Itoa(i + 1)
		}
	}
	return tags
}

// forMember names the report files of one member: r.json → r.TAG.json.
func (o outputConfig) forMember(tag string) outputConfig {
	rename := func(p string) string {
		if p == "" || p == "-" {
			return p
		}
		ext := filepath.Ext(p)
		return strings.TrimSuffix(p, ext) + "." + tag + ext
	}
	o.Text, o.JSON, o.HTML, o.Markdown, o.JUnit = rename(o.Text), rename(o.JSON), rename(o.HTML), rename(o.Markdown), rename(o.JUnit)
	o.Attestation, o.Provenance = rename(o.Attestation), rename(o.Provenance)
	return o
}

// writeReports writes res in every format asked for. It writes every
// report it can: one that fails does not keep the others (or the verdict
// on stdout) from being written. Attestations are signed with key, and
// only for a verdict: a check that could not be made attests nothing.
func writeReports(res *report.Result, g common, o outputConfig, key crypto.Signer) error {
	text := o.Text
	if text == "" && !o.stdoutTaken() && res.Verdict != report.Error {
		// The text verdict goes to stdout; an error goes to stderr only
		// (main prints it), so stdout carries results and nothing twice.
		text = "-"
	}
	var errs []error
	for _, w := range []report.Output{{Format: report.FormatJSON, Path: o.JSON}, {Format: report.FormatHTML, Path: o.HTML}, {Format: report.FormatMarkdown, Path: o.Markdown}, {Format: report.FormatJUnit, Path: o.JUnit}} {
		if w.Path != "" {
			errs = append(errs, report.WriteOutputs(os.Stdout, res, []report.Output{w}, report.RenderOptions{}))
		}
	}
	if key != nil && res.Verdict != report.Error {
		for _, a := range []struct {
			path string
			kind report.AttestationKind
		}{{o.Attestation, report.AttestVerificationSummary}, {o.Provenance, report.AttestProvenance}} {
			if a.path != "" {
				errs = append(errs, writeAttestation(res, key, a.kind, a.path))
			}
		}
	}
	if text != "" {
		// The text report is written last, so its verdict follows the evidence.
		errs = append(errs, report.WriteOutputs(os.Stdout, res, []report.Output{{Format: report.FormatText, Path: text}},
			report.RenderOptions{Color: g.Color && text == "-"}))
	}
	return errors.Join(errs...)
}

func writeAttestation(res *report.Result, key crypto.Signer, kind report.AttestationKind, path string) error {
	env, err := report.Attest(res, key, kind)
	if err != nil {
		return err
	}
	if err := report.WriteTo(path, os.Stdout, func(w io.Writer) error { _, err := w.Write(env); return err }); err != nil {
		return fmt.Errorf("writing attestation to %s: %w", path, err)
	}
	return nil
}
