package gomodtest

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// ToolchainVersion is the golang.org/toolchain version of the local go
// ("v0.0.1-go1.26.8.linux-amd64").
func ToolchainVersion(goroot string) (string, error) {
	b, err := os.ReadFile(filepath.Join(goroot, "VERSION"))
	if err != nil {
		return "", err
	}
	v, _, _ := strings.Cut(string(b), "\n")
	return "v0.0.1-" + strings.TrimSpace(v) + "." + runtime.GOOS + "-" + runtime.GOARCH, nil
}

// ToolchainZip makes a golang.org/toolchain module zip from goroot the way
// the Go release process lays one out (no modes; nested go.mod files stored
// as _go.mod; no test/, doc/, api/, misc/ or testdata), stored uncompressed
// for speed. It is built once per goroot version into os.TempDir() and
// reused by later test runs. It returns the zip path and the version.
func ToolchainZip(goroot string) (string, string, error) {
	ver, err := ToolchainVersion(goroot)
	if err != nil {
		return "", "", err
	}
	dst := filepath.Join(os.TempDir(), "reprove-gomodtest", "toolchain-"+ver+".zip")
	if _, err := os.Stat(dst); err == nil {
		return dst, ver, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "toolchain-*.tmp")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(tmp.Name())
	prefix := "golang.org/toolchain@" + ver + "/"
	zw := zip.NewWriter(tmp)
	keep := func(rel string, d fs.DirEntry) (skipDir bool, keep bool) {
		top, _, _ := strings.Cut(rel, "/")
		switch {
		case rel == ".":
			return false, false
		case d.IsDir() && (top == "test" || top == "doc" || top == "api" || top == "misc" || d.Name() == "testdata" || rel == "pkg/obj" || strings.HasPrefix(d.Name(), ".")):
			return true, false
		case d.IsDir():
			return false, false
		case strings.HasPrefix(rel, "pkg/") && !strings.HasPrefix(rel, "pkg/tool/") && !strings.HasPrefix(rel, "pkg/include/"):
			return false, false
		}
		return false, d.Type().IsRegular()
	}
	err = filepath.WalkDir(goroot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(goroot, p)
		rel = filepath.ToSlash(rel)
		skip, ok := keep(rel, d)
		if skip {
			return filepath.SkipDir
		}
		if !ok {
			return nil
		}
		name := rel
		if d.Name() == "go.mod" && strings.HasPrefix(rel, "src/") {
			name = strings.TrimSuffix(rel, "go.mod") + "_go.mod"
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: prefix + name, Method: zip.Store})
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, f)
		f.Close()
		return err
	})
	if err != nil {
		tmp.Close()
		return "", "", fmt.Errorf("zipping toolchain from %s: %w", goroot, err)
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return "", "", err
	}
	if err := tmp.Close(); err != nil {
		return "", "", err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", "", err
	}
	return dst, ver, nil
}
