package runc

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// bundleLock is the file in every bundle that its run holds an exclusive
// flock on from before the overlay is mounted until the bundle is removed.
// The kernel drops the lock when the process dies, however it dies, so a
// bundle whose lock can be taken belongs to nobody.
const bundleLock = ".lock"

// lockBundle creates and locks dir's bundle lock; the returned func releases it.
func lockBundle(dir string) (func(), error) {
	release, err := flockNow(filepath.Join(dir, bundleLock), os.O_CREATE|os.O_EXCL)
	if err != nil {
		return nil, fmt.Errorf("locking bundle %s: %w", dir, err)
	}
	return release, nil
}

// tryAbandoned takes the lock of the bundle in dir if its run is gone. It
// reports false, and takes nothing, for a live run and for a folder that is
// not a reprove bundle.
func tryAbandoned(dir string) (release func(), ok bool) {
	if !strings.HasPrefix(filepath.Base(dir), ".bundle-") {
		return nil, false
	}
	release, err := flockNow(filepath.Join(dir, bundleLock), 0)
	return release, err == nil
}

// flockNow opens p (with the extra open flags) and takes an exclusive flock
// on it without waiting; the returned func releases both.
func flockNow(p string, flag int) (func(), error) {
	f, err := os.OpenFile(p, os.O_RDWR|flag, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// Reclaim removes what builds whose reprove process died without cleaning
// up (SIGKILL, a crash, a power cut of the process tree) left behind: their
// containers in this backend's runc state folder, still running or not,
// and their staged mounts, disks and bundles. Builds still in progress, in
// this process or another, are never touched: each holds its bundle's lock
// until it has cleaned up, and the kernel drops that lock when the process
// dies. An abandoned bundle is taken down by the same Close a run does.
// New calls Reclaim; it returns what it removed.
func (r *Runc) Reclaim() ([]string, error) {
	var errs []error
	found := map[string]*bundle{} // by bundle folder
	get := func(dir string) *bundle {
		if found[dir] == nil {
			found[dir] = &bundle{r: r, dir: dir}
		}
		return found[dir]
	}
	containers, err := r.containerBundles()
	if err != nil {
		errs = append(errs, err)
	}
	for id, dir := range containers {
		get(dir).state.ID = id
	}
	ents, _ := os.ReadDir(r.bundleDir)
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".bundle-") {
			get(filepath.Join(r.bundleDir, e.Name()))
		}
	}

	var done []string
	for _, dir := range slices.Sorted(maps.Keys(found)) {
		b := found[dir]
		release, ok := tryAbandoned(dir)
		if !ok {
			continue
		}
		b.unlock = release
		if data, err := os.ReadFile(b.path(stateFile)); err == nil {
			var st bundleState
			if json.Unmarshal(data, &st) == nil {
				b.state.Disk = st.Disk
				if b.state.ID == "" {
					b.state.ID = st.ID
				}
			}
		}
		if err := b.Close(); err != nil {
			errs = append(errs, err)
			continue
		}
		if b.state.ID != "" {
			done = append(done, "container "+b.state.ID)
		}
		if b.state.Disk != "" {
			done = append(done, "disk "+b.state.Disk)
		}
		done = append(done, "bundle "+dir)
	}
	if len(errs) > 0 {
		return done, fmt.Errorf("reclaiming what killed builds left: %w", errors.Join(errs...))
	}
	return done, nil
}

// containerBundles maps the reprove containers in the state folder to their
// bundle folders.
func (r *Runc) containerBundles() (map[string]string, error) {
	ents, err := os.ReadDir(r.root)
	if err != nil || len(ents) == 0 {
		return nil, nil // nothing there: no runc call needed
	}
	out, err := exec.Command(r.bin, "--root", r.root, "list", "--format", "json").Output()
	if err != nil {
		return nil, fmt.Errorf("runc list in %s: %w", r.root, err)
	}
	var list []struct {
		ID     string `json:"id"`
		Bundle string `json:"bundle"`
	}
	// runc prints "null" for an empty list.
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("reading runc list in %s: %w", r.root, err)
	}
	res := map[string]string{}
	for _, c := range list {
		if strings.HasPrefix(c.ID, "reprove-") {
			res[c.ID] = c.Bundle
		}
	}
	return res, nil
}
