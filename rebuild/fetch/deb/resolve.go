package deb

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"pault.ag/go/debian/dependency"
	"pault.ag/go/debian/version"
)

// ErrUnresolved is wrapped when a package set cannot be resolved.
var ErrUnresolved = errors.New("packages not resolvable")

// Request is a package set to resolve.
type Request struct {
	// Packages are NAME (the highest version) or NAME=VERSION.
	Packages []string
	// Essential adds every Essential: yes package, as any Debian system has.
	Essential bool
	// Prefer names packages chosen first among the alternatives of a
	// relation (usr-is-merged on a merged-/usr system).
	Prefer []string
	// Relations are relation fields to satisfy as a source package's
	// Build-Depends are: alternatives restricted to other architectures
	// (Arch) and those needing a build profile are left out.
	Relations []string
	Arch      string
}

// Resolve picks a version of every requested package and, through Depends
// and Pre-Depends, of everything they need, the way apt would on an empty
// system: the highest version, the first alternative that can be had, a
// provider already chosen for a virtual package (else the first by name).
// Conflicts are not checked: the set is installed by dpkg afterwards,
// which refuses a broken one. The result is sorted by name.
func (idx *Index) Resolve(req Request) ([]*Package, error) {
	r := &resolver{idx: idx, chosen: map[string]*Package{}, prefer: map[string]bool{}}
	for _, p := range req.Prefer {
		r.prefer[p] = true
	}
	var queue []*Package
	want := append([]string(nil), req.Packages...)
	if req.Essential {
		want = append(want, idx.essentialNames()...)
	}
	for _, w := range want {
		p, err := r.requested(w)
		if err != nil {
			return nil, err
		}
		if r.choose(p) {
			queue = append(queue, p)
		}
	}
	for _, field := range req.Relations {
		added, err := r.buildRelations(field, req.Arch)
		if err != nil {
			return nil, err
		}
		queue = append(queue, added...)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		deps, err := r.needs(p)
		if err != nil {
			return nil, err
		}
		queue = append(queue, deps...)
	}
	return r.sorted(), nil
}

type resolver struct {
	idx    *Index
	chosen map[string]*Package
	prefer map[string]bool
}

