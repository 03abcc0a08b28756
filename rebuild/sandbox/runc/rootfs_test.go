package runc_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/reprove/reprove/rebuild/image"
	"github.com/reprove/reprove/rebuild/sandbox/runc"
	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
	"github.com/reprove/reprove/rebuild/tree"
)

// The attack: someone who can write the cache makes the cached rootfs's
// /bin/sh print the published bytes, whatever the build script says. A
// reprove that trusted its cache would call a malicious artifact
// reproducible. The next build must notice, set the entry aside where a
// person can look at it, unpack the image again from its verified layers,
// and produce the honest output.
func TestPoisonedRootfsIsQuarantined(t *testing.T) {
	e := newEnv(t)
	if _, err := e.r.Run(context.Background(), e.spec(t, "echo honest > /out/x")); err != nil {
		t.Fatal(err)
	}
	entry := runc.RootfsPath(e.opts.CacheDir, e.base.ImageDigest, e.r.IDs())
	sh := filepath.Join(entry, tree.RootName, "bin", "sh")
	poison := "#!/bin/busybox sh\necho published > /out/x\n"
	if err := os.Remove(sh); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sh, []byte(poison), 0o755); err != nil {
		t.Fatal(err)
	}

	res, err := e.r.Run(context.Background(), e.spec(t, "echo honest > /out/x"))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(res.Output); string(got) != "honest\n" {
		t.Errorf("the build's output is %q; want \"honest\\n\": the poisoned rootfs was used", got)
	}
	if len(res.Quarantined) != 1 || res.Quarantined[0].Entry != entry {
		t.Fatalf("Result.Quarantined = %+v; want the rootfs entry %s", res.Quarantined, entry)
	}
	q := res.Quarantined[0]
	if !strings.HasPrefix(q.MovedTo, runc.QuarantineDir(e.opts.CacheDir)+"/") || !strings.Contains(q.Reason, "does not match its record") {
		t.Errorf("quarantined to %s because %q; want a folder under %s and the mismatch", q.MovedTo, q.Reason, runc.QuarantineDir(e.opts.CacheDir))
	}
	if got, err := os.ReadFile(filepath.Join(q.MovedTo, tree.RootName, "bin", "sh")); err != nil || string(got) != poison {
		t.Errorf("the quarantine holds %q (%v); want the poisoned /bin/sh kept for inspection", got, err)
	}
	if _, err := tree.Verify(context.Background(), entry, testKey); err != nil {
		t.Errorf("the re-derived entry does not verify: %v", err)
	}
	// The next build finds the entry sound and quarantines nothing.
	if res, err := e.r.Run(context.Background(), e.spec(t, "echo honest > /out/x")); err != nil || len(res.Quarantined) != 0 {
		t.Errorf("third run: %v, quarantined %+v; want a clean run", err, res.Quarantined)
	}
}

// A layer with a setuid-root binary, a world-writable file and a sticky
// world-writable folder leaves none of those bits on disk.
func TestRootfsDropsSetuidAndWorldWrite(t *testing.T) {
	sandboxtest.Need(t, false)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "bin/su", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 2},
		{Name: "bin/sg", Typeflag: tar.TypeReg, Mode: 0o2755, Size: 2},
		{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "etc/open", Typeflag: tar.TypeReg, Mode: 0o666, Size: 2},
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("x\n"))
		}
	}
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	layoutDir := t.TempDir()
	digest, err := image.WriteLayout(img, layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := runc.Rootfs(context.Background(), runc.RootfsRequest{Layout: layoutDir, Digest: digest, CacheDir: t.TempDir(), Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{"bin/su": 0o755, "bin/sg": 0o755, "etc/open": 0o664, "tmp": fs.ModeDir | 0o775}
	for rel, mode := range want {
		fi, err := os.Lstat(filepath.Join(got.Dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode() & (fs.ModeDir | fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky); m != mode {
			t.Errorf("%s on disk has mode %v; want %v", rel, m, mode)
		}
	}
	rec, err := tree.ReadRecord(got.Entry)
	if err != nil || rec.Kind != "rootfs" || rec.Key != digest {
		t.Errorf("record %+v, %v; want a rootfs record for %s", rec, err, digest)
	}
}
