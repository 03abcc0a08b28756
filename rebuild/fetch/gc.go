package fetch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// useLock is the file every process using the cache holds a shared flock
// on (Cache.Hold); `reprove cache gc` takes it exclusively, so it never
// removes an entry a live run may be using.
const useLock = ".lock"

// ErrCacheBusy is returned by GC when another reprove is using the cache.
var ErrCacheBusy = errors.New("the cache is in use by another reprove process")

// Hold marks the cache as in use by this process until release (or the
// process's death: the kernel drops the lock).
func (c *Cache) Hold() (release func(), err error) {
	if err := c.mkdir(c.Root); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(c.Root, useLock), os.O_RDWR|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking cache %s: %w", c.Root, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking cache %s: %w", c.Root, err)
	}
	return func() { f.Close() }, nil
}

// Entry is one removable thing in the cache.
type Entry struct {
	Path    string    // host path
	Kind    string    // "blob", "tree/<kind>", "run", "quarantine", "rootfs"…
	Size    int64     // bytes on disk
	Used    time.Time // last use: the latest access or change time
	Removed bool      // set by GC
}

// entryDepth says how deep entries sit under each top-level folder; any
// other top-level folder (an engine's unpacked images) holds entries
// directly.
var entryDepth = map[string]int{"blobs": 2, "trees": 2}

// Entries lists what the cache holds, by top-level folder, each with its
// size and last use; tmp/ and the lock are left out.
func (c *Cache) Entries() ([]Entry, error) {
	tops, err := os.ReadDir(c.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading cache %s: %w", c.Root, err)
	}
	var out []Entry
	for _, t := range tops {
		if !t.IsDir() || t.Name() == "tmp" {
			continue
		}
		depth := entryDepth[t.Name()]
		if depth == 0 {
			depth = 1
		}
		pattern := filepath.Join(c.Root, t.Name())
		for range depth {
			pattern = filepath.Join(pattern, "*")
		}
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			e := Entry{Path: p, Kind: kindOf(c.Root, p)}
			e.Size, e.Used = usage(p)
			out = append(out, e)
		}
	}
	return out, nil
}

func kindOf(root, p string) string {
	rel, _ := filepath.Rel(root, p)
	top, rest, _ := cutSlash(filepath.ToSlash(rel))
	switch top {
	case "blobs":
		return "blob"
	case "trees":
		kind, _, _ := cutSlash(rest)
		return "tree/" + kind
	case "runs":
		return "run"
	}
	return top
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// usage is the disk usage of p and its last use: the latest change time of
// anything under it, or access time of a file under it (a cached entry's
// files are read on every use). A folder's access time is not use: it
// changes when the folder is listed, as cache ls and gc themselves do.
func usage(p string) (int64, time.Time) {
	var size int64
	var used time.Time
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			size += st.Blocks * 512
			if a := time.Unix(st.Atim.Unix()); d.Type().IsRegular() && a.After(used) {
				used = a
			}
		}
		if fi.ModTime().After(used) {
			used = fi.ModTime()
		}
		return nil
	})
	return size, used
}

// GCOptions says what GC may remove.
type GCOptions struct {
	KeepRuns  int           // run folders to keep, newest first; the rest go
	OlderThan time.Duration // entries not used for this long go (0: no age rule)
	MaxSize   int64         // then the least recently used go until the cache fits (0: no size rule)
	DryRun    bool          // say what would go, remove nothing
	Now       time.Time     // time.Now when zero
}

// GC removes run folders beyond KeepRuns, quarantined entries and other
// entries past the age and size rules, and the work folders of dead runs.
// It holds the cache exclusively while it works, so no live run's entry is
// ever removed; with another reprove using the cache it returns
// ErrCacheBusy at once.
func (c *Cache) GC(o GCOptions) ([]Entry, error) {
	if _, err := os.Stat(c.Root); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // nothing cached, nothing to remove
	}
	f, err := os.OpenFile(filepath.Join(c.Root, useLock), os.O_RDWR|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking cache %s: %w", c.Root, err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return nil, fmt.Errorf("%w (%s); run gc again when it is done", ErrCacheBusy, c.Root)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if !o.DryRun {
		c.ReclaimTemp()
	}
	ents, err := c.Entries()
	if err != nil {
		return nil, err
	}
	pick(ents, o)
	for i := range ents {
		if ents[i].Removed && !o.DryRun {
			if err := os.RemoveAll(ents[i].Path); err != nil {
				return ents, fmt.Errorf("removing %s: %w", ents[i].Path, err)
			}
		}
	}
	return ents, nil
}

// pick marks what GC removes: runs beyond KeepRuns (newest kept), entries
// older than OlderThan, then the least recently used until MaxSize fits.
func pick(ents []Entry, o GCOptions) {
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].Used.After(ents[j].Used) })
	runs := 0
	var total int64
	for i := range ents {
		e := &ents[i]
		switch {
		case e.Kind == "run":
			runs++
			e.Removed = runs > o.KeepRuns
		case o.OlderThan > 0 && o.Now.Sub(e.Used) > o.OlderThan:
			e.Removed = true
		}
		if !e.Removed {
			total += e.Size
		}
	}
	if o.MaxSize <= 0 {
		return
	}
	for i := len(ents) - 1; i >= 0 && total > o.MaxSize; i-- {
		if !ents[i].Removed {
			ents[i].Removed = true
			total -= ents[i].Size
		}
	}
}
