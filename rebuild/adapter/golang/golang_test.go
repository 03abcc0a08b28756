package golang_test

import (
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/adapter/golang"
	"github.com/reprove/reprove/rebuild/adapter/golang/golangtest"
	"github.com/reprove/reprove/rebuild/fetch/gomod/gomodtest"
)

// inferOpts is what a test infers from.
type inferOpts struct {
	path, uri string
	proxy     string       // GOPROXY
	client    *http.Client // for ?go-get=1; nil: the Env's
	replace   []string     // --replace-source
}

// infer runs the Go adapter on a binary with a real pipeline environment:
// its fetcher and pinner, a fresh cache, the given GOPROXY.
func infer(t *testing.T, o inferOpts) (*adapter.Plan, error) {
	t.Helper()
	e, err := rebuild.NewEnv(rebuild.Config{CacheDir: t.TempDir(), GOPROXY: o.proxy, BuilderImage: testImage, Replace: o.replace})
	if err != nil {
		t.Fatal(err)
	}
	env := e.AdapterEnv(e.Fetcher)
	if o.client != nil {
		env.Client = o.client
	}
	dgst := ""
	if _, err := os.Stat(o.path); err == nil {
		dgst = fileDigest(t, o.path)
	}
	in := adapter.Input{Artifact: adapter.Artifact{Path: o.path, URI: o.uri, Digest: dgst}, Env: env}
	return golang.Adapter{}.Infer(context.Background(), in)
}

const testImage = "oci-layout:images/git@sha256:0000000000000000000000000000000000000000000000000000000000000000"

// fixtureRepo makes a git repository holding module example.com/fixture
// with a command in cmd/hello, and returns its folder and commit.
func fixtureRepo(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":            "module example.com/fixture\n\ngo 1.21\n",
		"cmd/hello/main.go": "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(\"hello\", version) }\n",
		"internal/x/x.go":   "package x\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2024-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2024-01-02T03:04:05Z",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "fixture")
	return dir, git("rev-parse", "HEAD")
}

// buildFixture builds cmd/hello with the given go build flags and vcs
// stamping on, as a release would.
func buildFixture(t *testing.T, repo string, flags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, "./cmd/hello")...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", flags, err, b)
	}
	return out
}

