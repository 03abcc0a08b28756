package gomod_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/rebuild/fetch"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/fetch/gomod/gomodtest"
)

var (
	utilV100 = gomodtest.Module{Path: "example.com/util", Version: "v1.0.0", Files: map[string]string{
		"go.mod": "module example.com/util\n\ngo 1.21\n", "util.go": "package util\n\nfunc Word() string { return \"old\" }\n"}}
	utilV110 = gomodtest.Module{Path: "example.com/util", Version: "v1.1.0", Files: map[string]string{
		"go.mod": "module example.com/util\n\ngo 1.21\n", "util.go": "package util\n\nfunc Word() string { return \"world\" }\n"}}
	libV100 = gomodtest.Module{Path: "example.com/Lib", Version: "v1.0.0", Files: map[string]string{
		"go.mod": "module example.com/Lib\n\ngo 1.21\n\nrequire example.com/util v1.0.0\n",
		"lib.go": "package lib\n\nimport \"example.com/util\"\n\nfunc Msg() string { return \"hello \" + util.Word() }\n"}}
	appGoMod = "module example.com/app\n\ngo 1.21\n\nrequire (\n\texample.com/Lib v1.0.0\n\texample.com/util v1.1.0\n)\n"
	appMain  = "package main\n\nimport (\n\t\"fmt\"\n\n\tlib \"example.com/Lib\"\n)\n\nfunc main() { fmt.Println(lib.Msg()) }\n"
)

// goSum is the go.sum go would write for the app: util v1.0.0 only by its go.mod.
func goSum(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, m := range []gomodtest.Module{libV100, utilV100, utilV110} {
		s, err := m.GoSum()
		if err != nil {
			t.Fatal(err)
		}
		if m.Version == "v1.0.0" && m.Path == "example.com/util" {
			_, s, _ = strings.Cut(s, "\n")
		}
		b.WriteString(s)
	}
	return b.String()
}

func writeApp(t *testing.T, sum string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"go.mod": appGoMod, "go.sum": sum, "main.go": appMain} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestResolve(t *testing.T) {
	p := gomodtest.NewProxy(t, utilV100, utilV110, libV100)
	src := writeApp(t, goSum(t))
	c := &fetch.Cache{Root: t.TempDir()}
	r := gomod.NewResolver(gomod.WithProxy(p.URL))
	it, err := r.Resolve(context.Background(), c, fetch.DepsRequest{SourceDir: src, Dest: "/deps/gomod"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"example.com/!lib/@v/list 0444",
		"example.com/!lib/@v/v1.0.0.info 0444",
		"example.com/!lib/@v/v1.0.0.mod 0444",
		"example.com/!lib/@v/v1.0.0.zip 0444",
		"example.com/util/@v/list 0444",
		"example.com/util/@v/v1.0.0.info 0444",
		"example.com/util/@v/v1.0.0.mod 0444",
		"example.com/util/@v/v1.1.0.info 0444",
		"example.com/util/@v/v1.1.0.mod 0444",
		"example.com/util/@v/v1.1.0.zip 0444",
	}
	if diff := cmp.Diff(want, listTree(t, it.Path)); diff != "" {
		t.Errorf("resolved tree mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(it.Digest, "sha256:") || it.Dest != "/deps/gomod" {
		t.Errorf("Item = %+v, want the go.sum digest and the dest", it)
	}

	// A second resolve of the same go.sum comes from the cache, with no download.
	before := len(p.Hits())
	if _, err := r.Resolve(context.Background(), c, fetch.DepsRequest{SourceDir: src, Dest: "/deps/gomod"}); err != nil {
		t.Fatal(err)
	}
	if after := len(p.Hits()); after != before {
		t.Errorf("cached resolve made %d requests, want 0", after-before)
	}

}

// goBuild builds the app in src (made read-only) offline, with the
// environment BuildEnv gives, and runs it.
func goBuild(t *testing.T, src, tree string) (string, error) {
	t.Helper()
	if err := os.Chmod(src, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(src, 0o755) })
	bin := filepath.Join(t.TempDir(), "app")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off", "GOMODCACHE="+t.TempDir(), "GOENV=off")
	for k, v := range gomod.BuildEnv(tree) {
		if k == "GOFLAGS" {
			v += " -modcacherw" // lets t.TempDir remove the module cache
		}
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), err
	}
	run, err := exec.Command(bin).Output()
	if err != nil {
		return string(run), err
	}
	if string(run) != "hello world\n" {
		t.Errorf("built app printed %q, want %q", run, "hello world\n")
	}
	return string(out), nil
}

