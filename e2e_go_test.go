package main

// End-to-end tests of Go binaries verified from their build info alone
// (issue 5): the reprove binary is run on Go programs built here from real
// git repositories, with an in-process module proxy serving their
// dependency and a golang.org/toolchain zip made from the local GOROOT, and
// the rebuilds run in real runc containers with no network. With
// REPROVE_E2E=1 a binary of a published Go release is verified through the
// module proxy the machine is configured with.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/rebuild/adapter/golang/golangtest"
	"github.com/reprove/reprove/rebuild/fetch/gomod/gomodtest"
	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
	"github.com/reprove/reprove/report"
)

// Shared by every Go end-to-end test: building the git image and zipping
// the toolchain take long, and the reprove cache keeps the unpacked
// toolchain (hundreds of MB) and the image's rootfs once for all of them.
var (
	toolchainOnce sync.Once
	toolchainZip  string
	toolchainVer  string
	toolchainErr  error

	goCacheOnce sync.Once
	goCacheDir  string
	goCacheErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if goCacheDir != "" {
		os.RemoveAll(goCacheDir)
	}
	os.Exit(code)
}

// gitImage is the built-in git image (Go's vcs stamping runs git), as
// oci-layout:DIR@DIGEST.
func gitImage(t *testing.T) string {
	t.Helper()
	l, d := testImage(t, "git")
	return "oci-layout:" + l + "@" + d
}

// localToolchain zips the local GOROOT as golang.org/toolchain once.
func localToolchain(t *testing.T) (zipPath, version string) {
	t.Helper()
	toolchainOnce.Do(func() {
		toolchainZip, toolchainVer, toolchainErr = gomodtest.ToolchainZip(runtime.GOROOT())
	})
	if toolchainErr != nil {
		t.Fatalf("zipping the local toolchain: %v", toolchainErr)
	}
	return toolchainZip, toolchainVer
}

// sharedCache is the reprove cache every Go end-to-end test uses.
func sharedCache(t *testing.T) string {
	t.Helper()
	goCacheOnce.Do(func() { goCacheDir, goCacheErr = os.MkdirTemp("", "reprove-e2e-go-cache-") })
	if goCacheErr != nil {
		t.Fatal(goCacheErr)
	}
	return goCacheDir
}

// reproveEnv runs the reprove binary with extra environment variables.
func reproveEnv(t *testing.T, cacheDir string, env []string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(reproveBin(t), args...)
	cmd.Env = append(append(os.Environ(), "REPROVE_CACHE_DIR="+cacheDir, "NO_COLOR=1"), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := runResult{stdout: so.String(), stderr: se.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running reprove: %v", err)
	}
	return r
}

// greetModule is the one dependency of the test programs.
var greetModule = gomodtest.Module{Path: "example.com/greet", Version: "v1.0.0", Files: map[string]string{
	"go.mod":   "module example.com/greet\n\ngo 1.22\n",
	"greet.go": "package greet\n\n// Hello is what the program prints.\nconst Hello = \"hello from greet\"\n",
}}

// goProxy serves greetModule and the local toolchain zip on a loopback
// HTTP server, the GOPROXY for the host builds and for reprove.
func goProxy(t *testing.T, extra ...gomodtest.Module) *gomodtest.Proxy {
	t.Helper()
	zip, ver := localToolchain(t)
	p := gomodtest.NewProxy(t, append([]gomodtest.Module{greetModule}, extra...)...)
	if err := gomodtest.AddZip(p.Dir, "golang.org/toolchain", ver, zip); err != nil {
		t.Fatal(err)
	}
	return p
}

// helloFiles is a module at a GitHub path (so no ?go-get=1 discovery is
// needed to name its repository) with a command in cmd/hello using greet.
func helloFiles(t *testing.T, modPath string) map[string]string {
	t.Helper()
	sum, err := greetModule.GoSum()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"go.mod": "module " + modPath + "\n\ngo 1.22\n\nrequire example.com/greet v1.0.0\n",
		"go.sum": sum,
		"cmd/hello/main.go": `package main

import "example.com/greet"

var version = "dev"

func main() { println(greet.Hello, version) }
`,
	}
}

