package golang

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"

	"github.com/reprove/reprove/rebuild/adapter"
	"github.com/reprove/reprove/rebuild/fetch/gomod"
	"github.com/reprove/reprove/rebuild/manifest"
)

// recipe is what Infer learns, phase by phase, about how to rebuild the
// binary; manifest turns it into one candidate manifest per link flags guess.
type recipe struct {
	info  *buildInfo
	in    adapter.Input
	image string
	plan  *adapter.Plan

	sources []manifest.Source
	deps    []manifest.Dep
	env     map[string]string
	workdir string
	depsDir string   // the module's folder in the source, for deps
	install bool     // go install MODULE/PKG@VERSION
	flags   []string // go build flags
	prelude string   // script lines before go build

	src   sourceRef   // where the source is, to read it at inference
	facts binaryFacts // what the binary shows

	toolchain string // where the toolchain is mounted (GOROOT)
	module    string // where the main module's root must be, "" anywhere
}

func (r *recipe) note(format string, args ...any) {
	r.plan.Notes = append(r.plan.Notes, fmt.Sprintf(format, args...))
}

// baseEnv is the environment every Go rebuild starts from.
func baseEnv() map[string]string {
	env := map[string]string{
		"GOTOOLCHAIN": "local",
		"GOCACHE":     GoCache,
		"GOMODCACHE":  "/tmp/go-modcache",
		"HOME":        "/tmp/home",
		"GOENV":       "off",
		"GOWORK":      "off",
	}
	for k, v := range gomod.BuildEnv(DepsDest) {
		env[k] = v
	}
	return env
}

// goEnvSettings are build settings that are environment variables.
var goEnvSettings = regexp.MustCompile(`^(CGO_ENABLED|CGO_[A-Z]+FLAGS|GOOS|GOARCH|GOAMD64|GOARM|GOARM64|GO386|GOMIPS|GOMIPS64|GOPPC64|GORISCV64|GOWASM|GOEXPERIMENT|GOFIPS140)$`)

// applySettings turns the recorded build settings into environment
// variables and go build flags, exactly as recorded.
func (r *recipe) applySettings() {
	set := r.info.set
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := set[k]
		switch {
		case goEnvSettings.MatchString(k):
			r.env[k] = v
		case k == "-trimpath" || k == "-race" || k == "-msan" || k == "-asan":
			if v == "true" {
				r.flags = append(r.flags, k)
			}
		case k == "-buildmode":
			if v != "exe" {
				r.flags = append(r.flags, "-buildmode="+v)
			}
		case k == "-tags" || k == "-gcflags" || k == "-asmflags":
			r.flags = append(r.flags, k+"="+v)
		case k == "-pgo":
			r.note("-pgo=%s: the build uses the profile the package carries (default.pgo); other profiles are not sources here", v)
		case k == "-cover", k == "-covermode", k == "-coverpkg":
			r.flags = append(r.flags, k+"="+v)
		}
	}
	r.env["PATH"] = r.toolchain + "/bin:/usr/local/bin:/usr/bin:/bin"
	if _, ok := r.env["GOEXPERIMENT"]; !ok && r.info.experiments != "" {
		// The experiments came from the toolchain's build, not from the
		// environment: the released toolchain needs them set.
		r.env["GOEXPERIMENT"] = r.info.experiments
	}
	if r.env["CGO_ENABLED"] == "1" {
		r.note("CGO_ENABLED=1: the builder image needs the C toolchain the original build used")
	} else if _, ok := r.env["CGO_ENABLED"]; !ok {
		r.env["CGO_ENABLED"] = "0"
	}
	if set["-trimpath"] != "true" {
		r.note("built without -trimpath: the binary holds the original build's folders, so a rebuild in %s matches only if they were the same", r.workdir)
	}
}

// binaryName is the output's name: the package's last element (not a /vN
// major version suffix).
func (r *recipe) binaryName() string {
	name := path.Base(r.info.Path)
	if isMajorSuffix(name) {
		name = path.Base(path.Dir(r.info.Path))
	}
	return name
}

