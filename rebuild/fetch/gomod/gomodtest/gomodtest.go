// Package gomodtest makes Go module proxies for tests: module zips built in
// code, laid out as a file GOPROXY tree and served over a real loopback HTTP
// server, plus a golang.org/toolchain zip made from a local GOROOT so that
// binaries built with the local go can be rebuilt offline.
package gomodtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// Module is a module version made in code. Files maps slash paths to
// contents and should hold a go.mod.
type Module struct {
	Path    string
	Version string
	Files   map[string]string
}

// Zip returns the module zip of m.
func (m Module) Zip() ([]byte, error) {
	var files []modzip.File
	for name, body := range m.Files {
		files = append(files, memFile{name: name, body: body})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path() < files[j].Path() })
	var buf bytes.Buffer
	if err := modzip.Create(&buf, module.Version{Path: m.Path, Version: m.Version}, files); err != nil {
		return nil, fmt.Errorf("zipping %s@%s: %w", m.Path, m.Version, err)
	}
	return buf.Bytes(), nil
}

// GoMod returns the go.mod the proxy serves for m.
func (m Module) GoMod() string {
	if s, ok := m.Files["go.mod"]; ok {
		return s
	}
	return "module " + m.Path + "\n"
}

// GoSum returns the two go.sum lines of m.
func (m Module) GoSum() (string, error) {
	z, err := m.Zip()
	if err != nil {
		return "", err
	}
	zh, err := HashZipBytes(z)
	if err != nil {
		return "", err
	}
	mh, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(m.GoMod())), nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", m.Path, m.Version, zh, m.Path, m.Version, mh), nil
}

// HashZipBytes is dirhash.HashZip of an in-memory zip.
func HashZipBytes(z []byte) (string, error) {
	f, err := os.CreateTemp("", "gomodtest-*.zip")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(z); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return dirhash.HashZip(f.Name(), dirhash.Hash1)
}

type memFile struct{ name, body string }

func (f memFile) Path() string { return f.name }
func (f memFile) Lstat() (os.FileInfo, error) {
	return memInfo{name: filepath.Base(f.name), size: int64(len(f.body))}, nil
}
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(f.body)), nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// WriteTree lays mods out as a file GOPROXY under dir.
func WriteTree(dir string, mods ...Module) error {
	versions := map[string][]string{}
	for _, m := range mods {
		z, err := m.Zip()
		if err != nil {
			return err
		}
		base, err := proxyBase(dir, m.Path, m.Version)
		if err != nil {
			return err
		}
		info, _ := json.Marshal(map[string]string{"Version": m.Version, "Time": "2024-01-02T03:04:05Z"})
		for ext, b := range map[string][]byte{".zip": z, ".mod": []byte(m.GoMod()), ".info": info} {
			if err := os.WriteFile(base+ext, b, 0o644); err != nil {
				return err
			}
		}
		versions[filepath.Dir(base)] = append(versions[filepath.Dir(base)], m.Version)
	}
	for d, vs := range versions {
		if err := os.WriteFile(filepath.Join(d, "list"), []byte(strings.Join(vs, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// AddZip puts an existing module zip (a toolchain, say) into the proxy tree
// under dir, linking rather than copying where it can.
func AddZip(dir, path, version, zipPath string) error {
	base, err := proxyBase(dir, path, version)
	if err != nil {
		return err
	}
	if err := os.Link(zipPath, base+".zip"); err != nil {
		b, err := os.ReadFile(zipPath)
		if err != nil {
			return err
		}
		if err := os.WriteFile(base+".zip", b, 0o644); err != nil {
			return err
		}
	}
	info, _ := json.Marshal(map[string]string{"Version": version})
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return err
	}
	return os.WriteFile(base+".mod", []byte("module "+path+"\n"), 0o644)
}

func proxyBase(dir, path, version string) (string, error) {
	ep, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		return "", err
	}
	d := filepath.Join(dir, filepath.FromSlash(ep), "@v")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	return filepath.Join(d, ev), nil
}

// Proxy is a module proxy on a loopback HTTP server, backed by a file tree.
type Proxy struct {
	URL  string // http://127.0.0.1:PORT, a GOPROXY value
	Dir  string // the same tree, usable as file://Dir
	Hits func() []string
	srv  *httptest.Server
}

// NewProxy serves mods; it is closed when the test ends.
func NewProxy(t testing.TB, mods ...Module) *Proxy {
	t.Helper()
	dir := t.TempDir()
	if err := WriteTree(dir, mods...); err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Dir: dir}
	var hits []string
	var mu sync.Mutex
	fsrv := http.FileServer(http.Dir(dir))
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.URL.Path)
		mu.Unlock()
		fsrv.ServeHTTP(w, r)
	}))
	p.Hits = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), hits...)
	}
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}