// gitRepo commits files into a new repository and returns its folder and
// commit id.
func gitRepo(t *testing.T, files map[string]string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
			"GIT_AUTHOR_DATE=2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-qm", "hello")
	return dir, git("rev-parse", "HEAD")
}

// hostGo runs the local go in dir the way a release build would: modules
// from proxy, no cgo, the local toolchain only, and vcs stamping on
// (overriding the GOFLAGS=-buildvcs=false of this machine).
func hostGo(t *testing.T, dir string, proxy *gomodtest.Proxy, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true -modcacherw", "GOPROXY="+proxy.URL, "GOSUMDB=off", "GONOSUMDB=", "GOPRIVATE=",
		"GOTOOLCHAIN=local", "GOWORK=off", "CGO_ENABLED=0", "GOMODCACHE="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
}

// buildHello builds cmd/hello of repo with the go build flags given.
func buildHello(t *testing.T, repo string, proxy *gomodtest.Proxy, flags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hello")
	hostGo(t, repo, proxy, nil, append(append([]string{"build"}, flags...), "-o", out, "./cmd/hello")...)
	return out
}

func causeIDs(res *report.Result) []string {
	var ids []string
	if res.Diff != nil {
		for _, c := range res.Diff.Causes {
			ids = append(ids, string(c.ID))
		}
	}
	return ids
}

const helloModule = "github.com/reprove-e2e/hello"

// TestVerifyGoBinaryFromBuildInfo verifies Go binaries with no manifest:
// everything the rebuild needs comes from the binary's build info, the
// link flags that -trimpath leaves out of it from the binary itself.
func TestVerifyGoBinaryFromBuildInfo(t *testing.T) {
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	proxy := goProxy(t)
	repo, rev := gitRepo(t, helloFiles(t, helloModule))

	tests := []struct {
		name        string
		flags       []string
		wantTried   []string
		wantMatched string
	}{
		{name: "trimpath", flags: []string{"-trimpath"},
			wantTried: []string{"ldflags=none"}, wantMatched: "ldflags=none"},
		{name: "stripped", flags: []string{"-trimpath", "-ldflags=-s -w"},
			wantTried: []string{"ldflags=-s -w"}, wantMatched: "ldflags=-s -w"},
		// The commit id stamped as main.version is found in the stripped
		// binary's bytes outside its build info.
		{name: "stripped and stamped", flags: []string{"-trimpath", "-ldflags=-s -w -X main.version=" + rev[:12]},
			wantTried:   []string{"ldflags=-s -w -X main.version=" + rev[:12]},
			wantMatched: "ldflags=-s -w -X main.version=" + rev[:12]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := buildHello(t, repo, proxy, tt.flags...)
			js := filepath.Join(t.TempDir(), "result.json")
			r := reproveEnv(t, cache, []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js,
				"--replace-source", "git+https://"+helloModule+"=git+file://"+repo,
				"--builder-image", image, bin)
			if r.code != 0 {
				t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			res := readResult(t, js)
			if res.Verdict != report.Reproducible {
				t.Fatalf("verdict: want %s, got %s", report.Reproducible, res.Verdict)
			}
			if res.Adapter == nil {
				t.Fatalf("result names no adapter")
			}
			got := struct {
				Adapter, Matched string
				Tried            []string
			}{res.Adapter.Name, res.Adapter.Matched, res.Adapter.Tried}
			want := struct {
				Adapter, Matched string
				Tried            []string
			}{"go", tt.wantMatched, tt.wantTried}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("adapter mismatch (-want +got):\n%s\nnotes: %q", diff, res.Adapter.Notes)
			}
			// Progress names each candidate as it is tried: "candidate 2/3: ldflags=…".
			for i, c := range res.Adapter.Tried {
				if want := fmt.Sprintf("infer    candidate %d/", i+1); !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, c) {
					t.Errorf("stderr does not show candidate %d (%s):\n%s", i+1, c, r.stderr)
				}
			}
			var git *report.Input
			for i := range res.Inputs {
				if res.Inputs[i].Rev != "" {
					git = &res.Inputs[i]
				}
			}
			if git == nil || git.Rev != rev {
				t.Errorf("inputs: want the git source at %s, got %+v", rev, res.Inputs)
			}
		})
	}
}

