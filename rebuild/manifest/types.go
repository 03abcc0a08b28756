// Package manifest reads and validates reprove's declared-inputs format
// (apiVersion reprove/v1), in YAML or JSON.
package manifest

import "time"

// APIVersion is the only manifest version this reprove reads.
const APIVersion = "reprove/v1"

// Manifest is everything that can change the bits of a rebuild.
type Manifest struct {
	APIVersion string   `json:"apiVersion" yaml:"apiVersion"`
	Name       string   `json:"name" yaml:"name"`
	Artifact   Artifact `json:"artifact" yaml:"artifact"`
	Sources    []Source `json:"sources,omitempty" yaml:"sources,omitempty"`
	Deps       []Dep    `json:"deps,omitempty" yaml:"deps,omitempty"`
	Builder    Builder  `json:"builder" yaml:"builder"`
	Build      Build    `json:"build" yaml:"build"`
	// Also are more published files the same build makes (the other .debs
	// of a source package), each compared with its file under /out.
	Also []Also `json:"also,omitempty" yaml:"also,omitempty"`
	// Approximated names what could not be pinned to the inputs the
	// published artifact was built from (a derived .buildinfo); every
	// report of the result says its inputs are approximated.
	Approximated []string `json:"approximated,omitempty" yaml:"approximated,omitempty"`

	// Dir is the folder file: URIs are relative to (the manifest's folder).
	Dir string `json:"-" yaml:"-"`
	// Path is where the manifest was read from; empty when it was inferred.
	Path string `json:"-" yaml:"-"`
}

// Artifact is the published thing under test.
type Artifact struct {
	URI    string `json:"uri" yaml:"uri"`
	Digest string `json:"digest" yaml:"digest"`
	Member string `json:"member,omitempty" yaml:"member,omitempty"` // compare one file inside an archive artifact
	// Size is the artifact's size in bytes, when known: a download stops as
	// soon as more arrives.
	Size ByteSize `json:"size,omitempty" yaml:"size,omitempty"`
}

// Source is one declared source input, pinned by digest or (for git) rev.
type Source struct {
	URI    string `json:"uri" yaml:"uri"`
	Digest string `json:"digest,omitempty" yaml:"digest,omitempty"`
	Rev    string `json:"rev,omitempty" yaml:"rev,omitempty"` // full commit id, for git+ URIs
	Dest   string `json:"dest" yaml:"dest"`
	Unpack bool   `json:"unpack,omitempty" yaml:"unpack,omitempty"` // extract zip/tar(.gz|.xz|.zst) into dest
	// Size is the source's size in bytes, when known (not for git).
	Size ByteSize `json:"size,omitempty" yaml:"size,omitempty"`
}

// Dep asks for a language's dependency set to be resolved on the host from a
// lock file that a pinned source carries, verified against it, and mounted
// read-only at Dest.
type Dep struct {
	Kind   string `json:"kind" yaml:"kind"`                   // "gomod": every module in go.sum, as a file GOPROXY
	Source string `json:"source" yaml:"source"`               // dest of the source that carries the lock, e.g. /src
	Dir    string `json:"dir,omitempty" yaml:"dir,omitempty"` // folder inside that source holding go.sum; "." by default
	Dest   string `json:"dest" yaml:"dest"`                   // where the build sees it, e.g. /deps/gomod
}

// Builder names the image the rebuild runs in.
type Builder struct {
	Image string `json:"image" yaml:"image"` // oci://REPO@sha256:… or oci-layout:DIR@sha256:…
}

// Build says how to rebuild.
type Build struct {
	Workdir   string            `json:"workdir,omitempty" yaml:"workdir,omitempty"`
	Env       map[string]string `json:"env,omitempty" yaml:"env,omitempty"`
	Script    string            `json:"script" yaml:"script"`
	Output    string            `json:"output" yaml:"output"`
	Timeout   Duration          `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	Resources Resources         `json:"resources,omitempty" yaml:"resources,omitempty"`
	// Writable are folders the build may write besides /tmp and /out, each
	// empty at the start and on the build's disk, counted in
	// resources.disk (a recorded build path such as /build).
	Writable []string `json:"writable,omitempty" yaml:"writable,omitempty"`
}

// Also is one more published file the build makes.
type Also struct {
	URI    string   `json:"uri" yaml:"uri"`
	Digest string   `json:"digest" yaml:"digest"`
	Output string   `json:"output" yaml:"output"` // the file under /out it is compared with
	Size   ByteSize `json:"size,omitempty" yaml:"size,omitempty"`
}

// Resources limits what the build may use.
type Resources struct {
	Memory ByteSize `json:"memory,omitempty" yaml:"memory,omitempty"` // e.g. 4GiB
	Pids   int64    `json:"pids,omitempty" yaml:"pids,omitempty"`
	// Disk caps what /out and /tmp hold together, e.g. 40GiB; 16GiB when
	// unset.
	Disk ByteSize `json:"disk,omitempty" yaml:"disk,omitempty"`
}

// MinDisk is the smallest build.resources.disk: an ext4 image smaller
// than that holds little beyond its own metadata.
const MinDisk = 16 << 20

// Duration is a time.Duration written as "30m" in manifests.
type Duration time.Duration

// ByteSize is a size in bytes written as "4GiB" in manifests.
type ByteSize int64
