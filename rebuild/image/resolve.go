package image

import (
	"context"
	"fmt"
	"strings"

	"github.com/reprove/reprove/rebuild/fetch/deb"
)

// HelperPackage is the package the maintainer-script step runs in: a
// static shell with chroot, resolved and pinned with every image.
const HelperPackage = "busybox-static"

// Resolve pins the recipe's packages against the archives' verified
// indices: their dependencies too unless the recipe is exact.
func Resolve(ctx context.Context, r *Recipe, a *deb.Archive) (*Lock, error) {
	idx, err := a.Index(ctx)
	if err != nil {
		return nil, err
	}
	return ResolveIn(idx, r)
}

// ResolveIn pins the recipe's packages in an index already read.
func ResolveIn(idx *deb.Index, r *Recipe) (*Lock, error) {
	var pkgs []*deb.Package
	if r.Exact {
		found, missing := idx.ResolveExact(r.Packages)
		if len(missing) > 0 {
			return nil, fmt.Errorf("%w: not in the archives: %s; an older version needs --debian-snapshot", deb.ErrUnresolved, strings.Join(missing, ", "))
		}
		pkgs = found
	} else {
		var err error
		pkgs, err = idx.Resolve(deb.Request{Packages: r.Packages, Essential: *r.Essential, Prefer: []string{"usr-is-merged"}})
		if err != nil {
			return nil, err
		}
	}
	helper, err := idx.Resolve(deb.Request{Packages: []string{HelperPackage}})
	if err != nil || len(helper) != 1 {
		return nil, fmt.Errorf("the maintainer-script step needs %s from the archive: %v", HelperPackage, err)
	}
	l := &Lock{Suite: r.Suite, Architecture: r.Architecture, Request: r.request(), Helper: lockedOf(helper[0])}
	for _, p := range pkgs {
		l.Packages = append(l.Packages, lockedOf(p))
	}
	for _, rel := range idx.Releases {
		how := "NOT verified: no Debian archive keyring on this machine (install debian-archive-keyring)"
		if rel.Verified != "" {
			how = "signature verified with " + rel.Verified
		}
		l.Notes = append(l.Notes, fmt.Sprintf("from %s (InRelease %s, %s)", rel.Source, rel.Digest, how))
	}
	return l, nil
}

func refOf(l Locked) deb.Ref {
	return deb.Ref{Name: l.Name, Version: l.Version, SHA256: l.SHA256, Size: l.Size, Filename: l.Filename}
}
