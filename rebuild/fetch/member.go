package fetch

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
)

// errNoMember is returned by a member scan that did not find the name.
var errNoMember = errors.New("no such member")

// Member extracts the one file member of the tar(.gz|.xz|.zst|.bz2) or zip
// archive at archivePath into the cache (trees/member/…) and returns its
// path; a second call finds it there. member is matched with leading "./"
// and "/" ignored. A missing member is an error that lists some of the
// archive's entries.
func (f *Fetcher) Member(ctx context.Context, archivePath, member string) (string, error) {
	want := memberName(member)
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
		return extractMember(ctx, archivePath, want, filepath.Join(dir, base))
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

// memberName is an entry name as it is matched: no leading "./" or "/",
// no trailing "/", no empty or "." components.
func memberName(n string) string {
	var parts []string
	for _, p := range strings.Split(n, "/") {
		if p != "" && p != "." {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

// extractMember writes member of archive to out.
func extractMember(ctx context.Context, archive, member, out string) error {
	names, err := copyMember(ctx, archive, member, out, false)
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
	return fmt.Errorf("archive %s has no file %q; it holds %d entries, among them %s; set the member to one of them", archive, member, n, strings.Join(names, ", "))
}

// copyMember scans archive for member and copies its bytes to out. A hard
// link is followed to the file it names (a second scan). When the member is
// missing it returns errNoMember and the names it saw.
func copyMember(ctx context.Context, archive, member, out string, followed bool) ([]string, error) {
	fh, err := os.Open(archive)
	if err != nil {
		return nil, fmt.Errorf("reading archive: %w", err)
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 64<<10)
	head, _ := br.Peek(512)
	format := DetectFormat(head)
	var names []string
	switch format {
	case "":
		return nil, fmt.Errorf("reading member %q of %s: the artifact is not a tar, tar.gz, tar.xz, tar.zst, tar.bz2 or zip archive; remove member to compare the whole file", member, archive)
	case FormatZip:
		fi, err := fh.Stat()
		if err != nil {
			return nil, err
		}
		zr, err := zip.NewReader(fh, fi.Size())
		if err != nil {
			return nil, fmt.Errorf("reading zip %s: %w", archive, err)
		}
		for _, zf := range zr.File {
			if memberName(zf.Name) != member {
				names = append(names, zf.Name)
				continue
			}
			if zf.Mode()&fs.ModeSymlink != 0 {
				target, err := zipLinkTarget(zf)
				if err != nil {
					return nil, fmt.Errorf("reading member %q of %s: %w", member, archive, err)
				}
				return nil, fmt.Errorf("member %q of %s is a symbolic link to %q; name the file it points to", member, archive, target)
			}
			if !zf.Mode().IsRegular() {
				return nil, fmt.Errorf("member %q of %s is not a regular file (%v); name a file", member, archive, zf.Mode().Type())
			}
			rc, err := zf.Open()
			if err != nil {
				return nil, fmt.Errorf("reading member %q of %s: %w", member, archive, err)
			}
			defer rc.Close()
			return nil, writeMember(ctx, archive, member, out, zf.Mode().Perm(), rc)
		}
		return names, errNoMember
	}
	r, closeFn, err := decompress(format, br)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", archive, err)
	}
	defer closeFn()
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return names, errNoMember
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar %s: %w", archive, err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if memberName(h.Name) != member {
			names = append(names, h.Name)
			continue
		}
		switch h.Typeflag {
		case tar.TypeReg, '\x00', tar.TypeGNUSparse:
			return nil, writeMember(ctx, archive, member, out, h.FileInfo().Mode().Perm(), tr)
		case tar.TypeLink:
			target := memberName(h.Linkname)
			if followed || target == member {
				return nil, fmt.Errorf("member %q of %s is a hard link to %q, which is not a file before it", member, archive, h.Linkname)
			}
			_, err := copyMember(ctx, archive, target, out, true)
			if errors.Is(err, errNoMember) {
				return nil, fmt.Errorf("member %q of %s is a hard link to %q, which the archive does not hold", member, archive, h.Linkname)
			}
			return nil, err
		case tar.TypeSymlink:
			return nil, fmt.Errorf("member %q of %s is a symbolic link to %q; name the file it points to", member, archive, h.Linkname)
		default:
			return nil, fmt.Errorf("member %q of %s is not a regular file (tar type %q); name a file", member, archive, h.Typeflag)
		}
	}
}

func writeMember(ctx context.Context, archive, member, out string, mode fs.FileMode, r io.Reader) error {
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, readerCtx{ctx, r}); err != nil {
		w.Close()
		return fmt.Errorf("reading member %q of %s: %w", member, archive, err)
	}
	if err := w.Chmod(mode | 0o400); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
