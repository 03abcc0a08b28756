// Package sandbox runs one build in a throw-away container with no network.
//
// Backends implement one small interface; runc is the default and needs no
// daemon. The sandbox takes paths, never fetchers.
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
	CacheDir    string // where unpacked rootfs are kept, one per image digest
	RunDir      string // host folder for this run: build.log and the output are left here
	Mounts      []Mount
	Workdir     string
	Env         map[string]string // the manifest's env, over the fixed base env
	Script      string            // run by /bin/sh -c in the container
	Output      string            // container path of the file or folder the build leaves (under /out)
	Timeout     time.Duration     // 0: no limit
	Memory      int64             // bytes; 0: no limit
	Pids        int64             // 0: no limit
	Hostname    string            // fixed hostname; "reprove" when empty
	// ChrootDir is the container path of a writable mount the script
	// chroots into (a root filesystem being assembled): the sandbox mounts
	// /proc, /sys and a /dev with the usual devices there too, and grants
	// CAP_SYS_CHROOT. Empty: none.
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
}

// ErrBuildFailed is returned (wrapped) when the script exits non-zero.
var ErrBuildFailed = errors.New("build failed")

// ErrTimeout is returned (wrapped) when the build ran past Spec.Timeout.
var ErrTimeout = errors.New("build timed out")

// ErrNoOutput is returned (wrapped) when the build left nothing at Spec.Output.
var ErrNoOutput = errors.New("build left no output")
