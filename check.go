package main

// Checks made before anything is fetched or built: a wrong output path,
// key or flag value found after a half-hour build would lose the verdict.

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/reprove/reprove/diff"
	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/report"
)

// checkOutputs checks every report path: at most one goes to stdout, and
// each file's folder exists and can be written. The signing key, when an
// attestation is asked for, must be a readable Ed25519 private key; it is
// returned for signing. The outputs returned are those that can be
// written, for the evidence of an error.
func (o outputConfig) checkOutputs() (outputConfig, crypto.Signer, error) {
	var errs []error
	ok, dash := o, 0
	for _, out := range o.named() {
		switch *out.path {
		case "":
			continue
		case "-":
			dash++
			continue
		}
		if err := writable(*out.path); err != nil {
			errs = append(errs, usagef("--%s %s: %v", out.flag, *out.path, err))
			*ok.pathOf(out.flag) = ""
		}
	}
	if dash > 1 {
		errs = append(errs, usagef("only one report can go to stdout (-); write the others to files"))
		for _, out := range ok.named() {
			if *out.path == "-" {
				*out.path = ""
			}
		}
	}
	var key crypto.Signer
	if o.Attestation != "" || o.Provenance != "" {
		if o.SignKey == "" {
			errs = append(errs, usagef("--attestation and --provenance need --sign-key FILE (make one with reprove key generate)"))
		} else if k, err := report.LoadPrivateKey(o.SignKey); err != nil {
			errs = append(errs, usagef("--sign-key: %v", err))
		} else {
			key = k
		}
	}
	return ok, key, errors.Join(errs...)
}

type namedOutput struct {
	flag string
	path *string
}

// named lists o's outputs by flag, each pointing into o.
func (o *outputConfig) named() []namedOutput {
	return []namedOutput{{"text", &o.Text}, {"json", &o.JSON}, {"html", &o.HTML}, {"markdown", &o.Markdown},
		{"junit", &o.JUnit}, {"attestation", &o.Attestation}, {"provenance", &o.Provenance}}
}

func (o *outputConfig) pathOf(flag string) *string {
	for _, n := range o.named() {
		if n.flag == flag {
			return n.path
		}
	}
	panic("no output flag " + flag)
}

// writable says why a report could not be written at p: its folder is
// missing or read-only, or p is a folder. Devices and pipes (/dev/null)
// are written in place and only need to be open for writing.
func writable(p string) error {
	if fi, err := os.Stat(p); err == nil {
		switch {
		case fi.IsDir():
			return errors.New("is a folder; give a file name")
		case !fi.Mode().IsRegular():
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			return f.Close()
		}
	}
	dir := filepath.Dir(p)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("the folder %s does not exist", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".reprove-check-*")
	if err != nil {
		return fmt.Errorf("the folder %s is not writable: %w", dir, errors.Unwrap(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// checkDiff checks the diff flags' values.
func (d diffConfig) check() error {
	var errs []error
	if err := diff.ValidateNormalizations(d.Normalize); err != nil {
		errs = append(errs, usagef("--normalize: %v", err))
	}
	for _, g := range d.Exclude {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, usagef("--exclude %q: %v", g, err))
		}
	}
	for name, v := range map[string]int64{"max-report-size": d.MaxReportSize, "max-diff-lines": int64(d.MaxDiffLines), "max-temp-size": d.MaxTempSize} {
		if v <= 0 {
			errs = append(errs, usagef("--%s %d: give a number above 0", name, v))
		}
	}
	return errors.Join(errs...)
}

// check checks the fetch flags' values.
func (f fetchConfig) check() error {
	var errs []error
	for _, p := range f.AllowPaths {
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			errs = append(errs, usagef("--allow-path %s: not a folder", p))
		}
	}
	if f.StallTimeout <= 0 {
		errs = append(errs, usagef("--fetch-stall-timeout %s: give a duration above 0", f.StallTimeout))
	}
	if f.MaxDownloadSize <= 0 {
		errs = append(errs, usagef("--max-download-size %d: give a number above 0", f.MaxDownloadSize))
	}
	return errors.Join(errs...)
}

// checkBackend checks --backend names a registered backend.
func checkBackend(name string) error {
	if name == "" || slices.Contains(rebuild.Backends(), name) {
		return nil
	}
	return usagef("--backend %q is not available; this reprove has: %s", name, strings.Join(rebuild.Backends(), ", "))
}

// checkInfer checks the flags of inferred manifests.
func checkInfer(replace []string, builder string) error {
	var errs []error
	if _, err := rebuild.ParseRewrites(replace); err != nil {
		errs = append(errs, err)
	}
	if builder != "" && (!strings.HasPrefix(builder, "oci://") && !strings.HasPrefix(builder, "oci-layout:") || !strings.Contains(builder, "@sha256:")) {
		errs = append(errs, usagef("--builder-image %q: name an image pinned by digest, oci://HOST/REPO@sha256:… or oci-layout:DIR@sha256:…", builder))
	}
	return errors.Join(errs...)
}
