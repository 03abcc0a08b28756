package runc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/reprove/reprove/rebuild/sandbox"
)

// bundle is one run's runc bundle and what must be undone after it.
type bundle struct {
	r      *Runc
	dir    string // the bundle folder, under Runc.bundleDir
	state  bundleState
	disk   disk
	unlock func() // releases the bundle lock (see Reclaim), when held
}

// bundleState is what Reclaim needs to take a bundle down when the process
// that made it is gone: it is written before anything is made.
type bundleState struct {
	ID   string `json:"id"`   // the runc container id
	Disk string `json:"disk"` // root mode: the disk image; rootless: the scratch folder
}

const stateFile = "state.json"

func (b *bundle) path(name string) string { return filepath.Join(b.dir, name) }

// newBundle makes and locks an empty bundle folder with a new container id.
func (r *Runc) newBundle() (*bundle, error) {
	id, err := containerID()
	if err != nil {
		return nil, err
	}
	b := &bundle{r: r, state: bundleState{ID: id}}
	if b.dir, err = os.MkdirTemp(r.bundleDir, ".bundle-"); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	if !r.rootless {
		// Container root must reach the staged root inside.
		if err := os.Chmod(b.dir, 0o711); err != nil {
			return b, fmt.Errorf("creating bundle: %w", err)
		}
	}
	if b.unlock, err = lockBundle(b.dir); err != nil {
		return b, err
	}
	return b, nil
}

func (b *bundle) saveState() error {
	data, err := json.Marshal(b.state)
	if err != nil {
		return err
	}
	return os.WriteFile(b.path(stateFile), data, 0o600)
}

// prepareRoot stages the build's root in the host's mount namespace: the
// disk, the overlay root, and every bind into it.
func (b *bundle) prepareRoot(ctx context.Context, build *sandbox.Build, lower string) error {
	b.state.Disk = filepath.Join(build.RunDir, ".disk-"+b.state.ID)
	if err := b.saveState(); err != nil {
		return err
	}
	d, err := newLoopDisk(ctx, b.r.bundleDir, b.state.Disk, b.path("disk"), build.Limits.Disk, b.r.ids)
	if d != nil {
		b.disk = d
	}
	if err != nil {
		return err
	}
	build.Limits.DiskMethod = sandbox.DiskFilesystem
	if err := b.makeScratch(build.Spec.Scratch, &b.r.ids); err != nil {
		return err
	}
	if err := mountOverlay(b.path("rootfs"), lower, b.r.ids); err != nil {
		return err
	}
	for _, m := range b.binds(build.Spec) {
		if err := b.bindRoot(m); err != nil {
			return err
		}
	}
	if dir := build.Spec.ChrootDir; dir != "" {
		if err := b.stageChroot(dir); err != nil {
			return err
		}
	}
	return b.writeConfig(build, plan{root: b.path("rootfs"), ids: b.r.ids, cgroups: true, memSwap: b.r.memSwap})
}

// bindRoot binds one mount into the staged root. Read-only mounts are
// id-mapped, so what host root owns reads as container root's. A writable
// folder is not — through an id-mapped mount the build could make files
// owned by host root, setuid ones included — but given to container root
// (its top folder only), and what the build writes there is owned by the
// build's host range.
func (b *bundle) bindRoot(m sandbox.Mount) error {
	bd := bind{src: m.Source, dest: m.Dest, writable: m.Writable}
	switch {
	case strings.HasPrefix(m.Source, b.disk.Dir()+string(filepath.Separator)):
		// The build's disk (/out, /tmp, scratch): container root's already.
	case m.Writable:
		if err := os.Lchown(m.Source, int(b.r.ids.UID), int(b.r.ids.GID)); err != nil {
			return fmt.Errorf("giving the writable mount %s to the build: %w", m.Source, err)
		}
	default:
		userns, err := b.r.userns()
		if err != nil {
			return err
		}
		bd.userns = userns
	}
	return bindInto(b.path("rootfs"), bd)
}

