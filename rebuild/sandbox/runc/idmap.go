package runc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// Root mode binds read-only sources into a build through
// id-mapped mounts: a file the host's root owns shows up as container
// root's, so the build reads a 0600 source file as root would, while
// nothing it does can change the files.
// A file system that cannot be id-mapped gets a plain bind instead (its
// files then show up as nobody's, readable as their modes allow others).

// usernsFile opens a user namespace with the mapping ids, for id-mapped
// mounts: it starts cat in a new user namespace, opens the namespace and
// lets cat end.
func usernsFile(ids IDMap) (*os.File, error) {
	cmd := exec.Command("cat")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(ids.UID), Size: int(ids.Size)}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: int(ids.GID), Size: int(ids.Size)}},
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("making a user namespace for id-mapped mounts: %w", err)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid))
	in.Close()
	cmd.Wait()
	if err != nil {
		return nil, fmt.Errorf("making a user namespace for id-mapped mounts: %w", err)
	}
	return f, nil
}

// bindIDMapped mounts a clone of src (and the mounts below it) at target,
// id-mapped through userns, nosuid, nodev, read-only unless writable.
// errNoIDMap says the file system cannot be id-mapped.
func bindIDMapped(src, target string, userns *os.File, writable bool) error {
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("%w: open_tree %s: %v", errNoIDMap, src, err)
	}
	defer unix.Close(fd)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV, Userns_fd: uint64(userns.Fd())}
	if !writable {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
	}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return fmt.Errorf("%w: mount_setattr %s: %v", errNoIDMap, src, err)
	}
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("binding %s: %w", src, err)
	}
	return nil
}

var errNoIDMap = errors.New("id-mapped mounts not supported")