// version names the manifest: the module version, the Go version of a
// distribution program, or the commit.
func (r *recipe) version() string {
	b := r.info
	switch {
	case b.toolchainCmd:
		return b.goVersion
	case b.Main.Version == "" || b.Main.Version == "(devel)":
		return shortRev(b.set["vcs.revision"])
	}
	return b.Main.Version
}

// manifestName is the name what the user named suggests, else the
// binary's name and version.
func (r *recipe) manifestName(binary string) string {
	if r.in.Artifact.Name != "" {
		return r.in.Artifact.Name
	}
	return binary + "-" + r.version()
}

// script is the build script for one link flags guess.
func (r *recipe) script(c ldCandidate, out string) (string, error) {
	args := append([]string(nil), r.flags...)
	if c.flags != "" {
		args = append(args, "-ldflags="+c.flags)
	}
	if r.install {
		return installScript(r.info, args, out), nil
	}
	pkg, err := r.info.pkgRel()
	if err != nil {
		return "", err
	}
	return "set -e\n" + cachePrelude + r.prelude + "go build -v " + shellJoin(args) + " -o " + shellJoin([]string{out, pkg}) + "\n", nil
}

// manifest is the candidate manifest for one link flags guess.
func (r *recipe) manifest(c ldCandidate) (*manifest.Manifest, error) {
	name := r.binaryName()
	out := "/out/" + name
	script, err := r.script(c, out)
	if err != nil {
		return nil, err
	}
	a := r.in.Artifact
	m := &manifest.Manifest{
		APIVersion: manifest.APIVersion,
		Name:       r.manifestName(name),
		Artifact:   manifest.Artifact{URI: a.URI, Digest: a.Digest, Member: a.Member},
		Sources:    append([]manifest.Source(nil), r.sources...),
		Deps:       append([]manifest.Dep(nil), r.deps...),
		Builder:    manifest.Builder{Image: r.image},
		Build: manifest.Build{
			Workdir:   r.workdir,
			Env:       cloneMap(r.env),
			Script:    script,
			Output:    out,
			Timeout:   manifest.Duration(30 * time.Minute),
			Resources: manifest.Resources{Memory: 4 << 30, Pids: 4096},
		},
	}
	if err := manifest.Validate(m); err != nil {
		return nil, fmt.Errorf("the inferred manifest is invalid (a bug in the Go adapter): %w", err)
	}
	return m, nil
}

// installScript rebuilds a binary made by go install MODULE/PKG@VERSION: the
// main module is served from a file proxy made of its pinned zip, beside the
// resolved dependencies, so that go records the same module version.
func installScript(b *buildInfo, args []string, out string) string {
	// Infer checked the path and version with module.Check: they hold no
	// shell metacharacters. File names in a proxy use the escaped forms
	// (v1.0.0-RC1 is stored as v1.0.0-!r!c1).
	esc, _ := module.EscapePath(b.Main.Path)
	ev, _ := module.EscapeVersion(b.Main.Version)
	dir := "/tmp/mainproxy/" + esc + "/@v"
	return fmt.Sprintf(`set -e
`+cachePrelude+`mkdir -p %[1]s /tmp/bin
cp %[2]s %[1]s/%[10]s.zip
cp %[4]s/go.mod %[1]s/%[10]s.mod
printf '{"Version":"%[3]s"}\n' > %[1]s/%[10]s.info
printf '%[3]s\n' > %[1]s/list
GOPROXY=file:///tmp/mainproxy,file://%[5]s GOBIN=/tmp/bin go install -v %[6]s %[7]s@%[3]s
cp /tmp/bin/%[8]s %[9]s
`, dir, MainZipDest, b.Main.Version, SourceDest, DepsDest, shellJoin(args), b.Path, path.Base(out), out, ev)
}

func shortRev(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	if r == "" {
		return "devel"
	}
	return r
}

// shellJoin quotes args for sh.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+@^") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
