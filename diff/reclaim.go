package diff

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Temporary folders: each comparison that unpacks members makes one
// reprove-diff-* folder under Options.TempDir and holds an exclusive flock
// on its tempLock file until it has removed the folder. The kernel drops
// the lock when the process dies, however it dies, so a folder whose lock
// can be taken was left by a killed run: ReclaimTemp removes it. Live runs'
// folders are never touched.

const (
	tempPrefix = "reprove-diff-"
	tempLock   = ".lock"
	// tempGrace is how old a folder without a lock file must be before it
	// is taken for one whose run died between making it and locking it.
	tempGrace = 10 * time.Minute
)

// makeTempDir makes a locked temporary folder under dir; release unlocks it.
func makeTempDir(dir string) (path string, release func(), err error) {
	d, err := os.MkdirTemp(dir, tempPrefix)
	if err != nil {
		return "", nil, err
	}
	release, err = flockNow(filepath.Join(d, tempLock), os.O_CREATE|os.O_EXCL)
	if err != nil {
		os.RemoveAll(d)
		return "", nil, err
	}
	return d, release, nil
}

// flockNow opens p and takes an exclusive flock without waiting.
func flockNow(p string, flag int) (func(), error) {
	f, err := os.OpenFile(p, os.O_RDWR|flag, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// ReclaimTemp removes the temporary folders that killed comparisons left
// under dir (default os.TempDir()) and returns them. Run and Compare call
// it before they start.
func ReclaimTemp(dir string) ([]string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	matches, err := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	if err != nil {
		return nil, err
	}
	var done []string
	var errs []error
	for _, d := range matches {
		if !abandoned(d) {
			continue
		}
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, d)
	}
	if len(errs) > 0 {
		return done, fmt.Errorf("reclaiming temporary folders of killed comparisons: %w", errors.Join(errs...))
	}
	return done, nil
}

// abandoned reports whether the folder d belongs to no live comparison.
// Its lock is held while it is being checked and removed.
func abandoned(d string) bool {
	st, err := os.Lstat(d)
	if err != nil || !st.IsDir() || !strings.HasPrefix(filepath.Base(d), tempPrefix) {
		return false
	}
	release, err := flockNow(filepath.Join(d, tempLock), 0)
	if errors.Is(err, os.ErrNotExist) {
		return time.Since(st.ModTime()) > tempGrace
	}
	if err != nil {
		return false
	}
	// Keep the lock until the process ends or the folder is gone: release
	// after removal would unlock a deleted file, which is harmless.
	defer release()
	return true
}
