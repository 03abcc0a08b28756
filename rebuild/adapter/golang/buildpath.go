package golang

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"golang.org/x/mod/module"
)

// A build without -trimpath records the folders it ran in: file names in
// the binary's line table are absolute ($GOROOT/src/runtime/proc.go, the
// module's own files, the module cache's). A rebuild matches only in the
// same folders, so they are read off the binary and used.

// buildPaths are the folders a binary built without -trimpath reveals.
type buildPaths struct {
	goroot   string // the toolchain's GOROOT
	module   string // the main module's root
	modcache string // GOMODCACHE
}

// safePathRe is what a revealed folder may look like to be used as a mount
// point and in a script.
var safePathRe = regexp.MustCompile(`^(/[A-Za-z0-9._+@=,-]+)+$`)

// revealPaths reads the folders from the binary's file names (NUL
// terminated in its line table).
func revealPaths(f binaryFacts, b *buildInfo) buildPaths {
	var p buildPaths
	find := func(suffix string) string {
		re := regexp.MustCompile("\x00(/[^\x00]{0,1000}?)" + regexp.QuoteMeta(suffix))
		m := re.FindSubmatch(f.scrubbed)
		if m == nil {
			return ""
		}
		s := path.Clean(string(m[1]))
		if !safePathRe.MatchString(s) || strings.Contains("/"+s+"/", "/../") {
			return ""
		}
		return s
	}
	p.goroot = find("/src/runtime/proc.go\x00")
	if rel, err := b.pkgRel(); err == nil && !b.toolchainCmd {
		// The module root is what precedes the package's folder in its
		// files' names; a package at the root is found by its main.go.
		dir := strings.TrimPrefix(strings.TrimPrefix(path.Clean(rel), "."), "/")
		suffix := "/" + dir + "/"
		if dir == "" {
			suffix = "/main.go\x00"
		}
		p.module = find(suffix)
		if p.goroot != "" && strings.HasPrefix(p.module, p.goroot+"/") || strings.Contains(p.module, "@") {
			p.module = ""
		}
	}
	for _, d := range b.Deps {
		esc, err := module.EscapePath(d.Path)
		if err != nil {
			continue
		}
		if mc := find("/" + esc + "@" + d.Version + "/"); mc != "" {
			p.modcache = mc
			break
		}
	}
	return p
}

// underTmp says whether a folder can be made by the build (the builder's
// root file system is read-only but for /tmp and /out).
func underTmp(p string) bool { return strings.HasPrefix(p, "/tmp/") }

// atBuildPaths places the rebuild where the original build ran, for a
// binary built without -trimpath, and says so.
func (r *recipe) atBuildPaths() {
	if r.info.set["-trimpath"] == "true" || !r.facts.ELF {
		return
	}
	p := revealPaths(r.facts, r.info)
	switch {
	case p.goroot == "" || p.goroot == r.toolchain:
	case underTmp(p.goroot) || p.goroot == "/tmp" || p.goroot == "/out" || strings.HasPrefix(p.goroot, "/out/"):
		r.note("built without -trimpath in GOROOT %s, where the sandbox mounts nothing: the toolchain's file names will differ", p.goroot)
	default:
		r.note("built without -trimpath in GOROOT %s (from the binary's file names): the toolchain is mounted there", p.goroot)
		r.toolchain = p.goroot
	}
	if p.modcache != "" {
		if underTmp(p.modcache) {
			r.note("built without -trimpath with GOMODCACHE %s (from the binary's file names): the rebuild uses it", p.modcache)
			r.env["GOMODCACHE"] = p.modcache
		} else {
			r.note("built without -trimpath with GOMODCACHE %s, which the read-only builder cannot create: the rebuild's module file names will differ", p.modcache)
		}
	}
	if p.module != "" {
		r.module = p.module
		r.note("built without -trimpath in %s (from the binary's file names): the source is placed there", p.module)
	}
}

func (p buildPaths) String() string {
	return fmt.Sprintf("GOROOT %q, module %q, GOMODCACHE %q", p.goroot, p.module, p.modcache)
}
