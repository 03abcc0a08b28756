package adapter

import (
	"context"
	"time"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/image"
)

// DebianEnv is what the Debian adapter needs from the pipeline: the
// archives packages come from, and the image builder.
type DebianEnv interface {
	// Archive is the archives of suite and arch (the apt sources', or
	// --mirror's); with a non-zero snapshot time and a --debian-snapshot
	// template, the snapshot archive at that time comes after them.
	Archive(suite, arch string, snapshot time.Time) (*deb.Archive, error)
	// BuildImage builds (or finds in the cache) the image of recipe r with
	// the packages of lock, fetched through a.
	BuildImage(ctx context.Context, r *image.Recipe, lock *image.Lock, a *deb.Archive) (*image.Image, error)
	// Limits bound every archive read.
	Limits() archive.Limits
}