func (idx *Index) essentialNames() []string {
	var names []string
	for name, ps := range idx.byName {
		if len(ps) > 0 && ps[0].Essential {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// requested finds NAME or NAME=VERSION.
func (r *resolver) requested(w string) (*Package, error) {
	name, ver, pinned := strings.Cut(strings.TrimSpace(w), "=")
	ps := r.idx.byName[name]
	if len(ps) == 0 {
		if prov := r.idx.provides[name]; len(prov) > 0 && !pinned {
			return prov[0], nil
		}
		return nil, fmt.Errorf("%w: no package %s in the archives (%s)", ErrUnresolved, name, r.idx.describe())
	}
	if !pinned {
		return ps[0], nil
	}
	if p := r.idx.Find(name, ver); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %s %s is not in the archives, which have %s; an older version needs --debian-snapshot", ErrUnresolved, name, ver, versionList(ps))
}

func (r *resolver) choose(p *Package) bool {
	if _, ok := r.chosen[p.Name]; ok {
		return false
	}
	r.chosen[p.Name] = p
	return true
}

// needs chooses a package for every relation of p's Pre-Depends and
// Depends that the chosen set does not satisfy yet, and returns them.
func (r *resolver) needs(p *Package) ([]*Package, error) {
	var added []*Package
	for _, field := range []string{p.PreDepends, p.Depends} {
		if strings.TrimSpace(field) == "" {
			continue
		}
		dep, err := dependency.Parse(field)
		if err != nil {
			return nil, fmt.Errorf("%s %s: bad relation %q: %w", p.Name, p.Version, field, err)
		}
		for _, rel := range dep.Relations {
			if r.satisfied(rel) {
				continue
			}
			c := r.candidate(rel)
			if c == nil {
				return nil, fmt.Errorf("%w: %s %s needs %s, which no archive provides", ErrUnresolved, p.Name, p.Version, rel.String())
			}
			if r.choose(c) {
				added = append(added, c)
			}
		}
	}
	return added, nil
}

// buildRelations chooses a package for each relation of a build
// dependency field, as dpkg-checkbuilddeps reads them.
func (r *resolver) buildRelations(field, arch string) ([]*Package, error) {
	dep, err := dependency.Parse(field)
	if err != nil {
		return nil, fmt.Errorf("build dependencies %q: %w", field, err)
	}
	target, err := dependency.ParseArch(arch)
	if err != nil {
		return nil, fmt.Errorf("architecture %q: %w", arch, err)
	}
	var added []*Package
	for _, rel := range dep.Relations {
		var keep dependency.Relation
		for _, poss := range rel.Possibilities {
			if (poss.Architectures == nil || poss.Architectures.Matches(target)) && noProfileNeeded(poss) {
				poss.Arch = nil
				keep.Possibilities = append(keep.Possibilities, poss)
			}
		}
		if len(keep.Possibilities) == 0 || r.satisfied(keep) {
			continue
		}
		c := r.candidate(keep)
		if c == nil {
			return nil, fmt.Errorf("%w: the build needs %s, which no archive provides", ErrUnresolved, keep.String())
		}
		if r.choose(c) {
			added = append(added, c)
		}
	}
	return added, nil
}

// noProfileNeeded: the alternative applies when no build profile is active
// (its restriction lists have no positive profile, or one that is met).
func noProfileNeeded(p dependency.Possibility) bool {
	if len(p.StageSets) == 0 {
		return true
	}
	for _, set := range p.StageSets {
		ok := true
		for _, st := range set.Stages {
			ok = ok && st.Not
		}
		if ok {
			return true
		}
	}
	return false
}

func (r *resolver) satisfied(rel dependency.Relation) bool {
	for _, poss := range rel.Possibilities {
		if p := r.chosen[poss.Name]; p != nil && versionOK(poss.Version, p.ver) {
			return true
		}
		for _, prov := range r.idx.provides[poss.Name] {
			if r.chosen[prov.Name] == prov && provideOK(prov, poss) {
				return true
			}
		}
	}
	return false
}

// candidate is the package apt would install for rel: the first
// alternative with a version that fits, else its first provider.
func (r *resolver) candidate(rel dependency.Relation) *Package {
	for _, poss := range rel.Possibilities {
		if !r.prefer[poss.Name] {
			continue
		}
		for _, p := range r.idx.byName[poss.Name] {
			if versionOK(poss.Version, p.ver) {
				return p
			}
		}
	}
	for _, poss := range rel.Possibilities {
		for _, p := range r.idx.byName[poss.Name] {
			if versionOK(poss.Version, p.ver) {
				return p
			}
		}
		for _, prov := range r.idx.provides[poss.Name] {
			if provideOK(prov, poss) && (r.chosen[prov.Name] == nil || r.chosen[prov.Name] == prov) {
				return prov
			}
		}
	}
	return nil
}

func versionOK(rel *dependency.VersionRelation, v version.Version) bool {
	return rel == nil || rel.SatisfiedBy(v)
}

// provideOK: prov's Provides satisfies poss (a versioned relation needs a
// versioned Provides).
func provideOK(prov *Package, poss dependency.Possibility) bool {
	dep, err := dependency.Parse(prov.Provides)
	if err != nil {
		return false
	}
	for _, rel := range dep.Relations {
		for _, pp := range rel.Possibilities {
			if pp.Name != poss.Name {
				continue
			}
			if poss.Version == nil {
				return true
			}
			if pp.Version == nil || pp.Version.Operator != "=" {
				continue
			}
			if v, err := version.Parse(pp.Version.Number); err == nil && poss.Version.SatisfiedBy(v) {
				return true
			}
		}
	}
	return false
}

func providedNames(provides string) []string {
	dep, err := dependency.Parse(provides)
	if err != nil {
		return nil
	}
	var names []string
	for _, rel := range dep.Relations {
		for _, pp := range rel.Possibilities {
			names = append(names, pp.Name)
		}
	}
	return names
}

func (r *resolver) sorted() []*Package {
	out := make([]*Package, 0, len(r.chosen))
	for _, p := range r.chosen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ResolveExact finds every NAME=VERSION of list (an exact set, such as a
// .buildinfo's Installed-Build-Depends) without adding dependencies, and
// returns the names it could not find with their versions.
func (idx *Index) ResolveExact(list []string) (found []*Package, missing []string) {
	for _, w := range list {
		name, ver, _ := strings.Cut(w, "=")
		if p := idx.Find(name, ver); p != nil {
			found = append(found, p)
		} else {
			missing = append(missing, w)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found, missing
}

func versionList(ps []*Package) string {
	var vs []string
	for _, p := range ps {
		vs = append(vs, p.Version)
	}
	return strings.Join(vs, ", ")
}

func (idx *Index) describe() string {
	var names []string
	for _, r := range idx.Releases {
		names = append(names, r.Source.String())
	}
	return strings.Join(names, "; ")
}
