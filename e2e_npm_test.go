package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/reprove/reprove/rebuild/sandbox/sandboxtest"
	"github.com/reprove/reprove/report"
)

// npmFile is one file of an npm package.
type npmFile struct {
	name string // below package/
	body []byte
	mode int64 // 0: 0644
}

// npmTarball packs files the way npm pack does: under package/, gzipped.
func npmTarball(t *testing.T, files ...npmFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + f.name, Mode: mode, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// npmRegistry serves one package version on a loopback registry and
// counts the requests it answers.
func npmRegistry(t *testing.T, name, version string, tgz []byte) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	sum := sha512.Sum512(tgz)
	var hits atomic.Int32
	doc := "/" + strings.ReplaceAll(name, "/", "%2f")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch strings.ToLower(r.URL.EscapedPath()) {
		case strings.ToLower(doc):
			json.NewEncoder(w).Encode(map[string]any{
				"name": name,
				"versions": map[string]any{version: map[string]any{"dist": map[string]any{
					"tarball":   "http://" + r.Host + "/package.tgz",
					"integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:]),
				}}},
			})
		case "/package.tgz":
			w.Write(tgz)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// A Go binary shipped inside an npm package (as esbuild-style platform
// packages ship theirs), verified from npm:NAME@VERSION#MEMBER with no
// manifest: the tarball comes from a loopback registry, pinned by its
// sha512 integrity, and the binary is rebuilt from its build info.
func TestVerifyGoBinaryInNpmPackage(t *testing.T) {
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	proxy := goProxy(t)
	repo, _ := gitRepo(t, helloFiles(t, helloModule))
	bin, err := os.ReadFile(buildHello(t, repo, proxy, "-trimpath", "-ldflags=-s -w"))
	if err != nil {
		t.Fatal(err)
	}
	const name, version = "@acme/hello-linux-x64", "1.0.0"
	tgz := npmTarball(t,
		npmFile{name: "package.json", body: []byte(`{"name":"` + name + `","version":"` + version + `","os":["linux"],"cpu":["x64"]}`)},
		npmFile{name: "bin/hello", body: bin, mode: 0o755})
	srv, hits := npmRegistry(t, name, version, tgz)

	js := filepath.Join(t.TempDir(), "result.json")
	r := reproveEnv(t, cache, []string{"GOPROXY=" + proxy.URL, "npm_config_registry=" + srv.URL + "/"},
		"verify", "--json", js,
		"--replace-source", "git+https://"+helloModule+"=git+file://"+repo,
		"--builder-image", image, "npm:"+name+"@"+version+"#bin/hello")
	if r.code != 0 {
		t.Fatalf("exit code: want 0, got %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if hits.Load() == 0 {
		t.Fatalf("the npm registry was never asked")
	}
	res := readResult(t, js)
	if res.Verdict != report.Reproducible {
		t.Errorf("verdict: want %s, got %s", report.Reproducible, res.Verdict)
	}
	if !strings.HasPrefix(res.Artifact.URI, "npm:"+name+"@"+version) || res.Artifact.Member != "package/bin/hello" {
		t.Errorf("artifact: want npm:%s@%s member package/bin/hello, got %q member %q", name, version, res.Artifact.URI, res.Artifact.Member)
	}
	if res.Adapter == nil || res.Adapter.Matched != "ldflags=-s -w" {
		t.Errorf("adapter: want matched ldflags=-s -w, got %+v", res.Adapter)
	}
	// Named after what the user asked for, not the binary's pseudo-version.
	if res.Name != "hello-linux-x64@1.0.0" {
		t.Errorf("name %q, want hello-linux-x64@1.0.0", res.Name)
	}
}

// An npm package named without #member: reprove lists the Go binaries it
// holds (exit 2), and with --all-members verifies each, one report apiece.
func TestVerifyNpmPackageAllMembers(t *testing.T) {
	sandboxtest.Need(t, true)
	image := gitImage(t)
	cache := sharedCache(t)
	proxy := goProxy(t)
	repo, _ := gitRepo(t, helloFiles(t, helloModule))
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const name, version = "tools-linux-x64", "2.1.10"
	tgz := npmTarball(t,
		npmFile{name: "package.json", body: []byte(`{"name":"` + name + `","version":"` + version + `"}`)},
		npmFile{name: "bin/run.sh", body: []byte("#!/bin/sh\nexec hello\n"), mode: 0o755},
		npmFile{name: "bin/hello", body: read(buildHello(t, repo, proxy, "-trimpath", "-ldflags=-s -w")), mode: 0o755},
		npmFile{name: "libexec/world", body: read(buildHello(t, repo, proxy, "-trimpath")), mode: 0o755})
	srv, _ := npmRegistry(t, name, version, tgz)
	env := []string{"GOPROXY=" + proxy.URL, "npm_config_registry=" + srv.URL + "/"}
	args := []string{"--replace-source", "git+https://" + helloModule + "=git+file://" + repo, "--builder-image", image}

	r := reproveEnv(t, cache, env, append(append([]string{"verify"}, args...), "npm:"+name+"@"+version)...)
	want := "npm:tools-linux-x64@2.1.10 is an archive holding 2 Go binaries: package/bin/hello, package/libexec/world; verify one with npm:tools-linux-x64@2.1.10#package/bin/hello, or each with --all-members"
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("verify without a member: want exit 2 saying\n%s\ngot %d\nstderr:\n%s", want, r.code, r.stderr)
	}

	js := filepath.Join(t.TempDir(), "r.json")
	r = reproveEnv(t, cache, env, append(append([]string{"verify", "--all-members", "--json", js}, args...), "npm:"+name+"@"+version)...)
	if r.code != 0 {
		t.Fatalf("--all-members: exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, m := range []string{"hello", "world"} {
		res := readResult(t, strings.TrimSuffix(js, ".json")+"."+m+".json")
		if res.Verdict != report.Reproducible || res.Artifact.Member == "" || filepath.Base(res.Artifact.Member) != m || res.Name != name+"@"+version {
			t.Errorf("member %s: verdict %s, member %q, name %q; want reproducible, %s, %s@%s", m, res.Verdict, res.Artifact.Member, res.Name, m, name, version)
		}
	}
	if n := strings.Count(r.stdout, "reproducible ("); n != 2 {
		t.Errorf("stdout has %d verdict lines, want 2:\n%s", n, r.stdout)
	}
}
