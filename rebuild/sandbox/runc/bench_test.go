package runc_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/reprove/reprove/rebuild/sandbox"
	"github.com/reprove/reprove/rebuild/sandbox/runc"
	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
)

// BenchmarkRuncBackend is a trivial build through the Backend with a warm
// cache: everything reprove adds (overlay, config, log, output, cleanup).
func BenchmarkRuncBackend(b *testing.B) {
	sandboxtest.Need(b, false)
	layout, digest := sandboxtest.Image(b)
	r := newRunc(b, options())
	s := sandbox.Spec{ImageLayout: layout, ImageDigest: digest,
		RunDir: filepath.Join(b.TempDir(), "run"), Script: "echo hi > /out/x", Output: "/out/x"}
	if _, err := r.Run(context.Background(), s); err != nil { // warm the cache
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Run(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareRunc is `runc run` of the same cached rootfs with a minimal
// config (runc's own `runc spec` defaults, read-only root): the floor.
func BenchmarkBareRunc(b *testing.B) {
	sandboxtest.Need(b, false)
	layout, digest := sandboxtest.Image(b)
	r := newRunc(b, options())
	entry, err := runc.Rootfs(context.Background(), runc.RootfsRequest{Layout: layout, Digest: digest, CacheDir: b.TempDir(), IDs: r.IDs(), Key: testKey})
	if err != nil {
		b.Fatal(err)
	}
	rootfs := entry.Dir
	bundle := b.TempDir()
	if out, err := exec.Command("runc", "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		b.Fatalf("runc spec: %v: %s", err, out)
	}
	var cfg specs.Spec
	data, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err := json.Unmarshal(data, &cfg); err != nil {
		b.Fatal(err)
	}
	cfg.Root = &specs.Root{Path: rootfs, Readonly: true}
	cfg.Process.Terminal = false
	cfg.Process.Args = []string{"/bin/sh", "-c", "echo hi > /dev/null"}
	data, _ = json.Marshal(cfg)
	os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644)
	state := b.TempDir()
	b.ResetTimer()
	for b.Loop() {
		if out, err := exec.Command("runc", "--root", state, "run", "--bundle", bundle, "bench").CombinedOutput(); err != nil {
			b.Fatalf("runc run: %v: %s", err, out)
		}
	}
}
