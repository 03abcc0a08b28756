package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/adapter/debian"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/history"
	"github.com/reprove/reprove/rebuild/image"
	"github.com/reprove/reprove/rebuild/manifest"
	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/report"
)

// TestExitPolicy is the exit-code policy as a table: each typed error and
// verdict, and the code it exits with.
func TestExitPolicy(t *testing.T) {
	stage := func(s rebuild.Stage, err error) error { return &rebuild.StageError{Stage: s, Err: err} }
	tests := []struct {
		name  string
		err   error
		class errorClass
		code  int
	}{
		{"unknown flag", usagef("unknown flag --bogus"), classUsage, 2},
		{"bad flag value from the library", fmt.Errorf("%w: --backend %q", rebuild.ErrUsage, "x"), classUsage, 2},
		{"joined usage errors", errors.Join(usagef("a"), usagef("b")), classUsage, 2},
		{"bad manifest", &manifest.Error{Source: "m", Problems: []manifest.Problem{{Field: "name", Msg: "required"}}}, classInput, 2},
		{"digest mismatch while fetching", stage(rebuild.StageFetch, fmt.Errorf("sources[0]: %w", &fetch.DigestMismatchError{URI: "x", Want: "a", Got: "b"})), classInput, 2},
		{"unpinned", fmt.Errorf("x: %w", fetch.ErrUnpinned), classInput, 2},
		{"unconfined", stage(rebuild.StageFetch, fmt.Errorf("x: %w", fetch.ErrConfined)), classInput, 2},
		{"not a Go binary", stage(rebuild.StageInfer, fmt.Errorf("x: %w", adapter.ErrNotApplicable)), classInput, 2},
		{"nothing to infer", stage(rebuild.StageInfer, fmt.Errorf("x: %w: y", adapter.ErrCannotInfer)), classInput, 2},
		{"unreadable file (diff, report, key)", errors.New("open x: no such file"), classInput, 2},
		{"bad .buildinfo", stage(rebuild.StageFetch, &adapter.FetchError{Err: fmt.Errorf("%w: Build-Path", debian.ErrBadBuildInfo)}), classInput, 2},
		{"no source package", stage(rebuild.StageInfer, fmt.Errorf("%w: hello", debian.ErrNoSourcePackage)), classInput, 2},
		{"bad archive signature", stage(rebuild.StageFetch, fmt.Errorf("InRelease: %w", deb.ErrSignature)), classInput, 2},
		{"packages not in the archive", stage(rebuild.StageFetch, fmt.Errorf("%w: gcc", deb.ErrUnresolved)), classInput, 2},
		{"bad recipe", fmt.Errorf("%w: packages: x;y", image.ErrRecipe), classInput, 2},
		{"image build failed", stage(rebuild.StageBuild, fmt.Errorf("maintainer scripts: %w", sandbox.ErrBuildFailed)), classBuild, 3},
		{"download failed", stage(rebuild.StageFetch, errors.New("connection refused")), classFetch, 3},
		{"toolchain download failed while inferring", stage(rebuild.StageFetch, &adapter.FetchError{Err: errors.New("503")}), classFetch, 3},
		{"build failed", stage(rebuild.StageBuild, fmt.Errorf("building: %w", sandbox.ErrBuildFailed)), classBuild, 3},
		{"build timed out", stage(rebuild.StageBuild, fmt.Errorf("building: %w", sandbox.ErrTimeout)), classBuild, 3},
		{"interrupted build", stage(rebuild.StageBuild, context.Canceled), classBuild, 3},
		{"compare failed", stage(rebuild.StageCompare, errors.New("disk full")), classCompare, 3},
		{"attestation invalid", fmt.Errorf("%w: bad signature", errAttestationInvalid), classInvalid, 1},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.class {
			t.Errorf("%s: classify(%v) = %s, want %s", tt.name, tt.err, got, tt.class)
		}
		if got := exitCode(tt.err); got != tt.code {
			t.Errorf("%s: exitCode(%v) = %d, want %d", tt.name, tt.err, got, tt.code)
		}
	}
	for v, want := range map[report.Verdict]int{
		report.Reproducible: 0, report.ReproducibleAfterNormalization: 0, report.NotReproducible: 1, report.Error: 3,
	} {
		if got := verdictCode(v); got != want {
			t.Errorf("verdictCode(%s) = %d, want %d", v, got, want)
		}
		if got := exitCode(answer(verdictCode(v))); got != want {
			t.Errorf("exitCode(answer(%s)) = %d, want %d", v, got, want)
		}
	}
	if exitCode(nil) != 0 {
		t.Errorf("exitCode(nil) = %d", exitCode(nil))
	}
}

// The history database reads an exit class back from a stored result; it
// must give the codes this file's policy gives, for every class.
func TestHistoryExitClassAgrees(t *testing.T) {
	for _, c := range []errorClass{classUsage, classInput, classFetch, classBuild, classCompare} {
		res := &report.Result{Verdict: report.Error, ErrorClass: string(c)}
		if got, want := history.ExitClassOf(res), c.code(); got != want {
			t.Errorf("error class %s: history records exit %d, exit.go gives %d", c, got, want)
		}
	}
	for _, v := range []report.Verdict{report.Reproducible, report.ReproducibleAfterNormalization, report.NotReproducible} {
		if got, want := history.ExitClassOf(&report.Result{Verdict: v}), verdictCode(v); got != want {
			t.Errorf("verdict %s: history records exit %d, exit.go gives %d", v, got, want)
		}
	}
}
