package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
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

// SafeMode is the mode the extractor writes for an entry's stored mode:
// setuid, setgid, sticky and write-for-others bits are dropped, so that an
// unpacked tree grants nothing to other local users; folders keep owner
// rwx, so that the tree can be filled and removed.
func SafeMode(m fs.FileMode, dir bool) fs.FileMode {
	m = m.Perm() &^ 0o002
	if dir {
		m |= 0o700
	}
	return m
}

// Extract writes every entry of r under root. Permission bits are kept
// through SafeMode, as are modification times. Symbolic and hard links are
// kept only when they stay inside root. Absolute paths, ".." components,
// links that escape, paths through a symbolic link, device nodes, fifos and
// entries replacing a folder are refused with an *EntryError; refused
// entries wrap ErrUnsafeEntry. A limit passed is a *LimitError, and nothing
// past it is written. Nothing is ever written outside root, but on error
// root holds what was extracted so far: extract into a fresh folder and
// discard it on error (the cache only renames complete trees into place).
func Extract(ctx context.Context, r *Reader, root *os.Root) error {
	x := &extractor{ctx: ctx, archive: r.Name(), root: root, dirs: map[string]bool{".": true}}
	first := true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := r.Next()
		if err == io.EOF {
			if first {
				return fmt.Errorf("unpacking %s: the archive holds no entries; check that it is an archive", r.Name())
			}
			return x.finish()
		}
		if err != nil {
			return fmt.Errorf("unpacking %w", err)
		}
		first = false
		if err := x.entry(h, r); err != nil {
			return err
		}
	}
}

func (x *extractor) entry(h *Header, r io.Reader) error {
	switch h.Type {
	case TypeDir:
		return x.dir(h.Name, h.Mode, h.ModTime)
	case TypeFile:
		if h.Sparse {
			r = &holes{r: r} // keep holes holes: a sparse file costs its data on disk
		}
		return x.file(h.Name, h.Mode, h.ModTime, r)
	case TypeSymlink:
		return x.symlink(h.Name, h.Linkname)
	case TypeHardlink:
		return x.hardlink(h.Name, h.Linkname)
	case TypeChar, TypeBlock, TypeFifo:
		return x.errorf(h.Name, "device and fifo entries are not extracted; sources should not carry them")
	}
	if h.Tar != nil {
		return x.errorf(h.Name, "unsupported tar entry type %q", h.Tar.Typeflag)
	}
	return x.errorf(h.Name, "unsupported entry mode %v", h.Mode)
}

// extractor writes entries under root, keeping track of what it made.
type extractor struct {
	ctx     context.Context
	archive string
	root    *os.Root
	dirs    map[string]bool // paths known to be real directories
	modes   []dirMode       // applied last, so read-only dirs can be filled
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

// Clean checks an entry name and returns it as a clean relative path ("."
// for the root itself): an empty name, a NUL, an absolute path or a ".."
// component is an error wrapping ErrUnsafeEntry (but the empty name).
func Clean(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("%w: NUL in name", ErrUnsafeEntry)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%w: absolute path", ErrUnsafeEntry)
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "", ".":
		case "..":
			return "", fmt.Errorf("%w: path climbs out with ..", ErrUnsafeEntry)
		default:
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return ".", nil
	}
	return strings.Join(parts, "/"), nil
}

