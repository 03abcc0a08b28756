package deb

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	"pault.ag/go/debian/control"
	"pault.ag/go/debian/version"

	"github.com/reprove/reprove/diff/archive"
)

// Package is one binary package as an archive's Packages index lists it.
type Package struct {
	Name         string
	Version      string
	Architecture string
	MultiArch    string
	Essential    bool
	Priority     string
	Depends      string // the raw relation fields
	PreDepends   string
	Provides     string
	Source       string // the source package, when it is named otherwise
	Filename     string // pool path below the archive root
	Size         int64
	SHA256       string // hex

	ver     version.Version
	archive Source // where Filename is
}

// ID is "NAME VERSION ARCH".
func (p *Package) ID() string { return p.Name + " " + p.Version + " " + p.Architecture }

// Archive is the archive the package was listed in.
func (p *Package) Archive() Source { return p.archive }

// URL is where the .deb is.
func (p *Package) URL() string { return p.archive.URI + "/" + p.Filename }

// Digest is the .deb's sha256 as a digest.
func (p *Package) Digest() digest.Digest {
	return digest.NewDigestFromEncoded(digest.SHA256, p.SHA256)
}

// SourceName is the source package's name (the Source field without its
// version, or the binary's own name).
func (p *Package) SourceName() string {
	if p.Source == "" {
		return p.Name
	}
	name, _, _ := strings.Cut(p.Source, " ")
	return name
}

// Index is every package of a set of archives, by name.
type Index struct {
	byName   map[string][]*Package // highest version first
	provides map[string][]*Package // virtual name → providers
	Releases []*Release            // the release files the index was read from
}

// maxIndex bounds an uncompressed index: bookworm's main amd64 Packages is
// about 45 MiB.
const maxIndex = 1 << 30

// loadPackages fetches one component's Packages index of a verified
// release (by its sha256, so a cached copy is reused) and adds it to idx.
func (a *Archive) loadPackages(ctx context.Context, idx *Index, rel *Release, comp string) error {
	base := comp + "/binary-" + a.Arch + "/Packages"
	return a.readIndex(ctx, rel, base, func(p control.Paragraph) error {
		pkg, err := packageOf(p)
		if err != nil {
			return err
		}
		if pkg.Architecture != a.Arch && pkg.Architecture != "all" {
			return nil
		}
		pkg.archive = rel.Source
		idx.add(pkg)
		return nil
	})
}

// readIndex fetches the best-compressed form of the index at base (below
// dists/SUITE/) the release lists, checks it against the release's sha256,
// and calls fn for each paragraph.
func (a *Archive) readIndex(ctx context.Context, rel *Release, base string, fn func(control.Paragraph) error) error {
	name, fh, ok := "", FileHash{}, false
	for _, ext := range []string{".xz", ".gz", ""} {
		if fh, ok = rel.Files[base+ext]; ok {
			name = base + ext
			break
		}
	}
	if !ok {
		return fmt.Errorf("%s: the release file lists no %s index", rel.Source, base)
	}
	url := rel.Source.URI + "/dists/" + rel.Source.Suite + "/" + name
	if rel.ByHash {
		url = rel.Source.URI + "/dists/" + rel.Source.Suite + "/" + path.Dir(name) + "/by-hash/SHA256/" + fh.SHA256
	}
	blob, err := a.blob(ctx, url, digest.NewDigestFromEncoded(digest.SHA256, fh.SHA256), fh.Size)
	if err != nil {
		return err
	}
	return a.parseIndexFile(blob.Path, name, fn)
}

