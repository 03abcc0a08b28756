// Package image builds deterministic builder images from pinned Debian
// packages: a recipe (suite, architecture, packages, extra files and env)
// is resolved against the archive's signed indices into a lock (name,
// version, sha256 of every package); the packages are fetched by sha256
// into the cache, unpacked there through diff/archive, assembled into a
// root filesystem whose maintainer scripts run in the sandbox with no
// network (as mmdebstrap's chroot mode does), and written as one OCI layer
// with sorted entries, fixed mtimes (SOURCE_DATE_EPOCH) and the owners the
// packages and their scripts gave. The same lock gives the same image
// digest on any machine.
package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Recipe says what goes into an image.
type Recipe struct {
	// Name names the recipe in reports and the lock: a built-in's name, or
	// the recipe file's base name.
	Name string `yaml:"-"`
	// Suite is the Debian suite (codename) packages come from: bookworm.
	Suite string `yaml:"suite"`
	// Architecture is the Debian architecture: amd64, arm64.
	Architecture string `yaml:"architecture"`
	// Essential adds the suite's Essential: yes packages (default true).
	// An exact set (a .buildinfo's Installed-Build-Depends) sets it false.
	Essential *bool `yaml:"essential,omitempty"`
	// Packages are NAME or NAME=VERSION; dependencies are added unless
	// Exact.
	Packages []string `yaml:"packages"`
	// Exact takes Packages as the whole set, every one NAME=VERSION, with
	// no dependency resolution.
	Exact bool `yaml:"exact,omitempty"`
	// Run are commands run in the image after its packages are configured,
	// each an argument list run by chroot(8) in the sandbox with no
	// network: [/bin/busybox, --install, -s].
	Run [][]string `yaml:"run,omitempty"`
	// Files are added after the packages are configured.
	Files []File `yaml:"files,omitempty"`
	// Env is the image config's environment over the default PATH.
	Env map[string]string `yaml:"env,omitempty"`
	// Path is the recipe file, empty for a built-in.
	Path string `yaml:"-"`
}

// File is one extra file of a recipe.
type File struct {
	Path    string `yaml:"path"`           // absolute path in the image
	Content string `yaml:"content"`        // its bytes
	Mode    string `yaml:"mode,omitempty"` // octal, "0644" by default
}

// DefaultPath is the PATH of every image's config.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// builtins are the recipes reprove ships, by name: the packages on top of
// the Essential set.
var builtins = map[string][]string{
	"shell":        nil,
	"git":          {"git", "ca-certificates"},
	"go-cgo":       {"gcc", "libc6-dev", "git", "ca-certificates"},
	"debian-build": {"build-essential", "dpkg-dev", "fakeroot", "debhelper"},
}

// Builtins lists the built-in recipes' names, sorted.
func Builtins() []string {
	var names []string
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Builtin returns the built-in recipe name for suite and arch (the host's
// when empty, see HostSuite and HostArch).
func Builtin(name, suite, arch string) (*Recipe, error) {
	pkgs, ok := builtins[name]
	if !ok {
		return nil, fmt.Errorf("no built-in recipe %q; built-ins are %s, or give a recipe file", name, strings.Join(Builtins(), ", "))
	}
	r := &Recipe{Name: name, Suite: suite, Architecture: arch, Packages: append([]string(nil), pkgs...)}
	return r, r.fill()
}

// maxRecipe bounds a recipe file.
const maxRecipe = 1 << 20

// ErrRecipe is wrapped by every error of Load: the recipe is at fault.
var ErrRecipe = errors.New("bad recipe")

// Load reads a built-in by name, or a recipe file (YAML).
func Load(nameOrPath, suite, arch string) (*Recipe, error) {
	r, err := load(nameOrPath, suite, arch)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecipe, err)
	}
	return r, nil
}

