// Package batch verifies many targets over one environment: the nightly job
// reprove's third user runs. It expands TARGET arguments (manifests, folders
// of manifests, list files), runs the verifications in parallel over one
// cache, and writes per-target reports, an index, a summary and one JUnit
// file. It never prints: the caller is told of each outcome.
package batch

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/reprove/reprove/rebuild"
	"github.com/reprove/reprove/rebuild/manifest"
)

// Target is one thing to verify.
type Target struct {
	Ref  string // a manifest path, or an artifact (path or URI, #member)
	Name string // for reports and the output folder
	// Key identifies the target across runs, for history and shards: the
	// manifest's digest, or the artifact reference as given.
	Key string
	// Err is set when the target could not even be read (a bad manifest):
	// it is reported as an error outcome, not dropped.
	Err error
}

// ErrNoTargets is returned when the arguments name nothing to verify.
var ErrNoTargets = errors.New("no targets")

// maxListLines bounds a list file; a longer one is refused.
const maxListLines = 100000

// Expand turns TARGET arguments into targets, in order: a manifest file; a
// folder (every *.yaml, *.yml and *.json manifest directly in it, sorted);
// a list file (*.txt: one manifest path or artifact reference per line, #
// comments, relative paths from the list's folder); or an artifact
// reference. Duplicate targets are kept once.
func Expand(args []string) ([]Target, error) {
	var out []Target
	seen := map[string]bool{}
	add := func(t Target) {
		if !seen[t.Ref] {
			seen[t.Ref] = true
			out = append(out, t)
		}
	}
	for _, a := range args {
		ts, err := expandOne(a)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			add(t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s names no manifest or artifact", ErrNoTargets, strings.Join(args, " "))
	}
	return out, nil
}

func expandOne(arg string) ([]Target, error) {
	fi, err := os.Stat(arg)
	switch {
	case err == nil && fi.IsDir():
		return expandFolder(arg)
	case err == nil && strings.HasSuffix(arg, ".txt"):
		return expandList(arg)
	case err == nil && rebuild.IsManifest(arg):
		return []Target{manifestTarget(arg)}, nil
	}
	return []Target{artifactTarget(arg)}, nil
}

func expandFolder(dir string) ([]Target, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading targets in %s: %w", dir, err)
	}
	var names []string
	for _, e := range ents {
		ext := filepath.Ext(e.Name())
		if e.Type().IsRegular() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []Target
	for _, n := range names {
		p := filepath.Join(dir, n)
		if rebuild.IsManifest(p) {
			out = append(out, manifestTarget(p))
		}
	}
	return out, nil
}

func expandList(list string) ([]Target, error) {
	f, err := os.Open(list)
	if err != nil {
		return nil, fmt.Errorf("reading target list %s: %w", list, err)
	}
	defer f.Close()
	var out []Target
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if n > maxListLines {
			return nil, fmt.Errorf("target list %s: more than %d lines; split it", list, maxListLines)
		}
		line := stripComment(sc.Text())
		if line == "" {
			continue
		}
		if !strings.Contains(line, ":") && !filepath.IsAbs(line) {
			line = filepath.Join(filepath.Dir(list), line)
		}
		ts, err := expandOne(line)
		if err != nil {
			return nil, fmt.Errorf("target list %s, line %d: %w", list, n, err)
		}
		out = append(out, ts...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading target list %s: %w", list, err)
	}
	return out, nil
}

// stripComment removes a # comment: a # at the start of a line or after
// white space (a # right after a reference names a member, ref#member).
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i]
			break
		}
	}
	return strings.TrimSpace(line)
}

// manifestTarget names a manifest target by its manifest; a manifest that
// cannot be read becomes a target carrying its error.
func manifestTarget(p string) Target {
	t := Target{Ref: p, Name: strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)), Key: p}
	if t.Name == "reprove" {
		t.Name = filepath.Base(filepath.Dir(p))
	}
	m, dgst, err := manifest.Load(p)
	if err != nil {
		t.Err = err
		return t
	}
	t.Name, t.Key = m.Name, dgst
	return t
}

// artifactTarget names an artifact target by its last path element.
func artifactTarget(ref string) Target {
	uri, member := rebuild.SplitMember(ref)
	name := member
	if name == "" {
		name = uri
		if i := strings.LastIndexAny(name, "/:"); i >= 0 {
			name = name[i+1:]
		}
	}
	return Target{Ref: ref, Name: path.Base(name), Key: ref}
}

// folderNames gives each target a distinct, file-system-safe folder name.
func folderNames(ts []Target) []string {
	used := map[string]int{}
	out := make([]string, len(ts))
	for i, t := range ts {
		base := safeName(t.Name)
		used[base]++
		if n := used[base]; n > 1 {
			base = fmt.Sprintf("%s-%d", base, n)
		}
		out[i] = base
	}
	return out
}

func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\' || r < ' ' || r == 0x7f || r == ':':
			return '_'
		}
		return r
	}, s)
	if s == "" || s == "." || s == ".." || strings.HasPrefix(s, ".") {
		s = "target" + s
	}
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}
