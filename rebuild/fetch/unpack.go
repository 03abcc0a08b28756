package fetch

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// ErrUnsafeEntry is wrapped when an archive entry would land outside the
// destination: an absolute path, a ".." component, a link that escapes, or a
// path that passes through a symbolic link.
var ErrUnsafeEntry = errors.New("unsafe archive entry")

// EntryError names the archive and the entry that could not be extracted.
type EntryError struct {
	Archive string
	Entry   string
	Err     error
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("unpacking %s: entry %q: %v", e.Archive, e.Entry, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

// Format is an archive or compression format recognised by its magic bytes.
type Format string

// The formats Unpack and Member read.
const (
	FormatTar      Format = "tar"
	FormatTarGzip  Format = "tar.gz"
	FormatTarXz    Format = "tar.xz"
	FormatTarZstd  Format = "tar.zst"
	FormatTarBzip2 Format = "tar.bz2"
	FormatZip      Format = "zip"
)

// DetectFormat names the archive format of the bytes that start with head
// (at least 512 bytes when the file has them), or "" when it is none of
// them. Compressed streams are reported as tar.*; whether the stream holds a
// tar is only known when it is read.
func DetectFormat(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return FormatTarGzip
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return FormatTarXz
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return FormatTarZstd
	case bytes.HasPrefix(head, []byte("BZh")):
		return FormatTarBzip2
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return FormatZip
	case isTarHeader(head):
		return FormatTar
	}
	return ""
}

// isTarHeader reports whether b starts with a tar header: the ustar magic,
// or (old v7 archives) a header whose checksum is right.
func isTarHeader(b []byte) bool {
	if len(b) < 512 {
		return false
	}
	if bytes.Equal(b[257:262], []byte("ustar")) {
		return true
	}
	field := strings.TrimRight(strings.TrimSpace(string(b[148:156])), "\x00 ")
	var want int64
	for _, ch := range field {
		if ch < '0' || ch > '7' {
			return false
		}
		want = want*8 + int64(ch-'0')
	}
	if field == "" {
		return false
	}
	var sum int64
	for i, ch := range b[:512] {
		if i >= 148 && i < 156 {
			ch = ' '
		}
		sum += int64(ch)
	}
	return sum == want
}

// Unpack extracts archive (tar, tar.gz, tar.xz, tar.zst, tar.bz2 or zip,
// recognised by content) into dst, creating dst if needed. Permission bits
// are kept (setuid, setgid and sticky bits are dropped; folders always keep
// owner rwx so the cache can be cleaned), as are modification times. Symbolic and hard links are kept only when they stay inside dst.
// Absolute paths, ".." components, links that escape, paths through a
// symbolic link, device nodes and entries replacing a directory are refused
// with an *EntryError; refused entries wrap ErrUnsafeEntry. Nothing is ever
// written outside dst, but on error dst holds what was extracted so far:
// extract into a fresh folder (Cache.PutTree does).
func Unpack(ctx context.Context, archive, dst string) error {
	return UnpackWith(ctx, archive, dst, UnpackOptions{})
}

// DefaultUnpackLimit is how many bytes of file content Unpack writes at
// most: a small archive can claim terabytes (compression, sparse entries).
const DefaultUnpackLimit int64 = 64 << 30

// UnpackOptions tunes UnpackWith.
type UnpackOptions struct {
	// MaxBytes caps the file bytes written; 0 means DefaultUnpackLimit.
	MaxBytes int64
}

// UnpackWith is Unpack with options.
func UnpackWith(ctx context.Context, archive, dst string, opts UnpackOptions) error {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultUnpackLimit
	}
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", archive, err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(512)
	format := DetectFormat(head)
	if format == "" {
		return fmt.Errorf("unpacking %s: not a tar, tar.gz, tar.xz, tar.zst, tar.bz2 or zip archive; set unpack: false to use the file as it is", archive)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("unpacking %s: %w", archive, err)
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", archive, err)
	}
	defer root.Close()
	x := &extractor{ctx: ctx, archive: archive, root: root, dirs: map[string]bool{".": true}, left: opts.MaxBytes}
	if format == FormatZip {
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("unpacking %s: %w", archive, err)
		}
		zr, err := zip.NewReader(f, fi.Size())
		if err != nil {
			return fmt.Errorf("unpacking %s: reading zip: %w", archive, err)
		}
		err = x.zip(zr)
		if err != nil {
			return err
		}
		return x.finish()
	}
	r, closeFn, err := decompress(format, br)
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", archive, err)
	}
	defer closeFn()
	if err := x.tar(r); err != nil {
		return err
	}
	return x.finish()
}

