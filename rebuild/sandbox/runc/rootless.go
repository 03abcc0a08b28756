package runc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
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
	r.sub = rootlessSubIDs()
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

// subIDs is the user's subordinate range in /etc/subuid and /etc/subgid:
// rootless builds map container ids from 1 onto it (through newuidmap and
// newgidmap), so a build can have users besides root.
type subIDs struct {
	uid, gid [2]uint32 // start, count
}

func (s *subIDs) uids() [2]uint32 {
	if s == nil {
		return [2]uint32{}
	}
	return s.uid
}

func (s *subIDs) gids() [2]uint32 {
	if s == nil {
		return [2]uint32{}
	}
	return s.gid
}

// rootlessSubIDs is the user's subordinate range when /etc/subuid and
// /etc/subgid both have one (by name or uid) and newuidmap, newgidmap and
// unshare are installed; nil means a one-id mapping.
func rootlessSubIDs() *subIDs {
	for _, tool := range []string{"newuidmap", "newgidmap", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil
		}
	}
	names := []string{strconv.Itoa(os.Getuid())}
	if u, err := user.Current(); err == nil {
		names = append(names, u.Username)
	}
	for _, n := range names {
		u, uok, _ := subID("/etc/subuid", n)
		g, gok, _ := subID("/etc/subgid", n)
		if uok && gok {
			return &subIDs{uid: u, gid: g}
		}
	}
	return nil
}

// reown gives everything under dir back to the user and makes it readable
// and writable by the user (u+rwX), once the build is dead: files a build
// made as its other users belong to the user's subordinate ids, and a
// build may leave files no one may read. With a subordinate range this
// runs chown and chmod in a user namespace with the build's mapping
// (unshare); links are never followed.
func reown(dir string, sub *subIDs) error {
	if sub == nil {
		return ownerAccess(dir)
	}
	cmd := exec.Command("unshare",
		fmt.Sprintf("--map-users=%d,1,%d", sub.uid[0], sub.uid[1]),
		fmt.Sprintf("--map-groups=%d,1,%d", sub.gid[0], sub.gid[1]),
		"--map-root-user", "sh", "-c", `chown -R -h 0:0 "$1" && chmod -R u+rwX "$1"`, "sh", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("giving %s back to uid %d: %w: %s", dir, os.Getuid(), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ownerAccess adds u+rw (and u+x on folders) where the user, who owns
// every file here, lacks it; links are left alone.
func ownerAccess(dir string) error {
	return filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || e.Type()&fs.ModeSymlink != 0 {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		want := fi.Mode().Perm() | 0o600
		if fi.IsDir() {
			want |= 0o100
		}
		if want == fi.Mode().Perm() {
			return nil
		}
		return os.Chmod(p, want|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
	})
}
