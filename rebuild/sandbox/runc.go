package sandbox

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultRuncRoot is where runc keeps container state unless
// RuncOptions.Root says otherwise.
const DefaultRuncRoot = "/run/reprove-runc"

// RuncOptions configures the runc backend.
type RuncOptions struct {
	// Binary is the runc executable; looked up in PATH when empty.
	Binary string
	// Root is runc's state folder (runc --root); DefaultRuncRoot when empty.
	Root string
	// KillWait is how long a cancelled or timed-out build may take to die
	// after SIGKILL before runc itself is killed; 5s when zero.
	KillWait time.Duration
}

// Runc runs builds in runc containers. The builder image's rootfs is
// unpacked once per digest into Spec.CacheDir and mounted read-only under an
// overlay whose upper layer (in the run's bundle) only ever receives the
// mount points runc creates, so the cached rootfs is never written and
// never copied.
type Runc struct {
	bin      string
	root     string
	killWait time.Duration
	memSwap  bool
}

// NewRunc finds runc and checks it runs and that this process may use it.
func NewRunc(opts RuncOptions) (*Runc, error) {
	bin := opts.Binary
	if bin == "" {
		p, err := exec.LookPath("runc")
		if err != nil {
			return nil, fmt.Errorf("runc backend: runc not found in PATH; install it with `apt-get install -y runc` (Debian) or choose another backend")
		}
		bin = p
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("runc backend: running %s --version: %w: %s", bin, err, strings.TrimSpace(string(out)))
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("runc backend: needs root (it creates namespaces, mounts and cgroups); run as root or choose the docker or podman backend")
	}
	root := opts.Root
	if root == "" {
		root = DefaultRuncRoot
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("runc backend: creating state folder %s: %w", root, err)
	}
	kw := opts.KillWait
	if kw == 0 {
		kw = 5 * time.Second
	}
	r := &Runc{bin: bin, root: root, killWait: kw, memSwap: hasMemSwap()}
	// Leftovers of killed runs are removed on a best-effort basis: failing
	// to clean up after another process must not stop this one's builds.
	r.Reclaim()
	return r, nil
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

// Run runs one build; see the package documentation for the sandbox's rules.
// Whatever happens, the container, its state, its mounts and its bundle are
// gone when Run returns; RunDir keeps build.log and out/. With ErrBuildFailed,
// ErrTimeout and ErrNoOutput the Result comes back too (Log, ExitCode,
// timings) so callers can point at the log.
func (r *Runc) Run(ctx context.Context, spec Spec) (res *Result, err error) {
	start := time.Now()
	if err := validateSpec(spec); err != nil {
		return nil, err
	}
	runDir, err := filepath.Abs(spec.RunDir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: Spec.RunDir: %w", err)
	}
	cacheDir, err := filepath.Abs(spec.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: Spec.CacheDir: %w", err)
	}
	rootfs, _, err := Rootfs(ctx, spec.ImageLayout, spec.ImageDigest, cacheDir)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(rootfs, ",:") || strings.ContainsAny(runDir, ",:") {
		return nil, fmt.Errorf("sandbox: the cache folder %s and run folder %s must not contain ',' or ':' (overlay mount options)", cacheDir, runDir)
	}

	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating run folder: %w", err)
	}
	outDir := filepath.Join(runDir, "out")
	if err := os.RemoveAll(outDir); err != nil {
		return nil, fmt.Errorf("clearing %s: %w", outDir, err)
	}
	if err := os.Mkdir(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", outDir, err)
	}
	logPath := filepath.Join(runDir, "build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating build log: %w", err)
	}
	defer logFile.Close()

	id, err := containerID()
	if err != nil {
		return nil, err
	}
	b := &bundle{r: r, id: id}
	defer func() {
		if cerr := b.cleanup(); cerr != nil && err == nil {
			res, err = nil, cerr
		}
	}()
	if b.dir, err = os.MkdirTemp(runDir, ".bundle-"); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	if b.unlock, err = lockBundle(b.dir); err != nil {
		return nil, err
	}
	if err := b.prepare(spec, rootfs, outDir); err != nil {
		return nil, err
	}
	prepared := time.Now()

	runCtx := ctx
	if spec.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, spec.Timeout)
		defer cancel()
	}
	var logOut io.Writer = logFile
	lw := &lineWriter{w: logFile, fn: spec.OnLogLine}
	if spec.OnLogLine != nil {
		logOut = lw
	}
	code, runErr := b.run(runCtx, logOut)
	if spec.OnLogLine != nil {
		lw.flush()
	}
	finished := time.Now()
	res = &Result{Log: logPath, ExitCode: code, Prepare: prepared.Sub(start), Run: finished.Sub(prepared)}
	if err := logFile.Sync(); err != nil {
		return nil, fmt.Errorf("writing build log: %w", err)
	}

	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("build cancelled after %s, container killed: %w", res.Run.Round(time.Millisecond), ctx.Err())
	case runCtx.Err() != nil:
		return res, fmt.Errorf("%w after %s, container killed; log %s ends:\n%s", ErrTimeout, spec.Timeout, logPath, logTail(logPath, 20))
	case runErr != nil:
		return nil, runErr
	case code != 0:
		return res, fmt.Errorf("%w: script exited with code %d; log %s ends:\n%s", ErrBuildFailed, code, logPath, logTail(logPath, 20))
	}

	rel, _ := outputRel(spec.Output)
	out, err := resolveIn(outDir, rel, "/out", true)
	if err != nil {
		return nil, fmt.Errorf("build output %s: %w", spec.Output, err)
	}
	if _, err := os.Stat(out); errors.Is(err, os.ErrNotExist) {
		return res, fmt.Errorf("%w: nothing at %s; log %s ends:\n%s", ErrNoOutput, spec.Output, logPath, logTail(logPath, 20))
	} else if err != nil {
		return nil, fmt.Errorf("build output %s: %w", spec.Output, err)
	}
	res.Output = out
	return res, nil
}

