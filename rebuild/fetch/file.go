package fetch

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// fileScheme fetches file: URIs: file:rel/path (relative to Request.Dir),
// file:/abs/path and file:///abs/path.
type fileScheme struct{}

func (fileScheme) Handles(uri string) bool { return strings.HasPrefix(uri, "file:") }

func (fileScheme) Fetch(ctx context.Context, c *Cache, req Request) (*Item, error) {
	want, err := parseDigest(req.URI, req.Digest)
	if err != nil {
		return nil, err
	}
	if p, ok := c.Blob(want); ok {
		return &Item{URI: req.URI, Digest: want.String(), Path: p, Size: blobSize(p)}, nil
	}
	path, err := filePath(req.URI, strings.TrimPrefix(req.URI, "file:"), req.Dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w; check the path (file: URIs are relative to the manifest's folder)", req.URI, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("fetching %s: %s is not a regular file; name a file (archives can be unpacked with unpack: true)", req.URI, path)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", req.URI, err)
	}
	defer fh.Close()
	r := c.progressReader(fh, req.URI, "verify", fi.Size())
	p, n, err := c.PutBlob(req.URI, want, readerCtx{ctx, r})
	if err != nil {
		return nil, err
	}
	return &Item{URI: req.URI, Digest: want.String(), Path: p, Size: n}, nil
}

// filePath turns the part of a file: URI after "file:" into a host path.
// "//" starts an authority, which must be empty or localhost.
func filePath(uri, rest, dir string) (string, error) {
	if strings.HasPrefix(rest, "//") {
		u, err := url.Parse("file:" + rest)
		if err != nil {
			return "", fmt.Errorf("%s: %w", uri, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("%s: file: URIs name local files; remove the host %q (file:///abs/path or file:rel/path)", uri, u.Host)
		}
		rest = u.Path
	}
	if rest == "" {
		return "", fmt.Errorf("%s: empty path; write file:rel/path (relative to the manifest) or file:///abs/path", uri)
	}
	if filepath.IsAbs(rest) {
		return filepath.Clean(rest), nil
	}
	if dir == "" {
		dir = "."
	}
	return filepath.Join(dir, rest), nil
}

// blobSize is the size of a cached blob, 0 if it cannot be read.
func blobSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readerCtx stops a copy when ctx is done.
type readerCtx struct {
	ctx context.Context
	r   io.Reader
}

func (r readerCtx) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(b)
}
