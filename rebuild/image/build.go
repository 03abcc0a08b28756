package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reprove/reprove/diff/archive"
	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/deb"
	"github.com/reprove/reprove/rebuild/sandbox"
)

// Options are what a build needs besides the recipe and its lock.
type Options struct {
	Cache   *fetch.Cache
	Archive *deb.Archive    // where packages are fetched from (and resolved)
	Backend sandbox.Backend // runs the maintainer scripts
	// Epoch is SOURCE_DATE_EPOCH: every mtime and the image's created time,
	// and what the maintainer scripts see.
	Epoch  int64
	Limits archive.Limits
	// Step, when set, is told what each phase does, for progress.
	Step func(phase, detail string)
}

func (o *Options) step(phase, format string, args ...any) {
	if o.Step != nil {
		o.Step(phase, fmt.Sprintf(format, args...))
	}
}

// Image is a built image, kept in the cache as an OCI layout.
type Image struct {
	Digest   string // sha256:… of the image manifest
	Layout   string // the OCI layout in the cache (read-only: copy it to keep it)
	Ref      string // oci-layout:LAYOUT@DIGEST
	Lock     *Lock
	Cached   bool          // an image built before from the same lock was reused
	Packages int           // packages installed
	Size     int64         // bytes of the layer
	Took     time.Duration // how long Build took
}

// builder is one Build.
type builder struct {
	o    Options
	r    *Recipe
	lock *Lock
}

// Build makes the image of recipe r with exactly the packages of lock. An
// image built before from the same lock, files, env and epoch is taken
// from the cache (checked against its record).
func Build(ctx context.Context, r *Recipe, lock *Lock, o Options) (*Image, error) {
	start := time.Now()
	if o.Cache == nil || o.Archive == nil || o.Backend == nil {
		return nil, errors.New("image: Options needs Cache, Archive and Backend")
	}
	if lock.Helper.Name == "" {
		return nil, fmt.Errorf("the lock names no helper package (%s); resolve it again with --update", HelperPackage)
	}
	b := &builder{o: o, r: r, lock: lock}
	key := b.key()
	if img, err := b.cached(ctx, key); err != nil || img != nil {
		if img != nil {
			img.Took = time.Since(start)
		}
		return img, err
	}
	img, err := b.build(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := o.Cache.PutTree(ctx, "image", key, "image of lock "+lock.Digest(), func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "digest"), []byte(img.Digest+"\n"), 0o644)
	}); err != nil {
		return nil, err
	}
	img.Took = time.Since(start)
	return img, nil
}