// goGetServer answers ?go-get=1 for example.com/fixture over TLS, and
// returns a client that reaches it for any host name.
func goGetServer(t *testing.T) *http.Client {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("go-get") != "1" || r.Host != "example.com" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<!doctype html><html><head><meta name="go-import" content="example.com/fixture git https://git.example/fixture.git"></head></html>`)
	}))
	t.Cleanup(srv.Close)
	c := srv.Client()
	tr := c.Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "example.com:443" {
			addr = srv.Listener.Addr().String()
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	c.Transport = tr
	return c
}

func localGoVersion(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := strings.Cut(string(b), "\n")
	return v
}

// fakeToolchainProxy serves a small stand-in for the local toolchain zip:
// inference only pins it, it never runs it.
func fakeToolchainProxy(t *testing.T) (*gomodtest.Proxy, string) {
	tc := gomodtest.Module{Path: "golang.org/toolchain", Version: "v0.0.1-" + localGoVersion(t) + ".linux-amd64",
		Files: map[string]string{"bin/go": "#!", "VERSION": localGoVersion(t) + "\n"}}
	z, err := tc.Zip()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(z)
	return gomodtest.NewProxy(t, tc), "sha256:" + hex.EncodeToString(h[:])
}

func fileDigest(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

func TestGoInfer(t *testing.T) {
	repo, rev := fixtureRepo(t)
	proxy, tcDigest := fakeToolchainProxy(t)
	client := goGetServer(t)
	goVer := localGoVersion(t)

	tests := []struct {
		name       string
		flags      []string
		wantCands  []string
		wantScript string // of the first candidate, after the clone lines
		// atBuildPath: built without -trimpath, the rebuild happens where
		// the build did (the repository's folder, the local GOROOT).
		atBuildPath bool
	}{
		{name: "trimpath", flags: []string{"-trimpath"},
			wantCands:  []string{"ldflags=none"},
			wantScript: "set -e\ngo build -v -buildvcs=true -trimpath -o /out/hello ./cmd/hello\n"},
		{name: "stripped", flags: []string{"-trimpath", "-ldflags=-s -w"},
			wantCands:  []string{"ldflags=-s -w"},
			wantScript: "set -e\ngo build -v -buildvcs=true -trimpath '-ldflags=-s -w' -o /out/hello ./cmd/hello\n"},
		{name: "version stamped", flags: []string{"-trimpath", "-ldflags=-X main.version=v1.2.3"},
			wantCands:  []string{"ldflags=-X main.version=v1.2.3", "ldflags=none"},
			wantScript: "set -e\ngo build -v -buildvcs=true -trimpath '-ldflags=-X main.version=v1.2.3' -o /out/hello ./cmd/hello\n"},
		{name: "ldflags recorded without trimpath", flags: []string{"-ldflags=-X main.version=v2.0.0", "-tags=netgo,osusergo"},
			wantCands:   []string{"ldflags=-X main.version=v2.0.0"},
			wantScript:  "set -e\ngo build -v -buildvcs=true -tags=netgo,osusergo '-ldflags=-X main.version=v2.0.0' -o /out/hello ./cmd/hello\n",
			atBuildPath: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := buildFixture(t, repo, tt.flags...)
			plan, err := infer(t, inferOpts{path: bin, uri: "file:hello", proxy: proxy.URL, client: client})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range plan.Candidates {
				names = append(names, c.Name)
			}
			if diff := cmp.Diff(tt.wantCands, names); diff != "" {
				t.Fatalf("candidates mismatch (-want +got):\n%s\nnotes: %q", diff, plan.Notes)
			}
			m := plan.Candidates[0].Manifest
			// The build info has the pseudo-version v0.0.0-TIME-REV (no
			// tags): the build runs in a clone without tags.
			cloneDir, goroot := "/tmp/src", "/opt/go"
			if tt.atBuildPath {
				cloneDir, goroot = repo, runtime.GOROOT()
			}
			clone := "set -e\n[ -w /cache/go-build ] && export GOCACHE=/cache/go-build\ngit clone --quiet --no-tags --no-checkout --shared /src " + cloneDir + "\n" +
				"git -C " + cloneDir + " checkout --quiet --detach " + rev + "\ncd " + cloneDir + "\n"
			if diff := cmp.Diff(clone+strings.TrimPrefix(tt.wantScript, "set -e\n"), m.Build.Script); diff != "" {
				t.Errorf("script mismatch (-want +got):\n%s", diff)
			}
			if len(m.Sources) != 2 {
				t.Fatalf("sources = %+v, want toolchain and git", m.Sources)
			}
			tc, src := m.Sources[0], m.Sources[1]
			wantTC := "gomod:golang.org/toolchain@v0.0.1-" + goVer + ".linux-amd64?sum=h1:"
			if !strings.HasPrefix(tc.URI, wantTC) || tc.Digest != tcDigest || tc.Dest != goroot || !tc.Unpack {
				t.Errorf("toolchain source = %+v, want %s… %s at %s unpacked", tc, wantTC, tcDigest, goroot)
			}
			if src.URI != "git+https://git.example/fixture.git" || src.Rev != rev || src.Dest != "/src" {
				t.Errorf("main source = %+v, want git+https://git.example/fixture.git at %s", src, rev)
			}
			wantEnv := map[string]string{"CGO_ENABLED": "0", "GOARCH": runtime.GOARCH, "GOOS": runtime.GOOS, "GOAMD64": "v1",
				"GOFLAGS": "-mod=mod", "GOPROXY": "file:///deps/gomod", "GOTOOLCHAIN": "local", "GOSUMDB": "off", "PATH": goroot + "/bin:/usr/local/bin:/usr/bin:/bin"}
			for k, v := range wantEnv {
				if m.Build.Env[k] != v {
					t.Errorf("env %s = %q, want %q", k, m.Build.Env[k], v)
				}
			}
			if m.Build.Workdir != "/src" || m.Build.Output != "/out/hello" || m.Builder.Image != testImage {
				t.Errorf("workdir %q output %q image %q", m.Build.Workdir, m.Build.Output, m.Builder.Image)
			}
			if diff := cmp.Diff([]string{"gomod /src . /deps/gomod"}, []string{fmt.Sprintf("%s %s %s %s", m.Deps[0].Kind, m.Deps[0].Source, m.Deps[0].Dir, m.Deps[0].Dest)}); diff != "" {
				t.Errorf("deps mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInferNotGo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "script.sh")
	os.WriteFile(p, []byte("#!/bin/sh\necho hi\n"), 0o755)
	_, err := infer(t, inferOpts{path: p, uri: "file:script.sh"})
	if !errors.Is(err, adapter.ErrNotApplicable) {
		t.Fatalf("Infer on a shell script: error = %v, want ErrNotApplicable", err)
	}
}

// The installed go distribution's gofmt is a real published binary built by
// cmd/dist. The inferred recipe names the toolchain as the only source, and
// running its build command with the local toolchain reproduces the
// installed binary bit for bit.
func TestGoInferToolchainProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/gofmt")
	}
	gofmt := filepath.Join(runtime.GOROOT(), "bin", "gofmt")
	proxy, _ := fakeToolchainProxy(t)
	plan, err := infer(t, inferOpts{path: gofmt, uri: "file:gofmt", proxy: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Candidates) != 1 {
		t.Fatalf("candidates = %d, want 1; notes %q", len(plan.Candidates), plan.Notes)
	}
	m := plan.Candidates[0].Manifest
	want := "set -e\n[ -w /cache/go-build ] && export GOCACHE=/cache/go-build\ngo build -v -gcflags=cmd/...=-dwarf=false -trimpath -ldflags=-w -o /out/gofmt cmd/gofmt\n"
	if diff := cmp.Diff(want, m.Build.Script); diff != "" {
		t.Errorf("script mismatch (-want +got):\n%s", diff)
	}
	if len(m.Sources) != 1 || len(m.Deps) != 0 || m.Build.Workdir != "/opt/go/src/cmd" {
		t.Errorf("sources %+v deps %+v workdir %q, want only the toolchain, built in /opt/go/src/cmd", m.Sources, m.Deps, m.Build.Workdir)
	}

	// Run the recipe with the local toolchain in place of /opt/go.
	out := filepath.Join(t.TempDir(), "gofmt")
	script := strings.Replace(m.Build.Script, "/out/gofmt", out, 1)
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = filepath.Join(runtime.GOROOT(), "src", "cmd")
	cmd.Env = []string{"PATH=" + filepath.Join(runtime.GOROOT(), "bin") + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
	for k, v := range m.Build.Env {
		if k != "PATH" && k != "HOME" && k != "GOCACHE" && k != "GOPATH" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	// The host's build cache only saves time: cached results are keyed by
	// every input, so they cannot change the output.
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(cmd.Env, "GOCACHE="+strings.TrimSpace(string(gocache)), "GOPATH="+t.TempDir())
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running the inferred build: %v\n%s", err, b)
	}
	if got, want := fileDigest(t, out), fileDigest(t, gofmt); got != want {
		t.Errorf("rebuilt gofmt %s, installed %s: want bit for bit equal", got, want)
	}
}

// A binary made by go install MODULE@VERSION records the module version and
// its h1: sum but no vcs information: the source is the module zip, pinned
// through the proxy by that sum, rebuilt with go install from a file proxy
// that serves the zip so go records the same version.
func TestGoInferInstalledModuleVersion(t *testing.T) {
	tool := gomodtest.Module{Path: "example.com/tool", Version: "v1.2.3", Files: map[string]string{
		"go.mod":        "module example.com/tool\n\ngo 1.22\n",
		"cmd/t/main.go": "package main\n\nfunc main() { println(\"tool\") }\n",
	}}
	toolZip, err := tool.Zip()
	if err != nil {
		t.Fatal(err)
	}
	zh := sha256.Sum256(toolZip)
	toolSum, err := gomodtest.HashZipBytes(toolZip)
	if err != nil {
		t.Fatal(err)
	}
	proxy, _ := fakeToolchainProxy(t)
	if err := gomodtest.WriteTree(proxy.Dir, tool); err != nil {
		t.Fatal(err)
	}
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", "example.com/tool/cmd/t@v1.2.3")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOPROXY="+proxy.URL, "GOSUMDB=off", "GOFLAGS=-trimpath -modcacherw",
		"GOMODCACHE="+t.TempDir(), "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, b)
	}
	bin := filepath.Join(gobin, "t")
	plan, err := infer(t, inferOpts{path: bin, uri: "file:t", proxy: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range plan.Candidates {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"ldflags=none"}, names); diff != "" {
		t.Fatalf("candidates mismatch (-want +got):\n%s\nnotes: %q", diff, plan.Notes)
	}
	m := plan.Candidates[0].Manifest
	type src struct {
		URI, Digest, Dest string
		Unpack            bool
	}
	var got []src
	for _, s := range m.Sources[1:] {
		got = append(got, src{s.URI, s.Digest, s.Dest, s.Unpack})
	}
	zipDigest := "sha256:" + hex.EncodeToString(zh[:])
	modURI := "gomod:example.com/tool@v1.2.3?sum=" + toolSum
	want := []src{{modURI, zipDigest, "/src", true}, {modURI, zipDigest, "/deps/main.zip", false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("main module sources mismatch (-want +got):\n%s", diff)
	}
	for _, w := range []string{
		"cp /deps/main.zip /tmp/mainproxy/example.com/tool/@v/v1.2.3.zip\n",
		"GOPROXY=file:///tmp/mainproxy,file:///deps/gomod GOBIN=/tmp/bin go install -v -buildvcs=false -trimpath example.com/tool/cmd/t@v1.2.3\n",
		"cp /tmp/bin/t /out/t\n",
	} {
		if !strings.Contains(m.Build.Script, w) {
			t.Errorf("script lacks %q:\n%s", w, m.Build.Script)
		}
	}
	if m.Build.Workdir != "/tmp" || len(m.Deps) != 1 || m.Deps[0].Source != "/src" {
		t.Errorf("workdir %q deps %+v: want /tmp and the deps of /src", m.Build.Workdir, m.Deps)
	}
}

// Build info is untrusted and its values go into a shell script: a binary
// whose build info was edited to hold shell syntax is refused.
func TestGoInferForgedBuildInfo(t *testing.T) {
	repo, rev := fixtureRepo(t)
	bin := buildFixture(t, repo, "-trimpath")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	forged := "$(reboot)" + strings.Repeat("0", len(rev)-len("$(reboot)"))
	if n := strings.Count(string(data), "vcs.revision="+rev); n == 0 {
		t.Fatalf("the fixture binary does not hold vcs.revision=%s", rev)
	}
	p := filepath.Join(t.TempDir(), "forged")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(data), "vcs.revision="+rev, "vcs.revision="+forged)), 0o755); err != nil {
		t.Fatal(err)
	}
	proxy, _ := fakeToolchainProxy(t)
	_, err = infer(t, inferOpts{path: p, uri: "file:forged", proxy: proxy.URL, client: goGetServer(t)})
	if err == nil || !strings.Contains(err.Error(), "damaged or forged") {
		t.Fatalf("Infer on forged build info: error = %v, want one saying the build info is damaged or forged", err)
	}
}

// A Go version with experiments (go1.26.2-X:nodwarf5, the linker's form for
// a release) names the release's toolchain and keeps GOEXPERIMENT.
func TestGoInferExperimentSuffix(t *testing.T) {
	repo, _ := fixtureRepo(t)
	proxy, _ := fakeToolchainProxy(t)
	bin := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/hello")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOWORK=off", "GOEXPERIMENT=nodwarf5")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	goVer := localGoVersion(t)
	if want := goVer + "-X:nodwarf5"; bi.GoVersion != want {
		t.Fatalf("the fixture's Go version is %q, want %q", bi.GoVersion, want)
	}
	plan, err := infer(t, inferOpts{path: bin, uri: "file:hello", proxy: proxy.URL, client: goGetServer(t)})
	if err != nil {
		t.Fatal(err)
	}
	m := plan.Candidates[0].Manifest
	wantTC := "gomod:golang.org/toolchain@v0.0.1-" + goVer + ".linux-amd64?sum=h1:"
	if !strings.HasPrefix(m.Sources[0].URI, wantTC) {
		t.Errorf("toolchain %q, want %s…", m.Sources[0].URI, wantTC)
	}
	if m.Build.Env["GOEXPERIMENT"] != "nodwarf5" {
		t.Errorf("env GOEXPERIMENT = %q, want nodwarf5", m.Build.Env["GOEXPERIMENT"])
	}
}

// A binary built in GOPATH mode records no main module and no
// dependencies: it is named as such and refused as something a person must
// write a manifest for.
func TestGoInferGOPATHMode(t *testing.T) {
	gopath := t.TempDir()
	src := filepath.Join(gopath, "src", "example.com", "gp")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "gp")
	cmd := exec.Command("go", "build", "-o", bin, "example.com/gp")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GO111MODULE=off", "GOPATH="+gopath, "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in GOPATH mode: %v\n%s", err, b)
	}
	_, err := infer(t, inferOpts{path: bin, uri: "file:gp"})
	if !errors.Is(err, adapter.ErrCannotInfer) || !strings.Contains(err.Error(), "built in GOPATH mode (package example.com/gp, no main module)") {
		t.Fatalf("Infer on a GOPATH-mode binary: error = %v, want ErrCannotInfer naming GOPATH mode", err)
	}
}

// candidates lists a plan's candidates as "NAME ← FROM".
func candidates(p *adapter.Plan) []string {
	var out []string
	for _, c := range p.Candidates {
		out = append(out, c.Name+" ← "+c.From)
	}
	return out
}

// A release made the way goreleaser makes it: the configuration at the
// tagged commit, its ldflags rendered from what goreleaser knows at release
// time, the binary stripped. The first candidate is exactly those flags,
// rendered from what the binary records, and says where it came from.
func TestGoInferGoreleaser(t *testing.T) {
	const mod = "example.com/fixture"
	proxy, _ := fakeToolchainProxy(t)
	date := "2024-03-04T05:06:07Z" // the release run, after the commit
	tests := []struct {
		name    string
		files   map[string]string
		ldflags []string // goreleaser's, as the configuration has them
		want    string   // the first candidate
	}{
		{name: "non-main package",
			files: map[string]string{".goreleaser.yaml": golangtest.NonMainConfig(mod), "internal/version/version.go": golangtest.VersionPackage,
				"cmd/hello/main.go": golangtest.MainWithVersionPackage(mod)},
			ldflags: golangtest.NonMainLdflags(mod),
			want:    ".goreleaser.yaml builds[0] (id hello)"},
		{name: "default ldflags",
			files:   map[string]string{".goreleaser.yml": golangtest.DefaultConfig, "cmd/hello/main.go": golangtest.MainWithDefaultVars},
			ldflags: []string{golangtest.DefaultLdflags},
			want:    ".goreleaser.yml builds[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel := golangtest.Release{Module: mod, Files: tt.files, Tag: "v1.2.3", Date: date}
			repo, rev := rel.Repo(t)
			ld := rel.Ldflags(rev, tt.ldflags...)
			bin := golangtest.Build(t, repo, "cmd/hello", ld, []string{"-trimpath"})
			plan, err := infer(t, inferOpts{path: bin, uri: "file:hello", proxy: proxy.URL, client: goGetServer(t),
				replace: []string{"git+https://git.example/fixture.git=git+file://" + repo}})
			if err != nil {
				t.Fatal(err)
			}
			got := candidates(plan)
			if len(got) == 0 || got[0] != "ldflags="+ld+" ← "+tt.want {
				t.Fatalf("first candidate: want\n  ldflags=%s ← %s\ngot\n  %s\nnotes: %q", ld, tt.want, strings.Join(got, "\n  "), plan.Notes)
			}
		})
	}
}

// Without a goreleaser configuration, the source is searched for
// stamp-named variables in any package; the values the binary holds as
// strings of their own are tried for them.
func TestGoInferSourceSearch(t *testing.T) {
	const mod = "example.com/fixture"
	proxy, _ := fakeToolchainProxy(t)
	rel := golangtest.Release{Module: mod, Tag: "v1.2.3", Date: "2024-03-04T05:06:07Z",
		Files: map[string]string{"internal/version/version.go": golangtest.VersionPackage, "cmd/hello/main.go": golangtest.MainWithVersionPackage(mod),
			"cmd/other/main.go": "package main\n\nvar version string\n\nfunc main() {}\n"}}
	repo, rev := rel.Repo(t)
	bin := golangtest.Build(t, repo, "cmd/hello", rel.Ldflags(rev, golangtest.NonMainLdflags(mod)...), []string{"-trimpath"})
	plan, err := infer(t, inferOpts{path: bin, uri: "file:hello", proxy: proxy.URL, client: goGetServer(t),
		replace: []string{"git+https://git.example/fixture.git=git+file://" + repo}})
	if err != nil {
		t.Fatal(err)
	}
	// The go command hashes the -X flags, in order, into the build ID, and
	// nothing tells their order: the declaration order first, then the
	// others.
	v := mod + "/internal/version."
	first := "ldflags=-s -w -X " + v + "Version=1.2.3 -X " + v + "Commit=" + rev + " -X " + v + "Date=2024-03-04T05:06:07Z" +
		" ← source search: " + v + "Version (internal/version/version.go), " + v + "Commit (internal/version/version.go), " + v + "Date (internal/version/version.go)"
	got := candidates(plan)
	if len(got) != 7 || got[0] != first || got[6] != "ldflags=-s -w ← strip flags read off the binary, no -X" {
		t.Errorf("candidates: want %s first, then the 5 other orders of the three -X flags, then the strip flags alone; got\n%s\nnotes: %q", first, strings.Join(got, "\n"), plan.Notes)
	}
}

func TestBootstrapVersion(t *testing.T) {
	// gorebuild's BootstrapVersion, as a table.
	for v, want := range map[string]string{"go1.4": "", "go1.19.5": "go1.4", "go1.21.0": "go1.17", "go1.22.6": "go1.20",
		"go1.23.1": "go1.20", "go1.24.0": "go1.22", "go1.25.3": "go1.22", "go1.26.8": "go1.24", "go1.27rc1": "go1.24", "go1.28.0": "go1.26"} {
		if got, err := golang.BootstrapVersion(v); err != nil || got != want {
			t.Errorf("BootstrapVersion(%s) = %q, %v; want %q", v, got, err, want)
		}
	}
}

// A golang.org/toolchain zip named with no member is rebuilt whole from a
// bootstrap toolchain: the one src/make.bash names, of the series the Go
// project's rule names, pinned through GOPROXY.
func TestGoInferToolchainDistribution(t *testing.T) {
	tc := func(ver, makeBash string) gomodtest.Module {
		return gomodtest.Module{Path: "golang.org/toolchain", Version: "v0.0.1-" + ver + ".linux-amd64",
			Files: map[string]string{"VERSION": ver + "\ntime 2026-08-28T16:20:06Z\n", "src/make.bash": makeBash, "bin/go": "#!"}}
	}
	proxy := gomodtest.NewProxy(t,
		tc("go1.26.8", "#!/usr/bin/env bash\n\nbootgo=1.24.6\n\nset -e\n"),
		tc("go1.24.6", "bootgo=1.22.6\n"),
		tc("go1.25.1", "bootgo=1.24.6\n")) // names a bootstrap the rule does not
	infer := func(ver string) (*adapter.Plan, error) {
		e, err := rebuild.NewEnv(rebuild.Config{CacheDir: t.TempDir(), GOPROXY: proxy.URL, BuilderImage: testImage})
		if err != nil {
			t.Fatal(err)
		}
		uri := "gomod:golang.org/toolchain@v0.0.1-" + ver + ".linux-amd64"
		p, err := e.Pin(context.Background(), uri)
		if err != nil {
			t.Fatal(err)
		}
		in := adapter.Input{Artifact: adapter.Artifact{Path: p.Path, URI: uri, Digest: p.Digest}, Env: e.AdapterEnv(e.Fetcher)}
		return golang.Adapter{}.Infer(context.Background(), in)
	}
	plan, err := infer("go1.26.8")
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Candidates) != 1 || plan.Candidates[0].Name != "make.bash -distpack, bootstrap go1.24.6" {
		t.Fatalf("candidates %v, want one: make.bash -distpack, bootstrap go1.24.6", candidates(plan))
	}
	m := plan.Candidates[0].Manifest
	if len(m.Sources) != 2 || !strings.HasPrefix(m.Sources[0].URI, "gomod:golang.org/toolchain@v0.0.1-go1.24.6.linux-amd64?sum=h1:") ||
		m.Sources[0].Dest != "/opt/go-bootstrap" || m.Sources[1].URI != "gomod:golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64" {
		t.Errorf("sources %+v: want the bootstrap go1.24.6 at /opt/go-bootstrap, then the toolchain's own zip", m.Sources)
	}
	for _, w := range []string{"rm -rf bin pkg ", "sh make.bash -distpack\n", "cp /tmp/go/pkg/distpack/v0.0.1-go1.26.8.linux-amd64.zip /out/v0.0.1-go1.26.8.linux-amd64.zip\n"} {
		if !strings.Contains(m.Build.Script, w) {
			t.Errorf("script lacks %q:\n%s", w, m.Build.Script)
		}
	}
	if m.Build.Env["GOROOT_BOOTSTRAP"] != "/opt/go-bootstrap" || m.Build.Output != "/out/v0.0.1-go1.26.8.linux-amd64.zip" {
		t.Errorf("env %v output %q", m.Build.Env, m.Build.Output)
	}
	if !strings.Contains(plan.Check, "rebuilt from its source with bootstrap go1.24.6 (make.bash -distpack") {
		t.Errorf("check %q does not say a whole distribution is rebuilt", plan.Check)
	}
	if _, err := infer("go1.25.1"); !errors.Is(err, adapter.ErrCannotInfer) || !strings.Contains(err.Error(), "make.bash names bootstrap go1.24.6, but the Go project's rule names go1.22") {
		t.Errorf("a make.bash naming another series: error %v", err)
	}
}

// The adapter downloads through the pipeline's pinner, so --replace-source
// applies to what it fetches when inferring: with GOPROXY off, the
// toolchain is pinned from the local zip the rewrite names, and the
// manifest still declares the gomod: URI.
func TestGoInferReplaceSourceToolchain(t *testing.T) {
	repo, _ := fixtureRepo(t)
	bin := buildFixture(t, repo, "-trimpath")
	goVer := localGoVersion(t)
	tc := gomodtest.Module{Path: "golang.org/toolchain", Version: "v0.0.1-" + goVer + ".linux-amd64", Files: map[string]string{"VERSION": goVer + "\n"}}
	z, err := tc.Zip()
	if err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(t.TempDir(), "toolchain.zip")
	if err := os.WriteFile(zipPath, z, 0o644); err != nil {
		t.Fatal(err)
	}
	uri := "gomod:golang.org/toolchain@v0.0.1-" + goVer + ".linux-amd64"
	if _, err := infer(t, inferOpts{path: bin, uri: "file:hello", proxy: "off", client: goGetServer(t)}); err == nil || !strings.Contains(err.Error(), "pinning the toolchain") {
		t.Fatalf("with GOPROXY=off and no rewrite: error %v, want the toolchain not pinned", err)
	}
	plan, err := infer(t, inferOpts{path: bin, uri: "file:hello", proxy: "off", client: goGetServer(t),
		replace: []string{uri + "=file://" + zipPath}})
	if err != nil {
		t.Fatal(err)
	}
	src := plan.Candidates[0].Manifest.Sources[0]
	if src.URI != uri || src.Digest != fileDigest(t, zipPath) {
		t.Errorf("toolchain source %+v: want %s with the local zip's digest %s", src, uri, fileDigest(t, zipPath))
	}
}