func load(nameOrPath, suite, arch string) (*Recipe, error) {
	if _, ok := builtins[nameOrPath]; ok {
		if _, err := os.Stat(nameOrPath); err != nil {
			return Builtin(nameOrPath, suite, arch)
		}
	}
	f, err := os.Open(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("recipe %s: %w (built-ins are %s)", nameOrPath, err, strings.Join(Builtins(), ", "))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecipe+1))
	if err != nil {
		return nil, fmt.Errorf("reading recipe %s: %w", nameOrPath, err)
	}
	if len(data) > maxRecipe {
		return nil, fmt.Errorf("recipe %s is larger than %d bytes", nameOrPath, maxRecipe)
	}
	r, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("recipe %s: %w", nameOrPath, err)
	}
	r.Path = nameOrPath
	r.Name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(nameOrPath), ".yaml"), ".yml")
	if r.Suite == "" {
		r.Suite = suite
	}
	if r.Architecture == "" {
		r.Architecture = arch
	}
	return r, r.fill()
}

// Parse reads a recipe's YAML; unknown fields are errors.
func Parse(data []byte) (*Recipe, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var r Recipe
	if err := dec.Decode(&r); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return &r, nil
}

var (
	pkgRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$`)
	suiteRe = regexp.MustCompile(`^[a-z][a-z0-9.-]*$`)
	modeRe  = regexp.MustCompile(`^0?[0-7]{3,4}$`)
	envRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// fill applies defaults and validates; errors name the field.
func (r *Recipe) fill() error {
	if r.Suite == "" {
		r.Suite = HostSuite()
	}
	if r.Architecture == "" {
		r.Architecture = HostArch()
	}
	if r.Essential == nil {
		t := !r.Exact
		r.Essential = &t
	}
	switch {
	case !suiteRe.MatchString(r.Suite):
		return fmt.Errorf("suite: %q is not a Debian suite name (e.g. bookworm)", r.Suite)
	case !suiteRe.MatchString(r.Architecture):
		return fmt.Errorf("architecture: %q is not a Debian architecture (e.g. amd64)", r.Architecture)
	}
	for i, p := range r.Packages {
		if !pkgRe.MatchString(p) {
			return fmt.Errorf("packages[%d]: %q is not NAME or NAME=VERSION", i, p)
		}
		if r.Exact && !strings.Contains(p, "=") {
			return fmt.Errorf("packages[%d]: %q: an exact recipe pins every package as NAME=VERSION", i, p)
		}
	}
	for i, argv := range r.Run {
		if len(argv) == 0 || !path.IsAbs(argv[0]) {
			return fmt.Errorf("run[%d]: %q: give the command as a list starting with an absolute path", i, argv)
		}
		for _, a := range argv {
			if strings.ContainsRune(a, 0) {
				return fmt.Errorf("run[%d]: NUL in an argument", i)
			}
		}
	}
	for i, f := range r.Files {
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return fmt.Errorf("files[%d].path: %q must be a clean absolute path", i, f.Path)
		}
		if f.Mode != "" && !modeRe.MatchString(f.Mode) {
			return fmt.Errorf("files[%d].mode: %q is not an octal mode such as 0644", i, f.Mode)
		}
	}
	for k := range r.Env {
		if !envRe.MatchString(k) {
			return fmt.Errorf("env: %q is not a variable name", k)
		}
	}
	return nil
}

// request is the digest of everything in the recipe that resolution
// depends on, so that a lock made for another request is not reused.
func (r *Recipe) request() string {
	pkgs := append([]string(nil), r.Packages...)
	sort.Strings(pkgs)
	h := sha256.New()
	fmt.Fprintf(h, "suite %s\narch %s\nessential %v\nexact %v\n", r.Suite, r.Architecture, *r.Essential, r.Exact)
	for _, p := range pkgs {
		fmt.Fprintf(h, "package %s\n", p)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// HostSuite is the codename of the Debian release this machine runs
// (/etc/os-release), or bookworm.
func HostSuite() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return "bookworm"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VERSION_CODENAME="); ok && suiteRe.MatchString(strings.Trim(v, `"`)) {
			return strings.Trim(v, `"`)
		}
	}
	return "bookworm"
}

// HostArch is the Debian name of this machine's architecture.
func HostArch() string {
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	}
	return runtime.GOARCH
}

// Exact is the recipe of exactly the packages pkgs (NAME=VERSION each), as
// a .buildinfo's Installed-Build-Depends lists a build environment.
func Exact(name, suite, arch string, pkgs []string) (*Recipe, error) {
	f := false
	r := &Recipe{Name: name, Suite: suite, Architecture: arch, Exact: true, Essential: &f, Packages: append([]string(nil), pkgs...)}
	return r, r.fill()
}
