// Package adapter derives a manifest from what an artifact declares about
// itself (a Go binary's build info, …). Adapters are tried in order; the
// first that recognises the artifact returns a Plan: one or more candidate
// manifests, most likely first, for the parts the artifact does not record.
// The pipeline rebuilds the candidates in order and stops at the first that
// reproduces the artifact bit for bit.
package adapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/manifest"
)

// Adapter infers manifests for one ecosystem.
type Adapter interface {
	// Name is a short name for reports: "go".
	Name() string
	// Infer returns a plan, or an error wrapping ErrNotApplicable when the
	// artifact is not of this adapter's kind.
	Infer(ctx context.Context, in Input) (*Plan, error)
}

// ErrNotApplicable says an adapter does not recognise the artifact.
var ErrNotApplicable = errors.New("not recognised by this adapter")

// ErrCannotInfer says an adapter recognised the artifact but what it
// declares is not enough to infer a manifest (or is damaged): the artifact
// is at fault, not the network. Infer wraps every adapter error in it but
// a *FetchError.
var ErrCannotInfer = errors.New("cannot infer a manifest")

// FetchError is a failure to fetch something inference needs (the
// toolchain, a module, an import path's meta tag): the artifact is not at
// fault, and trying again may work.
type FetchError struct{ Err error }

func (e *FetchError) Error() string { return e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// Input is the artifact to infer a manifest for, already fetched and verified.
type Input struct {
	Path   string // local path of the artifact file (the member, when Member is set)
	URI    string // the artifact URI as the user gave it, for the manifest
	Digest string // sha256:… of the artifact at URI
	Member string // file inside an archive artifact, for the manifest

	// BuilderImage is the image to build in (oci://…@sha256:… or
	// oci-layout:DIR@sha256:…). Empty means DefaultBuilderImage().
	BuilderImage string
	// GOPROXY is the proxy list the toolchain zip is pinned through at
	// inference time; empty means gomod.DefaultProxy.
	GOPROXY string
	// Cache receives the toolchain zip that inference pins (so the rebuild
	// finds it there). Required by the Go adapter.
	Cache *fetch.Cache
	// HTTPClient is used for the module proxy and for ?go-get=1 import
	// path discovery. Nil means http.DefaultClient.
	HTTPClient *http.Client
	// Rewrites are the --replace-source rewrites. Inferred manifests keep
	// the declared URIs; rewrites only apply when fetching. They are here so
	// adapters that must look at a source while inferring can honour them.
	Rewrites []fetch.Rewrite
	// BuildInfo is the .buildinfo (a file or URL) the user named with
	// --buildinfo, for the Debian adapter; empty derives one.
	BuildInfo string
	// Debian gives the Debian adapter the archives and the image builder.
	Debian DebianEnv
}

// Plan is what an adapter inferred.
type Plan struct {
	Adapter    string      // the adapter's Name
	Notes      []string    // what was inferred and from where, for the report
	Candidates []Candidate // to try in order; the first that reproduces wins
}

// Candidate is one complete manifest to try.
type Candidate struct {
	Name     string // what distinguishes it, e.g. "ldflags=-s -w"
	Manifest *manifest.Manifest
}

// Adapters are the registered adapters, in the order Infer tries them.
var Adapters = []Adapter{Go{}}

// Register adds an adapter after those already registered.
func Register(a Adapter) { Adapters = append(Adapters, a) }

// Infer tries each adapter in order and returns the first plan.
func Infer(ctx context.Context, in Input) (*Plan, error) {
	var tried []string
	for _, a := range Adapters {
		p, err := a.Infer(ctx, in)
		if errors.Is(err, ErrNotApplicable) {
			tried = append(tried, a.Name()+": "+strings.TrimSuffix(err.Error(), ": "+ErrNotApplicable.Error()))
			continue
		}
		var fe *FetchError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("inferring a manifest for %s with the %s adapter: %w", in.URI, a.Name(), err)
		}
		if err != nil {
			return nil, fmt.Errorf("inferring a manifest for %s with the %s adapter: %w: %w", in.URI, a.Name(), ErrCannotInfer, err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("inferring a manifest for %s: %w (tried: %s); write a manifest (reprove.yaml) by hand", in.URI, ErrNotApplicable, strings.Join(tried, ", "))
}

// BuilderImageEnv is the environment variable DefaultBuilderImage reads.
const BuilderImageEnv = "REPROVE_BUILDER_IMAGE"

// DefaultBuilderImage is the builder image inferred manifests use when the
// user names none: $REPROVE_BUILDER_IMAGE. There is no built-in default,
// because an image must be pinned by digest and the one reprove needs (a
// shell and git, for Go's vcs stamping; the Go toolchain comes as a pinned
// source) is built locally and deterministically with
//
//	reprove image build git -o DIR
//
// which prints oci-layout:DIR@<digest>.
func DefaultBuilderImage() (string, error) {
	if img := os.Getenv(BuilderImageEnv); img != "" {
		return img, nil
	}
	return "", errors.New("no builder image: pass --builder-image oci-layout:DIR@sha256:… (or set " + BuilderImageEnv + "); build one with shell and git by `reprove image build git -o DIR`, which prints the reference")
}
