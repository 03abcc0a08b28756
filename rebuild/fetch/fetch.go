// Package fetch brings every declared input into a content-addressed cache and
// checks every byte against its digest before anything may use it.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Progress receives progress events for long operations. It may be nil.
// Library code never prints: the CLI turns events into a progress line.
type Progress func(Event)

// Event is one progress report.
type Event struct {
	URI   string // what is being fetched
	Phase string // "download", "clone", "unpack", "verify"
	Done  int64  // bytes so far
	Total int64  // bytes expected, -1 when unknown
}

// Item is one input brought to the local disk and verified in this run.
type Item struct {
	URI    string // as declared (after any rewriting)
	Digest string // sha256:… of the bytes (files) or of the tree (git: the commit)
	Rev    string // commit id, for git
	Path   string // host path: a file, or a directory when unpacked or cloned
	Dest   string // where the build sees it
	Size   int64  // bytes, for files
	// Source says where the bytes came from in this run: SourceNetwork,
	// SourceFile or SourceCache (re-hashed from the cache).
	Source string
	// TreeDigest is the content digest of the derived tree at Path (an
	// unpacked archive or checkout), checked in this run; empty for files.
	TreeDigest string
	// Quarantined lists cache entries found damaged while fetching this
	// input and moved aside (see Cache.QuarantineDir).
	Quarantined []string
}

// Where an Item's bytes came from.
const (
	SourceNetwork = "network"
	SourceFile    = "file"
	SourceCache   = "cache"
)

func (it *Item) quarantined(q string) {
	if q != "" {
		it.Quarantined = append(it.Quarantined, q)
	}
}

// Image is a builder image stored on disk as an OCI layout, by digest.
type Image struct {
	Ref    string // as declared
	Digest string // sha256:… of the image manifest
	Layout string // host path of an OCI image layout holding the image
	Index  string // sha256:… of the pinned index when Ref pinned one; Digest is then its image for this machine
	// Quarantined lists damaged cache entries moved aside while fetching it.
	Quarantined []string
}

// ErrDigestMismatch is wrapped by every DigestMismatchError.
var ErrDigestMismatch = errors.New("digest mismatch")

// DigestMismatchError says which input had the wrong bytes.
type DigestMismatchError struct {
	URI  string
	Want string
	Got  string
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("%s: digest mismatch: declared %s, fetched %s; check the URI or update the declared digest if the change is expected", e.URI, e.Want, e.Got)
}

// Unwrap lets errors.Is(err, ErrDigestMismatch) find it.
func (e *DigestMismatchError) Unwrap() error { return ErrDigestMismatch }

// ErrUnpinned is wrapped when an input carries no digest or commit id.
var ErrUnpinned = errors.New("input not pinned")

// Scheme fetches one kind of URI into the cache.
type Scheme interface {
	// Handles reports whether this scheme fetches uri.
	Handles(uri string) bool
	// Fetch brings uri into the cache and returns the verified local item.
	Fetch(ctx context.Context, c *Cache, req Request) (*Item, error)
}

// Request is one input to fetch.
type Request struct {
	URI    string // the URI, after any rewriting
	Digest string // declared digest; required except for git (Rev)
	Rev    string // full commit id for git URIs
	Dir    string // folder file: URIs are relative to
	Unpack bool   // extract an archive into a directory
	Size   int64  // declared size in bytes, 0 when not declared
	// Fresh reads the bytes from the URI again even when the cache holds
	// them: the published artifact is fetched fresh on every verify.
	Fresh bool
	// Offline forbids the network and the URI's files: only (re-verified)
	// cache entries may be used. Set by the Fetcher's WithOffline.
	Offline bool
	// Roots are the folders a local path (file:, git+file:, oci-layout:)
	// must stay inside, symbolic links included: the manifest's folder and
	// every --allow-path folder. The Fetcher sets them.
	Roots []string
	// Unconfined is set by the Fetcher for a URI the user rewrote on the
	// command line (--replace-source): the user named its path.
	Unconfined bool
}

// ErrConfined is wrapped when a manifest names a local path outside the
// folders reprove may read, or something that is not a regular file or
// folder (a device, a FIFO, /proc…).
var ErrConfined = errors.New("outside the folders this manifest may read")

// ErrOffline is wrapped when --offline forbids fetching an input that is
// not in the cache.
var ErrOffline = errors.New("not in the cache, and --offline forbids fetching it")

// OfflineError says an input could not be had under --offline, and which
// damaged cache entries were moved aside on the way.
type OfflineError struct {
	URI         string
	Quarantined []string
}

func (e *OfflineError) Error() string {
	if len(e.Quarantined) > 0 {
		return fmt.Sprintf("%s: %v (the cached copy was damaged and moved to %s)", e.URI, ErrOffline, strings.Join(e.Quarantined, ", "))
	}
	return fmt.Sprintf("%s: %v; run once without --offline to fill the cache", e.URI, ErrOffline)
}

func (e *OfflineError) Unwrap() error { return ErrOffline }

// NewOfflineError is the error of a scheme asked, under --offline, for an
// input that is not (or no longer, after quarantine) in the cache.
func NewOfflineError(uri string, quarantined ...string) error {
	e := &OfflineError{URI: uri}
	for _, q := range quarantined {
		if q != "" {
			e.Quarantined = append(e.Quarantined, q)
		}
	}
	return e
}

// Quarantined returns the cache entries an error says were moved aside.
func Quarantined(err error) []string {
	var oe *OfflineError
	if errors.As(err, &oe) {
		return oe.Quarantined
	}
	return nil
}

// DepsResolver resolves a language's dependency set on the host from a lock
// file that an already fetched, pinned source carries, verifies every piece
// against that lock, and returns a read-only tree to mount into the build.
type DepsResolver interface {
	// Kind is the manifest's deps kind this resolver handles: "gomod".
	Kind() string
	// Resolve builds (or finds in the cache) the dependency tree.
	Resolve(ctx context.Context, c *Cache, req DepsRequest) (*Item, error)
}

// DepsRequest is one deps entry, with its source already on disk.
type DepsRequest struct {
	SourceDir string // host path of the fetched source that carries the lock
	Dir       string // folder inside SourceDir holding the lock ("." by default)
	Dest      string // where the build sees the tree
	Offline   bool   // only a (re-verified) cached tree may be used
}