func containerID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a container id: %w", err)
	}
	return "reprove-" + hex.EncodeToString(b[:]), nil
}

// bundle is one run's runc bundle and what must be undone after it.
type bundle struct {
	r       *Runc
	id      string
	dir     string // the bundle folder, under RunDir
	mounted string // the overlay root mount, when mounted
	unlock  func() // releases the bundle lock (see Reclaim), when held
}

func (b *bundle) path(name string) string { return filepath.Join(b.dir, name) }

// prepare mounts the root overlay and writes config.json.
func (b *bundle) prepare(spec Spec, rootfs, outDir string) error {
	for _, d := range []string{"rootfs", "upper", "work", "tmp"} {
		if err := os.Mkdir(b.path(d), 0o755); err != nil {
			return fmt.Errorf("creating bundle: %w", err)
		}
	}
	if err := os.Chmod(b.path("tmp"), 0o1777); err != nil {
		return fmt.Errorf("creating bundle: %w", err)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", rootfs, b.path("upper"), b.path("work"))
	if err := unix.Mount("overlay", b.path("rootfs"), "overlay", unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mounting the image rootfs (overlay over %s, upper in %s; the run folder must not be on overlayfs): %w", rootfs, b.dir, err)
	}
	b.mounted = b.path("rootfs")
	cfg := runtimeConfig(spec, b.path("rootfs"), outDir, b.path("tmp"), b.r.memSwap)
	data, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("writing config.json: %w", err)
	}
	if err := os.WriteFile(b.path("config.json"), data, 0o600); err != nil {
		return fmt.Errorf("writing config.json: %w", err)
	}
	return nil
}

// run runs the container in the foreground and returns the script's exit
// code. When ctx ends, the container is killed.
func (b *bundle) run(ctx context.Context, log io.Writer) (int, error) {
	cmd := exec.Command(b.r.bin, "--root", b.r.root, "--log", b.path("runc.log"), "--log-format", "json",
		"run", "--bundle", b.dir, b.id)
	// One writer for both: one pipe (or the one file), in order.
	cmd.Stdout = log
	cmd.Stderr = log
	// A process that keeps the pipe open past runc's exit cannot hold Wait.
	cmd.WaitDelay = b.r.killWait
	// Its own process group: a terminal's Ctrl-C reaches us, and we decide.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("starting runc: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-ctx.Done():
		b.kill()
		select {
		case waitErr = <-done:
		case <-time.After(b.r.killWait):
			// runc did not return: kill it; cleanup's delete --force
			// takes the container down.
			cmd.Process.Kill()
			waitErr = <-done
		}
	}
	code := 0
	if waitErr != nil {
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) {
			return -1, fmt.Errorf("running runc: %w", waitErr)
		}
		code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		return code, nil
	}
	if msg := runcErrors(b.path("runc.log")); msg != "" {
		return code, fmt.Errorf("runc could not run the build container: %s", msg)
	}
	return code, nil
}

// kill sends SIGKILL to every process of the container.
func (b *bundle) kill() {
	exec.Command(b.r.bin, "--root", b.r.root, "kill", "--all", b.id, "KILL").Run()
}

// cleanup removes the container, the overlay mount and the bundle. It is
// safe to call whatever state the run reached.
func (b *bundle) cleanup() error {
	var errs []error
	if _, err := os.Stat(filepath.Join(b.r.root, b.id)); b.id != "" && err == nil {
		out, err := exec.Command(b.r.bin, "--root", b.r.root, "delete", "--force", b.id).CombinedOutput()
		if err != nil {
			if _, serr := os.Stat(filepath.Join(b.r.root, b.id)); serr == nil {
				errs = append(errs, fmt.Errorf("runc delete %s: %w: %s", b.id, err, strings.TrimSpace(string(out))))
			}
		}
	}
	if b.mounted != "" {
		if err := unix.Unmount(b.mounted, 0); err != nil {
			if err := unix.Unmount(b.mounted, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
				errs = append(errs, fmt.Errorf("unmounting %s: %w", b.mounted, err))
			}
		}
	}
	if b.dir != "" {
		if err := os.RemoveAll(b.dir); err != nil {
			errs = append(errs, fmt.Errorf("removing bundle: %w", err))
		}
	}
	if b.unlock != nil {
		b.unlock()
	}
	if len(errs) > 0 {
		return fmt.Errorf("cleaning up build container %s: %w", b.id, errors.Join(errs...))
	}
	return nil
}

// runcErrors returns runc's own error messages from its JSON log.
func runcErrors(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	var msgs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var l struct{ Level, Msg string }
		if json.Unmarshal(sc.Bytes(), &l) == nil && (l.Level == "error" || l.Level == "fatal") {
			msgs = append(msgs, l.Msg)
		}
	}
	return strings.Join(msgs, "; ")
}

// logTail returns the last n lines of the log at p (from its last 64 KiB).
func logTail(p string, n int) string {
	f, err := os.Open(p)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	const max = 64 * 1024
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		f.Seek(fi.Size()-max, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return "(empty log)"
	}
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}
