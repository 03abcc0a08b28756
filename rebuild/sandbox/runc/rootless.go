package runc

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// setupRootless picks runc's state and bundle folders for an ordinary
// user — under $XDG_RUNTIME_DIR when it is the user's, else a folder of the
// user's own in the temp folder — and finds which limits the host lets
// runc apply without root.
func (r *Runc) setupRootless(opts Options) error {
	base, err := rootlessBase()
	if err != nil {
		return err
	}
	r.root, r.bundleDir = opts.Root, opts.BundleDir
	if r.root == "" {
		r.root = filepath.Join(base, "runc")
	}
	if r.bundleDir == "" {
		r.bundleDir = filepath.Join(base, "bundles")
	}
	for _, d := range []string{r.root, r.bundleDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("runc backend (rootless): creating %s: %w", d, err)
		}
	}
	r.cgroups = rootlessCgroups()
	return nil
}

// rootlessBase is reprove-runc under $XDG_RUNTIME_DIR, or
// reprove-runc-UID in the temp folder, checked to be this user's own
// folder (another user could have made it first in a shared /tmp).
func rootlessBase() (string, error) {
	uid := os.Getuid()
	base := filepath.Join(os.TempDir(), fmt.Sprintf("reprove-runc-%d", uid))
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && ownedDir(x, uid) {
		base = filepath.Join(x, "reprove-runc")
	}
	if err := os.Mkdir(base, 0o700); err != nil && !os.IsExist(err) {
		return "", fmt.Errorf("runc backend (rootless): creating %s: %w", base, err)
	}
	if !ownedDir(base, uid) {
		return "", fmt.Errorf("runc backend (rootless): %s is not a folder of yours (uid %d) with mode 0700; remove it or set XDG_RUNTIME_DIR", base, uid)
	}
	return base, nil
}

func ownedDir(p string, uid int) bool {
	fi, err := os.Lstat(p)
	if err != nil || !fi.IsDir() {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == uid && fi.Mode().Perm()&0o077 == 0
}

// rootlessCgroups says which limits runc cannot apply for an ordinary
// user here. runc's rootless mode can use cgroups only on a unified
// (v2) hierarchy whose cgroup the host delegated to the user (systemd's
// Delegate=yes); reprove does not ask for them, so memory and pids are
// not enforced. The timeout and the disk limit are reprove's own and
// always hold.
func rootlessCgroups() []sandbox.NotEnforced {
	why := "runc's rootless mode cannot make cgroups here: "
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		why += "the host uses cgroup v1, which cannot be delegated to an ordinary user; run reprove as root to enforce it"
	} else {
		why += "reprove does not use delegated cgroup v2 subtrees yet; run reprove as root to enforce it"
	}
	return []sandbox.NotEnforced{{Limit: "memory", Reason: why}, {Limit: "pids", Reason: why}}
}
