package runc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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
// containers in this backend's runc state folder, still running or not, and
// their overlay mounts and bundles. Builds still in progress, in this process
// or another, are never touched: each holds its bundle's lock until it has
// cleaned up. An abandoned bundle is taken down by the same cleanup a run
// does. New calls Reclaim; it returns what it removed.
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
		get(dir).id = id
	}
	mounts, err := bundleMounts()
	if err != nil {
		errs = append(errs, err)
	}
	for _, mp := range mounts {
		get(filepath.Dir(mp)).mounted = mp
	}

	var done []string
	for _, dir := range slices.Sorted(maps.Keys(found)) {
		b := found[dir]
		release, ok := tryAbandoned(dir)
		if !ok {
			continue
		}
		b.unlock = release
		if err := b.Close(); err != nil {
			errs = append(errs, err)
			continue
		}
		if b.id != "" {
			done = append(done, "container "+b.id)
		}
		if b.mounted != "" {
			done = append(done, "mount "+b.mounted)
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

// bundleMounts lists this mount namespace's overlay mounts at a folder named
// rootfs, the root of a bundle (…/.bundle-*/rootfs); tryAbandoned tells
// reprove's bundles from others.
func bundleMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var res []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mp, fstype, ok := parseMountinfo(sc.Text())
		if !ok || fstype != "overlay" || filepath.Base(mp) != "rootfs" {
			continue
		}
		res = append(res, mp)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading /proc/self/mountinfo: %w", err)
	}
	return res, nil
}

// parseMountinfo returns the mount point and file system type of one line
// of /proc/PID/mountinfo (proc(5)): "ID PARENT MAJ:MIN ROOT MOUNTPOINT
// OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTIONS".
func parseMountinfo(line string) (mountPoint, fstype string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 10 {
		return "", "", false
	}
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || sep+1 >= len(f) {
		return "", "", false
	}
	return unescapeMountinfo(f[4]), f[sep+1], true
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for a space,
// \011, \012, \134) in mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
