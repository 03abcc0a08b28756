package golang

import (
	"debug/buildinfo"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/mod/module"

	"github.com/reprove/reprove/rebuild/adapter"
)

// buildInfo is a binary's build info with its settings by key.
type buildInfo struct {
	*buildinfo.BuildInfo
	set       map[string]string
	goVersion string // go1.26.2, without the experiments suffix
	// experiments are the GOEXPERIMENT the toolchain recorded in the Go
	// version (go1.26.2-X:nodwarf5 → nodwarf5), "" for none.
	experiments string
	// toolchainCmd: a program of the Go distribution (no main module).
	toolchainCmd bool
}

// readBuildInfo reads the build info of the binary at path, or says it has
// none (ErrNotApplicable).
func readBuildInfo(path string) (*buildInfo, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: no Go build info (%v): %w", path, err, adapter.ErrNotApplicable)
	}
	info := &buildInfo{BuildInfo: bi, set: map[string]string{}}
	for _, s := range bi.Settings {
		info.set[s.Key] = s.Value
	}
	info.goVersion, info.experiments = splitGoVersion(bi.GoVersion)
	info.toolchainCmd = bi.Main.Path == "" && strings.HasPrefix(bi.Path, "cmd/")
	return info, nil
}

// splitGoVersion splits a binary's Go version into the release and the
// experiments the linker appended: "go1.26.2-X:nodwarf5" (a release) or
// "go1.27rc1 X:a,b" (a version with a '-' already; go.dev/issue/75953).
func splitGoVersion(v string) (release, experiments string) {
	if i := strings.Index(v, "-X:"); i >= 0 {
		return v[:i], v[i+len("-X:"):]
	}
	if i := strings.Index(v, " X:"); i >= 0 {
		return v[:i], v[i+len(" X:"):]
	}
	release, _, _ = strings.Cut(v, " ")
	return release, ""
}

// commitRe is a full git commit id (SHA-1, or SHA-256 repositories).
var commitRe = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// goRelease is a Go release version: go1.21.0, go1.26rc1.
var goRelease = regexp.MustCompile(`^go1\.[0-9]+(\.[0-9]+|rc[0-9]+|beta[0-9]+)?$`)

// experimentsRe is what a GOEXPERIMENT list may hold.
var experimentsRe = regexp.MustCompile(`^[a-z0-9]+(,[a-z0-9]+)*$`)

// cannot says the build info is not enough to infer a manifest from.
func cannot(format string, args ...any) error {
	return fmt.Errorf("%w: %s", adapter.ErrCannotInfer, fmt.Sprintf(format, args...))
}

// check refuses build info this adapter cannot rebuild from, or that is
// damaged: its values end up in a shell script.
func (b *buildInfo) check(note func(string, ...any)) error {
	if strings.Contains(b.goVersion, "devel") || !strings.HasPrefix(b.goVersion, "go") || !goRelease.MatchString(b.goVersion) {
		return cannot("built with Go %q, which is not a released toolchain reprove can fetch; write a manifest by hand", b.GoVersion)
	}
	if b.experiments != "" && !experimentsRe.MatchString(b.experiments) {
		return cannot("Go version %q: experiments %q are not a GOEXPERIMENT list: the build info is damaged or forged", b.GoVersion, b.experiments)
	}
	if b.Path == "" || b.Path == "command-line-arguments" {
		return cannot("built from files named on the command line (path %q), not from a package: the build info does not say which files; write a manifest by hand", b.Path)
	}
	if b.Main.Path == "" && !b.toolchainCmd {
		return cannot("built in GOPATH mode (package %s, no main module): its dependencies are not recorded; this looks like a distribution build (a Debian package, say); write a manifest by hand", b.Path)
	}
	if err := module.CheckImportPath(b.Path); err != nil {
		return cannot("build info package path %q is not a Go import path (%v): the build info is damaged or forged", b.Path, err)
	}
	if b.Main.Path != "" {
		if err := module.CheckImportPath(b.Main.Path); err != nil {
			return cannot("build info main module path %q is not a Go module path (%v): the build info is damaged or forged", b.Main.Path, err)
		}
	}
	if r := b.set["vcs.revision"]; r != "" && !commitRe.MatchString(r) {
		return cannot("build info vcs.revision %q is not a full git commit id: the build info is damaged or forged", r)
	}
	if c := b.set["-compiler"]; c != "" && c != "gc" {
		return cannot("built with -compiler=%s; only gc builds are inferred", c)
	}
	if b.toolchainCmd {
		note("build info: %s, package %s of the Go distribution (no main module)", b.GoVersion, b.Path)
	} else {
		note("build info: %s, main module %s %s, package %s", b.GoVersion, b.Main.Path, b.Main.Version, b.Path)
	}
	if b.experiments != "" {
		note("Go version %s: release %s with GOEXPERIMENT=%s", b.GoVersion, b.goVersion, b.experiments)
	}
	return nil
}

// pkgRel is the package's folder relative to the build's working folder:
// the main module root, or $GOROOT/src/cmd's parent for a distribution
// program (built as cmd/NAME).
func (b *buildInfo) pkgRel() (string, error) {
	switch {
	case b.toolchainCmd:
		return b.Path, nil
	case b.Path == b.Main.Path:
		return ".", nil
	}
	rel, ok := strings.CutPrefix(b.Path, b.Main.Path+"/")
	if !ok {
		return "", fmt.Errorf("package %s is not inside main module %s; write a manifest by hand", b.Path, b.Main.Path)
	}
	return "./" + rel, nil
}

// stampValues are values a release commonly stamps with -X, most specific first.
func (b *buildInfo) stampValues() []string {
	var out []string
	add := func(s string) {
		if len(s) >= 5 {
			out = append(out, s)
		}
	}
	if v := b.Main.Version; v != "" && v != "(devel)" {
		add(v)
		add(strings.TrimPrefix(v, "v"))
	}
	if r := b.set["vcs.revision"]; r != "" {
		add(r)
		if len(r) > 12 {
			add(r[:12])
		}
		if len(r) > 7 {
			add(r[:7])
		}
	}
	return out
}

// target is the platform the binary was built for.
func (b *buildInfo) target() target {
	t := target{goos: b.set["GOOS"], goarch: b.set["GOARCH"], goamd64: b.set["GOAMD64"]}
	if t.goamd64 == "" {
		t.goamd64 = "v1"
	}
	return t
}

// checkKind says what kind of check the rebuild makes, for the report.
func (b *buildInfo) checkKind() string {
	if b.toolchainCmd {
		return fmt.Sprintf("%s of %s rebuilt by the go command of that same toolchain release: a self-consistency check, not an independent rebuild (verify %s with no #member to rebuild the whole distribution from a bootstrap toolchain)",
			b.Path, b.goVersion, toolchainURI(b.goVersion))
	}
	return fmt.Sprintf("rebuilt from its source with the %s toolchain its build info names", b.goVersion)
}