// prepareRootless leaves the mounts to runc: an overlay at / over an empty
// root folder, then the binds; /out and /tmp are a watched scratch folder.
func (b *bundle) prepareRootless(ctx context.Context, build *sandbox.Build, lower string) error {
	if build.Spec.ChrootDir != "" {
		return errRootlessChroot
	}
	b.state.Disk = filepath.Join(build.RunDir, ".scratch-"+b.state.ID)
	if err := b.saveState(); err != nil {
		return err
	}
	d, err := newWatchedDisk(b.state.Disk, build.Limits.Disk, b.r.sub)
	if err != nil {
		return err
	}
	b.disk = d
	build.Limits.DiskMethod = sandbox.DiskWatch
	if err := b.makeScratch(build.Spec.Scratch, nil); err != nil {
		return err
	}
	build.Limits.NotEnforced = append(build.Limits.NotEnforced, b.r.cgroups...)
	for _, p := range []string{"rootfs", "upper", "work"} {
		if err := os.Mkdir(b.path(p), 0o700); err != nil {
			return fmt.Errorf("creating bundle: %w", err)
		}
	}
	overlay := specs.Mount{Destination: "/", Type: "overlay", Source: "overlay", Options: []string{
		"lowerdir=" + lower, "upperdir=" + b.path("upper"), "workdir=" + b.path("work"), "nosuid", "nodev"}}
	var mounts []specs.Mount
	for _, m := range b.binds(build.Spec) {
		mounts = append(mounts, bindMount(m.Source, m.Dest, m.Writable))
	}
	ids := IDMap{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Size: 1}
	return b.writeConfig(build, plan{root: b.path("rootfs"), rootMount: &overlay, ids: ids, sub: b.r.sub, mounts: mounts})
}

// binds are /out, /tmp, the scratch folders and the spec's mounts,
// parents first.
func (b *bundle) binds(s sandbox.Spec) []sandbox.Mount {
	all := append([]sandbox.Mount{
		{Source: filepath.Join(b.disk.Dir(), "out"), Dest: "/out", Writable: true},
		{Source: filepath.Join(b.disk.Dir(), "tmp"), Dest: "/tmp", Writable: true},
	}, s.Mounts...)
	for i, d := range s.Scratch {
		all = append(all, sandbox.Mount{Source: scratchDir(b.disk, i), Dest: d, Writable: true})
	}
	return sandbox.SortedMounts(all)
}

func scratchDir(d disk, i int) string { return filepath.Join(d.Dir(), fmt.Sprintf("scratch-%d", i)) }

// makeScratch makes an empty folder on the build's disk for each scratch
// folder, owned by container root (through ids in root mode).
func (b *bundle) makeScratch(scratch []string, ids *IDMap) error {
	for i := range scratch {
		p := scratchDir(b.disk, i)
		if err := os.Mkdir(p, 0o755); err != nil {
			return fmt.Errorf("creating the build's disk: %w", err)
		}
		if ids == nil {
			continue
		}
		if err := os.Lchown(p, int(ids.UID), int(ids.GID)); err != nil {
			return fmt.Errorf("creating the build's disk: %w", err)
		}
	}
	return nil
}

func (b *bundle) writeConfig(build *sandbox.Build, p plan) error {
	sc, err := b.r.seccomp()
	if err != nil {
		return err
	}
	p.seccomp, p.limits = sc, build.Limits
	data, err := json.Marshal(runtimeConfig(build.Spec, p))
	if err != nil {
		return fmt.Errorf("writing config.json: %w", err)
	}
	if err := os.WriteFile(b.path("config.json"), data, 0o600); err != nil {
		return fmt.Errorf("writing config.json: %w", err)
	}
	return nil
}

// OutDir is the host folder behind the build's /out.
func (b *bundle) OutDir() string { return filepath.Join(b.disk.Dir(), "out") }

// Close removes the container, the staged mounts, the disk and the
// bundle. It is safe to call whatever state the run reached, and from
// Reclaim with only the bundle's state file to go by.
func (b *bundle) Close() error {
	var errs []error
	if id := b.state.ID; id != "" {
		if _, err := os.Stat(filepath.Join(b.r.root, id)); err == nil {
			out, err := exec.Command(b.r.bin, "--root", b.r.root, "delete", "--force", id).CombinedOutput()
			if _, serr := os.Stat(filepath.Join(b.r.root, id)); err != nil && serr == nil {
				errs = append(errs, fmt.Errorf("runc delete %s: %w: %s", id, err, strings.TrimSpace(string(out))))
			}
		}
	}
	if !b.r.rootless && b.dir != "" {
		if err := unmountTree(b.path("rootfs")); err != nil {
			errs = append(errs, err)
		}
	}
	if b.disk == nil && b.state.Disk != "" {
		b.disk = b.r.diskOf(b)
	}
	if b.disk != nil {
		if err := b.disk.Close(); err != nil {
			errs = append(errs, fmt.Errorf("removing the build's disk: %w", err))
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
		return fmt.Errorf("cleaning up build container %s: %w", b.state.ID, errors.Join(errs...))
	}
	return nil
}

// diskOf is the disk a bundle's state names, for Reclaim.
func (r *Runc) diskOf(b *bundle) disk {
	if r.rootless {
		return &watchedDisk{dir: b.state.Disk, sub: r.sub}
	}
	return &loopDisk{image: b.state.Disk, dir: b.path("disk"), mounted: true}
}