// MatchName is an entry name as a member is matched against it (a
// manifest's artifact.member, a diff's pairing): no leading "./" or "/",
// no trailing "/", no empty or "." components. ".." is kept, so that it
// never matches a safe name by accident.
func MatchName(n string) string {
	var parts []string
	for _, p := range strings.Split(n, "/") {
		if p != "" && p != "." {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

func (x *extractor) clean(name string) (string, error) {
	rel, err := Clean(name)
	if err != nil {
		return "", &EntryError{Archive: x.archive, Entry: name, Err: err}
	}
	return rel, nil
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
	if h, ok := r.(*holes); ok {
		r = &holes{r: ReaderContext(x.ctx, h.r)}
	} else {
		r = ReaderContext(x.ctx, r)
	}
	if err := copyFile(f, r); err != nil {
		f.Close()
		x.root.Remove(rel)
		var le *LimitError
		if errors.As(err, &le) {
			return err
		}
		return x.errorf(name, "%v", err)
	}
	if err := f.Chmod(SafeMode(mode, false)); err != nil {
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
	if err := LinkStaysInside(rel, target); err != nil {
		return &EntryError{Archive: x.archive, Entry: name, Err: err}
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

// LinkStaysInside checks the target of a symbolic link at rel (a clean
// relative path): it must be relative, and its leading ".." components may
// climb no higher than the folder holding the link, with no ".." after a
// name. Links that pass resolve inside the tree whatever the others are.
func LinkStaysInside(rel, target string) error {
	switch {
	case target == "":
		return errors.New("symbolic link with an empty target")
	case strings.ContainsRune(target, 0):
		return fmt.Errorf("%w: NUL in link target", ErrUnsafeEntry)
	case strings.HasPrefix(target, "/"):
		return fmt.Errorf("%w: symbolic link to the absolute path %s", ErrUnsafeEntry, target)
	}
	up, down := 0, 0
	for _, p := range strings.Split(target, "/") {
		switch {
		case p == "" || p == ".":
		case p == ".." && down == 0:
			up++
		case p == "..":
			return fmt.Errorf("%w: symbolic link target %s has .. after a name", ErrUnsafeEntry, target)
		default:
			down++
		}
	}
	if up > strings.Count(rel, "/") { // folders above the link
		return fmt.Errorf("%w: symbolic link to %s points outside the archive", ErrUnsafeEntry, target)
	}
	return nil
}

// hardlink keeps a hard link to a regular file extracted earlier.
func (x *extractor) hardlink(name, target string) error {
	rel, err := x.clean(name)
	if err != nil {
		return err
	}
	trel, err := Clean(target)
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
		if err := x.root.Chmod(d.name, SafeMode(d.mode, true)); err != nil {
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

// holes marks a sparse file's content, so that copyFile keeps its
// all-zero blocks holes.
type holes struct {
	r io.Reader
}

func (h *holes) Read(p []byte) (int, error) { return h.r.Read(p) }

// copyFile copies r into f; a *holes reader's zero blocks become holes.
func copyFile(f *os.File, r io.Reader) error {
	h, ok := r.(*holes)
	if !ok {
		_, err := io.Copy(f, r)
		return err
	}
	return CopySparse(f, h.r)
}

// CopySparse copies r into f, seeking over all-zero 64 KiB blocks rather
// than writing them: a sparse entry costs the disk its data, not its
// logical size (which the limits still count).
func CopySparse(f *os.File, r io.Reader) error {
	buf := make([]byte, 64<<10)
	var size int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if isZero(buf[:n]) {
				if _, serr := f.Seek(int64(n), io.SeekCurrent); serr != nil {
					return serr
				}
			} else if _, werr := f.Write(buf[:n]); werr != nil {
				return werr
			}
			size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return f.Truncate(size)
		}
		if err != nil {
			return err
		}
	}
}

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// ReaderContext stops a copy from r when ctx is done.
func ReaderContext(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(b)
}

// ExtractOptions tunes ExtractFile.
type ExtractOptions struct {
	Limits  Limits   // zero fields take defaults
	Formats []Format // the archive formats accepted; nil accepts every one
}

// ExtractFile extracts the archive at p (compressed or not, by content)
// into dst, creating dst if needed; see Extract.
func ExtractFile(ctx context.Context, p, dst string, opts ExtractOptions) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", p, err)
	}
	r, err := Open(f, fi.Size(), p, opts.Limits)
	if err != nil {
		return fmt.Errorf("unpacking %w", err)
	}
	defer r.Close()
	if opts.Formats != nil && !slices.Contains(opts.Formats, r.Format()) {
		return fmt.Errorf("unpacking %s: it is a %s archive, which is not unpacked here (only %v)", p, r.Format(), opts.Formats)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("unpacking %s: %w", p, err)
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("unpacking %s: %w", p, err)
	}
	defer root.Close()
	return Extract(ctx, r, root)
}