// gitIn runs git in repo with fixed identity and dates.
func gitIn(t *testing.T, repo string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
		"GIT_AUTHOR_DATE=2024-02-03T04:05:06Z", "GIT_COMMITTER_DATE=2024-02-03T04:05:06Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestVerifyGoBinaryVersionFromTags: Go 1.24 and later stamp the main
// module's version from the repository's tags (a release tag on the commit,
// or a pseudo-version built on the nearest tag). The rebuild must see the
// tags the original build saw, and not those pushed later.
func TestVerifyGoBinaryVersionFromTags(t *testing.T) {
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	proxy := goProxy(t)

	tests := []struct {
		name string
		// prepare tags and commits before the build; after changes the
		// upstream repository after it.
		prepare, after func(t *testing.T, repo, first string)
		wantPrefix     string // of the recorded main module version
	}{
		{name: "release tag on the commit",
			prepare:    func(t *testing.T, repo, first string) { gitIn(t, repo, "tag", "v1.4.0") },
			wantPrefix: "v1.4.0"},
		{name: "pseudo-version after a tag; commit tagged later",
			prepare: func(t *testing.T, repo, first string) {
				gitIn(t, repo, "tag", "v1.4.0")
				if err := os.WriteFile(filepath.Join(repo, "NEWS"), []byte("next\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				gitIn(t, repo, "add", "NEWS")
				gitIn(t, repo, "commit", "-qm", "next")
			},
			after:      func(t *testing.T, repo, first string) { gitIn(t, repo, "tag", "v1.5.0") },
			wantPrefix: "v1.4.1-0.20240203040506-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, first := gitRepo(t, helloFiles(t, helloModule))
			tt.prepare(t, repo, first)
			bin := buildHello(t, repo, proxy, "-trimpath")
			if tt.after != nil {
				tt.after(t, repo, first)
			}
			js := filepath.Join(t.TempDir(), "result.json")
			r := reproveEnv(t, cache, []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js,
				"--replace-source", "git+https://"+helloModule+"=git+file://"+repo,
				"--builder-image", image, bin)
			if r.code != 0 {
				t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			res := readResult(t, js)
			if !strings.HasPrefix(res.Name, "hello-"+tt.wantPrefix) {
				t.Errorf("name %q: want the recorded version %s…", res.Name, tt.wantPrefix)
			}
		})
	}
}

// TestInitThenVerifyGoBinary: reprove init writes the inferred manifest and
// reprove verify of that manifest passes.
func TestInitThenVerifyGoBinary(t *testing.T) {
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	proxy := goProxy(t)
	repo, rev := gitRepo(t, helloFiles(t, helloModule))
	bin := buildHello(t, repo, proxy, "-trimpath", "-ldflags=-w")
	replace := "git+https://" + helloModule + "=git+file://" + repo
	env := []string{"GOPROXY=" + proxy.URL}

	m := filepath.Join(t.TempDir(), "m.yaml")
	r := reproveEnv(t, cache, env, "init", "--replace-source", replace, "--builder-image", image, "-o", m, bin)
	if r.code != 0 {
		t.Fatalf("init: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	body, err := os.ReadFile(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"uri: git+https://" + helloModule, // the declared source, not the local stand-in
		"rev: " + rev,
		"gomod:golang.org/toolchain@" + toolchainVer,
		"kind: gomod",
		"-ldflags=-w",
		"vcs.revision " + rev,
	} {
		if !bytes.Contains(body, []byte(w)) {
			t.Errorf("manifest lacks %q:\n%s", w, body)
		}
	}
	if bytes.Contains(body, []byte(repo)) {
		t.Errorf("manifest names the local clone %s; --replace-source must only apply when fetching:\n%s", repo, body)
	}

	// The manifest names the binary and the builder image where they are,
	// outside its own folder: verify reads them only when allowed to.
	imageDir := strings.TrimPrefix(image[:strings.LastIndex(image, "@")], "oci-layout:")
	if r := reproveEnv(t, cache, env, "verify", "--replace-source", replace, m); r.code != 2 || !strings.Contains(r.stderr, "--allow-path") {
		t.Fatalf("verify m.yaml without --allow-path: want exit 2 naming --allow-path, got %d\n%s", r.code, r.stderr)
	}
	r = reproveEnv(t, cache, env, "verify", "--replace-source", replace, "--allow-path", filepath.Dir(bin), "--allow-path", imageDir, m)
	if r.code != 0 {
		t.Fatalf("verify m.yaml: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "reproducible") {
		t.Errorf("stdout lacks the verdict:\n%s", r.stdout)
	}
}

// TestVerifyGoBinaryNotReproducible: a binary built from a checkout with an
// uncommitted edit cannot be rebuilt from its commit; the diff says which
// Go build setting shows it.
func TestVerifyGoBinaryNotReproducible(t *testing.T) {
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	proxy := goProxy(t)
	repo, _ := gitRepo(t, helloFiles(t, helloModule))
	main := filepath.Join(repo, "cmd", "hello", "main.go")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(main, bytes.Replace(src, []byte(`"dev"`), []byte(`"edited"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := buildHello(t, repo, proxy, "-trimpath")

	js := filepath.Join(t.TempDir(), "result.json")
	r := reproveEnv(t, cache, []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js,
		"--replace-source", "git+https://"+helloModule+"=git+file://"+repo,
		"--builder-image", image, bin)
	if r.code != 1 {
		t.Fatalf("exit code: want 1, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	res := readResult(t, js)
	if res.Verdict != report.NotReproducible {
		t.Fatalf("verdict: want %s, got %s", report.NotReproducible, res.Verdict)
	}
	ids := causeIDs(res)
	for _, w := range []string{"go-vcs-modified", "build-id"} {
		if !contains(ids, w) {
			t.Errorf("causes: want %q among %v", w, ids)
		}
	}
	if len(ids) > 0 && ids[0] == "build-id" {
		t.Errorf("causes %v: the build ID follows from the other differences and must not rank first", ids)
	}
	if res.Adapter == nil || res.Adapter.Matched != "" || !cmp.Equal(res.Adapter.Tried, []string{"ldflags=none"}) {
		t.Errorf("adapter: want ldflags=none tried and nothing matched, got %+v", res.Adapter)
	}
	if !strings.Contains(strings.Join(res.Adapter.Notes, "\n"), "vcs.modified=true") {
		t.Errorf("adapter notes do not explain vcs.modified=true: %q", res.Adapter.Notes)
	}
	for _, w := range []string{"vcs.modified=true", "vcs.modified=false"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("text report lacks the differing build setting %q:\n%s", w, r.stdout)
		}
	}
}

// TestVerifyGoInstalledModuleVersion: a binary made by go install
// MODULE@VERSION records a real module version and no vcs information;
// its source is the module zip from the proxy, pinned by the h1: sum the
// binary records.
func TestVerifyGoInstalledModuleVersion(t *testing.T) {
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	sum, err := greetModule.GoSum()
	if err != nil {
		t.Fatal(err)
	}
	tool := gomodtest.Module{Path: "example.com/tool", Version: "v1.0.0", Files: map[string]string{
		"go.mod":  "module example.com/tool\n\ngo 1.22\n\nrequire example.com/greet v1.0.0\n",
		"go.sum":  sum,
		"main.go": "package main\n\nimport \"example.com/greet\"\n\nfunc main() { println(greet.Hello, \"tool\") }\n",
	}}
	proxy := goProxy(t, tool)
	gobin := t.TempDir()
	hostGo(t, t.TempDir(), proxy, []string{"GOBIN=" + gobin, "GOFLAGS=-trimpath -modcacherw"}, "install", "example.com/tool@v1.0.0")
	bin := filepath.Join(gobin, "tool")

	js := filepath.Join(t.TempDir(), "result.json")
	r := reproveEnv(t, cache, []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js, "--builder-image", image, bin)
	if r.code != 0 {
		t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	res := readResult(t, js)
	var uris []string
	for _, in := range res.Inputs {
		uris = append(uris, in.URI)
	}
	if !strings.Contains(strings.Join(uris, " "), "gomod:example.com/tool@v1.0.0") {
		t.Errorf("inputs: want the module zip gomod:example.com/tool@v1.0.0, got %q", uris)
	}
}

// TestVerifyGoToolchainProgram verifies gofmt of the local Go distribution,
// named inside its toolchain module zip: the artifact and the source are
// the same zip, served by the in-process proxy.
func TestVerifyGoToolchainProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles cmd/gofmt in a container")
	}
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	proxy := goProxy(t)
	_, ver := localToolchain(t)
	js := filepath.Join(t.TempDir(), "result.json")
	r := reproveEnv(t, cache, []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js, "--builder-image", image,
		"gomod:golang.org/toolchain@"+ver+"#bin/gofmt")
	if r.code != 0 {
		t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if res := readResult(t, js); res.Verdict != report.Reproducible {
		t.Errorf("verdict: want %s, got %s", report.Reproducible, res.Verdict)
	}
}

// TestE2EVerifyGofmtRelease verifies gofmt of a published Go release,
// which cmd/dist built, through the module proxy this machine uses.
func TestE2EVerifyGofmtRelease(t *testing.T) {
	if os.Getenv("REPROVE_E2E") != "1" {
		t.Skip("needs the Go module proxy: set REPROVE_E2E=1")
	}
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	js := filepath.Join(t.TempDir(), "result.json")
	r := reproveEnv(t, cache, nil, "verify", "--json", js, "--builder-image", image,
		"gomod:golang.org/toolchain@v0.0.1-go1.23.1.linux-amd64#bin/gofmt")
	if r.code != 0 {
		t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	res := readResult(t, js)
	if res.Verdict != report.Reproducible || res.Adapter == nil || res.Adapter.Matched == "" {
		t.Errorf("want reproducible with a matched candidate, got %s, adapter %+v", res.Verdict, res.Adapter)
	}
}

// TestE2EVerifyGoInstalledFromProxy verifies a program installed with go
// install MODULE@VERSION from the module proxy this machine uses: the
// module zip, its dependencies and the toolchain all come from there.
func TestE2EVerifyGoInstalledFromProxy(t *testing.T) {
	if os.Getenv("REPROVE_E2E") != "1" {
		t.Skip("needs the Go module proxy: set REPROVE_E2E=1")
	}
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	const pkg = "golang.org/x/example/hello@v0.0.0-20250915201037-7f05d217867b"
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", pkg)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-trimpath -modcacherw", "GOMODCACHE="+t.TempDir(),
		"CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", pkg, err, out)
	}
	js := filepath.Join(t.TempDir(), "result.json")
	r := reproveEnv(t, cache, nil, "verify", "--json", js, "--builder-image", image, filepath.Join(gobin, "hello"))
	if r.code != 0 {
		t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	res := readResult(t, js)
	var uris []string
	for _, in := range res.Inputs {
		uris = append(uris, in.URI)
	}
	if !strings.Contains(strings.Join(uris, " "), "gomod:golang.org/x/example/hello@v0.0.0-20250915201037-7f05d217867b") {
		t.Errorf("inputs: want the module zip of %s, got %q", pkg, uris)
	}
}

// TestVerifyGoExperimentVersion: a binary whose Go version carries
// experiments (go1.26.8-X:nodwarf5) is rebuilt with that release's
// toolchain and GOEXPERIMENT, and reproduces.
func TestVerifyGoExperimentVersion(t *testing.T) {
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	proxy := goProxy(t)
	repo, _ := gitRepo(t, helloFiles(t, helloModule))
	out := filepath.Join(t.TempDir(), "hello")
	hostGo(t, repo, proxy, []string{"GOEXPERIMENT=nodwarf5"}, "build", "-trimpath", "-o", out, "./cmd/hello")
	js := filepath.Join(t.TempDir(), "result.json")
	r := reproveEnv(t, cache, []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js,
		"--replace-source", "git+https://"+helloModule+"=git+file://"+repo, "--builder-image", image, out)
	if r.code != 0 {
		t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	res := readResult(t, js)
	release := strings.TrimSuffix(strings.TrimPrefix(toolchainVer, "v0.0.1-"), ".linux-amd64")
	if !strings.Contains(strings.Join(res.Adapter.Notes, "\n"), "Go version "+release+"-X:nodwarf5: release "+release+" with GOEXPERIMENT=nodwarf5") {
		t.Errorf("notes do not explain the experiments suffix: %q", res.Adapter.Notes)
	}
}

// TestVerifyGoGOPATHMode: a binary built in GOPATH mode (no main module,
// as distributions build) is named as such, with exit 2, before anything
// is fetched or built.
func TestVerifyGoGOPATHMode(t *testing.T) {
	gopath := t.TempDir()
	src := filepath.Join(gopath, "src", "example.org", "tool")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "tool")
	cmd := exec.Command("go", "build", "-o", bin, "example.org/tool")
	cmd.Env = append(os.Environ(), "GO111MODULE=off", "GOPATH="+gopath, "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in GOPATH mode: %v\n%s", err, b)
	}
	r := reproveEnv(t, t.TempDir(), []string{"GOPROXY=off"}, "verify", "--builder-image", "oci-layout:x@sha256:"+strings.Repeat("0", 64), bin)
	if r.code != 2 || !strings.Contains(r.stderr, "built in GOPATH mode (package example.org/tool, no main module): its dependencies are not recorded; this looks like a distribution build") {
		t.Fatalf("want exit 2 naming GOPATH mode, got %d\nstderr:\n%s", r.code, r.stderr)
	}
}

// releaseVerify runs reprove verify with no manifest on a binary of repo
// (standing in for github.com/reprove-e2e/hello) and returns the result.
func releaseVerify(t *testing.T, repo, bin string, proxy *gomodtest.Proxy) (runResult, *report.Result) {
	t.Helper()
	js := filepath.Join(t.TempDir(), "result.json")
	r := reproveEnv(t, sharedCache(t), []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js,
		"--replace-source", "git+https://"+helloModule+"=git+file://"+repo, "--builder-image", gitImage(t), bin)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r, readResult(t, js)
}

// TestVerifyGoreleaserRelease: a Go CLI released with goreleaser — its
// .goreleaser.yaml stamps -X into internal/version, the binary is stripped —
// is verified reproducible with no manifest: the link flags come from the
// configuration at the pinned commit, rendered from what the binary
// records. Without the configuration, a search of the source for
// stamp-named variables finds them.
func TestVerifyGoreleaserRelease(t *testing.T) {
	sandboxtest.Need(t, true)
	proxy := goProxy(t)
	tests := []struct {
		name     string
		config   bool
		wantFrom string
	}{
		{name: "goreleaser configuration", config: true, wantFrom: ".goreleaser.yaml builds[0] (id hello)"},
		{name: "found by the source search", wantFrom: "source search: " + helloModule + "/internal/version.Version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"internal/version/version.go": golangtest.VersionPackage,
				"cmd/hello/main.go": golangtest.MainWithVersionPackage(helloModule)}
			if tt.config {
				files[".goreleaser.yaml"] = golangtest.NonMainConfig(helloModule)
			}
			rel := golangtest.Release{Module: helloModule, Files: files, Tag: "v1.2.3", Date: "2024-03-04T05:06:07Z"}
			repo, rev := rel.Repo(t)
			ld := rel.Ldflags(rev, golangtest.NonMainLdflags(helloModule)...)
			bin := golangtest.Build(t, repo, "cmd/hello", ld, []string{"-trimpath"})
			r, res := releaseVerify(t, repo, bin, proxy)
			if r.code != 0 || res.Verdict != report.Reproducible {
				t.Fatalf("want reproducible (exit 0), got %s (exit %d)\nstdout:\n%s\nstderr:\n%s", res.Verdict, r.code, r.stdout, r.stderr)
			}
			a := res.Adapter
			if len(a.Candidates) != 1 || !strings.HasPrefix(a.Candidates[0].From, tt.wantFrom) || a.Matched != a.Candidates[0].Name {
				t.Fatalf("want the first candidate (from %s) to match, got %+v", tt.wantFrom, a.Candidates)
			}
			if tt.config && a.Matched != "ldflags="+ld {
				t.Errorf("matched %q, want ldflags=%s", a.Matched, ld)
			}
			if !strings.Contains(r.stdout, "from "+tt.wantFrom) {
				t.Errorf("the text report does not say where the candidate came from:\n%s", r.stdout)
			}
		})
	}
}

// TestVerifyGoCandidatesShareBuildCache: the candidates of one verify share
// a Go build cache. The release's configuration takes a value from the
// release machine's environment ({{.Env.GIT_COMMIT}}), which the binary does
// not record: that flag is left out of the first candidate, which fails;
// the source search supplies it in the second, which reproduces, compiling
// nothing of the standard library again.
func TestVerifyGoCandidatesShareBuildCache(t *testing.T) {
	sandboxtest.Need(t, true)
	proxy := goProxy(t)
	config := "version: 2\nbuilds:\n  - main: ./cmd/hello\n    flags: [-trimpath]\n    ldflags:\n      - -s -w -X main.version={{.Version}} -X main.commit={{ .Env.GIT_COMMIT }}\n"
	rel := golangtest.Release{Module: helloModule, Tag: "v1.2.3",
		Files: map[string]string{".goreleaser.yaml": config, "cmd/hello/main.go": golangtest.MainWithDefaultVars}}
	repo, rev := rel.Repo(t)
	bin := golangtest.Build(t, repo, "cmd/hello", "-s -w -X main.version=1.2.3 -X main.commit="+rev, []string{"-trimpath"})
	r, res := releaseVerify(t, repo, bin, proxy)
	if r.code != 0 {
		t.Fatalf("want reproducible, got exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	a := res.Adapter
	if len(a.Candidates) != 2 || a.Candidates[0].Verdict != report.NotReproducible || a.Candidates[1].Verdict != report.Reproducible ||
		!strings.HasPrefix(a.Candidates[1].From, "source search") {
		t.Fatalf("want the configuration's candidate not reproducible, then the source search's reproducible; got %+v", a.Candidates)
	}
	if !strings.Contains(strings.Join(a.Notes, "\n"), "-X main.commit left out: its value holds Env.GIT_COMMIT, which the binary does not record") {
		t.Errorf("notes do not name the unknown {{.Env.GIT_COMMIT}}: %q", a.Notes)
	}
	compiled := func(log string) []string {
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		var pkgs []string
		for _, l := range strings.Split(string(b), "\n") {
			if l == "runtime" || l == "internal/abi" {
				pkgs = append(pkgs, l)
			}
		}
		return pkgs
	}
	if got := compiled(a.Candidates[0].BuildLog); len(got) != 2 {
		t.Errorf("the first candidate's build (go build -v) did not compile the runtime: %v", got)
	}
	if got := compiled(a.Candidates[1].BuildLog); len(got) != 0 {
		t.Errorf("the second candidate compiled %v again: the build cache was not shared", got)
	}
}

// shoutModule is a dependency with code: its files' names (in the module
// cache) are in the binary's line table.
var shoutModule = gomodtest.Module{Path: "example.com/shout", Version: "v1.0.0", Files: map[string]string{
	"go.mod":   "module example.com/shout\n\ngo 1.22\n",
	"shout.go": "package shout\n\nimport \"strings\"\n\n// Shout upper-cases s.\n//\n//go:noinline\nfunc Shout(s string) string { return strings.ToUpper(s) + \"!\" }\n",
}}

// cgoFiles is a cgo program using the greet and shout modules (serve
// shoutModule from the proxy).
func cgoFiles(t *testing.T) map[string]string {
	files := helloFiles(t, helloModule)
	sum, err := shoutModule.GoSum()
	if err != nil {
		t.Fatal(err)
	}
	files["go.sum"] += sum
	files["go.mod"] = "module " + helloModule + "\n\ngo 1.22\n\nrequire (\n\texample.com/greet v1.0.0\n\texample.com/shout v1.0.0\n)\n"
	files["cmd/hello/main.go"] = `package main

/*
static int answer(void) { return 42; }
*/
import "C"

import (
	"example.com/greet"
	"example.com/shout"
)

func main() { println(shout.Shout(greet.Hello), int(C.answer())) }
`
	return files
}

// TestVerifyGoCgoBinary: a binary built with CGO_ENABLED=1 is verified
// reproducible in a builder image with a C toolchain (the go-cgo recipe);
// built without -trimpath, it is rebuilt where the binary says it was
// built (GOROOT, module folder and module cache read off its file names).
func TestVerifyGoCgoBinary(t *testing.T) {
	sandboxtest.Need(t, true)
	l, d := testImage(t, "go-cgo")
	image := "oci-layout:" + l + "@" + d
	proxy := goProxy(t, shoutModule)
	tests := []struct {
		name      string
		flags     []string
		wantNotes []string
	}{
		{name: "trimpath", flags: []string{"-trimpath", "-ldflags=-s -w"},
			wantNotes: []string{"CGO_ENABLED=1: C compiler gcc", "the binary's .comment names the C toolchain that built it: \"GCC: (Debian 12.2.0-14"}},
		{name: "at the build path", flags: nil,
			wantNotes: []string{"built without -trimpath in GOROOT " + runtime.GOROOT(), "built without -trimpath with GOMODCACHE /tmp/", "(from the binary's file names): the source is placed there"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, _ := gitRepo(t, cgoFiles(t))
			out := filepath.Join(t.TempDir(), "hello")
			hostGo(t, repo, proxy, []string{"CGO_ENABLED=1", "CC="}, append(append([]string{"build"}, tt.flags...), "-o", out, "./cmd/hello")...)
			js := filepath.Join(t.TempDir(), "result.json")
			r := reproveEnv(t, sharedCache(t), []string{"GOPROXY=" + proxy.URL}, "verify", "--json", js,
				"--replace-source", "git+https://"+helloModule+"=git+file://"+repo, "--builder-image", image, out)
			if r.code != 0 {
				t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			notes := strings.Join(readResult(t, js).Adapter.Notes, "\n")
			for _, w := range tt.wantNotes {
				if !strings.Contains(notes, w) {
					t.Errorf("notes lack %q:\n%s", w, notes)
				}
			}
		})
	}
}

// TestVerifyGoCgoNeedsCToolchain: a cgo binary and a builder image with no C
// compiler: refused before anything is built (exit 2), naming the missing
// compiler and the recipe of an image that has one.
func TestVerifyGoCgoNeedsCToolchain(t *testing.T) {
	sandboxtest.Need(t, true)
	proxy := goProxy(t, shoutModule)
	repo, _ := gitRepo(t, cgoFiles(t))
	out := filepath.Join(t.TempDir(), "hello")
	hostGo(t, repo, proxy, []string{"CGO_ENABLED=1", "CC="}, "build", "-trimpath", "-o", out, "./cmd/hello")
	r := reproveEnv(t, sharedCache(t), []string{"GOPROXY=" + proxy.URL}, "verify",
		"--replace-source", "git+https://"+helloModule+"=git+file://"+repo, "--builder-image", gitImage(t), out)
	want := "CGO_ENABLED=1: the rebuild runs the C compiler gcc, which builder image " + gitImage(t) + " does not have; build an image with gcc and libc6-dev with the go-cgo recipe"
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("want exit 2 saying %q, got %d\nstderr:\n%s", want, r.code, r.stderr)
	}
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "build ") {
			t.Errorf("something was built: %s", l)
		}
	}
}

// TestE2EToolchainDistribution rebuilds a whole Go release the gorebuild
// way, through the module proxy this machine uses: bootstrapped with the
// release src/make.bash names, make.bash -distpack in the sandbox, the
// module zip compared with the published one. It takes tens of minutes, so
// it runs only with REPROVE_E2E_TOOLCHAIN=1 besides REPROVE_E2E=1
// (scripts/test.sh runs it once, on its own, in CI).
func TestE2EToolchainDistribution(t *testing.T) {
	if os.Getenv("REPROVE_E2E") != "1" || os.Getenv("REPROVE_E2E_TOOLCHAIN") != "1" {
		t.Skip("rebuilds a Go release from source: set REPROVE_E2E=1 REPROVE_E2E_TOOLCHAIN=1")
	}
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	js := filepath.Join(t.TempDir(), "result.json")
	r := reproveEnv(t, cache, nil, "verify", "--json", js, "--builder-image", image,
		"gomod:golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64")
	if r.code != 0 {
		t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	res := readResult(t, js)
	if res.Verdict != report.Reproducible || res.Adapter == nil ||
		!strings.Contains(res.Adapter.Check, "the whole go1.26.8 distribution for linux/amd64 rebuilt from its source with bootstrap go1.24.6") {
		t.Errorf("want a reproducible whole-distribution rebuild, got %s, adapter %+v", res.Verdict, res.Adapter)
	}
}
