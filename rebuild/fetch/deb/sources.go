// Package deb reads Debian archives the way apt does, for reprove: the
// machine's apt sources, a suite's InRelease checked against the Debian
// archive keyring, its Packages and Sources indices, dependency resolution,
// and .deb files fetched by sha256 into the cache and unpacked there through
// diff/archive. Nothing here runs apt or dpkg on the host.
package deb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"pault.ag/go/debian/control"
)

// Source is one archive a suite is read from: an apt `deb` entry.
type Source struct {
	URI        string   // the archive root, e.g. what apt's sources name
	Suite      string   // a codename or suite: bookworm, bookworm-security
	Components []string // main, contrib…
	// SignedBy is the keyring file (or an armored key block) the entry
	// names; empty means the Debian archive keyring.
	SignedBy string
	// Snapshot marks an archive frozen at a point in time: its Release
	// file's Valid-Until is not checked.
	Snapshot bool
}

// String is "URI SUITE".
func (s Source) String() string { return s.URI + " " + s.Suite }

// maxSourcesFile bounds one apt sources file.
const maxSourcesFile = 1 << 20

// AptSources reads the `deb` entries of the apt sources under root ("/" for
// the machine's): etc/apt/sources.list and the *.list and *.sources files
// of etc/apt/sources.list.d, in apt's order. Disabled entries and deb-src
// entries are left out.
func AptSources(root string) ([]Source, error) {
	dir := filepath.Join(root, "etc", "apt")
	files := []string{filepath.Join(dir, "sources.list")}
	ents, err := os.ReadDir(filepath.Join(dir, "sources.list.d"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading apt sources: %w", err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".list") || strings.HasSuffix(e.Name(), ".sources") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, filepath.Join(dir, "sources.list.d", n))
	}
	var out []Source
	for _, f := range files {
		srcs, err := readSourcesFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, srcs...)
	}
	return out, nil
}

func readSourcesFile(p string) ([]Source, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading apt sources %s: %w", p, err)
	}
	defer f.Close()
	r := io.LimitReader(f, maxSourcesFile)
	var srcs []Source
	if strings.HasSuffix(p, ".sources") {
		srcs, err = parseDeb822Sources(r)
	} else {
		srcs, err = parseOneLineSources(r)
	}
	if err != nil {
		return nil, fmt.Errorf("apt sources %s: %w", p, err)
	}
	return srcs, nil
}

// parseOneLineSources reads the one-line format:
// deb [opt=value …] URI SUITE [COMPONENT…]
func parseOneLineSources(r io.Reader) ([]Source, error) {
	var out []Source
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		var s Source
		if len(f) > 0 && strings.HasPrefix(f[0], "[") {
			end := 0
			for end < len(f) && !strings.HasSuffix(f[end], "]") {
				end++
			}
			if end == len(f) {
				return nil, fmt.Errorf("line %d: options [ … ] are not closed", n)
			}
			opts := strings.Trim(strings.Join(f[:end+1], " "), "[]")
			for _, o := range strings.Fields(opts) {
				if k, v, ok := strings.Cut(o, "="); ok && k == "signed-by" {
					s.SignedBy = v
				}
			}
			f = f[end+1:]
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("line %d: want deb URI SUITE [COMPONENT…]", n)
		}
		s.URI, s.Suite, s.Components = strings.TrimRight(f[0], "/"), f[1], f[2:]
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseDeb822Sources reads the deb822 format (Types:, URIs:, Suites:,
// Components:, Signed-By:, Enabled:).
func parseDeb822Sources(r io.Reader) ([]Source, error) {
	pr, err := control.NewParagraphReader(r, nil)
	if err != nil {
		return nil, err
	}
	paras, err := pr.All()
	if err != nil {
		return nil, err
	}
	var out []Source
	for _, p := range paras {
		if strings.EqualFold(strings.TrimSpace(p.Values["Enabled"]), "no") || !containsField(p.Values["Types"], "deb") {
			continue
		}
		for _, uri := range strings.Fields(p.Values["URIs"]) {
			for _, suite := range strings.Fields(p.Values["Suites"]) {
				out = append(out, Source{URI: strings.TrimRight(uri, "/"), Suite: suite,
					Components: strings.Fields(p.Values["Components"]), SignedBy: strings.TrimSpace(p.Values["Signed-By"])})
			}
		}
	}
	return out, nil
}

func containsField(list, want string) bool {
	for _, f := range strings.Fields(list) {
		if f == want {
			return true
		}
	}
	return false
}

// SuiteSources picks, from the apt sources, the entries for suite and its
// update and security suites (SUITE-updates, SUITE-security), with the
// main component at least. mirror, when set, replaces the archive of suite
// and SUITE-updates (as --mirror does); the security archive is kept.
func SuiteSources(all []Source, suite, mirror string) ([]Source, error) {
	var out []Source
	for _, s := range all {
		if s.Suite != suite && s.Suite != suite+"-updates" && s.Suite != suite+"-security" {
			continue
		}
		if !containsField(strings.Join(s.Components, " "), "main") {
			continue
		}
		if mirror != "" && s.Suite != suite+"-security" {
			s.URI = strings.TrimRight(mirror, "/")
		}
		out = append(out, s)
	}
	if mirror != "" && !hasSuite(out, suite) {
		out = append([]Source{{URI: strings.TrimRight(mirror, "/"), Suite: suite, Components: []string{"main"}}}, out...)
	}
	if !hasSuite(out, suite) {
		return nil, fmt.Errorf("no apt source names the suite %s with the main component (looked in /etc/apt/sources.list and sources.list.d); pass --mirror URL, an archive that holds dists/%s", suite, suite)
	}
	return dedupe(out), nil
}

func hasSuite(srcs []Source, suite string) bool {
	for _, s := range srcs {
		if s.Suite == suite {
			return true
		}
	}
	return false
}

func dedupe(srcs []Source) []Source {
	seen := map[string]bool{}
	var out []Source
	for _, s := range srcs {
		if !seen[s.String()] {
			seen[s.String()] = true
			out = append(out, s)
		}
	}
	return out
}
