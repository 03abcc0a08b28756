package runc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/tree"
)

// DefaultRoot is where runc keeps container state in root mode unless
// Options.Root says otherwise.
const DefaultRoot = "/run/reprove-runc"

// DefaultBundleDir is where root mode keeps bundles (config and the
// staged root: mount points only; the build's disk image lives in the
// run folder).
const DefaultBundleDir = "/run/reprove-bundles"

// Options configures the runc backend.
type Options struct {
	// CacheDir is where unpacked image rootfs are kept (under rootfs/) and
	// damaged ones set aside (under quarantine/). Required.
	CacheDir string
	// Binary is the runc executable; looked up in PATH when empty.
	Binary string
	// Root is runc's state folder (runc --root). Root mode: DefaultRoot;
	// rootless: reprove-runc/runc under $XDG_RUNTIME_DIR or the temp folder.
	Root string
	// BundleDir is where bundles are made. Root mode: DefaultBundleDir;
	// rootless: beside Root.
	BundleDir string
	// KillWait is how long a cancelled or timed-out build may take to die
	// after SIGKILL before runc itself is killed; 5s when zero.
	KillWait time.Duration
	// TreeKey authenticates the records of unpacked rootfs; nil: the key
	// at tree.DefaultKeyPath (made on first use), as the fetch cache does.
	TreeKey tree.Key
}

// Runc runs builds in runc containers, in one of two modes chosen by who
// runs reprove:
//
//   - root mode (reprove runs as root): container root is an unprivileged
//     host range (IDMap); reprove stages the root in the host's mount
//     namespace — the cached rootfs as an overlay's read-only lower layer,
//     sources bound read-only, /out and /tmp on a size-limited ext4 image —
//     and runc applies memory and pids cgroup limits.
//   - rootless mode (an ordinary user): runc's rootless mode with the user
//     as container root (and the user's /etc/subuid range, if any, for the
//     other ids); runc mounts the overlay and binds itself, /out and /tmp
//     are a folder whose usage is watched, and the memory and pids limits
//     are not enforced (the Result says so).
//
// In both, the cached rootfs is verified before each build and never
// written, the build has its own user, pid, mount, network, ipc, uts and
// cgroup namespaces and a tightened seccomp profile, and it dies within
// seconds of reprove, however reprove dies.
type Runc struct {
	cacheDir  string
	key       tree.Key
	bin       string
	root      string
	bundleDir string
	killWait  time.Duration
	rootless  bool
	ids       IDMap   // container ids → host ids
	sub       *subIDs // rootless: the user's subordinate ids, if any
	memSwap   bool
	cgroups   []sandbox.NotEnforced // limits this host cannot apply, if any

	usernsOnce sync.Once
	usernsFile *os.File
	usernsErr  error

	seccompOnce    sync.Once
	seccompProfile *specs.LinuxSeccomp
	seccompErr     error
}

// New finds runc, picks the mode and checks that this process may use it.
// It also reclaims what killed builds left behind.
func New(opts Options) (*Runc, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("runc backend: Options.CacheDir is empty; give the cache folder for unpacked images")
	}
	cacheDir, err := filepath.Abs(opts.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("runc backend: Options.CacheDir: %w", err)
	}
	bin, err := findRunc(opts.Binary)
	if err != nil {
		return nil, err
	}
	key, err := treeKey(opts.TreeKey)
	if err != nil {
		return nil, fmt.Errorf("runc backend: %w", err)
	}
	r := &Runc{cacheDir: cacheDir, key: key, bin: bin, killWait: opts.KillWait, rootless: os.Geteuid() != 0}
	if r.killWait == 0 {
		r.killWait = 5 * time.Second
	}
	if r.rootless {
		err = r.setupRootless(opts)
	} else {
		err = r.setupRoot(opts)
	}
	if err != nil {
		return nil, err
	}
	// Leftovers of killed runs are removed on a best-effort basis: failing
	// to clean up after another process must not stop this one's builds.
	r.Reclaim()
	return r, nil
}

// treeKey is key, or the default record key.
func treeKey(key tree.Key) (tree.Key, error) {
	if key != nil {
		return key, nil
	}
	p, err := tree.DefaultKeyPath()
	if err != nil {
		return nil, err
	}
	return tree.LoadKey(p)
}