// decompress returns the tar stream inside a (compressed) tar.
func decompress(format Format, r io.Reader) (io.Reader, func(), error) {
	nop := func() {}
	switch format {
	case FormatTar:
		return r, nop, nil
	case FormatTarGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nop, fmt.Errorf("reading gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case FormatTarXz:
		zr, err := xz.NewReader(r)
		if err != nil {
			return nil, nop, fmt.Errorf("reading xz: %w", err)
		}
		return zr, nop, nil
	case FormatTarZstd:
		// 128 MiB is the largest window zstd writes without --long=31.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			return nil, nop, fmt.Errorf("reading zstd: %w", err)
		}
		return zr, zr.Close, nil
	case FormatTarBzip2:
		return bzip2.NewReader(r), nop, nil
	}
	return nil, nop, fmt.Errorf("%s is not a tar format", format)
}

// extractor writes entries under root, keeping track of what it made.
type extractor struct {
	ctx     context.Context
	archive string
	root    *os.Root
	dirs    map[string]bool // paths known to be real directories
	modes   []dirMode       // applied last, so read-only dirs can be filled
	left    int64           // file bytes that may still be written
	written int64
}

type dirMode struct {
	name  string
	mode  fs.FileMode
	mtime time.Time
}

func (x *extractor) errorf(entry string, format string, args ...any) error {
	return &EntryError{Archive: x.archive, Entry: entry, Err: fmt.Errorf(format, args...)}
}

func (x *extractor) unsafef(entry string, format string, args ...any) error {
	return &EntryError{Archive: x.archive, Entry: entry, Err: fmt.Errorf("%w: "+format, append([]any{ErrUnsafeEntry}, args...)...)}
}

func (x *extractor) tar(r io.Reader) error {
	tr := tar.NewReader(r)
	first := true
	for {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			if first {
				return fmt.Errorf("unpacking %s: the archive holds no tar entries; check that it is a tar archive", x.archive)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("unpacking %s: reading tar: %w", x.archive, err)
		}
		first = false
		mode := h.FileInfo().Mode().Perm()
		switch h.Typeflag {
		case tar.TypeXGlobalHeader:
			continue // pax comments, e.g. git archive's commit id
		case tar.TypeDir:
			err = x.dir(h.Name, mode, h.ModTime)
		case tar.TypeReg, '\x00', tar.TypeGNUSparse:
			err = x.file(h.Name, mode, h.ModTime, tr)
		case tar.TypeSymlink:
			err = x.symlink(h.Name, h.Linkname)
		case tar.TypeLink:
			err = x.hardlink(h.Name, h.Linkname)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			err = x.errorf(h.Name, "device and fifo entries are not extracted; sources should not carry them")
		default:
			err = x.errorf(h.Name, "unsupported tar entry type %q", h.Typeflag)
		}
		if err != nil {
			return err
		}
	}
}

