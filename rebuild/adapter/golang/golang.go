// Package golang is the Go adapter: it infers manifests for Go binaries from
// their build info (debug/buildinfo), reading the binary itself for what
// build info does not record (link flags under -trimpath).
//
// The toolchain is golang.org/toolchain@v0.0.1-GOVERSION.linux-amd64 from
// GOPROXY, pinned at inference time by downloading it (its sha256 and h1:
// hash go into the manifest; the go command trusts the checksum database for
// it instead, which reprove cannot reach offline). The source is the git
// repository at vcs.revision when the binary is vcs-stamped, else the module
// zip of the main module version (pinned by the binary's own h1: sum). The
// dependencies are a gomod deps entry resolved from the source's go.sum.
//
// Files by job: buildinfo.go reads and checks the build info, toolchain.go
// pins the toolchain, source.go finds the source, ldflags.go guesses the
// link flags, recipe.go writes the build and the manifests.
package golang

import (
	"context"
	"debug/buildinfo"
	"fmt"

	"github.com/reprove/reprove/rebuild/adapter"
)

// Where inferred Go builds see their inputs.
const (
	ToolchainDest = "/opt/go"
	SourceDest    = "/src"
	DepsDest      = "/deps/gomod"
	// MainZipDest holds the main module's zip (not unpacked) when the
	// binary was built with go install MODULE@VERSION.
	MainZipDest = "/deps/main.zip"
	// GoCache is the build cache (GOCACHE) of a build on its own.
	GoCache = "/tmp/go-cache"
	// SharedGoCache is where the build cache the candidates of one
	// verification share is mounted (adapter.Plan.Shared): a candidate
	// after the first compiles only what its flags change. Go's cache is
	// keyed by every input of each step, so a shared cache cannot change
	// a build's output; it lives for one verification only. The script
	// uses it when it is there and writable (cachePrelude).
	SharedGoCache = "/cache/go-build"
)

// cachePrelude makes the build use the shared cache when one is mounted.
const cachePrelude = "[ -w " + SharedGoCache + " ] && export GOCACHE=" + SharedGoCache + "\n"

// Adapter is the Go adapter.
type Adapter struct{}

// Name returns "go".
func (Adapter) Name() string { return "go" }

// Infer reads the build info of the artifact and returns the candidates.
func (a Adapter) Infer(ctx context.Context, in adapter.Input) (*adapter.Plan, error) {
	if ref, goVer, goos, goarch, ok := toolchainTarget(in.Artifact); ok {
		if in.Env.Pinner == nil {
			return nil, fmt.Errorf("the Go adapter needs the pipeline's pinner")
		}
		return a.distribution(ctx, in, ref, goVer, goos, goarch)
	}
	info, err := readBuildInfo(in.Artifact.Path)
	if err != nil {
		return nil, err
	}
	if in.Env.Fetcher == nil || in.Env.Pinner == nil {
		return nil, fmt.Errorf("the Go adapter needs the pipeline's fetcher and pinner")
	}
	image, err := in.Env.Image()
	if err != nil {
		return nil, err
	}
	plan := &adapter.Plan{Adapter: a.Name(), Shared: []string{SharedGoCache}}
	r := &recipe{info: info, in: in, image: image, plan: plan, env: baseEnv(), toolchain: ToolchainDest}
	if err := info.check(r.note); err != nil {
		return nil, err
	}
	if r.facts, err = inspectBinary(in.Artifact.Path); err != nil {
		return nil, err
	}
	r.atBuildPaths()
	plan.Check = info.checkKind()
	if err := r.pinToolchain(ctx); err != nil {
		return nil, err
	}
	if err := r.findSource(ctx); err != nil {
		return nil, err
	}
	r.applySettings()
	if err := r.cgo(ctx); err != nil {
		return nil, err
	}
	cands, err := r.ldflags(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cands {
		m, err := r.manifest(c)
		if err != nil {
			return nil, err
		}
		plan.Candidates = append(plan.Candidates, adapter.Candidate{Name: "ldflags=" + c.display(), From: c.from, Manifest: m})
	}
	return plan, nil
}

// Recognizes reports whether the file at path is a Go binary (has build info).
func (Adapter) Recognizes(path string) bool {
	_, err := buildinfo.ReadFile(path)
	return err == nil
}

// Kind is what the adapter recognises.
func (Adapter) Kind() string { return "Go binaries" }
