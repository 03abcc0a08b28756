package debian

import (
	"context"
	"fmt"
	"strings"

	"pault.ag/go/debian/control"

	"github.com/reprove/reprove/rebuild/fetch/deb"
)

// deriveBuildInfo makes the .buildinfo the published build would have
// had if it ran today: today's archive versions of its build
// dependencies (with build-essential and the Essential set), a build path
// of reprove's choosing, and the environment dpkg-buildpackage sets. Each
// guess is named in the result's approximated list.
func (x *inference) deriveBuildInfo(ctx context.Context, dsc control.Paragraph) error {
	flag, fields := "-B", []string{"Build-Depends", "Build-Depends-Arch"}
	if x.arch == "all" {
		flag, fields = "-A", []string{"Build-Depends", "Build-Depends-Indep"}
	}
	var rels []string
	for _, f := range fields {
		if v := strings.TrimSpace(dsc.Values[f]); v != "" {
			rels = append(rels, v)
		}
	}
	idx, err := x.archive.Index(ctx)
	if err != nil {
		return err
	}
	pkgs, err := idx.Resolve(deb.Request{Packages: []string{"build-essential"}, Essential: true, Relations: rels, Arch: x.host, Prefer: []string{"usr-is-merged"}})
	if err != nil {
		return fmt.Errorf("resolving the build dependencies of %s %s: %w", x.srcName, x.srcVersion, err)
	}
	bi := &BuildInfo{Source: x.srcName, Version: x.srcVersion, Architecture: []string{x.arch}, BuildArch: x.host,
		Path:        "/build/reprove/" + x.srcName + "-" + upstreamVersion(x.srcVersion),
		Environment: map[string]string{"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}}
	for _, p := range pkgs {
		bi.Depends = append(bi.Depends, p.Name+"="+p.Version)
	}
	x.bi = bi
	x.approx = append(x.approx,
		fmt.Sprintf("Installed-Build-Depends: today's archive versions of %d packages (Essential, build-essential and %s), not those the published build used", len(pkgs), strings.Join(fields, ", ")),
		"Build-Path: unknown; "+bi.Path+" is used",
		"Environment: unknown; LANG=C.UTF-8 LC_ALL=C.UTF-8, DEB_BUILD_OPTIONS unset, SOURCE_DATE_EPOCH from debian/changelog",
		fmt.Sprintf("built with dpkg-buildpackage %s: the other binaries of %s are not pinned, so only %s is compared", flag, x.srcName, x.debName))
	return nil
}

// upstreamVersion is a Debian version without epoch and revision.
func upstreamVersion(v string) string {
	v = stripEpoch(v)
	if i := strings.LastIndex(v, "-"); i > 0 {
		return v[:i]
	}
	return v
}
