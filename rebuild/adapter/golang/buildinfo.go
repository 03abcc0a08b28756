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
	info.goVersion, _, _ = strings.Cut(bi.GoVersion, " ")
	info.toolchainCmd = bi.Main.Path == "" && strings.HasPrefix(bi.Path, "cmd/")
	return info, nil
}

// commitRe is a full git commit id (SHA-1, or SHA-256 repositories).
var commitRe = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// check refuses build info this adapter cannot rebuild from, or that is
// damaged: its values end up in a shell script.
func (b *buildInfo) check(note func(string, ...any)) error {
	if strings.Contains(b.goVersion, "devel") || !strings.HasPrefix(b.goVersion, "go") {
		return fmt.Errorf("built with Go %q, which is not a released toolchain reprove can fetch; write a manifest by hand", b.GoVersion)
	}
	if b.Path == "" || b.Path == "command-line-arguments" || (b.Main.Path == "" && !b.toolchainCmd) {
		return fmt.Errorf("built from files named on the command line (path %q), not from a package: the build info does not say which files; write a manifest by hand", b.Path)
	}
	if err := module.CheckImportPath(b.Path); err != nil {
		return fmt.Errorf("build info package path %q is not a Go import path (%v): the build info is damaged or forged", b.Path, err)
	}
	if b.Main.Path != "" {
		if err := module.CheckImportPath(b.Main.Path); err != nil {
			return fmt.Errorf("build info main module path %q is not a Go module path (%v): the build info is damaged or forged", b.Main.Path, err)
		}
	}
	if r := b.set["vcs.revision"]; r != "" && !commitRe.MatchString(r) {
		return fmt.Errorf("build info vcs.revision %q is not a full git commit id: the build info is damaged or forged", r)
	}
	if c := b.set["-compiler"]; c != "" && c != "gc" {
		return fmt.Errorf("built with -compiler=%s; only gc builds are inferred", c)
	}
	if b.toolchainCmd {
		note("build info: %s, package %s of the Go distribution (no main module)", b.GoVersion, b.Path)
	} else {
		note("build info: %s, main module %s %s, package %s", b.GoVersion, b.Main.Path, b.Main.Version, b.Path)
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
