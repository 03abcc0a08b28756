package deb

import (
	"context"
	"errors"
	"fmt"

	"pault.ag/go/debian/control"
)

// SourcePackage is one source package as an archive's Sources index lists
// it: where its files are and their sha256, from a verified release.
type SourcePackage struct {
	Name, Version string
	Directory     string              // pool folder below the archive root
	Files         map[string]FileHash // Checksums-Sha256, by file name
	Archive       Source
}

// URL is where the source package's file name is.
func (s *SourcePackage) URL(name string) string {
	return s.Archive.URI + "/" + s.Directory + "/" + name
}

// ErrNoSource is wrapped when no archive lists a source package version.
var ErrNoSource = errors.New("source package not in the archives")

// FindSource looks name at version up in the Sources indices of every
// source's verified release, in order.
func (a *Archive) FindSource(ctx context.Context, name, version string) (*SourcePackage, error) {
	if a.Offline {
		return nil, fmt.Errorf("looking up source package %s %s: %w", name, version, ErrOffline)
	}
	for _, src := range a.Sources {
		rel, err := a.fetchRelease(ctx, src)
		if err != nil {
			return nil, err
		}
		for _, comp := range src.Components {
			var found *SourcePackage
			err := a.readIndex(ctx, rel, comp+"/source/Sources", func(p control.Paragraph) error {
				if found != nil || p.Values["Package"] != name || p.Values["Version"] != version {
					return nil
				}
				sp, err := sourcePackageOf(p, src)
				found = sp
				return err
			})
			if err != nil {
				return nil, err
			}
			if found != nil {
				return found, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s %s", ErrNoSource, name, version)
}

func sourcePackageOf(p control.Paragraph, src Source) (*SourcePackage, error) {
	sp := &SourcePackage{Name: p.Values["Package"], Version: p.Values["Version"], Directory: p.Values["Directory"], Archive: src}
	if !validPoolPath(sp.Directory) {
		return nil, fmt.Errorf("source %s %s: Directory %q is not a path inside the archive", sp.Name, sp.Version, sp.Directory)
	}
	files, err := parseChecksums(p.Values["Checksums-Sha256"])
	if err != nil {
		return nil, fmt.Errorf("source %s %s: Checksums-Sha256: %w", sp.Name, sp.Version, err)
	}
	for n := range files {
		if !validPoolPath(n) || len(n) == 0 || containsSlash(n) {
			return nil, fmt.Errorf("source %s %s: file name %q", sp.Name, sp.Version, n)
		}
	}
	sp.Files = files
	return sp, nil
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}