func (x *extractor) zip(zr *zip.Reader) error {
	for _, zf := range zr.File {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		mode := zf.Mode()
		var err error
		switch {
		case mode.IsDir() || strings.HasSuffix(zf.Name, "/"):
			err = x.dir(zf.Name, mode.Perm(), zf.Modified)
		case mode&fs.ModeSymlink != 0:
			var target string
			target, err = zipLinkTarget(zf)
			if err != nil {
				return x.errorf(zf.Name, "reading link target: %v", err)
			}
			err = x.symlink(zf.Name, target)
		case mode.IsRegular():
			var rc io.ReadCloser
			rc, err = zf.Open()
			if err != nil {
				return x.errorf(zf.Name, "%v", err)
			}
			err = x.file(zf.Name, mode.Perm(), zf.Modified, rc)
			rc.Close()
		default:
			err = x.errorf(zf.Name, "unsupported zip entry mode %v", mode)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func zipLinkTarget(zf *zip.File) (string, error) {
	rc, err := zf.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4097))
	if err != nil {
		return "", err
	}
	if len(b) > 4096 {
		return "", errors.New("link target longer than 4096 bytes")
	}
	return string(b), nil
}

// clean checks an entry name and returns it as a clean relative path ("."
// for the root itself).
func (x *extractor) clean(name string) (string, error) {
	if name == "" {
		return "", x.errorf(name, "empty name")
	}
	if strings.ContainsRune(name, 0) {
		return "", x.unsafef(name, "NUL in name")
	}
	if strings.HasPrefix(name, "/") {
		return "", x.unsafef(name, "absolute path")
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "", ".":
		case "..":
			return "", x.unsafef(name, "path climbs out with ..")
		default:
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return ".", nil
	}
	return strings.Join(parts, "/"), nil
}

// parents makes sure every folder above rel is a real directory, creating
// the missing ones. A symbolic link on the way is refused.
func (x *extractor) parents(entry, rel string) error {
	dir := path.Dir(rel)
	if x.dirs[dir] {
		return nil
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		if x.dirs[p] {
			continue
		}
		fi, err := x.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(p, 0o755); err != nil {
				return x.errorf(entry, "creating folder %s: %v", p, err)
			}
		case err != nil:
			return x.errorf(entry, "%v", err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return x.unsafef(entry, "path passes through the symbolic link %s", p)
		case !fi.IsDir():
			return x.errorf(entry, "%s is not a folder", p)
		}
		x.dirs[p] = true
	}
	return nil
}

// clear makes room for a new non-directory entry at rel: an existing file or
// link is removed (never written through), a directory is refused.
func (x *extractor) clear(entry, rel string) error {
	if rel == "." || x.dirs[rel] {
		return x.errorf(entry, "would replace a folder")
	}
	fi, err := x.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return x.errorf(entry, "%v", err)
	}
	if fi.IsDir() {
		return x.errorf(entry, "would replace a folder")
	}
	if err := x.root.Remove(rel); err != nil {
		return x.errorf(entry, "replacing an earlier entry: %v", err)
	}
	return nil
}

func (x *extractor) dir(name string, mode fs.FileMode, mtime time.Time) error {
	rel, err := x.clean(name)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	if err := x.parents(name, rel); err != nil {
		return err
	}
	if !x.dirs[rel] {
		fi, err := x.root.Lstat(rel)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(rel, 0o755); err != nil {
				return x.errorf(name, "%v", err)
			}
		case err != nil:
			return x.errorf(name, "%v", err)
		case !fi.IsDir():
			return x.errorf(name, "a folder would replace an earlier file or link")
		}
		x.dirs[rel] = true
	}
	x.modes = append(x.modes, dirMode{name: rel, mode: mode, mtime: mtime})
	return nil
}

