package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/reprove/reprove/diff/archive"
)

// errNoMember is returned by a member scan that did not find the name.
var errNoMember = errors.New("no such member")

// Member extracts the one file member of the tar(.gz|.xz|.zst|.bz2) or zip
// archive at archivePath into the cache (trees/member/…) and returns its
// path; a second call finds it there. member is matched as
// archive.MatchName has it: leading "./" and "/" ignored. A missing member
// is an error that lists some of the archive's entries. The archive is
// read under the fetcher's limits (WithLimits).
func (f *Fetcher) Member(ctx context.Context, archivePath, member string) (string, error) {
	want := archive.MatchName(member)
	if want == "" || want == "." {
		return "", fmt.Errorf("archive member %q: name a file inside the archive, e.g. pkg/bin/tool", member)
	}
	ad, err := f.archiveDigest(archivePath)
	if err != nil {
		return "", err
	}
	mh := sha256.Sum256([]byte(want))
	key := ad.Encoded() + "-" + hex.EncodeToString(mh[:8])
	base := path.Base(want)
	if base == ".." {
		base = "member"
	}
	e, err := f.cache.PutTree(ctx, "member", key, "member "+want+" of blob "+ad.String(), func(dir string) error {
		s := memberScan{ctx: ctx, archive: archivePath, lim: f.limits}
		return s.extract(want, filepath.Join(dir, base))
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(e.Root, base), nil
}

// archiveDigest is the digest of a cached blob from its name, or else of its bytes.
func (f *Fetcher) archiveDigest(p string) (digest.Digest, error) {
	blobs := filepath.Join(f.cache.Root, "blobs", "sha256")
	if filepath.Dir(p) == blobs {
		if d := digest.NewDigestFromEncoded(digest.SHA256, filepath.Base(p)); d.Validate() == nil {
			return d, nil
		}
	}
	fh, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("reading archive: %w", err)
	}
	defer fh.Close()
	d, err := digest.SHA256.FromReader(fh)
	if err != nil {
		return "", fmt.Errorf("reading archive %s: %w", p, err)
	}
	return d, nil
}

// memberScan reads one archive looking for a member.
type memberScan struct {
	ctx     context.Context
	archive string
	lim     archive.Limits
}

// extract writes member of the archive to out.
func (s memberScan) extract(member, out string) error {
	names, err := s.copy(member, out, false)
	if !errors.Is(err, errNoMember) {
		return err
	}
	sort.SliceStable(names, func(i, j int) bool {
		// Entries with the same base name first: the likely intended ones.
		return path.Base(names[i]) == path.Base(member) && path.Base(names[j]) != path.Base(member)
	})
	n := len(names)
	if len(names) > 8 {
		names = names[:8]
	}
	return fmt.Errorf("archive %s has no file %q; it holds %d entries, among them %s; set the member to one of them", s.archive, member, n, strings.Join(names, ", "))
}

// open opens the archive for a scan.
func (s memberScan) open() (*archive.Reader, func(), error) {
	fh, err := os.Open(s.archive)
	if err != nil {
		return nil, nil, fmt.Errorf("reading archive: %w", err)
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	notArchive := fmt.Errorf("reading member of %s: the artifact is not a tar, tar.gz, tar.xz, tar.zst, tar.bz2 or zip archive; remove member to compare the whole file", s.archive)
	if err := checkUnpackable(s.archive, "%s"); err != nil {
		fh.Close()
		return nil, nil, notArchive
	}
	r, err := archive.Open(fh, fi.Size(), s.archive, s.lim)
	if err != nil {
		fh.Close()
		return nil, nil, fmt.Errorf("reading %w", err)
	}
	if !slices.Contains(unpackFormats, r.Format()) {
		r.Close()
		fh.Close()
		return nil, nil, notArchive
	}
	return r, func() { r.Close(); fh.Close() }, nil
}

// copy scans the archive for member and copies its bytes to out. A hard
// link is followed to the file it names (a second scan). When the member is
// missing it returns errNoMember and the names it saw.
func (s memberScan) copy(member, out string, followed bool) ([]string, error) {
	r, done, err := s.open()
	if err != nil {
		return nil, err
	}
	defer done()
	var names []string
	for {
		if err := s.ctx.Err(); err != nil {
			return nil, err
		}
		h, err := r.Next()
		if err == io.EOF {
			return names, errNoMember
		}
		if err != nil {
			return nil, fmt.Errorf("reading member %q of %w", member, err)
		}
		if archive.MatchName(h.Name) != member {
			names = append(names, h.Name) // at most Limits.MaxEntries
			continue
		}
		switch h.Type {
		case archive.TypeFile:
			return nil, s.write(member, out, h, r)
		case archive.TypeHardlink:
			target := archive.MatchName(h.Linkname)
			if followed || target == member {
				return nil, fmt.Errorf("member %q of %s is a hard link to %q, which is not a file before it", member, s.archive, h.Linkname)
			}
			_, err := s.copy(target, out, true)
			if errors.Is(err, errNoMember) {
				return nil, fmt.Errorf("member %q of %s is a hard link to %q, which the archive does not hold", member, s.archive, h.Linkname)
			}
			return nil, err
		case archive.TypeSymlink:
			return nil, fmt.Errorf("member %q of %s is a symbolic link to %q; name the file it points to", member, s.archive, h.Linkname)
		default:
			return nil, fmt.Errorf("member %q of %s is not a regular file (%s); name a file", member, s.archive, h.Type)
		}
	}
}

// write copies the member's content to out; its mode goes through
// archive.SafeMode, and a limit passed leaves no file behind.
func (s memberScan) write(member, out string, h *archive.Header, r io.Reader) error {
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	copyFn := func() error { _, err := io.Copy(w, archive.ReaderContext(s.ctx, r)); return err }
	if h.Sparse {
		copyFn = func() error { return archive.CopySparse(w, archive.ReaderContext(s.ctx, r)) }
	}
	if err := copyFn(); err != nil {
		w.Close()
		os.Remove(out)
		var le *archive.LimitError
		if errors.As(err, &le) {
			return err
		}
		return fmt.Errorf("reading member %q of %s: %w", member, s.archive, err)
	}
	if err := w.Chmod(archive.SafeMode(h.Mode|0o400, false)); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
