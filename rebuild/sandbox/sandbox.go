// Package sandbox runs one build in a throw-away container with no network.
//
// A Backend runs builds; the shared driver (Drive) does everything a backend
// does not need to know about — the run folder, the build log, the timeout,
// the log's tail in errors, finding the output — and an engine (one package
// per container engine, e.g. rebuild/sandbox/runc) supplies only what is
// engine-specific through Engine. rebuild/sandbox/sandboxtest is the
// conformance suite every Backend passes. The sandbox takes paths, never
// fetchers.
package sandbox

import (
	"context"
	"errors"
	"time"
)

// Backend runs builds.
type Backend interface {
	// Name is the backend's name as users type it: "runc".
	Name() string
	// Run runs one build and returns where its output and log are.
	Run(ctx context.Context, spec Spec) (*Result, error)
}

// Spec is one build to run.
type Spec struct {
	ImageLayout string // host path of an OCI image layout holding the builder image
	ImageDigest string // sha256:… of the image manifest inside that layout
	RunDir      string // host folder for this run: build.log and the output are left here
	Mounts      []Mount
	Workdir     string
	Env         map[string]string // the manifest's env, over the fixed base env
	Script      string            // run by /bin/sh -c in the container
	Output      string            // container path of the file or folder the build leaves (under /out)
	Timeout     time.Duration     // 0: no limit
	Memory      int64             // bytes; 0: DefaultMemory()
	Pids        int64             // 0: DefaultPids
	Disk        int64             // bytes /out, /tmp and Scratch hold together; 0: DefaultDisk
	Hostname    string            // fixed hostname; "reprove" when empty
	// OnLogLine, when set, is called with each line the build writes to its
	// log (stdout and stderr, in order), as it is written, without its
	// newline; a line longer than 4 KiB is cut there. It must return
	// quickly: it runs on the goroutine that copies the build's output.
	OnLogLine func(line string) `json:"-"`
	// Scratch are more container folders that, like /out and /tmp, start
	// empty, are the build's to write and live on its disk (counted in
	// Disk): a build path such as /build. Their content is not kept.
	Scratch []string
	// ChrootDir, when set, is the container path of a writable mount the
	// script chroots into: a root filesystem being assembled, as `chroot
	// /target dpkg --configure -a` does. The engine mounts a /proc, a
	// read-only /sys and a read-only /dev holding the usual device nodes
	// there, each as the build's own are (the same masked and read-only
	// paths); the build gets nothing else. The tree must be owned by the
	// build's id range to be usable as root inside (see Chrooter).
	ChrootDir string
}

// Mount binds a host path into the container, read-only unless said.
type Mount struct {
	Source   string
	Dest     string
	Writable bool
}

// Result is what a finished build left.
type Result struct {
	Output   string        // host path of the build's output (a file or folder in RunDir)
	Log      string        // host path of the build log
	ExitCode int           // of the build script
	Prepare  time.Duration // unpacking or finding the rootfs, writing the config
	Run      time.Duration // the container's life
	Limits   Limits        // the limits the build ran under, and which were not enforced
	// LogDropped is how many bytes of the build log's beginning were
	// dropped to keep its last MaxLog bytes.
	LogDropped int64
	// Quarantined lists the cache entries found damaged in this run and
	// set aside (re-derived from verified bytes before the build used them).
	Quarantined []Quarantined
}

// Quarantined is one damaged cache entry set aside.
type Quarantined struct {
	Entry   string // where it was in the cache
	MovedTo string // where it is now, under the cache's quarantine/ folder
	Reason  string // what did not match
}

// ErrBuildFailed is returned (wrapped) when the script exits non-zero.
var ErrBuildFailed = errors.New("build failed")

// ErrTimeout is returned (wrapped) when the build ran past Spec.Timeout.
var ErrTimeout = errors.New("build timed out")

// ErrDiskLimit is returned (wrapped) when /out and /tmp filled the build's
// disk (Spec.Disk).
var ErrDiskLimit = errors.New("build ran out of disk")

// ErrNoOutput is returned (wrapped) when the build left nothing at Spec.Output.
var ErrNoOutput = errors.New("build left no output")
