package fetch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// noFollow opens a path only if its last component is not a symbolic link.
const noFollow = syscall.O_NOFOLLOW

// Temp is a work folder under the cache's tmp/, on the same file system as
// its entries so that a rename into place is atomic. Its owner holds a lock
// on it until Remove; a folder whose lock can be taken belongs to a process
// that died (SIGKILL, a crash) and is removed by the next TempDir call of any
// reprove process.
type Temp struct {
	Path string
	lock *os.File
}

// tempLock is the lock file inside every Temp folder.
const tempLock = ".reprove-lock"

// legacyTempAge is how old a tmp/ folder without a lock file (from a reprove
// that did not lock them, or caught between creating and locking) must be
// before it is reclaimed.
const legacyTempAge = time.Hour

// Remove deletes the folder and releases its lock.
func (t *Temp) Remove() error {
	err := os.RemoveAll(t.Path)
	if t.lock != nil {
		t.lock.Close()
	}
	return err
}

// reclaimed remembers the cache roots whose tmp/ this process has swept.
var reclaimed sync.Map

// TempDir makes a fresh, locked work folder under the cache's tmp/. The
// first call in a process removes the folders of dead processes.
func (c *Cache) TempDir(pattern string) (*Temp, error) {
	dir := filepath.Join(c.Root, "tmp")
	if err := c.mkdir(dir); err != nil {
		return nil, err
	}
	if _, done := reclaimed.LoadOrStore(dir, true); !done {
		c.ReclaimTemp()
	}
	p, err := os.MkdirTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("creating a work folder in %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(p, tempLock), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		os.RemoveAll(p)
		return nil, fmt.Errorf("locking work folder %s: %w", p, err)
	}
	return &Temp{Path: p, lock: f}, nil
}

// ReclaimTemp removes the work folders under tmp/ whose owner is gone: their
// lock can be taken, or they have none and are older than an hour. Folders
// of live runs, in any process, are never touched. It returns what it
// removed.
func (c *Cache) ReclaimTemp() []string {
	dir := filepath.Join(c.Root, "tmp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if abandonedTemp(p, e) {
			if os.RemoveAll(p) == nil {
				removed = append(removed, p)
			}
		}
	}
	return removed
}

// abandonedTemp reports whether the tmp/ entry p belongs to nobody: its lock
// can be taken (the kernel dropped it when its owner died), or it has no
// lock and is old. No live process ever takes such a folder back.
func abandonedTemp(p string, e fs.DirEntry) bool {
	f, err := os.OpenFile(filepath.Join(p, tempLock), os.O_RDWR|noFollow, 0)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		fi, err := e.Info()
		return err == nil && time.Since(fi.ModTime()) > legacyTempAge
	}
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil
}