func (x *extractor) file(name string, mode fs.FileMode, mtime time.Time, r io.Reader) error {
	rel, err := x.clean(name)
	if err != nil {
		return err
	}
	if err := x.parents(name, rel); err != nil {
		return err
	}
	if err := x.clear(name, rel); err != nil {
		return err
	}
	// O_EXCL: never follow a link that appeared at rel.
	f, err := x.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return x.errorf(name, "%v", err)
	}
	n, err := io.Copy(f, io.LimitReader(readerCtx{x.ctx, r}, x.left+1))
	if err != nil {
		f.Close()
		return x.errorf(name, "%v", err)
	}
	if n > x.left {
		f.Close()
		return x.errorf(name, "the archive unpacks to more than %d bytes; refusing it as a likely decompression bomb", x.left+x.written)
	}
	x.left -= n
	x.written += n
	if err := f.Chmod(mode.Perm()); err != nil {
		f.Close()
		return x.errorf(name, "%v", err)
	}
	if err := f.Close(); err != nil {
		return x.errorf(name, "%v", err)
	}
	if !mtime.IsZero() {
		if err := x.root.Chtimes(rel, mtime, mtime); err != nil {
			return x.errorf(name, "setting its time: %v", err)
		}
	}
	return nil
}

// symlink keeps a link only when it stays inside the destination: its target
// is relative, may start with ".." components that climb no higher than the
// folder holding the link (which is a real directory), and has no ".."
// after them. Every link then resolves inside, whatever the others are.
func (x *extractor) symlink(name, target string) error {
	rel, err := x.clean(name)
	if err != nil {
		return err
	}
	switch {
	case target == "":
		return x.errorf(name, "symbolic link with an empty target")
	case strings.ContainsRune(target, 0):
		return x.unsafef(name, "NUL in link target")
	case strings.HasPrefix(target, "/"):
		return x.unsafef(name, "symbolic link to the absolute path %s", target)
	}
	up, down := 0, 0
	for _, p := range strings.Split(target, "/") {
		switch {
		case p == "" || p == ".":
		case p == ".." && down == 0:
			up++
		case p == "..":
			return x.unsafef(name, "symbolic link target %s has .. after a name", target)
		default:
			down++
		}
	}
	depth := strings.Count(rel, "/") // folders above the link
	if up > depth {
		return x.unsafef(name, "symbolic link to %s points outside the archive", target)
	}
	if err := x.parents(name, rel); err != nil {
		return err
	}
	if err := x.clear(name, rel); err != nil {
		return err
	}
	if err := x.root.Symlink(target, rel); err != nil {
		return x.errorf(name, "%v", err)
	}
	return nil
}

// hardlink keeps a hard link to a regular file extracted earlier.
func (x *extractor) hardlink(name, target string) error {
	rel, err := x.clean(name)
	if err != nil {
		return err
	}
	trel, err := x.clean(target)
	if err != nil {
		return x.unsafef(name, "hard link to %s points outside the archive", target)
	}
	if err := x.parents(name, trel); err != nil {
		return err
	}
	fi, err := x.root.Lstat(trel)
	if err != nil {
		return x.errorf(name, "hard link to %s, which is not in the archive before it", target)
	}
	if !fi.Mode().IsRegular() {
		return x.unsafef(name, "hard link to %s, which is not a regular file", target)
	}
	if err := x.parents(name, rel); err != nil {
		return err
	}
	if rel == trel {
		return nil
	}
	if err := x.clear(name, rel); err != nil {
		return err
	}
	if err := x.root.Link(trel, rel); err != nil {
		return x.errorf(name, "%v", err)
	}
	return nil
}

// finish applies folder modes and times, deepest first, once every entry
// is in place.
func (x *extractor) finish() error {
	sort.SliceStable(x.modes, func(i, j int) bool {
		return strings.Count(x.modes[i].name, "/") > strings.Count(x.modes[j].name, "/")
	})
	for _, d := range x.modes {
		if err := x.root.Chmod(d.name, d.mode.Perm()|0o700); err != nil {
			return x.errorf(d.name, "setting its mode: %v", err)
		}
		if !d.mtime.IsZero() {
			if err := x.root.Chtimes(d.name, d.mtime, d.mtime); err != nil {
				return x.errorf(d.name, "setting its time: %v", err)
			}
		}
	}
	return nil
}
