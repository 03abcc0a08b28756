package diff

import (
	"debug/buildinfo"
	"fmt"
	"runtime/debug"
	"strings"
)

// Go build information (debug/buildinfo): the Go version, main module,
// dependencies and build settings recorded in a Go binary. It is compared
// inside ELF binaries as one more aspect, shown like `go version -m`.

func goBuildInfoLines(in *input) ([]string, *debug.BuildInfo) {
	bi, err := safeBuildInfo(in)
	if err != nil {
		return nil, nil
	}
	out := []string{"go\t" + bi.GoVersion, "path\t" + bi.Path}
	mod := func(kind string, m *debug.Module) {
		if m == nil || m.Path == "" {
			return
		}
		out = append(out, strings.TrimRight(fmt.Sprintf("%s\t%s\t%s\t%s", kind, m.Path, m.Version, m.Sum), "\t"))
		if m.Replace != nil {
			out = append(out, strings.TrimRight(fmt.Sprintf("=>\t%s\t%s\t%s", m.Replace.Path, m.Replace.Version, m.Replace.Sum), "\t"))
		}
	}
	mod("mod", &bi.Main)
	for _, d := range bi.Deps {
		mod("dep", d)
	}
	for _, s := range bi.Settings {
		out = append(out, "build\t"+s.Key+"="+s.Value)
	}
	return out, bi
}

func safeBuildInfo(in *input) (bi *debug.BuildInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading Go build info: %v", r)
		}
	}()
	return buildinfo.Read(in.reader())
}

// compareGoBuildInfo returns a node when both binaries carry Go build info
// and it differs, with causes: toolchain, module versions, build settings.
func compareGoBuildInfo(c *comparer, a, b *input) *Node {
	la, bia := goBuildInfoLines(a)
	lb, bib := goBuildInfoLines(b)
	if (bia == nil && bib == nil) || equalStrings(la, lb) {
		return nil
	}
	n := newNode(a, b, KindContent, "go-buildinfo")
	n.Name1, n.Name2 = "go version -m {}", "go version -m {}"
	n.Source1, n.Source2 = a.name+" [go build info]", b.name+" [go build info]"
	if bia == nil || bib == nil {
		n.Comments = append(n.Comments, "Go build information present on one side only")
	}
	c.linesDiff(n, la, lb, false)
	ma := map[string]bool{}
	for _, l := range la {
		ma[l] = true
	}
	mb := map[string]bool{}
	for _, l := range lb {
		mb[l] = true
	}
	var changed []string
	for _, l := range la {
		if !mb[l] {
			changed = append(changed, l)
		}
	}
	for _, l := range lb {
		if !ma[l] {
			changed = append(changed, l)
		}
	}
	dirtyOnly := stripDirty(firstWithPrefix(la, "mod\t")) == stripDirty(firstWithPrefix(lb, "mod\t"))
	for _, l := range changed {
		ev := strings.ReplaceAll(l, "\t", " ")
		switch {
		case strings.HasPrefix(l, "go\t"):
			addCause(n, CauseGoToolchain, ev)
		case strings.HasPrefix(l, "mod\t") && dirtyOnly,
			strings.HasPrefix(l, "build\tvcs.modified="):
			// The main module's version differs only by the +dirty that
			// go adds for a checkout with uncommitted changes.
			if !hasCause(n, CauseGoVCSModified) {
				n.Comments = append(n.Comments, "vcs.modified=true on one side: that binary was built from a checkout with uncommitted changes, so its recorded commit is not its whole source")
			}
			addCause(n, CauseGoVCSModified, ev)
		case strings.HasPrefix(l, "dep\t"), strings.HasPrefix(l, "mod\t"), strings.HasPrefix(l, "=>\t"), strings.HasPrefix(l, "path\t"):
			addCause(n, CauseGoModuleVersions, ev)
		case strings.HasPrefix(l, "build\t"):
			addCause(n, CauseGoBuildSettings, ev)
			if strings.HasPrefix(l, "build\tvcs.time=") {
				addCause(n, CauseTimestamps, ev)
			}
		}
	}
	return n
}

func firstWithPrefix(lines []string, prefix string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// stripDirty removes the +dirty (or .dirty after +incompatible) that go
// appends to the main module's version for a modified checkout.
func stripDirty(modLine string) string {
	f := strings.Split(strings.TrimSuffix(modLine, "\n"), "\t")
	if len(f) >= 3 {
		f[2] = strings.TrimSuffix(strings.TrimSuffix(f[2], "+dirty"), ".dirty")
	}
	return strings.Join(f, "\t")
}
