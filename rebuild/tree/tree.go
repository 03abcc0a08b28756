// Package tree makes derived cache trees provable. A tree is a folder reprove
// derived from something pinned — an unpacked archive, a git checkout, a Go
// module set, an image rootfs — and mounts read-only into builds. Nothing in
// the cache is believed because it exists: a tree is stored as an entry
// folder holding the tree itself (root/) and a record (record.json) of what
// it was derived from and the digest of its content, and that digest is
// computed again before every use (Verify). Whoever can write the cache can
// also rewrite a record, so records are authenticated with a key kept
// outside the cache (Key, LoadKey): a cache restored from another machine or
// changed by another user fails the check. An entry whose content or record
// no longer matches is never used: Quarantine sets it aside for a person to
// look at, and the caller derives it again from verified bytes.
//
// The package also holds reprove's one mode policy for what it writes to
// disk (SafePerm, Sanitize): no setuid, setgid or world-writable bits, so a
// cache folder never grants anything to other local users.
package tree

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/reprove/reprove/diff/archive"
)

// The names inside an entry folder.
const (
	RootName   = "root"
	RecordName = "record.json"
)

// Record says what a tree was derived from and what its content is.
type Record struct {
	Kind    string    `json:"kind"`    // "unpack", "git", "gomod", "gomod-deps", "rootfs"…
	Key     string    `json:"key"`     // what the entry is named by in its kind
	From    string    `json:"from"`    // what it was derived from, e.g. "blob sha256:…"
	Digest  string    `json:"digest"`  // sha256:… over the content (see Digest)
	Files   int64     `json:"files"`   // entries of every type below the root
	Bytes   int64     `json:"bytes"`   // regular file bytes
	Created time.Time `json:"created"` // when it was sealed
	// MAC authenticates every field above with the sealing key.
	MAC string `json:"mac"`
}

// mac is the HMAC-SHA256 of the record's fields under key.
func (r *Record) mac(key Key) string {
	m := hmac.New(sha256.New, key)
	for _, f := range []string{"reprove tree record v1", r.Kind, r.Key, r.From, r.Digest,
		strconv.FormatInt(r.Files, 10), strconv.FormatInt(r.Bytes, 10), r.Created.UTC().Format(time.RFC3339Nano)} {
		m.Write([]byte(strconv.Quote(f)))
		m.Write([]byte{'\n'})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// CorruptError says an entry's content does not match its record.
type CorruptError struct {
	Entry string // the entry folder
	Want  string // the digest its record names ("" when the record is unreadable)
	Got   string // the digest of its content now ("" when it could not be read)
	Err   error  // why the record or the content could not be read, if so
}

func (e *CorruptError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cache entry %s is damaged: %v", e.Entry, e.Err)
	}
	return fmt.Sprintf("cache entry %s does not match its record: content %s, record %s", e.Entry, e.Got, e.Want)
}

func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// ErrCorrupt is wrapped by every CorruptError.
var ErrCorrupt = errors.New("cache entry corrupt")

// SafePerm is the permission a file or folder of mode m gets on disk: its
// rwx bits without write for others, and never setuid, setgid or sticky;
// folders keep owner rwx so the cache can always be cleaned. It is
// archive.SafeMode, the extractor's policy: one rule for every writer.
func SafePerm(m fs.FileMode) fs.FileMode { return archive.SafeMode(m, m.IsDir()) }

// Sanitize applies SafePerm to every file and folder below and at root that
// needs it. Symbolic links have no mode of their own and are left alone.
func Sanitize(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := SafePerm(fi.Mode())
		if fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) == want {
			return nil
		}
		return os.Chmod(p, want)
	})
}

// entry is one file system object below a tree's root.
type entry struct {
	rel  string // slash-separated, relative to the root
	typ  byte   // 'd', 'f', 'l'
	mode fs.FileMode
	size int64
	link string
	sum  string // sha256 hex of a regular file's content
}

// Digest is the content digest of the tree at root: the sha256 of one line
// per entry, sorted by path, holding its path, type, permission bits, size,
// content sha256 and link target. Owners and times are left out: they are
// not what a build reads, and an id-mapped rootfs changes owners. Anything
// but folders, regular files and symbolic links is an error, as is a root
// that is not a folder. Files are hashed in parallel.
func Digest(ctx context.Context, root string) (digest string, files, bytes int64, err error) {
	ents, err := list(root)
	if err != nil {
		return "", 0, 0, err
	}
	if err := hashFiles(ctx, root, ents); err != nil {
		return "", 0, 0, err
	}
	h := sha256.New()
	var line []byte
	for _, e := range ents {
		line = line[:0]
		line = strconv.AppendQuote(line, e.rel)
		line = append(line, ' ', e.typ, ' ')
		line = strconv.AppendUint(line, uint64(e.mode), 8)
		line = append(line, ' ')
		line = strconv.AppendInt(line, e.size, 10)
		line = append(line, ' ')
		line = append(line, e.sum...)
		line = append(line, ' ')
		line = strconv.AppendQuote(line, e.link)
		line = append(line, '\n')
		h.Write(line)
		if e.typ == 'f' {
			bytes += e.size
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), int64(len(ents)), bytes, nil
}

// list walks root without following links and returns its entries sorted.
func list(root string) ([]entry, error) {
	fi, err := os.Lstat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", root)
	}
	var ents []entry
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		e, err := describe(p, filepath.ToSlash(rel), d)
		if err != nil {
			return err
		}
		ents = append(ents, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].rel < ents[j].rel })
	return ents, nil
}

