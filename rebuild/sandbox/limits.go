package sandbox

import (
	"fmt"
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults for a Spec that leaves a limit at 0.
const (
	DefaultPids = 4096
	DefaultDisk = 16 << 30
	// MaxDefaultMemory caps DefaultMemory on large hosts.
	MaxDefaultMemory = 16 << 30
	// MaxLog is how much of a build's log is kept: its last MaxLog bytes.
	MaxLog = 64 << 20
)

// DefaultMemory is half the host's RAM, at most MaxDefaultMemory.
func DefaultMemory() int64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return MaxDefaultMemory
	}
	half := int64(si.Totalram) * int64(si.Unit) / 2
	return min(half, MaxDefaultMemory)
}

// Ways a disk limit is enforced (Limits.DiskMethod).
const (
	// DiskFilesystem: /out and /tmp live on a size-limited file system of
	// their own; past the limit writes fail with ENOSPC.
	DiskFilesystem = "filesystem"
	// DiskWatch: the run's usage is measured while it runs and the build is
	// killed within a second of passing the limit.
	DiskWatch = "watch"
)

// Limits are the limits a build ran under.
type Limits struct {
	Timeout    time.Duration // 0: none
	Memory     int64         // bytes
	Pids       int64         // processes and threads
	Disk       int64         // bytes /out and /tmp hold together
	DiskMethod string        // DiskFilesystem or DiskWatch
	// NotEnforced lists the limits this host could not apply, and why.
	NotEnforced []NotEnforced
}

// NotEnforced is a limit that was asked for but not applied.
type NotEnforced struct {
	Limit  string // "memory", "pids"
	Reason string
}

// limitsOf fills in the defaults for spec's zero limits.
func limitsOf(spec Spec) Limits {
	l := Limits{Timeout: spec.Timeout, Memory: spec.Memory, Pids: spec.Pids, Disk: spec.Disk}
	if l.Memory == 0 {
		l.Memory = DefaultMemory()
	}
	if l.Pids == 0 {
		l.Pids = DefaultPids
	}
	if l.Disk == 0 {
		l.Disk = DefaultDisk
	}
	return l
}

// Enforced says whether the named limit was applied.
func (l Limits) Enforced(name string) bool {
	for _, n := range l.NotEnforced {
		if n.Limit == name {
			return false
		}
	}
	return true
}

// DiskLimitError is the error for a build that filled its disk.
func DiskLimitError(limit int64) error {
	return fmt.Errorf("%w: disk limit of %s reached (what /out and /tmp hold together; raise build.resources.disk)", ErrDiskLimit, HumanBytes(limit))
}

// HumanBytes writes n in binary units: 16 GiB, 1.5 MiB, 100 B.
func HumanBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d %s", int64(v), units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
