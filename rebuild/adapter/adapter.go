// Package adapter derives a manifest from what an artifact declares about
// itself (a Go binary's build info, …). Adapters are registered once and
// tried in order; the first that recognises the artifact returns a Plan: one
// or more candidate manifests, most likely first, for the parts the artifact
// does not record. The pipeline rebuilds the candidates in order and stops at
// the first that reproduces the artifact bit for bit.
//
// Each ecosystem is one package under rebuild/adapter/ (golang/, …) with
// the same shape: it reads the artifact, fetches what it must look at
// through the pipeline's fetcher (so --replace-source, the HTTP settings,
// confinement and --offline apply to its downloads too), and returns plain
// manifests.
package adapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

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
// is at fault, not the network, and a person must write the manifest.
// Infer wraps every adapter error in it but a *FetchError.
var ErrCannotInfer = errors.New("cannot infer a manifest")

// FetchError is a failure to fetch something inference needs (the
// toolchain, a module, an import path's meta tag): the artifact is not at
// fault, and trying again may work.
type FetchError struct{ Err error }

func (e *FetchError) Error() string { return e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// Input is the artifact to infer a manifest for, already fetched and
// verified, and the environment the adapter may use.
type Input struct {
	Artifact Artifact
	Env      Env
}

// Artifact is the fetched artifact.
type Artifact struct {
	Path   string // local path of the artifact file (the member, when Member is set)
	URI    string // the artifact URI as the user gave it, for the manifest
	Digest string // sha256:… of the artifact at URI
	Member string // file inside an archive artifact, for the manifest
	// Name is the name what the user named suggests for the manifest
	// (lefthook-linux-x64@2.1.10 for npm:lefthook-linux-x64@2.1.10#…),
	// empty when it suggests none (a local file).
	Name string
}

// Env is the part of the pipeline an adapter uses. Everything an adapter
// downloads goes through it.
type Env struct {
	// Fetcher is the pipeline's fetcher: every registered scheme, the
	// --replace-source rewrites, the one HTTP client, confinement and
	// --offline. Its Cache() is where fetched inputs are kept.
	Fetcher *fetch.Fetcher
	// Pinner pins inputs named without a digest (a toolchain, a module
	// zip) through the same rewrites and HTTP client.
	Pinner Pinner
	// Client is the pipeline's HTTP client, for discovery requests that
	// are not inputs (a Go import path's ?go-get=1 page).
	Client *http.Client
	// BuilderImage is the image to build in (oci://…@sha256:… or
	// oci-layout:DIR@sha256:…). Empty means DefaultBuilderImage().
	BuilderImage string
	// BuildInfo is the .buildinfo (a file or URL) the user named with
	// --buildinfo, for the Debian adapter; empty derives one.
	BuildInfo string
	// Debian gives the Debian adapter the archives and the image builder.
	Debian DebianEnv
}

// Pinner finds what an input named without a digest is, downloading it
// (trust on first use, as a person copying a digest into a manifest does).
type Pinner interface {
	Pin(ctx context.Context, uri string) (Pinned, error)
}

// Pinned is an input found by Pin.
type Pinned struct {
	URI    string // the URI to declare: the one asked for, made canonical (gomod: gains ?sum=h1:…)
	Digest string // sha256:… of its bytes
	Path   string // the bytes in the cache
}

// HTTPClient is e.Client, or http.DefaultClient when unset.
func (e Env) HTTPClient() *http.Client {
	if e.Client != nil {
		return e.Client
	}
	return http.DefaultClient
}

// Image is the builder image inferred manifests use: e.BuilderImage, else
// DefaultBuilderImage().
func (e Env) Image() (string, error) {
	if e.BuilderImage != "" {
		return e.BuilderImage, nil
	}
	return DefaultBuilderImage()
}

// Plan is what an adapter inferred.
type Plan struct {
	Adapter    string      // the adapter's Name
	Check      string      // what kind of check the candidates make, for the report
	Notes      []string    // what was inferred and from where, for the report
	Candidates []Candidate // to try in order; the first that reproduces wins
	// Shared are container folders the candidates' builds share within one
	// verification (a build cache): each is a fresh writable host folder,
	// mounted into every candidate's build and deleted when the plan's
	// verification ends, never kept across verifications.
	Shared []string
}

// Candidate is one complete manifest to try.
type Candidate struct {
	Name     string // what distinguishes it, e.g. "ldflags=-s -w"
	From     string // where it came from, e.g. ".goreleaser.yaml builds[0]"
	Manifest *manifest.Manifest
}

var (
	registryMu sync.Mutex
	registry   []Adapter
)

// Register adds an adapter; Infer tries them in the order registered.
func Register(a Adapter) {
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, r := range registry {
		if r.Name() == a.Name() {
			return
		}
	}
	registry = append(registry, a)
}

// Registered lists the registered adapters in order.
func Registered() []Adapter {
	registryMu.Lock()
	defer registryMu.Unlock()
	return append([]Adapter(nil), registry...)
}

// Infer tries each registered adapter in order and returns the first plan.
func Infer(ctx context.Context, in Input) (*Plan, error) {
	var tried []string
	for _, a := range Registered() {
		p, err := a.Infer(ctx, in)
		if errors.Is(err, ErrNotApplicable) {
			tried = append(tried, a.Name()+": "+strings.TrimSuffix(err.Error(), ": "+ErrNotApplicable.Error()))
			continue
		}
		var fe *FetchError
		if errors.As(err, &fe) || errors.Is(err, ErrCannotInfer) {
			return nil, fmt.Errorf("inferring a manifest for %s with the %s adapter: %w", in.Artifact.URI, a.Name(), err)
		}
		if err != nil {
			return nil, fmt.Errorf("inferring a manifest for %s with the %s adapter: %w: %w", in.Artifact.URI, a.Name(), ErrCannotInfer, err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("inferring a manifest for %s: %w (tried: %s); write a manifest (reprove.yaml) by hand", in.Artifact.URI, ErrNotApplicable, strings.Join(tried, ", "))
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

// Recognizer is implemented by adapters that can tell from a file alone
// that it is an artifact of theirs, so that an archive named without a
// member can be searched for members to verify (the Go binaries in an npm
// tarball).
type Recognizer interface {
	// Recognizes reports whether the file at path is of this adapter's kind.
	Recognizes(path string) bool
	// Kind names what it recognises, plural: "Go binaries".
	Kind() string
}