func describe(p, rel string, d fs.DirEntry) (entry, error) {
	fi, err := d.Info()
	if err != nil {
		return entry{}, err
	}
	e := entry{rel: rel, mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)}
	switch {
	case fi.IsDir():
		e.typ = 'd'
	case fi.Mode().IsRegular():
		e.typ, e.size = 'f', fi.Size()
	case fi.Mode()&fs.ModeSymlink != 0:
		e.typ, e.mode = 'l', 0
		if e.link, err = os.Readlink(p); err != nil {
			return entry{}, err
		}
	default:
		return entry{}, fmt.Errorf("%s: %v is neither a file, a folder nor a symbolic link", rel, fi.Mode().Type())
	}
	return e, nil
}

// hashFiles fills in the content sha256 of every regular file, with one
// worker per CPU.
func hashFiles(ctx context.Context, root string, ents []entry) error {
	work := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	fail := func(err error) { once.Do(func() { first = err }) }
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for i := range work {
				sum, err := hashFile(filepath.Join(root, filepath.FromSlash(ents[i].rel)), ents[i].size, buf)
				if err != nil {
					fail(fmt.Errorf("%s: %w", ents[i].rel, err))
					continue
				}
				ents[i].sum = sum
			}
		}()
	}
	for i := range ents {
		if ents[i].typ != 'f' {
			continue
		}
		if err := ctx.Err(); err != nil {
			fail(err)
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	return first
}

// hashFile hashes a regular file, refusing one that changed type or size
// since it was listed. It uses raw system calls: a toolchain tree has tens
// of thousands of small files, and an os.File's bookkeeping (the poller,
// a finalizer) would cost more than reading them. O_NONBLOCK keeps a FIFO
// swapped in meanwhile from blocking; reading at most size+1 bytes keeps a
// device from being read forever.
func hashFile(p string, size int64, buf []byte) (string, error) {
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "", &fs.PathError{Op: "open", Path: p, Err: err}
	}
	defer syscall.Close(fd)
	h := sha256.New()
	var n int64
	for n <= size {
		want := min(int64(len(buf)), size+1-n)
		k, err := syscall.Read(fd, buf[:want])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return "", &fs.PathError{Op: "read", Path: p, Err: err}
		}
		if k == 0 {
			break
		}
		h.Write(buf[:k])
		n += int64(k)
	}
	if n != size {
		return "", errors.New("changed while it was read")
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Seal finishes a freshly derived tree: it applies SafePerm to everything
// under entry/root, computes its digest and writes entry/record.json. The
// entry folder is then ready to be renamed into place.
func Seal(ctx context.Context, entry string, rec Record, key Key) (*Record, error) {
	if len(key) < minKeyLen {
		return nil, errors.New("sealing tree: no key (tree.LoadKey)")
	}
	root := filepath.Join(entry, RootName)
	if err := Sanitize(root); err != nil {
		return nil, fmt.Errorf("sealing %s tree: %w", rec.Kind, err)
	}
	d, files, n, err := Digest(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("sealing %s tree: %w", rec.Kind, err)
	}
	rec.Digest, rec.Files, rec.Bytes = d, files, n
	if rec.Created.IsZero() {
		rec.Created = time.Now().UTC()
	}
	rec.MAC = rec.mac(key)
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(entry, RecordName), append(b, '\n'), 0o444); err != nil {
		return nil, fmt.Errorf("sealing %s tree: %w", rec.Kind, err)
	}
	return &rec, nil
}

// ReadRecord reads an entry's record without checking its content.
func ReadRecord(entry string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(entry, RecordName))
	if err != nil {
		return nil, err
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("record %s: %w", filepath.Join(entry, RecordName), err)
	}
	if !strings.HasPrefix(rec.Digest, "sha256:") {
		return nil, fmt.Errorf("record %s names no sha256 digest", filepath.Join(entry, RecordName))
	}
	return &rec, nil
}

// Verify checks that entry's record was sealed with key and that the tree
// still has the content the record names, and returns the record. A
// missing, unreadable or unauthenticated record, a content that cannot be
// read, and a different digest are *CorruptError. Cancellation returns
// ctx's error.
func Verify(ctx context.Context, entry string, key Key) (*Record, error) {
	rec, err := ReadRecord(entry)
	if err != nil {
		return nil, &CorruptError{Entry: entry, Err: err}
	}
	if len(key) < minKeyLen || !hmac.Equal([]byte(rec.MAC), []byte(rec.mac(key))) {
		return nil, &CorruptError{Entry: entry, Err: errors.New("its record was not sealed with this machine's cache key (written by another user or machine, or changed)")}
	}
	got, _, _, err := Digest(ctx, filepath.Join(entry, RootName))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, &CorruptError{Entry: entry, Want: rec.Digest, Err: err}
	}
	if got != rec.Digest {
		return nil, &CorruptError{Entry: entry, Want: rec.Digest, Got: got}
	}
	return rec, nil
}

// Quarantine moves a damaged entry out of the way, into a new folder under
// dir named by the time and the entry's name, and returns where it went.
// It is kept, never deleted blindly: a person may want to know who changed
// it, and `reprove cache gc` or rm -rf removes it.
func Quarantine(entry, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("quarantining %s: %w", entry, err)
	}
	name := time.Now().UTC().Format("20060102T150405.000000000Z") + "-" + filepath.Base(filepath.Dir(entry)) + "-" + filepath.Base(entry)
	dst := filepath.Join(dir, name)
	if err := os.Rename(entry, dst); err != nil {
		return "", fmt.Errorf("quarantining %s: %w", entry, err)
	}
	return dst, nil
}
