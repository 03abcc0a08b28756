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

	"github.com/reprove/reprove/report"
)

// npmTarball packs files the way npm pack does: under package/, gzipped.
func npmTarball(t *testing.T, files map[string][]byte, modes map[string]int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range []string{"package.json", "bin/hello"} {
		body := files[name]
		mode := modes[name]
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + name, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
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

// A Go binary shipped inside an npm package (as esbuild-style platform
// packages ship theirs), verified from npm:NAME@VERSION#MEMBER with no
// manifest: the tarball comes from a loopback registry, pinned by its
// sha512 integrity, and the binary is rebuilt from its build info.
func TestVerifyGoBinaryInNpmPackage(t *testing.T) {
	requireSandbox(t)
	image := gitImage(t)
	cache := sharedCache(t)
	proxy := goProxy(t)
	repo, _ := gitRepo(t, helloFiles(t, helloModule))
	bin, err := os.ReadFile(buildHello(t, repo, proxy, "-trimpath", "-ldflags=-s -w"))
	if err != nil {
		t.Fatal(err)
	}
	const name, version = "@acme/hello-linux-x64", "1.0.0"
	tgz := npmTarball(t, map[string][]byte{
		"package.json": []byte(`{"name":"` + name + `","version":"` + version + `","os":["linux"],"cpu":["x64"]}`),
		"bin/hello":    bin,
	}, map[string]int64{"bin/hello": 0o755})
	sum := sha512.Sum512(tgz)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.EscapedPath() {
		case "/@acme%2fhello-linux-x64", "/@acme%2Fhello-linux-x64":
			json.NewEncoder(w).Encode(map[string]any{
				"name": name,
				"versions": map[string]any{version: map[string]any{"dist": map[string]any{
					"tarball":   "http://" + r.Host + "/hello-linux-x64-1.0.0.tgz",
					"integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:]),
				}}},
			})
		case "/hello-linux-x64-1.0.0.tgz":
			w.Write(tgz)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

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
}
