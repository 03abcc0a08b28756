package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
)

// An ordinary user, with no sudo, verifies a fixture: runc's rootless
// mode, and the report says which limits this host cannot enforce for it.
func TestVerifyRootless(t *testing.T) {
	sandboxtest.Need(t, true)
	uid, gid := sandboxtest.User(t, "reprove-test")
	m := fixture(t, "hello", layoutRef(t))
	layout, _ := busyboxImage(t)
	bin := reproveBin(t)
	// The user must read the fixture, the image and the binary: open the
	// test's own temp folders (never their parent, the shared temp folder).
	for _, p := range []string{filepath.Dir(filepath.Dir(filepath.Dir(m))), filepath.Dir(layout), filepath.Dir(bin)} {
		if err := sandboxtest.WorldReadable(p); err != nil {
			t.Fatal(err)
		}
	}
	home := t.TempDir()
	if err := os.Chown(home, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "verify", "--json", filepath.Join(home, "r.json"), m)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "NO_COLOR=1"}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("reprove verify as reprove-test: %v\nstdout:\n%s\nstderr:\n%s", err, so.String(), se.String())
	}
	if !strings.HasPrefix(so.String(), "✓ hello: reproducible") {
		t.Errorf("stdout %q; want the reproducible verdict", so.String())
	}
	res := readResult(t, filepath.Join(home, "r.json"))
	if res.Sandbox == nil || res.Sandbox.Limits.DiskMethod != "watch" || len(res.Sandbox.Limits.NotEnforced) == 0 {
		t.Fatalf("sandbox %+v; want the watched disk and the limits rootless mode cannot enforce", res.Sandbox)
	}
	for _, n := range res.Sandbox.Limits.NotEnforced {
		if !strings.Contains(so.String(), n.Limit+" limit not enforced: "+n.Reason) {
			t.Errorf("the text report does not say %s is not enforced:\n%s", n.Limit, so.String())
		}
	}
}

// A build that fills its disk past build.resources.disk fails with exit 3
// and says which limit it reached; the JSON keeps the limit.
func TestVerifyDiskLimit(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello", layoutRef(t))
	editManifest(t, m, "  resources:\n", "  resources:\n    disk: 16MiB\n")
	editManifest(t, m, "    set -eu\n", "    set -eu\n    dd if=/dev/zero of=/tmp/big bs=1048576 count=32\n")
	dir := t.TempDir()
	r := reprove(t, dir, "verify", "--json", filepath.Join(dir, "r.json"), m)
	if r.code != 3 {
		t.Fatalf("exit %d; want 3\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if out := r.stdout + r.stderr; !strings.Contains(out, "disk limit of 16 MiB reached") || !strings.Contains(out, "No space left on device") {
		t.Errorf("output does not say the disk limit was reached and the write failed with ENOSPC:\n%s", out)
	}
	res := readResult(t, filepath.Join(dir, "r.json"))
	if res.Sandbox == nil || res.Sandbox.Limits.Disk != 16<<20 || res.Sandbox.Limits.DiskMethod != "filesystem" {
		t.Errorf("sandbox %+v; want a 16 MiB filesystem disk", res.Sandbox)
	}
}

// The cache attack through the CLI: after a first verify of a build that
// is not reproducible, someone who can write the cache makes the cached
// rootfs's /bin/sh write the published bytes. A reprove that trusted its
// cache would now say reproducible; this one must notice, set the rootfs
// aside, rebuild honestly (still not reproducible, exit 1) and say so.
func TestVerifyPoisonedRootfs(t *testing.T) {
	sandboxtest.Need(t, true)
	m := fixture(t, "hello-dated", layoutRef(t))
	cache := t.TempDir()
	if r := reprove(t, cache, "verify", m); r.code != 1 {
		t.Fatalf("first verify: exit %d, want 1 (the fixture is not reproducible)\n%s%s", r.code, r.stdout, r.stderr)
	}
	entries, _ := filepath.Glob(filepath.Join(cache, "rootfs", "sha256-*-ids-*[0-9]"))
	if len(entries) != 1 {
		t.Fatalf("cached rootfs entries %v; want one", entries)
	}
	published, err := os.ReadFile(filepath.Join(filepath.Dir(m), "published", "hello-1.0.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var esc strings.Builder
	for _, b := range published {
		fmt.Fprintf(&esc, "\\%03o", b)
	}
	sh := filepath.Join(entries[0], "root", "bin", "sh")
	if err := os.Remove(sh); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sh, []byte("#!/bin/busybox sh\nprintf '"+esc.String()+"' > /out/hello-1.0.tar.gz\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	j := filepath.Join(t.TempDir(), "r.json")
	r := reprove(t, cache, "verify", "--json", j, m)
	if r.code != 1 {
		t.Fatalf("verify with a poisoned rootfs: exit %d; want 1 (rebuilt honestly, still not reproducible)\n%s%s", r.code, r.stdout, r.stderr)
	}
	res := readResult(t, j)
	if res.Sandbox == nil || len(res.Sandbox.Quarantined) != 1 || res.Sandbox.Quarantined[0].Entry != entries[0] ||
		!strings.HasPrefix(res.Sandbox.Quarantined[0].MovedTo, filepath.Join(cache, "quarantine")+"/") {
		t.Fatalf("sandbox %+v; want the rootfs quarantined under %s", res.Sandbox, filepath.Join(cache, "quarantine"))
	}
	if !strings.Contains(r.stdout, entries[0]+" was damaged") {
		t.Errorf("the text report does not name the damaged entry:\n%s", r.stdout)
	}
}