func TestResolveRefusesTamperedProxy(t *testing.T) {
	evil := libV100
	evil.Files = map[string]string{"go.mod": libV100.Files["go.mod"], "lib.go": "package lib\n\nfunc Msg() string { return \"pwned\" }\n"}
	p := gomodtest.NewProxy(t, utilV100, utilV110, evil)
	src := writeApp(t, goSum(t))
	c := &fetch.Cache{Root: t.TempDir()}
	_, err := gomod.NewResolver(gomod.WithProxy(p.URL)).Resolve(context.Background(), c, fetch.DepsRequest{SourceDir: src})
	if !errors.Is(err, fetch.ErrDigestMismatch) || !strings.Contains(err.Error(), "example.com/Lib@v1.0.0") {
		t.Fatalf("Resolve with a tampered zip: error = %v, want a digest mismatch naming example.com/Lib@v1.0.0", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(c.Root, "trees", "gomod-deps")); len(entries) != 0 {
		t.Errorf("a failed resolve left %d trees in the cache", len(entries))
	}
}

// The build environment still makes go check go.sum: a tree whose zip was
// swapped after resolving, or a go.sum that misses a module, fails the build.
func TestBuildEnvKeepsGoSumChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	p := gomodtest.NewProxy(t, utilV100, utilV110, libV100)
	c := &fetch.Cache{Root: t.TempDir()}
	r := gomod.NewResolver(gomod.WithProxy(p.URL))

	t.Run("good tree builds", func(t *testing.T) {
		src := writeApp(t, goSum(t))
		it, err := r.Resolve(context.Background(), c, fetch.DepsRequest{SourceDir: src})
		if err != nil {
			t.Fatal(err)
		}
		if out, err := goBuild(t, src, it.Path); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	})
	t.Run("swapped zip is refused by go", func(t *testing.T) {
		src := writeApp(t, goSum(t))
		it, err := r.Resolve(context.Background(), c, fetch.DepsRequest{SourceDir: src})
		if err != nil {
			t.Fatal(err)
		}
		tree := t.TempDir()
		if err := os.CopyFS(tree, os.DirFS(it.Path)); err != nil {
			t.Fatal(err)
		}
		evil := libV100
		evil.Files = map[string]string{"go.mod": libV100.Files["go.mod"], "lib.go": "package lib\n\nfunc Msg() string { return \"pwned\" }\n"}
		z, _ := evil.Zip()
		zp := filepath.Join(tree, "example.com/!lib/@v/v1.0.0.zip")
		os.Chmod(zp, 0o644)
		if err := os.WriteFile(zp, z, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := goBuild(t, src, tree)
		if err == nil || !strings.Contains(out, "checksum mismatch") {
			t.Fatalf("go build with a swapped zip: err %v, output:\n%s\nwant a checksum mismatch", err, out)
		}
	})
	t.Run("module missing from go.sum is not fetched", func(t *testing.T) {
		var kept []string
		for _, l := range strings.SplitAfter(goSum(t), "\n") {
			if !strings.HasPrefix(l, "example.com/util v1.1.0") {
				kept = append(kept, l)
			}
		}
		src := writeApp(t, strings.Join(kept, ""))
		it, err := r.Resolve(context.Background(), c, fetch.DepsRequest{SourceDir: src})
		if err != nil {
			t.Fatal(err)
		}
		out, err := goBuild(t, src, it.Path)
		if err == nil || !strings.Contains(out, "util@v1.1.0") {
			t.Fatalf("go build with util v1.1.0 missing from go.sum succeeded, want a failure:\n%s", out)
		}
	})
}

// A module set in the cache is checked against its record before use: a
// module zip swapped for another (a poisoned dependency a build would
// compile in) is quarantined and the set resolved again from the proxy,
// checked against go.sum.
func TestResolvePoisonedModuleSet(t *testing.T) {
	p := gomodtest.NewProxy(t, utilV100, utilV110, libV100)
	src := writeApp(t, goSum(t))
	c := &fetch.Cache{Root: t.TempDir()}
	r := gomod.NewResolver(gomod.WithProxy(p.URL))
	req := fetch.DepsRequest{SourceDir: src, Dest: "/deps/gomod"}
	it, err := r.Resolve(context.Background(), c, req)
	if err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(it.Path, "example.com/util/@v/v1.1.0.zip")
	honest, err := os.ReadFile(zip)
	if err != nil {
		t.Fatal(err)
	}
	evil, err := os.ReadFile(filepath.Join(it.Path, "example.com/util/@v/v1.0.0.mod"))
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(zip, 0o644)
	if err := os.WriteFile(zip, evil, 0o644); err != nil {
		t.Fatal(err)
	}
	it2, err := r.Resolve(context.Background(), c, req)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(it2.Path, "example.com/util/@v/v1.1.0.zip")); string(got) != string(honest) {
		t.Errorf("the poisoned module zip was used")
	}
	if len(it2.Quarantined) != 1 || !strings.HasPrefix(it2.Quarantined[0], c.QuarantineDir()) {
		t.Errorf("Quarantined = %v, want the poisoned set under %s", it2.Quarantined, c.QuarantineDir())
	}
	if it2.TreeDigest != it.TreeDigest {
		t.Errorf("re-resolved set has digest %s, want %s", it2.TreeDigest, it.TreeDigest)
	}
	// Offline, a poisoned set is an error naming it, never used.
	os.Chmod(filepath.Join(it2.Path, "example.com/util/@v/v1.1.0.zip"), 0o644)
	os.WriteFile(filepath.Join(it2.Path, "example.com/util/@v/v1.1.0.zip"), evil, 0o644)
	req.Offline = true
	if _, err := r.Resolve(context.Background(), c, req); !errors.Is(err, fetch.ErrOffline) || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("offline Resolve of a poisoned set: %v, want ErrOffline naming the damaged copy", err)
	}
}