// key names everything the image is made of.
func (b *builder) key() string {
	h := sha256.New()
	fmt.Fprintf(h, "reprove image v1\nlock %s\nepoch %d\n", b.lock.Digest(), b.o.Epoch)
	for _, argv := range b.r.Run {
		fmt.Fprintf(h, "run %q\n", argv)
	}
	for _, f := range b.r.Files {
		fmt.Fprintf(h, "file %q %q %q\n", f.Path, f.Mode, f.Content)
	}
	var keys []string
	for k := range b.r.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "env %q %q\n", k, b.r.Env[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// cached returns the image built before under key, or nil.
func (b *builder) cached(ctx context.Context, key string) (*Image, error) {
	e, _, err := b.o.Cache.Tree(ctx, "image", key)
	if err != nil || e == nil {
		return nil, err
	}
	d, err := os.ReadFile(filepath.Join(e.Root, "digest"))
	if err != nil {
		return nil, nil
	}
	digest := strings.TrimSpace(string(d))
	oci, _, err := b.o.Cache.Tree(ctx, "oci", digest)
	if err != nil || oci == nil {
		return nil, err
	}
	b.o.step("image", "%s: reusing the image built before from the same lock", digest)
	return &Image{Digest: digest, Layout: oci.Root, Ref: "oci-layout:" + oci.Root + "@" + digest, Lock: b.lock, Cached: true, Packages: len(b.lock.Packages)}, nil
}

func (b *builder) build(ctx context.Context) (*Image, error) {
	pkgs, helperPkg, err := b.fetchAll(ctx)
	if err != nil {
		return nil, err
	}
	helper, err := b.helperImage(ctx, helperPkg)
	if err != nil {
		return nil, err
	}
	tmp, err := b.o.Cache.TempDir("image-")
	if err != nil {
		return nil, err
	}
	defer tmp.Remove()
	t, err := b.assemble(ctx, filepath.Join(tmp.Path, "rootfs"), pkgs, helper)
	if err != nil {
		return nil, err
	}
	defer t.root.Close()
	b.o.step("image", "writing the layer (%d packages, SOURCE_DATE_EPOCH=%d)", len(pkgs), b.o.Epoch)
	l, err := writeLayer(t.dir, filepath.Join(tmp.Path, "layer.tar"), time.Unix(b.o.Epoch, 0), t.meta)
	if err != nil {
		return nil, err
	}
	img, err := assemble(l, imageConfig{epoch: time.Unix(b.o.Epoch, 0), arch: b.lock.Architecture, env: b.r.Env,
		createdBy: fmt.Sprintf("reprove image build %s (lock %s)", b.r.Name, b.lock.Digest())})
	if err != nil {
		return nil, err
	}
	stored, err := b.storeImage(ctx, img, "recipe "+b.r.Name+", lock "+b.lock.Digest())
	if err != nil {
		return nil, err
	}
	return &Image{Digest: stored.Digest, Layout: stored.Layout, Ref: stored.Ref, Lock: b.lock, Packages: len(pkgs), Size: l.size}, nil
}

// needsDpkg says whether the packages are installed through dpkg's
// database and maintainer scripts: whenever dpkg is among them. A set
// without dpkg (busybox alone, say) is only unpacked, which is refused
// when one of its packages has maintainer scripts to run.
func needsDpkg(pkgs []*installed) (bool, error) {
	for _, p := range pkgs {
		if p.locked.Name == "dpkg" {
			return true, nil
		}
	}
	for _, p := range pkgs {
		for _, s := range []string{"preinst", "postinst"} {
			if _, ok := p.u.Control.Files[s]; ok {
				return false, fmt.Errorf("package %s has a %s, which needs dpkg in the image: add dpkg to the packages, or keep essential: true", p.locked.Name, s)
			}
		}
	}
	return false, nil
}

// fetchAll fetches every locked package by sha256 and unpacks it into the
// cache.
func (b *builder) fetchAll(ctx context.Context) ([]*installed, *deb.Unpacked, error) {
	b.o.step("fetch", "%d packages of %s (%s)", len(b.lock.Packages), b.r.Name, b.lock.Suite)
	var pkgs []*installed
	for _, l := range b.lock.Packages {
		u, err := b.unpack(ctx, l)
		if err != nil {
			return nil, nil, err
		}
		arch := u.Control.Field("Architecture")
		if arch == "all" || arch == "" {
			arch = b.lock.Architecture
		}
		if got := u.Control.Field("Package"); got != l.Name {
			return nil, nil, fmt.Errorf("the .deb locked as %s %s is package %q", l.Name, l.Version, got)
		}
		pkgs = append(pkgs, &installed{locked: l, arch: arch, u: u})
	}
	helper, err := b.unpack(ctx, b.lock.Helper)
	return pkgs, helper, err
}

func (b *builder) unpack(ctx context.Context, l Locked) (*deb.Unpacked, error) {
	blob, err := b.o.Archive.Fetch(ctx, refOf(l))
	if err != nil {
		return nil, err
	}
	u, err := deb.Unpack(ctx, b.o.Cache, blob, b.o.Limits)
	if err != nil {
		return nil, fmt.Errorf("package %s %s: %w", l.Name, l.Version, err)
	}
	return u, nil
}

// assemble lays the packages into a fresh root filesystem, writes dpkg's
// database, runs the maintainer scripts, adds the recipe's files and
// removes what says when it ran.
func (b *builder) assemble(ctx context.Context, dir string, pkgs []*installed, helper *fetch.Image) (*target, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	t := newTarget(dir, root)
	fail := func(err error) (*target, error) { root.Close(); return nil, err }
	b.o.step("image", "unpacking %d packages", len(pkgs))
	if err := t.layout(pkgs); err != nil {
		return fail(err)
	}
	for _, p := range pkgs {
		if err := t.unpack(p); err != nil {
			return fail(err)
		}
	}
	withDpkg, err := needsDpkg(pkgs)
	if err != nil {
		return fail(err)
	}
	if withDpkg {
		if err := t.dpkgDB(pkgs); err != nil {
			return fail(err)
		}
	}
	if withDpkg || len(b.r.Run) > 0 {
		b.o.step("image", "running the maintainer scripts in the sandbox (%s, no network)", b.o.Backend.Name())
		if err := b.configure(ctx, t, helper, pkgs, withDpkg); err != nil {
			return fail(err)
		}
	}
	if err := t.clean(); err != nil {
		return fail(err)
	}
	for _, f := range b.r.Files {
		mode, _ := strconv.ParseUint(f.Mode, 8, 32)
		if f.Mode == "" {
			mode = 0o644
		}
		if err := t.writeFile(strings.TrimPrefix(f.Path, "/"), []byte(f.Content), os.FileMode(mode)); err != nil {
			return fail(fmt.Errorf("recipe file %s: %w", f.Path, err))
		}
	}
	return t, nil
}