// parseIndexFile decompresses an index through diff/archive (under the
// limits) and calls fn for each paragraph.
func (a *Archive) parseIndexFile(p, name string, fn func(control.Paragraph) error) error {
	rc, err := openDecompressed(p, name, a.Limits)
	if err != nil {
		return err
	}
	defer rc.Close()
	pr, err := control.NewParagraphReader(bufio.NewReaderSize(io.LimitReader(rc, maxIndex), 1<<20), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for {
		para, err := pr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := fn(*para); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

// packageOf reads the fields reprove uses from a Packages paragraph.
func packageOf(p control.Paragraph) (*Package, error) {
	v := p.Values
	pkg := &Package{
		Name: v["Package"], Version: v["Version"], Architecture: v["Architecture"], MultiArch: v["Multi-Arch"],
		Essential: strings.EqualFold(v["Essential"], "yes"), Priority: v["Priority"],
		Depends: v["Depends"], PreDepends: v["Pre-Depends"], Provides: v["Provides"], Source: v["Source"],
		Filename: v["Filename"], SHA256: strings.ToLower(v["SHA256"]),
	}
	if !validName(pkg.Name) {
		return nil, fmt.Errorf("package name %q is not a Debian package name", pkg.Name)
	}
	var err error
	if pkg.ver, err = version.Parse(pkg.Version); err != nil {
		return nil, fmt.Errorf("package %s: version %q: %w", pkg.Name, pkg.Version, err)
	}
	if pkg.Size, err = strconv.ParseInt(v["Size"], 10, 64); err != nil || pkg.Size < 0 {
		return nil, fmt.Errorf("package %s %s: bad Size %q", pkg.Name, pkg.Version, v["Size"])
	}
	if err := digest.NewDigestFromEncoded(digest.SHA256, pkg.SHA256).Validate(); err != nil {
		return nil, fmt.Errorf("package %s %s: SHA256 %q is not a sha256", pkg.Name, pkg.Version, pkg.SHA256)
	}
	if !validPoolPath(pkg.Filename) {
		return nil, fmt.Errorf("package %s %s: Filename %q is not a path inside the archive", pkg.Name, pkg.Version, pkg.Filename)
	}
	return pkg, nil
}

// validName: lowercase letters, digits, + - . (Debian policy 5.6.1).
func validName(n string) bool {
	if len(n) < 2 || len(n) > 256 {
		return false
	}
	for i, r := range n {
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || (i > 0 && (r == '+' || r == '-' || r == '.'))
		if !ok {
			return false
		}
	}
	return true
}

// validPoolPath: a relative path without "..", as pool paths are.
func validPoolPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\?#") {
		return false
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

func (idx *Index) add(p *Package) {
	if idx.byName == nil {
		idx.byName, idx.provides = map[string][]*Package{}, map[string][]*Package{}
	}
	for _, have := range idx.byName[p.Name] {
		if have.Version == p.Version && have.Architecture == p.Architecture {
			return // the same version in a second suite: the first listed wins
		}
	}
	idx.byName[p.Name] = append(idx.byName[p.Name], p)
	if p.Provides != "" {
		for _, name := range providedNames(p.Provides) {
			idx.provides[name] = append(idx.provides[name], p)
		}
	}
}

// sort orders every name's versions highest first, once all are added.
func (idx *Index) sort() {
	for _, ps := range idx.byName {
		sort.SliceStable(ps, func(i, j int) bool { return version.Compare(ps[i].ver, ps[j].ver) > 0 })
	}
	for _, ps := range idx.provides {
		sort.SliceStable(ps, func(i, j int) bool {
			if pi, pj := priorityRank(ps[i].Priority), priorityRank(ps[j].Priority); pi != pj {
				return pi < pj
			}
			if ps[i].Name != ps[j].Name {
				return ps[i].Name < ps[j].Name
			}
			return version.Compare(ps[i].ver, ps[j].ver) > 0
		})
	}
}

// priorityRank orders providers as apt prefers them: required first.
func priorityRank(p string) int {
	switch p {
	case "required":
		return 0
	case "important":
		return 1
	case "standard":
		return 2
	case "optional":
		return 3
	}
	return 4
}

// Versions returns the versions of name the index holds, highest first.
func (idx *Index) Versions(name string) []*Package { return idx.byName[name] }

// Find returns the package name at exactly version v, or nil.
func (idx *Index) Find(name, v string) *Package {
	for _, p := range idx.byName[name] {
		if p.Version == v {
			return p
		}
	}
	return nil
}

// Len is the number of packages in the index.
func (idx *Index) Len() int {
	n := 0
	for _, ps := range idx.byName {
		n += len(ps)
	}
	return n
}

// openDecompressed opens an index file, peeling its compression (found by
// content) through diff/archive under lim.
func openDecompressed(p, name string, lim archive.Limits) (io.ReadCloser, error) {
	f, err := openFile(p)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(archive.HeadSize)
	c := archive.DetectCompression(head)
	if c == archive.None {
		return readCloser{br, f}, nil
	}
	rc, err := archive.Decompress(c, br, name, lim)
	if err != nil {
		f.Close()
		return nil, err
	}
	return readCloser{rc, multiCloser{rc, f}}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var first error
	for _, c := range m {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
