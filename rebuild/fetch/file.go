package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/reprove/reprove/diff/archive"
)

// fileScheme fetches file: URIs: file:rel/path (relative to Request.Dir),
// file:/abs/path and file:///abs/path, confined to Request.Roots.
type fileScheme struct{}

func (fileScheme) Handles(uri string) bool { return strings.HasPrefix(uri, "file:") }

func (fileScheme) Fetch(ctx context.Context, c *Cache, req Request) (*Item, error) {
	want, it, done, err := cachedFile(ctx, c, req)
	if done || err != nil {
		return it, err
	}
	path, err := filePath(req.URI, strings.TrimPrefix(req.URI, "file:"), req.Dir)
	if err != nil {
		return nil, err
	}
	fh, err := OpenConfined(path, req)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", req.URI, err)
	}
	b, err := c.Put(ctx, fh, PutOptions{URI: req.URI, Want: want, Size: req.Size, Phase: "verify", Total: fi.Size()})
	if err != nil {
		return nil, err
	}
	it.Path, it.Size, it.Source = b.Path, b.Size, SourceFile
	it.quarantined(b.Quarantined)
	return it, nil
}

// forbiddenRoots are never read, whatever --allow-path says: their files
// describe the host (environment, memory, devices), not a source.
var forbiddenRoots = []string{"/proc", "/sys", "/dev"}

// OpenConfined opens the regular file at path for a request: path must lie
// inside one of req.Roots, and so must every symbolic link on the way
// (os.Root enforces it), unless req.Unconfined. Devices, FIFOs, sockets
// and anything under /proc, /sys and /dev are refused without being read.
// Refusals wrap ErrConfined and name no digest of what was refused.
func OpenConfined(path string, req Request) (*os.File, error) {
	path = filepath.Clean(path)
	if err := notForbidden(req.URI, path); err != nil {
		return nil, err
	}
	var (
		fh  *os.File
		err error
	)
	if req.Unconfined {
		fh, err = os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	} else {
		fh, err = openInRoots(req.URI, path, req.Roots)
	}
	if errors.Is(err, ErrConfined) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w; check the path (file: URIs are relative to the manifest's folder)", req.URI, err)
	}
	if err := checkOpened(req.URI, fh); err != nil {
		fh.Close()
		return nil, err
	}
	return fh, nil
}

// openInRoots opens path through the first root that lexically holds it.
func openInRoots(uri, path string, roots []string) (*os.File, error) {
	for _, r := range roots {
		rel, ok := within(r, path)
		if !ok {
			continue
		}
		root, err := os.OpenRoot(r)
		if err != nil {
			return nil, err
		}
		defer root.Close()
		// O_NONBLOCK: opening a FIFO must not wait for a writer.
		fh, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil && escapes(r, path) {
			return nil, fmt.Errorf("%s: %w: a symbolic link on the way leads out of %s; reprove reads only below the manifest's folder unless you widen it with --allow-path DIR (also REPROVE_ALLOW_PATH)", uri, ErrConfined, r)
		}
		return fh, err
	}
	return nil, fmt.Errorf("%s: %w: %s is not below %s; move the file next to the manifest, or widen what reprove may read with --allow-path DIR (also REPROVE_ALLOW_PATH)", uri, ErrConfined, path, strings.Join(roots, ", "))
}

// escapes reports whether path, with its links resolved, leads out of root.
func escapes(root, path string) bool {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	rr, err := filepath.EvalSymlinks(root)
	if err != nil {
		return false
	}
	_, ok := within(rr, real)
	return !ok
}

// within returns path relative to root when it is lexically inside it.
func within(root, path string) (string, bool) {
	if root == "" {
		return "", false
	}
	rel, err := filepath.Rel(filepath.Clean(root), path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}

// notForbidden refuses paths under /proc, /sys and /dev.
func notForbidden(uri, path string) error {
	for _, f := range forbiddenRoots {
		if _, ok := within(f, path); ok {
			return fmt.Errorf("%s: %w: %s is under %s, which describes this host, not a source; reprove never reads there", uri, ErrConfined, path, f)
		}
	}
	return nil
}

// checkOpened refuses anything but a regular file, and a file that turns out
// to live under /proc, /sys or /dev once links are resolved.
func checkOpened(uri string, fh *os.File) error {
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w: it is a %s, not a regular file; name a file (archives can be unpacked with unpack: true)", uri, ErrConfined, typeName(fi.Mode()))
	}
	if real, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fh.Fd())); err == nil {
		if err := notForbidden(uri, real); err != nil {
			return err
		}
	}
	// The file was opened non-blocking; reads of a regular file do not care,
	// but clear it anyway.
	return syscall.SetNonblock(int(fh.Fd()), false)
}

func typeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "folder"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "special file"
}

// ConfinedDir checks that the folder at path (a git+file: repository, an
// oci-layout: folder) lies inside req.Roots with every link on the way
// resolved, and is not under /proc, /sys or /dev. It returns the resolved
// path.
func ConfinedDir(path string, req Request) (string, error) {
	path = filepath.Clean(path)
	if err := notForbidden(req.URI, path); err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w; check the path (relative to the manifest's folder)", req.URI, err)
	}
	if err := notForbidden(req.URI, real); err != nil {
		return "", err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("%s: %w", req.URI, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s: %w: %s is a %s, not a folder", req.URI, ErrConfined, path, typeName(fi.Mode()))
	}
	if req.Unconfined {
		return real, nil
	}
	for _, r := range req.Roots {
		rr, err := filepath.EvalSymlinks(r)
		if err != nil {
			continue
		}
		if _, ok := within(rr, real); ok {
			return real, nil
		}
	}
	return "", fmt.Errorf("%s: %w: %s is not below %s; move it next to the manifest, or widen what reprove may read with --allow-path DIR (also REPROVE_ALLOW_PATH)", req.URI, ErrConfined, path, strings.Join(req.Roots, ", "))
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
	abs, err := filepath.Abs(filepath.Join(dir, rest))
	if err != nil {
		return "", fmt.Errorf("%s: %w", uri, err)
	}
	return abs, nil
}

// readerCtx stops a copy when ctx is done.
func readerCtx(ctx context.Context, r io.Reader) io.Reader { return archive.ReaderContext(ctx, r) }