func findRunc(bin string) (string, error) {
	if bin == "" {
		p, err := exec.LookPath("runc")
		if err != nil {
			return "", fmt.Errorf("runc backend: runc not found in PATH; install it with `apt-get install -y runc` (Debian) or choose another backend")
		}
		bin = p
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("runc backend: running %s --version: %w: %s", bin, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

func (r *Runc) setupRoot(opts Options) error {
	ids, err := rootIDMap()
	if err != nil {
		return err
	}
	r.ids, r.memSwap = ids, hasMemSwap()
	r.root, r.bundleDir = opts.Root, opts.BundleDir
	if r.root == "" {
		r.root = DefaultRoot
	}
	if r.bundleDir == "" {
		r.bundleDir = DefaultBundleDir
	}
	if err := os.MkdirAll(r.root, 0o700); err != nil {
		return fmt.Errorf("runc backend: creating state folder %s: %w", r.root, err)
	}
	// Container root must reach its staged root: search, no listing.
	if err := os.MkdirAll(r.bundleDir, 0o711); err != nil {
		return fmt.Errorf("runc backend: creating bundle folder %s: %w", r.bundleDir, err)
	}
	return os.Chmod(r.bundleDir, 0o711)
}

// hasMemSwap says whether the memory cgroup can limit swap too (cgroup v1
// memory.memsw.*, or v2 memory.swap.max).
func hasMemSwap() bool {
	for _, p := range []string{"/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "/sys/fs/cgroup/memory.swap.max"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// Name is "runc".
func (r *Runc) Name() string { return "runc" }

// Rootless says whether this backend runs builds in runc's rootless mode.
func (r *Runc) Rootless() bool { return r.rootless }

// Run runs one build; see the sandbox package for the rules every build
// follows. Whatever happens, the container, its state, its mounts, its
// disk and its bundle are gone when Run returns.
func (r *Runc) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	return sandbox.Drive(ctx, r, spec)
}

// Prepare verifies (or unpacks) the image's rootfs, then makes the bundle:
// the build's disk, its root, and config.json.
func (r *Runc) Prepare(ctx context.Context, build *sandbox.Build) (sandbox.Container, error) {
	var ids *IDMap
	if !r.rootless {
		ids = &r.ids
	}
	rootfs, err := Rootfs(ctx, RootfsRequest{Layout: build.Spec.ImageLayout, Digest: build.Spec.ImageDigest,
		CacheDir: r.cacheDir, IDs: ids, Key: r.key})
	if err != nil {
		return nil, err
	}
	if rootfs.Quarantined != nil {
		build.Quarantined = append(build.Quarantined, *rootfs.Quarantined)
	}
	if strings.ContainsAny(rootfs.Dir, ",:") || strings.ContainsAny(r.bundleDir, ",:") {
		return nil, fmt.Errorf("runc backend: the cache folder %s and the bundle folder %s must not contain ',' or ':' (overlay mount options)", r.cacheDir, r.bundleDir)
	}
	b, err := r.newBundle()
	if err != nil {
		return b, err
	}
	if r.rootless {
		err = b.prepareRootless(ctx, build, rootfs.Dir)
	} else {
		err = b.prepareRoot(ctx, build, rootfs.Dir)
	}
	return b, err
}

func containerID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a container id: %w", err)
	}
	return "reprove-" + hex.EncodeToString(b[:]), nil
}

// seccomp is the build's seccomp profile, made once.
func (r *Runc) seccomp() (*specs.LinuxSeccomp, error) {
	r.seccompOnce.Do(func() { r.seccompProfile, r.seccompErr = seccompProfile(Capabilities) })
	return r.seccompProfile, r.seccompErr
}

// IDs is the mapping root mode unpacks rootfs for and runs builds with;
// nil in rootless mode, where the user is container root.
func (r *Runc) IDs() *IDMap {
	if r.rootless {
		return nil
	}
	ids := r.ids
	return &ids
}

// userns is a user namespace with the build's mapping, for id-mapped
// mounts; made once and kept open.
func (r *Runc) userns() (*os.File, error) {
	r.usernsOnce.Do(func() { r.usernsFile, r.usernsErr = usernsFile(r.ids) })
	return r.usernsFile, r.usernsErr
}
