package golang

import (
	"context"
	"fmt"

	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/manifest"
)

// toolchainURI names the golang.org/toolchain module zip of a release.
func toolchainURI(goVersion string) string {
	return gomod.Prefix + gomod.ToolchainModule + "@v0.0.1-" + goVersion + ".linux-amd64"
}

// pinToolchain pins the toolchain the binary was built with, through the
// pipeline's pinner, and makes it the recipe's first source.
func (r *recipe) pinToolchain(ctx context.Context) error {
	uri := toolchainURI(r.info.goVersion)
	p, err := r.in.Env.Pinner.Pin(ctx, uri)
	if err != nil {
		return &adapter.FetchError{Err: fmt.Errorf("pinning the toolchain %s: %w", uri, err)}
	}
	r.note("toolchain %s pinned at inference by download through GOPROXY: %s, %s", uri, p.Digest, sumOf(p.URI))
	r.sources = append(r.sources, manifest.Source{URI: p.URI, Digest: p.Digest, Dest: r.toolchain, Unpack: true})
	return nil
}

// sumOf is the h1: hash a pinned gomod: URI carries.
func sumOf(uri string) string {
	ref, err := gomod.ParseURI(uri)
	if err != nil {
		return ""
	}
	return ref.Sum
}

// distributionProgram sets up the rebuild of a program of the Go
// distribution (gofmt, cmd/go, pkg/tool/…): its source is the toolchain zip
// itself, built the way cmd/dist built it.
func (r *recipe) distributionProgram() {
	for _, k := range []string{"GOFLAGS", "GOSUMDB"} {
		delete(r.env, k)
	}
	r.env["GOPROXY"] = "off"
	if r.info.set["DefaultGODEBUG"] != "" {
		// Older releases (go1.23): cmd/dist built in GOPATH mode,
		// which the recorded go1.20-compatible DefaultGODEBUG shows.
		r.env["GO111MODULE"] = "off"
		r.env["GOPATH"] = "/tmp/gopath"
		r.workdir = "/tmp"
		r.note("program of the Go distribution with a recorded DefaultGODEBUG: rebuilt from the toolchain's own sources in GOPATH mode (GO111MODULE=off), as cmd/dist built it")
		return
	}
	// Newer releases: module mode inside the cmd module (vendored).
	r.workdir = r.toolchain + "/src/cmd"
	r.note("program of the Go distribution: rebuilt from the toolchain's own sources in the cmd module, as cmd/dist builds it")
}
